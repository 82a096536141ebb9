#!/usr/bin/env bash
# Encode throughput (MB/s) on one corpus: shoggoth (1 and 2 threads),
# js-tiktoken and tiktoken (the WASM build of OpenAI's Rust tiktoken), all
# with the cl100k_base vocabulary and the same documents. npm packages go to
# a temporary directory; the table is printed and written into
# docs/benchmarks.md under "## Tokenizer" (replacing that section only).
#
#   bench/tokenizer_throughput.sh [BUILD_DIR=build] [CORPUS_MB=20]
# The corpus is the first CORPUS_MB of the Debian documentation text on this
# machine (/usr/share/doc, /usr/share/common-licenses), unless
# SHOG_BENCH_CORPUS names a UTF-8 file.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$src/build}")
mb=${2:-20}
enc=cl100k_base
cmake --build "$build" --target tokenizer_bench >/dev/null
work=$(mktemp -d /tmp/shog-tok-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null 2>&1
npm install --no-audit --no-fund --loglevel=error js-tiktoken tiktoken >npm.log 2>&1 ||
  { echo "npm install failed" >&2; tail npm.log >&2; exit 1; }

corpus=${SHOG_BENCH_CORPUS:-}
if [ -z "$corpus" ]; then
  corpus=$work/corpus.txt
  # head closes the pipe early on purpose; that SIGPIPE is not an error.
  set +o pipefail
  find /usr/share/doc /usr/share/common-licenses -type f \( -name '*.gz' -o -name '*.txt' -o -name copyright \) \
    -print0 | sort -z | xargs -0 -n 50 sh -c 'for f; do case "$f" in *.gz) zcat "$f" 2>/dev/null;; *) cat "$f";; esac; done' _ |
    head -c $((mb * 1000000 + 100000)) >raw.txt
  set -o pipefail
  # Keep valid UTF-8 only, and cut to size on a character boundary.
  node -e 'const fs=require("fs");const s=fs.readFileSync(process.argv[1]).toString("utf8").replace(/\uFFFD/g,"");let b=Buffer.from(s);b=Buffer.from(b.subarray(0,+process.argv[3]).toString("utf8").replace(/\uFFFD/g,""));fs.writeFileSync(process.argv[2],b)' \
    raw.txt "$corpus" $((mb * 1000000))
fi

node "$src/bench/tokenizer_throughput.mjs" "$work" "$corpus" "$enc" | tee js.txt
"$build/tokenizer_bench" --tokenizer "$work/$enc.json" --corpus "$corpus" --threads 1 | sed 's/^/shoggoth /' | tee ours1.txt
"$build/tokenizer_bench" --tokenizer "$work/$enc.json" --corpus "$corpus" --threads 2 | sed 's/^/shoggoth /' | tee ours2.txt

field() { sed -n "s|.*$2=\([^ ]*\).*|\1|p" "$1" | head -1; }
wasm_mbs=$(grep '^tiktoken-wasm' js.txt | sed 's/.*MB\/s=//')
js_mbs=$(grep '^js-tiktoken' js.txt | sed 's/.*MB\/s=//')
wasm_tokens=$(grep '^tiktoken-wasm' js.txt | sed -n 's|.*tokens=\([0-9]*\).*|\1|p')
js_tokens=$(grep '^js-tiktoken' js.txt | sed -n 's|.*tokens=\([0-9]*\).*|\1|p')
o1=$(field ours1.txt MB/s)
o2=$(field ours2.txt MB/s)
bytes=$(field ours1.txt bytes)
docs=$(field ours1.txt docs)
tokens=$(field ours1.txt tokens)
ratio=$(awk -v a="$o1" -v b="$wasm_mbs" 'BEGIN{printf "%.1f", a/b}')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
ncpu=$(nproc)

section=$(cat <<MD
## Tokenizer

Encode throughput, \`$enc\`, on ${bytes} bytes of Debian documentation text
(/usr/share/doc, /usr/share/common-licenses) cut into ${docs} documents of about
4 KiB, each encoded separately. Best of 3 runs.
Machine: ${cpu}, ${ncpu} cores. Date: $(date -u +%Y-%m-%d).

| implementation | threads | MB/s |
|---|---|---|
| shoggoth (PCRE2 JIT + C++ BPE) | 1 | ${o1} |
| shoggoth \`encode_batch\` | 2 | ${o2} |
| tiktoken (npm, WASM build of the Rust original) | 1 | ${wasm_mbs} |
| js-tiktoken (npm, pure JavaScript) | 1 | ${js_mbs} |

shoggoth single-threaded is ${ratio}x the npm \`tiktoken\` package. The
machine is a shared 2-core VM (other builds may run), so figures vary by
about 20% from run to run. Token counts: shoggoth ${tokens}, tiktoken
${wasm_tokens}, js-tiktoken ${js_tokens} (js-tiktoken runs JavaScript's regex, whose
\\s likely differs from Rust's and PCRE2's on a code point such as U+0085 or U+FEFF).

Command: \`bench/tokenizer_throughput.sh build ${mb}\` (Node $(node --version)).
MD
)
doc="$src/docs/benchmarks.md"
mkdir -p "$src/docs"
touch "$doc"
# Replace our section (from "## Tokenizer" to the next "## " heading), or append.
SECTION="$section" node -e '
const fs = require("fs");
const p = process.argv[1];
let t = fs.readFileSync(p, "utf8");
const sec = process.env.SECTION.trim() + "\n";
const start = t.search(/^## Tokenizer\s*$/m);
if (start < 0) {
  if (t.length === 0) t = "# Benchmarks\n\n";
  t = t.replace(/\n*$/, "\n\n") + sec;
} else {
  const rest = t.slice(start + 1);
  const next = rest.search(/^## /m);
  const end = next < 0 ? t.length : start + 1 + next;
  t = t.slice(0, start) + sec + (next < 0 ? "" : "\n" + t.slice(end));
}
fs.writeFileSync(p, t);
' "$doc"
echo
echo "$section"
