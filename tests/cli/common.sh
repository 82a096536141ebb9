# Sourced by the end-to-end tests in tests/cli (not a test itself: ctest
# runs only *_test.sh). Sets SHOG (the binary), W (a scratch directory
# removed on exit), fail(), and offers tiny_data to make a tokenizer and
# token shards from text every Debian system ships.
set -euo pipefail
SHOG=$1
SRC=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export OMP_NUM_THREADS=2
fail() { echo "FAIL: $*" >&2; exit 1; }

# tiny_data FILE...: corpus.txt from the files, a 512-token tok.json, shards/.
tiny_data() {
  cat "$@" > "$W/corpus.txt"
  "$SHOG" tokenizer train --input "$W/corpus.txt" --vocab-size 512 --out "$W/tok.json" 2>/dev/null
  "$SHOG" data prepare --tokenizer "$W/tok.json" --input "$W/corpus.txt" --out "$W/shards" --val-fraction 0.1 \
    >/dev/null 2>&1
}
