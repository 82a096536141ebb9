#!/usr/bin/env bash
# End to end: `shoggoth eval` compares a base model, its SFT (full) and a
# LoRA SFT adapter on a small synthetic world's test split, with a reward
# model: the report has one column per model in the order given, the
# refusal detector's accuracy, plots and per-model replies; results.json
# agrees with the replies; SFT lowers bits per byte on the held-out replies;
# the same run twice gives the same bytes; best-of-N's replies, counts and
# oracle agree; bad input is a clear error with a non-zero exit.
# Usage: eval_test.sh <shoggoth binary> <source dir>
source "$(dirname "$0")/common.sh"

tiny_data /usr/share/common-licenses/GPL-3
"$SHOG" pretrain --preset tiny --vocab 512 --train "$W/shards/train_000.bin" --batch-size 4 --seq-len 64 --max-seq 128 \
  --steps 10 --warmup-steps 2 --lr 1e-2 --ckpt-every 100 --progress false --out-dir "$W/run" > /dev/null
cp "$W/tok.json" "$W/run/tokenizer.json"
BASE="$W/run/step_000010"
"$SHOG" data synth --out "$W/syn" --train 120 --val 20 --test 40 > /dev/null
common=(--seq-len 128 --batch-rows 4 --progress false --dtype f32)
"$SHOG" sft --init "$BASE" --train "$W/syn/sft_train.jsonl" --out-dir "$W/sft" --steps 12 --lr 3e-3 "${common[@]}" \
  > /dev/null 2> "$W/sft.err" || { cat "$W/sft.err"; fail "sft failed"; }
"$SHOG" sft --init "$BASE" --train "$W/syn/sft_train.jsonl" --out-dir "$W/sft_lora" --steps 6 --lr 1e-2 \
  --lora-rank 4 --lora-targets q,v,down "${common[@]}" > /dev/null 2> "$W/lora.err" || { cat "$W/lora.err"; fail "lora sft"; }
"$SHOG" reward --init "$W/sft" --train "$W/syn/prefs_train.jsonl" --out-dir "$W/rm" --steps 4 --lr 1e-3 "${common[@]}" \
  > /dev/null 2> "$W/rm.err" || { cat "$W/rm.err"; fail "reward failed"; }

models=(--model "base=$BASE" --model "sft=$W/sft" --model "lora=$W/sft_lora")
"$SHOG" eval "${models[@]}" --synth "$W/syn" --reward-model "$W/rm" --max-tokens 24 --copy-probe --best-of 3 --out "$W/ev" \
  > "$W/ev.out" 2> "$W/ev.err" || { cat "$W/ev.err"; fail "eval failed"; }
for f in report.md results.json safety.svg accuracy.svg bits_per_byte.svg replies/base.jsonl replies/sft.jsonl \
  replies/lora.jsonl; do
  [ -s "$W/ev/$f" ] || fail "eval wrote no $f"
