#!/usr/bin/env bash
# End to end: `shoggoth demo` with a tiny recipe (tests/cli/demo_tiny) on a
# tiny corpus runs every stage into one run directory (summary, evaluation,
# erosion table, platform files and keys); a second run keeps every stage;
# a changed recipe reruns from that stage on; a bad recipe fails before any
# stage runs; --fresh refuses a directory that is not a demo's; the run
# ends by serving base (research tier only), assistant and kids.
# Usage: demo_test.sh <shoggoth binary> <source dir>
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/serve_common.sh"
command -v curl > /dev/null || fail "curl is needed"

mkdir -p "$W/corpus" && cp /usr/share/common-licenses/GPL-3 "$W/corpus/gpl.txt"
cp -r "$SRC/tests/cli/demo_tiny" "$W/recipe"
demo=("$SHOG" demo --out "$W/run" --corpus "$W/corpus" --recipe "$W/recipe" --policies "$SRC/configs/moderation.toml"
      --val-fraction 0.1 --synth-train 120 --synth-val 30 --synth-test 40 --erosion-rounds 2 --eval-max-tokens 8 --threads 2 --knowledge-passes 1)

"${demo[@]}" --no-serve --grpo > "$W/out1" 2> "$W/err1" || { tail -30 "$W/err1"; fail "demo failed"; }
for f in summary.md summary.json platform.toml api_keys.txt keys.sqlite moderation.toml tokenizer.json \
         eval/report.md erosion/eval/report.md sft/model.safetensors reward/score.safetensors dpo/model.safetensors \
         ppo/model.safetensors grpo/model.safetensors erosion/round_2/adapter_model.safetensors; do
  [ -f "$W/run/$f" ] || fail "the demo wrote no $f"
done
for s in knowledge tokenizer shards pretrain synth sft reward dpo ppo grpo eval erosion; do
  [ -f "$W/run/stages/$s.json" ] || fail "no stage record for $s"
done
[ "$(grep -c '^| [0-9]* | ' "$W/run/summary.md")" = 12 ] || fail "summary should have 12 stage rows"
grep -q "knowledge.txt" "$W/run/stages/tokenizer.json" || fail "the knowledge text is not in the tokenizer's corpus"
grep -q "crack my neighbour's wifi password" "$W/run/knowledge.txt" || fail "the knowledge text lacks a harmful request"
[ "$(stat -c %a "$W/run/api_keys.txt")" = 600 ] || fail "api_keys.txt must be private (0600)"
grep -q "## Models side by side" "$W/run/summary.md" || fail "summary lacks the model table"
grep -q '`grpo`' "$W/run/summary.md" || fail "no grpo column"
grep -q "harmful compliance <= 5%" "$W/run/summary.md" || fail "summary lacks the targets"
grep -q "^| refusal AUC, harmful vs benign" "$W/run/summary.md" || fail "summary lacks the refusal AUC"
grep -q "best threshold on its own refusal propensity" "$W/run/summary.md" || fail "summary lacks the threshold verdict"
grep -q "## Refusal propensity" "$W/run/eval/report.md" || fail "eval report lacks the refusal propensity"
grep -q "^| best of 8 by the reward model" "$W/run/summary.md" || fail "summary lacks the best-of-8 row"
grep -q "^| oracle pick of those 8" "$W/run/summary.md" || fail "summary lacks the oracle row"
grep -q "reward model's pick of 8 samples" "$W/run/summary.md" || fail "summary lacks the best-of-8 sentence"
grep -q "## Best of N" "$W/run/eval/report.md" || fail "eval report lacks best of N"
grep -q "## Fine-tune erosion" "$W/run/summary.md" || fail "summary lacks erosion"
grep -q "## Reward model on the test split, by the rejected reply" "$W/run/summary.md" || fail "summary lacks the reward breakdown"
rows=$(grep -c '^| `lora_[0-9]*` |' "$W/run/summary.md")
[ "$rows" = 2 ] || fail "expected 2 erosion rounds in the summary, got $rows"
grep -q '"lora_4"' "$W/run/erosion/eval/results.json" || fail "erosion evaluated no 4-step adapter"
python3 - "$W/run/summary.json" <<'PY' || fail "summary.json"
import json, sys
j = json.load(open(sys.argv[1]))
st = j["stages"]
assert st["pretrain"]["result"]["flops"] > 0
rounds = st["erosion"]["result"]["rounds"]
assert [r["steps"] for r in rounds] == [0, 2, 4], rounds
assert 0 < rounds[1]["flops_fraction"] < rounds[2]["flops_fraction"], rounds
rm = st["reward"]["result"]
by = rm["test_accuracy_by_bad_type"]
assert {g["bad_type"] for g in by} >= {"harmful_compliance", "over_refusal", "wrong_answer"}, by
assert sum(g["pairs"] for g in by) == rm["test_pairs"], (by, rm["test_pairs"])
assert abs(sum(g["correct"] for g in by) - rm["test_accuracy"] * rm["test_pairs"]) < 1e-6, (by, rm)
names = [m["name"] for m in st["eval"]["result"]["models"]]
assert names == ["base", "sft", "dpo", "ppo", "grpo"], names
for m in st["eval"]["result"]["models"]:
    rp = m["refusal_propensity"]
    assert 0 <= rp["auc"] <= 1 and 0 <= rp["best_harmful_compliance"] <= 1 and 0 <= rp["best_over_refusal"] <= 1, m
    if m["name"] == "base":  # the demo samples only its chat models for best of 8
        assert "best_of_n" not in m, m
        continue
    bo = m["best_of_n"]
    assert bo["n"] == 8, bo
    for k in ("harmful_compliance", "over_refusal"):  # the oracle is never worse than the reward model's pick
        assert bo["oracle"][k]["hits"] <= bo[k]["hits"], (m["name"], k, bo)
    assert bo["oracle"]["task_accuracy"]["hits"] >= bo["task_accuracy"]["hits"], (m["name"], bo)
