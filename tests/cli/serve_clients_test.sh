#!/usr/bin/env bash
# Real clients against the server: the official `openai` npm client against
# `shoggoth serve` (models, chat, chat streaming, completions, typed errors),
# and the web chat page driven in Debian's chromium by playwright-core,
# including a reply cut by moderation mid-stream (a server with a test-only
# moderation hook, build/shog_serve_fixture). Saves a screenshot of the page
# to <build dir>/test-artifacts/serve_web_chat.png.
# The npm packages are installed into a temporary directory at test time; no
# registry means FAIL, not skip.
# Usage: serve_clients_test.sh <shoggoth binary> <source dir>
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/serve_common.sh"
FIXTURE="$(dirname "$SHOG")/shog_serve_fixture"
[ -x "$FIXTURE" ] || fail "no $FIXTURE (built with the tests)"
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || fail "no chromium (scripts/setup.sh installs it)"

mkdir -p "$W/npm"
(cd "$W/npm" && npm init -y > /dev/null 2>&1 &&
  npm install --no-audit --no-fund --loglevel=error openai playwright-core > npm.log 2>&1) ||
  fail "npm install of openai and playwright-core failed (is the npm registry reachable?): $(tail -20 "$W/npm/npm.log")"

make_serve_model
DB="$W/keys.sqlite"
RES=$("$SHOG" keys create --db "$DB" --tier research --name lab 2> /dev/null)
PUB=$("$SHOG" keys create --db "$DB" --tier public --name app 2> /dev/null)
cat > "$W/platform.toml" <<TOML
[server]
port = 0
keys_db = "keys.sqlite"

[[model]]
name = "tiny"
path = "run/step_000001"

[[deployment]]
name = "base"
model = "tiny"
description = "the raw model"
tiers = ["research"]

[[deployment]]
name = "chat"
model = "tiny"
description = "a terse assistant"
system_prompt = "You are terse."
tiers = ["public", "research"]
[deployment.defaults]
max_tokens = 24
TOML
# The fixture's platform adds a deployment moderated by the test hook's policy.
cat "$W/platform.toml" - > "$W/fixture.toml" <<TOML

[[deployment]]
name = "kids"
model = "tiny"
description = "moderated by the test policy"
moderation = "test"
tiers = ["public"]
[deployment.defaults]
max_tokens = 64
TOML

start_server "$W/serve.log" "$SHOG" serve --config "$W/platform.toml"
node "$SRC/tests/serve/js/openai_client.mjs" "$W/npm" "http://127.0.0.1:$PORT" "$PUB" "$RES" ||
  fail "openai client test failed; server log: $(tail -20 "$W/serve.log")"
stop_server

ART="$(dirname "$SHOG")/test-artifacts"
mkdir -p "$ART"
rm -f "$ART/serve_web_chat.png"
start_server "$W/fixture.log" "$FIXTURE" "$W/fixture.toml" 16
node "$SRC/tests/serve/js/web_chat.mjs" "$W/npm" "http://127.0.0.1:$PORT" "$PUB" "$ART/serve_web_chat.png" ||
  fail "web chat test failed; server log: $(tail -20 "$W/fixture.log")"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2> /dev/null || true
[ "$(head -c 8 "$ART/serve_web_chat.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "the screenshot is not a PNG"
echo "serve_clients_test: all passed (screenshot: $ART/serve_web_chat.png)"
