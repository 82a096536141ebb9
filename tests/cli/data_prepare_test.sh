#!/usr/bin/env bash
# End to end: train a tiny tokenizer, prepare token shards from a small text
# and a JSONL file, and check that bad input (corrupt shards, non-UTF-8 text,
# an empty corpus, a missing file) fails with the documented exit code, a
# message naming the file, and no output left behind.
#   bash tests/cli/data_prepare_test.sh <shoggoth binary> <source dir>
set -uo pipefail
SHOG=$(realpath "${1:?usage: data_prepare_test.sh SHOGGOTH SOURCE_DIR}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect CODE NEEDLE CMD...: CMD exits with CODE and its stderr contains NEEDLE.
expect() {
  local code=$1 needle=$2
  shift 2
  "$@" >out.txt 2>err.txt
  local rc=$?
  [ "$rc" -eq "$code" ] || fail "$* exited $rc, expected $code: $(cat err.txt)"
  grep -qF -- "$needle" err.txt || fail "$*: stderr lacks '$needle': $(cat err.txt)"
}

# A small corpus: 300 paragraphs of varied English-like text.
words=(the quick brown fox jumps over lazy dog and a river runs through old town where
       people sing songs of light while rain falls on green hills under grey skies)
for i in $(seq 0 299); do
  line=""
  for j in $(seq 0 $((5 + i % 7))); do line+="${words[$(((i * 7 + j * 13) % ${#words[@]}))]} "; done
  printf 'Paragraph %d: %s.\nIt has a second line, number %d.\n\n' "$i" "$line" "$((i * 3))"
done >corpus.txt

"$SHOG" tokenizer train --input corpus.txt --vocab-size 300 --out tok.json >train.txt 2>&1 \
  || { echo "FAIL: tokenizer train: $(cat train.txt)" >&2; exit 1; }

# Happy path.
"$SHOG" data prepare --tokenizer tok.json --input corpus.txt --out shards --val-fraction 0.1 >prep.txt 2>&1 \
  || fail "data prepare: $(cat prep.txt)"
for f in train_000.bin val_000.bin meta.json; do [ -s "shards/$f" ] || fail "missing shards/$f"; done
grep -q '"documents": 30' shards/meta.json || fail "expected 30 validation documents: $(cat shards/meta.json)"
[ -z "$(ls -A shards | grep -v -E '^(train_000.bin|val_000.bin|meta.json)$')" ] || fail "stray files: $(ls -A shards)"
"$SHOG" data inspect shards/train_000.bin shards/val_000.bin >inspect.txt 2>&1 || fail "inspect: $(cat inspect.txt)"
grep -q "uint16, vocabulary 300" inspect.txt || fail "inspect output: $(cat inspect.txt)"

# Deterministic, whatever the thread count.
"$SHOG" data prepare --tokenizer tok.json --input corpus.txt --out shards2 --val-fraction 0.1 --threads 1 >/dev/null 2>&1
cmp -s shards/train_000.bin shards2/train_000.bin || fail "train shard differs between runs"
cmp -s shards/val_000.bin shards2/val_000.bin || fail "val shard differs between runs"

# JSONL input.
printf '{"text": "hello world"}\n{"body": "x", "text": "second doc"}\n' >c.jsonl
"$SHOG" data prepare --tokenizer tok.json --input c.jsonl --format jsonl --val-fraction 0 --out jsonl >/dev/null 2>&1 \
  || fail "jsonl prepare"
[ -s jsonl/train_000.bin ] || fail "jsonl: no train shard"

# Corrupt shards: exit 3 (bad input), message names the file and the problem.
cp shards/train_000.bin flipped.bin
printf '\x55' | dd of=flipped.bin bs=1 seek=100 conv=notrunc status=none
expect 3 "flipped.bin: checksum mismatch" "$SHOG" data inspect flipped.bin
head -c -2 shards/train_000.bin >truncated.bin
expect 3 "truncated.bin: size mismatch" "$SHOG" data inspect truncated.bin
cp shards/train_000.bin magic.bin
printf 'XXXX' | dd of=magic.bin bs=1 seek=0 conv=notrunc status=none
expect 3 "magic.bin: not a token shard: wrong magic" "$SHOG" data inspect magic.bin

# Bad corpora: error, and no output directory left behind.
printf 'good line\ncaf\xe9\n' >latin1.txt
expect 3 "latin1.txt: byte offset 13 (line 2): invalid UTF-8" \
  "$SHOG" data prepare --tokenizer tok.json --input latin1.txt --out bad1
[ ! -e bad1 ] || fail "non-UTF-8 input left bad1/ behind"
printf '\n\n  \n' >empty.txt
expect 3 "empty corpus" "$SHOG" data prepare --tokenizer tok.json --input empty.txt --out bad2
[ ! -e bad2 ] || fail "empty corpus left bad2/ behind"
expect 4 "nope.txt: no such file" "$SHOG" data prepare --tokenizer tok.json --input nope.txt --out bad3
[ ! -e bad3 ] || fail "missing input left bad3/ behind"

# A failed run over an existing preparation leaves it intact.
expect 3 "invalid UTF-8" "$SHOG" data prepare --tokenizer tok.json --input latin1.txt --out shards
cmp -s shards/train_000.bin shards2/train_000.bin || fail "failed run damaged the earlier preparation"
[ -s shards/meta.json ] || fail "failed run removed meta.json"

if [ "$fails" -ne 0 ]; then echo "data_prepare_test: $fails failure(s)" >&2; exit 1; fi
echo "data_prepare_test: ok"