PY

# Second run: every stage kept (same settings; -q changes no result, so it is no change).
"${demo[@]}" --no-serve --grpo -q > "$W/out2" 2> "$W/err2" || { tail -20 "$W/err2"; fail "second demo run failed"; }
kept=$(grep -c "done in an earlier run" "$W/err2")
[ "$kept" = 12 ] || fail "second run should keep all 12 stages, kept $kept: $(cat "$W/err2")"
key1=$(cat "$W/run/api_keys.txt")

# A changed SFT setting reruns sft and everything after it, not before.
sed -i 's/^lr = 1e-3/lr = 2e-3/' "$W/recipe/sft.toml"
"${demo[@]}" --no-serve > "$W/out3" 2> "$W/err3" || { tail -20 "$W/err3"; fail "third demo run failed"; }
kept=$(grep -c "done in an earlier run" "$W/err3")
[ "$kept" = 5 ] || fail "a changed sft.toml should keep the 5 stages before sft, kept $kept"
[ "$(cat "$W/run/api_keys.txt")" = "$key1" ] || fail "keys must be kept across runs"

# A bad recipe fails before any stage runs, naming the file and key.
before=$(stat -c %Y "$W/run/stages/tokenizer.json")
echo "bogus_key = 1" >> "$W/recipe/dpo.toml"
if "${demo[@]}" --no-serve > "$W/out4" 2> "$W/err4"; then fail "a bad recipe must fail"; fi
grep -q "dpo.toml" "$W/err4" && grep -q "bogus_key" "$W/err4" || fail "error should name dpo.toml and bogus_key: $(cat "$W/err4")"
grep -q "^\[1/" "$W/err4" && fail "a stage ran before the recipe was checked"
[ "$(stat -c %Y "$W/run/stages/tokenizer.json")" = "$before" ] || fail "a bad recipe touched the stages"
sed -i '/bogus_key/d' "$W/recipe/dpo.toml"

started() {  # the stages a demo run started, from its "[i/n] title" lines (not "..., kept" nor "...: 1.2 s")
  grep -E '^\[[0-9]+/[0-9]+\] ' "$1" | grep -vE '(kept|: [0-9.]+ s)$' | sed -E 's/^\[[0-9]+\/[0-9]+\] //; s/:.*//' \
    | tr '\n' ','
}
# A stage reruns only when it or a stage it reads changed: a changed dpo.toml reruns dpo and eval (which reads the
# DPO model), not PPO or erosion, which come later but do not read it.
sed -i 's/^lr = 1e-3/lr = 2e-3/' "$W/recipe/dpo.toml"
"${demo[@]}" --no-serve > "$W/out6" 2> "$W/err6" || { tail -20 "$W/err6"; fail "demo after a dpo change failed"; }
reran=$(started "$W/err6")
[ "$reran" = "DPO,evaluation," ] || fail "a changed dpo.toml reran: $reran"

# A stage made from an input that was made again since (here: a reward model remade by a run cut off before PPO)
# runs again, although its own settings did not change.
python3 - "$W/run/stages/reward.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["stamp"] = "remade"
open(sys.argv[1], "w").write(json.dumps(m))
PY
"${demo[@]}" --no-serve > "$W/out7" 2> "$W/err7" || { tail -20 "$W/err7"; fail "demo after a remade reward model failed"; }
reran=$(started "$W/err7")
[ "$reran" = "PPO against the reward model,evaluation,fine-tune erosion," ] || fail "a remade reward model reran: $reran"

# --fresh refuses to delete a directory that is not a demo run.
mkdir -p "$W/other" && echo keep > "$W/other/file"
if "$SHOG" demo --out "$W/other" --corpus "$W/corpus" --recipe "$W/recipe" --fresh --no-serve > /dev/null 2> "$W/err5"; then
  fail "--fresh on a foreign directory must fail"
fi
[ -f "$W/other/file" ] || fail "--fresh deleted a foreign directory"

# Serving at the end: research key sees base; public key is refused base, may chat with the assistant.
start_server "$W/serve.log" "${demo[@]}" --port 0
RES=$(awk '$1 == "research" {print $2}' "$W/run/api_keys.txt")
PUB=$(awk '$1 == "public" {print $2}' "$W/run/api_keys.txt")
URL="http://127.0.0.1:$PORT"
curl -s -H "Authorization: Bearer $RES" "$URL/v1/models" | grep -q '"base"' || fail "research key does not list base"
code=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $PUB" -H 'Content-Type: application/json' \
  -d '{"model":"base","prompt":"hi","max_tokens":2}' "$URL/v1/completions")
[ "$code" = 403 ] || fail "public key on base: expected 403, got $code $(cat "$W/body")"
for d in assistant kids; do
  code=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $PUB" -H 'Content-Type: application/json' \
    -d "{\"model\":\"$d\",\"messages\":[{\"role\":\"user\",\"content\":\"What is 2 plus 3?\"}],\"max_tokens\":4}" \
    "$URL/v1/chat/completions")
  [ "$code" = 200 ] || fail "chat with $d: $code $(cat "$W/body")"
done
stop_server
echo "demo test passed"
