#!/usr/bin/env bash
# End to end: `shoggoth generate` and `shoggoth chat` on a tiny model trained
# for a few steps here (tokenizer train -> data prepare -> pretrain):
#  - greedy output is deterministic; a seed reproduces a sampled completion;
#  - streaming prints the same text as the final result; prompt from an
#    argument, a file and stdin are the same prompt;
#  - --json / --logprobs give per-token log-probs and alternatives;
#  - --stop cuts the text before the stop string;
#  - a prompt longer than the context is an error (exit 2) unless --truncate;
#  - a missing model directory, corrupt weights and bad flags are clear errors;
#  - chat: streamed replies, /save writes the conversation as JSON, /reset,
#    and end of input exits cleanly.
# Usage: generate_test.sh <shoggoth binary> <source dir>
source "$(dirname "$0")/common.sh"

tiny_data /usr/share/common-licenses/GPL-3
"$SHOG" pretrain --preset tiny --vocab 512 --train "$W/shards/train_000.bin" --batch-size 4 --seq-len 64 --steps 30 \
  --warmup-steps 2 --lr 1e-2 --ckpt-every 100 --progress false --out-dir "$W/run" > /dev/null
M="$W/run/step_000030"
[ -f "$M/model.safetensors" ] || fail "no model"
# generate looks for <model>/tokenizer.json, then the run directory's (the parent).
cp "$W/tok.json" "$W/run/tokenizer.json"

gen() { "$SHOG" generate --model "$M" -q "$@"; }

# Greedy is deterministic; a seed reproduces a sampled run, another seed differs.
a=$(gen "This program is" --temperature 0 --max-tokens 24)
b=$(gen "This program is" --temperature 0 --max-tokens 24 --tokenizer "$W/tok.json")
[ "$a" = "$b" ] || fail "greedy differs: '$a' vs '$b'"
[ -n "$a" ] || fail "empty completion"
s1=$(gen "This program is" --seed 7 --top-k 40 --max-tokens 24)
s2=$(gen "This program is" --seed 7 --top-k 40 --max-tokens 24)
s3=$(gen "This program is" --seed 8 --top-k 40 --max-tokens 24)
[ "$s1" = "$s2" ] || fail "same seed, different text"
[ "$s1" != "$s3" ] || fail "seeds 7 and 8 gave the same text: '$s1'"
echo "greedy: $a"

# Streaming prints the same text; the prompt may come from a file or stdin.
st=$(gen "This program is" --temperature 0 --max-tokens 24 --stream)
[ "$st" = "$a" ] || fail "stream differs: '$st' vs '$a'"
printf 'This program is' > "$W/prompt.txt"
f=$(gen --prompt-file "$W/prompt.txt" --temperature 0 --max-tokens 24)
[ "$f" = "$a" ] || fail "--prompt-file differs"
i=$(printf 'This program is' | gen --temperature 0 --max-tokens 24)
[ "$i" = "$a" ] || fail "stdin differs"

# JSON with log-probs and 3 alternatives per token.
gen "This program is" --temperature 0 --max-tokens 8 --logprobs 3 > "$W/out.json"
python3 - "$W/out.json" <<'PY' || fail "bad --logprobs output"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["finish_reason"] in ("length", "stop_token"), o
assert 1 <= len(o["tokens"]) <= 8
for t in o["tokens"]:
    assert t["logprob"] <= 0 and len(t["top"]) == 3, t
    # greedy: the chosen token is the most likely one
    assert t["top"][0]["id"] == t["id"] and abs(t["top"][0]["logprob"] - t["logprob"]) < 1e-5, t
print("logprobs ok:", len(o["tokens"]), "tokens")
PY

