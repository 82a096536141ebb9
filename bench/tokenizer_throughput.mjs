// JavaScript side of bench/tokenizer_throughput.sh: encode throughput of
// js-tiktoken and tiktoken (WASM) on the same documents as tokenizer_bench.
//   node tokenizer_throughput.mjs <npm dir> <corpus> <encoding> [repeat]
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [dir, corpusPath, encName, repeatArg] = process.argv.slice(2);
const require = createRequire(path.join(dir, "package.json"));
const buf = fs.readFileSync(corpusPath);
const docs = [];
for (let pos = 0; pos < buf.length; ) {
  let end = Math.min(buf.length, pos + 4096);
  const nl = buf.indexOf(0x0a, end);
  end = end >= buf.length || nl < 0 ? buf.length : nl + 1;
  docs.push(buf.subarray(pos, end).toString("utf8"));
  pos = end;
}
const repeat = Number(repeatArg || 3);
function measure(name, encode) {
  let best = Infinity, tokens = 0;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    tokens = 0;
    for (const d of docs) tokens += encode(d).length;
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  console.log(`${name} threads=1 bytes=${buf.length} docs=${docs.length} tokens=${tokens} seconds=${best.toFixed(3)} MB/s=${(buf.length / 1e6 / best).toFixed(2)}`);
}
const wasm = await import(require.resolve("tiktoken"));
const w = wasm.get_encoding(encName);
measure("tiktoken-wasm", (d) => w.encode_ordinary(d));
const { Tiktoken } = await import(require.resolve("js-tiktoken/lite"));
const js = new Tiktoken((await import(require.resolve(`js-tiktoken/ranks/${encName}`))).default);
measure("js-tiktoken", (d) => js.encode(d, [], []));
fs.writeFileSync(path.join(dir, encName + ".json"), JSON.stringify((await import(require.resolve(`js-tiktoken/ranks/${encName}`))).default));
