#!/usr/bin/env bash
# Serving benchmark: starts `shoggoth serve` on loopback with one deployment
# of MODEL_DIR (default: the demo's pretrain-small checkpoint), creates a key,
# and runs build/serve_bench at 1, 4, 16 and 64 concurrent streams of
# streaming /v1/completions (128 new tokens each, ignore_eos). Prints the
# Markdown table recorded in docs/benchmarks.md.
#
#   bash bench/serve_bench.sh [MODEL_DIR] [BUILD_DIR]
#   DTYPE=bf16 KV_DTYPE=bf16 THREADS=2 MAX_TOKENS=128 PER_STREAM=4 LEVELS=1,4,16,64 bash bench/serve_bench.sh
# THREADS: the engine's OpenMP threads (default 1: on a 2-core machine the
# other core runs the HTTP threads and this load generator).
set -euo pipefail
MODEL=$(realpath "${1:-runs/pretrain-small}")
[ -f "$MODEL/latest" ] && MODEL="$MODEL/$(cat "$MODEL/latest")"  # a run directory: its latest checkpoint
BUILD=$(realpath "${2:-build}")
DTYPE=${DTYPE:-f32}
KV_DTYPE=${KV_DTYPE:-f32}
W=$(mktemp -d)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2> /dev/null && wait "$SERVER" 2> /dev/null
  rm -rf "$W"
}
trap cleanup EXIT
[ -f "$MODEL/model.safetensors" ] || { echo "no model at $MODEL (run scripts/pretrain_small.sh, or pass a model directory)" >&2; exit 1; }

KEY=$("$BUILD/shoggoth" keys create --db "$W/keys.sqlite" --tier bench --name bench 2> /dev/null)
cat > "$W/platform.toml" <<TOML
[server]
port = 0
keys_db = "keys.sqlite"

[[model]]
name = "bench"
path = "$MODEL"
dtype = "$DTYPE"
kv_dtype = "$KV_DTYPE"
max_batch = 64
prefill_chunk = 512
threads = ${THREADS:-1}

[[deployment]]
name = "bench"
model = "bench"
tiers = ["bench"]
TOML
"$BUILD/shoggoth" serve --config "$W/platform.toml" > "$W/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do
  grep -q "listening on" "$W/serve.log" && break
  sleep 0.1
done
PORT=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\).*|\1|p' "$W/serve.log")
[ -n "$PORT" ] || { cat "$W/serve.log" >&2; exit 1; }
echo "model: $MODEL ($DTYPE, KV cache $KV_DTYPE), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$BUILD/serve_bench" --port "$PORT" --key "$KEY" --model bench --concurrency "${LEVELS:-1,4,16,64}" \
  --requests-per-stream "${PER_STREAM:-4}" --max-tokens "${MAX_TOKENS:-128}"