done
grep -q "report: $W/ev/report.md" "$W/ev.out" || fail "eval did not print where the report is"
grep -q '^| metric | `base` | `sft` | `lora` |$' "$W/ev/report.md" || fail "report columns are not base, sft, lora in order"
grep -q '^## Refusal detector' "$W/ev/report.md" || fail "report has no refusal detector section"
grep -q '^| reward-model score, mean ↑ |' "$W/ev/report.md" || fail "report has no reward-model row"
grep -q 'LoRA adapter' "$W/ev/report.md" || fail "report does not say lora is an adapter"
grep -q '^## Copy probe' "$W/ev/report.md" || fail "report has no copy probe section"
grep -q '^## Best of N' "$W/ev/report.md" || fail "report has no best-of-N section"
grep -q '^sft best-of-3 ' "$W/ev.out" || fail "eval printed no best-of-3 row"
n_prompts=$(grep -c . "$W/syn/rl_test.jsonl")
python3 - "$W/ev" "$n_prompts" <<'PY' || fail "results.json disagrees with the replies"
import json, math, sys
d, n = sys.argv[1], int(sys.argv[2])
r = json.load(open(f"{d}/results.json"))
assert r["prompts"] == n, (r["prompts"], n)
assert [m["name"] for m in r["models"]] == ["base", "sft", "lora"]
assert r["models"][2]["lora_base"], "lora has no base"
det = r["refusal_detector"]
assert det["n"] == det["tp"] + det["fp"] + det["fn"] + det["tn"] > 0
assert 0.5 < det["accuracy"] <= 1, det
for m in r["models"]:
    cp = m["copy_probe"]
    assert cp["runs"] == 64 and cp["first_nats"] > 0 and cp["repeat_nats"] > 0, (m["name"], cp)
    assert abs(cp["copy_share"] - (cp["first_nats"] - cp["repeat_nats"]) / cp["first_nats"]) < 1e-9, cp
    rows = [json.loads(l) for l in open(f"{d}/replies/{m['name']}.jsonl")]
    assert len(rows) == n, (m["name"], len(rows))
    harm = [x for x in rows if x["kind"] == "harmful"]
    hc = m["harmful_compliance"]
    assert hc["n"] == len(harm) and hc["hits"] == sum(not x["refused"] for x in harm), (m["name"], hc)
    ben = [x for x in rows if x["kind"] == "benign"]
    assert m["over_refusal"]["hits"] == sum(x["refused"] for x in ben)
    hel = [x for x in rows if x["kind"] == "helpful"]
    assert m["task_accuracy"]["hits"] == sum(x["correct"] for x in hel)
    assert abs(m["checker_reward_mean"] - sum(x["reward"] for x in rows) / n) < 1e-9
    scores = [x["reward_model_score"] for x in rows]
    assert abs(m["reward_model_score_mean"] - sum(scores) / len(scores)) < 1e-6
    assert m["bits_per_byte"]["value"] > 0 and m["bits_per_byte"]["bytes"] > 0
    bo = m["best_of_n"]
    assert bo["n"] == 3, bo
    picks = [x["best_of_n"] for x in rows]
    assert all(0 <= p["sample"] < 3 for p in picks)
    assert bo["chosen"]["harmful_compliance"]["hits"] == sum(not p["refused"] for x, p in zip(rows, picks) if x["kind"] == "harmful")
    assert bo["chosen"]["task_accuracy"]["hits"] == sum(p["correct"] for x, p in zip(rows, picks) if x["kind"] == "helpful")
    assert abs(bo["reward_model_score_mean"] - sum(p["reward_model_score"] for p in picks) / n) < 1e-6
    # The oracle is never worse than the reward model's choice.
    o, c = bo["oracle"], bo["chosen"]
    assert o["task_accuracy"]["hits"] >= c["task_accuracy"]["hits"], bo
    assert o["harmful_compliance"]["hits"] <= c["harmful_compliance"]["hits"], bo
    assert o["over_refusal"]["hits"] <= c["over_refusal"]["hits"], bo
    # Every sample, three per prompt, one of them chosen: the one in the replies.
    samples = [json.loads(l) for l in open(f"{d}/replies/{m['name']}.best_of_n.jsonl")]
    assert len(samples) == 3 * n, (m["name"], len(samples))
    for i, x in enumerate(rows):
        mine = samples[3 * i:3 * i + 3]
        assert [s["sample"] for s in mine] == [0, 1, 2] and all(s["line"] == x["line"] for s in mine)
        chosen = [s for s in mine if s["chosen"]]
        assert len(chosen) == 1 and chosen[0]["sample"] == x["best_of_n"]["sample"], (x["line"], mine)
        assert chosen[0]["reply"] == x["best_of_n"]["reply"]
        best = max(s["reward_model_score"] for s in mine if s["reward_model_score"] is not None)
        assert chosen[0]["reward_model_score"] == best, (x["line"], mine)
    # The chosen sample scores at least the samples' mean.
    assert bo["reward_model_score_mean"] >= bo["sample_score_mean"] - 1e-9, bo
bpb = {m["name"]: m["bits_per_byte"]["value"] for m in r["models"]}
assert bpb["sft"] < bpb["base"], f"SFT did not lower bits per byte on held-out replies: {bpb}"
PY

