#!/usr/bin/env bash
# End to end: `shoggoth keys` and `shoggoth serve` on a tiny model.
#  - keys create prints the key once; list shows ids, never secrets; revoke
#    takes effect on the running server at once;
#  - the key/tier/deployment matrix: 401 without or with a bad key, 403 for a
#    public key asking for the raw base model, 404 for an unknown model;
#  - malformed requests get the right 4xx and the server keeps serving;
#  - a per-key rate limit answers 429 with Retry-After;
#  - many concurrent streaming clients that hang up leave no KV blocks in use;
#  - a config naming a moderation policy that does not exist does not start;
#  - SIGTERM stops the server cleanly.
# Usage: serve_test.sh <shoggoth binary> <source dir>
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/serve_common.sh"
command -v curl > /dev/null || fail "curl is needed"

make_serve_model
M="$W/run/step_000001"

# Keys.
DB="$W/keys.sqlite"
RES=$("$SHOG" keys create --db "$DB" --tier research --name lab 2> "$W/err")
grep -q "created" "$W/err" || fail "keys create said: $(cat "$W/err")"
PUB=$("$SHOG" keys create --db "$DB" --tier public --name app)
LIM=$("$SHOG" keys create --db "$DB" --tier public --name slow --rate-limit 2)
GONE=$("$SHOG" keys create --db "$DB" --tier public --name old)
[[ $PUB =~ ^shog-[0-9a-f]{8}-[0-9a-f]{40}$ ]] || fail "odd key: $PUB"
"$SHOG" keys list --db "$DB" > "$W/list"
[ "$(grep -c public "$W/list")" -eq 3 ] || fail "keys list: $(cat "$W/list")"
secret=${PUB##*-}
grep -q "$secret" "$W/list" "$DB" && fail "a key's secret is stored or listed"
set +e
"$SHOG" keys create --db "$DB" --tier "no spaces" --name x 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "tier" "$W/err" || fail "bad tier: rc=$rc $(cat "$W/err")"

cat > "$W/platform.toml" <<TOML
[server]
port = 0
keys_db = "keys.sqlite"

[[model]]
name = "tiny"
path = "run/step_000001"
max_batch = 16

[[deployment]]
name = "base"
model = "tiny"
tiers = ["research"]

[[deployment]]
name = "chat"
model = "tiny"
system_prompt = "You are terse."
tiers = ["public", "research"]
max_tokens = 300
[deployment.defaults]
max_tokens = 8
TOML

# A policy nobody knows: refused at start, naming it.
sed 's/^name = "chat"$/name = "chat"\nmoderation = "no-such-policy"/' "$W/platform.toml" > "$W/bad.toml"
set +e
"$SHOG" serve --config "$W/bad.toml" > /dev/null 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "no-such-policy" "$W/err" || fail "unknown policy: rc=$rc $(cat "$W/err")"

start_server "$W/serve.log" "$SHOG" serve --config "$W/platform.toml"
URL="http://127.0.0.1:$PORT"
echo "server on $URL"

# status KEY BODY [PATH]: the HTTP status of a POST (body of the reply in $W/body).
status() {
  local auth=()
  [ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
  curl -s -o "$W/body" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
    --data-binary "$2" "$URL${3:-/v1/chat/completions}"
}
expect() {  # expect CODE KEY BODY [PATH]
  local got
  got=$(status "$2" "$3" "${4:-}")
  [ "$got" = "$1" ] || fail "expected $1, got $got for $3: $(cat "$W/body")"
}
hello() { echo "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],\"max_tokens\":${2:-4}}"; }

expect 401 "" "$(hello chat)"
expect 401 "shog-deadbeef-0000" "$(hello chat)"
expect 403 "$PUB" "$(hello base)"
grep -q '"type":"permission_error"' "$W/body" || fail "403 body: $(cat "$W/body")"
expect 200 "$RES" "$(hello base)"
expect 200 "$PUB" "$(hello chat)"
grep -q '"object":"chat.completion"' "$W/body" || fail "chat body: $(cat "$W/body")"
expect 404 "$PUB" "$(hello gpt-4)"
expect 200 "$RES" '{"model":"base","prompt":"the","max_tokens":3}' /v1/completions

# Malformed requests, then proof that it still serves.
expect 400 "$PUB" '{"model":"chat","messages":'
grep -q '"code":"invalid_json"' "$W/body" || fail "bad JSON body: $(cat "$W/body")"
expect 400 "$PUB" '{"model":"chat","messages":[{"role":"user","content":"x"}],"temperature":-2}'
grep -q '"param":"temperature"' "$W/body" || fail "temperature body: $(cat "$W/body")"
expect 400 "$PUB" '{"model":"chat","messages":[{"role":"user","content":"x"}],"max_tokens":99999999999}'
expect 400 "$PUB" '{"model":"chat","messages":[{"role":"user","content":["x"]}]}'
expect 400 "$PUB" "$(printf '{"model":"chat","messages":[{"role":"user","content":"\xff\xfe"}]}')"
head -c 3000000 /dev/zero | tr '\0' 'a' > "$W/huge"
got=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $PUB" --data-binary @"$W/huge" \
  "$URL/v1/chat/completions")
[ "$got" = 413 ] || fail "huge body: $got"
expect 200 "$PUB" "$(hello chat)"

# Rate limit: 2 per minute for this key.
expect 200 "$LIM" "$(hello chat 1)"
expect 200 "$LIM" "$(hello chat 1)"
curl -s -D "$W/headers" -o "$W/body" -H "Authorization: Bearer $LIM" --data-binary "$(hello chat 1)" \
  "$URL/v1/chat/completions" > /dev/null
grep -q "^HTTP/1.1 429" "$W/headers" && grep -qi "^Retry-After: [0-9]" "$W/headers" ||
  fail "rate limit: $(cat "$W/headers" "$W/body")"

# Revocation reaches the running server at once.
expect 200 "$GONE" "$(hello chat 1)"
"$SHOG" keys revoke --db "$DB" "$(echo "$GONE" | cut -d- -f2)" 2> /dev/null
expect 401 "$GONE" "$(hello chat 1)"

# Streaming: chunks, then [DONE].
curl -sN -H "Authorization: Bearer $PUB" --data-binary \
  '{"model":"chat","messages":[{"role":"user","content":"hi"}],"max_tokens":6,"stream":true,"stream_options":{"include_usage":true}}' \
  "$URL/v1/chat/completions" > "$W/sse"
grep -q '^data: {.*"chat.completion.chunk"' "$W/sse" && tail -2 "$W/sse" | grep -q '^data: \[DONE\]' &&
  grep -q '"usage":{"completion_tokens"' "$W/sse" || fail "stream: $(cat "$W/sse")"

# Many clients at once, each hanging up after the first bytes of its stream.
for i in $(seq 1 32); do
  curl -sN -H "Authorization: Bearer $PUB" --data-binary \
    "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"story $i\"}],\"max_tokens\":200,\"ignore_eos\":true,\"stream\":true}" \
    "$URL/v1/chat/completions" 2> /dev/null | head -c 300 > /dev/null &
done
wait $(jobs -p | grep -v "^$SERVER_PID$") 2> /dev/null || true
clean=0
for _ in $(seq 1 100); do
  curl -s "$URL/health" > "$W/health"
  if python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["models"][0]; sys.exit(0 if m["kv_blocks_used"]==0 and m["running"]==0 and m["queued"]==0 else 1)' "$W/health"; then
    clean=1
    break
  fi
  sleep 0.1
done
[ $clean = 1 ] || fail "KV blocks still in use after the clients left: $(cat "$W/health")"
curl -s "$URL/metrics" > "$W/metrics"
grep -q '^shog_cancelled_requests_total{deployment="chat"} [1-9]' "$W/metrics" ||
  fail "no cancellations counted: $(grep cancelled "$W/metrics")"
grep -q '^shog_time_to_first_token_seconds_count{deployment="chat"}' "$W/metrics" || fail "no TTFT histogram"
expect 200 "$PUB" "$(hello chat)"

stop_server
grep -q "stopped" "$W/serve.log" || fail "no clean stop: $(cat "$W/serve.log")"
echo "serve_test: all passed"
