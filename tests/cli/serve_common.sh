# Sourced by tests/cli/serve_*_test.sh after common.sh (not a test itself).
#
# make_serve_model: a tiny model with a 256-token context at $W/run/step_000001
#   (tokenizer + 1 pretraining step: random-ish weights are all a server test needs).
# start_server LOG CMD...: runs CMD in the background, waits for its
#   "listening on http://HOST:PORT" line, sets SERVER_PID and PORT.
# stop_server: SIGTERM, and fails if the server does not exit cleanly.

make_serve_model() {
  tiny_data /usr/share/common-licenses/GPL-3
  "$SHOG" pretrain --preset tiny --vocab 512 --max-seq 256 --train "$W/shards/train_000.bin" --batch-size 2 \
    --seq-len 64 --steps 1 --warmup-steps 1 --ckpt-every 100 --progress false --out-dir "$W/run" > /dev/null
  cp "$W/tok.json" "$W/run/tokenizer.json"
  [ -f "$W/run/step_000001/model.safetensors" ] || fail "no model"
}

start_server() {
  local log=$1
  shift
  "$@" > "$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if grep -q "listening on http://" "$log"; then
      PORT=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\).*|\1|p' "$log" | head -1)
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited at start: $(cat "$log")"
    sleep 0.1
  done
  fail "server did not start: $(cat "$log")"
}

stop_server() {
  kill -TERM "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  [ $rc -eq 0 ] || fail "server exited with $rc after SIGTERM"
}