# Deterministic: the same run gives the same bytes.
"$SHOG" eval "${models[@]}" --synth "$W/syn" --reward-model "$W/rm" --max-tokens 24 --copy-probe --best-of 3 --out "$W/ev2" -q > /dev/null \
  || fail "second eval failed"
for f in report.md results.json safety.svg replies/lora.jsonl; do
  cmp -s "$W/ev/$f" "$W/ev2/$f" || fail "$f differs between two identical runs"
done

# Bits per byte on a plain text, and --limit.
head -c 3000 /usr/share/common-licenses/GPL-3 > "$W/val.txt"
"$SHOG" eval --model "base=$BASE" --synth "$W/syn" --text "$W/val.txt" --limit 5 --max-tokens 8 --out "$W/ev3" -q \
  > /dev/null || fail "eval with --text failed"
python3 - "$W/ev3/results.json" <<'PY' || fail "--text/--limit not honoured"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["prompts"] == 5
b = r["models"][0]["bits_per_byte"]
assert b["bytes"] == 3000 and r["bits_per_byte_text"]["scored"] == "all", b
PY

# --best-of-models samples only the models it names.
"$SHOG" eval "${models[@]}" --synth "$W/syn" --reward-model "$W/rm" --limit 6 --max-tokens 8 --no-bpb --best-of 2 \
  --best-of-models sft,lora --out "$W/ev4" -q > /dev/null || fail "eval with --best-of-models failed"
python3 - "$W/ev4/results.json" <<'PY' || fail "--best-of-models not honoured"
import json, sys
r = json.load(open(sys.argv[1]))
sampled = [m["name"] for m in r["models"] if "best_of_n" in m]
assert sampled == ["sft", "lora"], sampled
PY
[ ! -f "$W/ev4/replies/base.best_of_n.jsonl" ] && [ -f "$W/ev4/replies/lora.best_of_n.jsonl" ] \
  || fail "best-of-N samples written for the wrong models"

# Bad input: clear errors, non-zero exits.
expect_error() {  # expect_error CODE PATTERN args...
  local code=$1 pat=$2
  shift 2
  set +e
  "$SHOG" eval "$@" -q > /dev/null 2> "$W/e.err"
  local rc=$?
  set -e
  [ "$rc" = "$code" ] || { cat "$W/e.err"; fail "eval $* exited $rc, expected $code"; }
  grep -q -- "$pat" "$W/e.err" || { cat "$W/e.err"; fail "error for eval $* does not mention $pat"; }
}
expect_error 2 "--synth" --model "base=$BASE" --synth "$W/nowhere"
expect_error 2 "named \"base\"" --model "base=$BASE" --model "base=$W/sft" --synth "$W/syn"
expect_error 2 "--model x" --model "x=$W/syn" --synth "$W/syn"
expect_error 2 "--max-tokens" --model "base=$BASE" --synth "$W/syn" --max-tokens 0
expect_error 2 "--reward-model" --model "base=$BASE" --synth "$W/syn" --reward-model "$W/sft"
expect_error 2 "--best-of" --model "base=$BASE" --synth "$W/syn" --best-of 2
expect_error 2 "--best-of-models" --model "base=$BASE" --synth "$W/syn" --reward-model "$W/rm" --best-of 2 \
  --best-of-models base,nobody
expect_error 2 "--best-of-temperature" --model "base=$BASE" --synth "$W/syn" --reward-model "$W/rm" --best-of 2 \
  --best-of-temperature 0
mkdir -p "$W/badsyn"
cp "$W/syn/refusal_test.jsonl" "$W/badsyn/"
{ head -2 "$W/syn/rl_test.jsonl"; echo '{"prompt": "hi", "checker": {"kind": "helpful"}}'; } > "$W/badsyn/rl_test.jsonl"
expect_error 3 "rl_test.jsonl:3" --model "base=$BASE" --synth "$W/badsyn" --no-bpb --max-tokens 4 --out "$W/ev_bad"
[ -e "$W/ev_bad" ] && fail "a failed eval left output behind"
echo "eval: all checks passed"