# A stop string cuts the text before it (compared through --json: the shell
# would strip trailing newlines of the text itself).
gen "This program is" --seed 3 --max-tokens 24 --json > "$W/free.json"
stop=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["text"]; print(t[len(t)//2:len(t)//2+3].strip() or t[-1])' "$W/free.json")
gen "This program is" --seed 3 --max-tokens 24 --json --stop "$stop" > "$W/cut.json"
python3 - "$W/free.json" "$W/cut.json" "$stop" <<'PY' || fail "stop string '$stop'"
import json, sys
a, c, s = json.load(open(sys.argv[1]))["text"], json.load(open(sys.argv[2])), sys.argv[3]
assert c["finish_reason"] == "stop_string", c
assert c["text"] == a[:a.index(s)], (a, s, c["text"])
print("stop string ok:", repr(s))
PY

# A prompt longer than the context (64 tokens): exit 2 naming the context, or truncation.
long=$(python3 -c 'print("the terms of this license " * 40)')
set +e
gen "$long" --max-tokens 4 2> "$W/err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "context" "$W/err" || fail "long prompt: rc=$rc $(cat "$W/err")"
"$SHOG" generate --model "$M" "$long" --max-tokens 4 --truncate 2> "$W/err" > /dev/null || fail "--truncate failed"
grep -q "truncated" "$W/err" || fail "truncation not reported: $(cat "$W/err")"

# Bad input: clear messages naming the file or flag, non-zero exits.
set +e
"$SHOG" generate --model "$W/nope" "x" 2> "$W/err"; rc=$?
[ $rc -ne 0 ] && grep -q "$W/nope" "$W/err" || fail "missing model dir: rc=$rc $(cat "$W/err")"
mkdir -p "$W/bad" && cp "$M/config.json" "$W/bad/" && head -c 1000 "$M/model.safetensors" > "$W/bad/model.safetensors"
"$SHOG" generate --model "$W/bad" --tokenizer "$W/tok.json" "x" 2> "$W/err"; rc=$?
[ $rc -eq 3 ] && grep -q "model.safetensors" "$W/err" || fail "corrupt weights: rc=$rc $(cat "$W/err")"
mkdir -p "$W/notok" && cp "$M/config.json" "$M/model.safetensors" "$W/notok/"
"$SHOG" generate --model "$W/notok" "x" 2> "$W/err"; rc=$?
[ $rc -eq 4 ] && grep -q -- "--tokenizer" "$W/err" || fail "missing tokenizer: rc=$rc $(cat "$W/err")"
gen "x" --top-p 2 2> "$W/err"; rc=$?
[ $rc -eq 2 ] && grep -q "top_p" "$W/err" || fail "bad top-p: rc=$rc $(cat "$W/err")"
gen "x" --dtype f16 2> "$W/err"; rc=$?
[ $rc -eq 2 ] || fail "bad dtype: rc=$rc $(cat "$W/err")"
set -e

# bf16 runs and gives text too.
[ -n "$(gen "This program is" --temperature 0 --max-tokens 8 --dtype bf16)" ] || fail "bf16 gave nothing"

# Chat: two turns, /save, /reset, a third turn, then end of input.
printf 'hello there\nwhat is free software?\n/save %s\n/reset\nagain\n' "$W/conv.json" |
  "$SHOG" chat --model "$M" --system "Be brief." --max-tokens 12 --seed 1 > "$W/chat.out" 2> "$W/chat.err" \
  || fail "chat failed: $(cat "$W/chat.err")"
python3 - "$W/conv.json" <<'PY' || fail "bad /save output"
import json, sys
m = json.load(open(sys.argv[1]))["messages"]
roles = [x["role"] for x in m]
assert roles == ["system", "user", "assistant", "user", "assistant"], roles
assert m[0]["content"] == "Be brief." and m[1]["content"] == "hello there", m
print("chat saved", len(m), "messages")
PY
[ "$(wc -l < "$W/chat.out")" -ge 3 ] || fail "expected 3 replies: $(cat "$W/chat.out")"
grep -q "cleared" "$W/chat.err" || fail "/reset not acknowledged"
echo "generate_test: all passed"
