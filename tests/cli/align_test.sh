#!/usr/bin/env bash
# End to end: the alignment trainers on a tiny model and a small synthetic
# world: sft (full: the loss falls and the output loads; LoRA: adapter files
# only, which `lora merge` turns into a model; plain-text records train), reward (train, then score
# pairs and conversations), dpo (sigmoid and ipo), grpo (each loss, KL with
# LoRA), ppo (full with a value head, LoRA with a separate value model from
# the reward model); bad data and bad flags are
# clear errors with a non-zero exit and no half-written model.
# Usage: align_test.sh <shoggoth binary> <source dir>
source "$(dirname "$0")/common.sh"

tiny_data /usr/share/common-licenses/GPL-3
"$SHOG" pretrain --preset tiny --vocab 512 --train "$W/shards/train_000.bin" --batch-size 4 --seq-len 64 --max-seq 128 --steps 10 \
  --warmup-steps 2 --lr 1e-2 --ckpt-every 100 --progress false --out-dir "$W/run" > /dev/null
cp "$W/tok.json" "$W/run/tokenizer.json"
BASE="$W/run/step_000010"
"$SHOG" data synth --out "$W/syn" --train 120 --val 30 --test 30 > /dev/null
# The loss of a run's first (1) or last (-1) logged step.
loss_at() {
  grep '"loss"' "$1/metrics.jsonl" | python3 -c 'import json,sys; l=sys.stdin.readlines(); print(json.loads(l[0 if '"$2"' == 1 else -1])["loss"])'
}
common=(--seq-len 128 --batch-rows 4 --progress false --dtype f32)

# SFT, full: loss falls on a repeated tiny set; writes a loadable model dir.
"$SHOG" sft --init "$BASE" --train "$W/syn/sft_train.jsonl" --val "$W/syn/sft_val.jsonl" --out-dir "$W/sft" \
  --steps 12 --lr 3e-3 "${common[@]}" > "$W/sft.out" 2> "$W/sft.err" || { cat "$W/sft.err"; fail "sft failed"; }
for f in model.safetensors config.json tokenizer.json metrics.jsonl loss.svg run.toml; do
  [ -f "$W/sft/$f" ] || fail "sft wrote no $f"
done
first=$(loss_at "$W/sft" 1); last=$(loss_at "$W/sft" -1)
python3 -c "import sys; sys.exit(0 if $last < $first else 1)" || fail "sft loss did not fall: $first -> $last"
"$SHOG" generate --model "$W/sft" -q "hello" --max-tokens 4 --temperature 0 > /dev/null || fail "sft output not loadable"

# SFT with LoRA: an adapter directory (PEFT files), merged into a full model.
"$SHOG" sft --init "$BASE" --train "$W/syn/sft_train.jsonl" --out-dir "$W/sft_lora" --steps 6 --lr 1e-2 \
  --lora-rank 4 --lora-targets q,v,down "${common[@]}" > /dev/null 2> "$W/lora.err" || { cat "$W/lora.err"; fail "lora sft"; }
[ -f "$W/sft_lora/adapter_model.safetensors" ] && [ -f "$W/sft_lora/adapter_config.json" ] || fail "no adapter files"
[ -f "$W/sft_lora/model.safetensors" ] && fail "a LoRA run must not write full weights"
"$SHOG" lora merge --model "$BASE" --adapter "$W/sft_lora" --out "$W/merged" > /dev/null || fail "lora merge"

# SFT on plain-text records ({"text": ...}) mixed with conversations: both
# count, and a text-only file trains (its loss, over every token, falls).
python3 -c 'import json
for i in range(40): print(json.dumps({"text": "People often want to crack a walnut. It is safe and legal."}))' > "$W/text.jsonl"
{ head -20 "$W/syn/sft_train.jsonl"; head -5 "$W/text.jsonl"; } > "$W/mixed.jsonl"
"$SHOG" sft --init "$BASE" --train "$W/mixed.jsonl" --out-dir "$W/sft_mixed" --steps 1 "${common[@]}" > /dev/null \
  2> "$W/mixed.err" || { cat "$W/mixed.err"; fail "sft on a mixed file"; }
grep -q "20 conversations and 5 text documents" "$W/mixed.err" || { cat "$W/mixed.err"; fail "mixed file miscounted"; }
"$SHOG" sft --init "$BASE" --train "$W/text.jsonl" --out-dir "$W/sft_text" --steps 8 --lr 3e-3 "${common[@]}" \
  > /dev/null 2> "$W/text.err" || { cat "$W/text.err"; fail "sft on text records"; }
first=$(loss_at "$W/sft_text" 1); last=$(loss_at "$W/sft_text" -1)
python3 -c "import sys; sys.exit(0 if $last < 0.8 * $first else 1)" || fail "sft text loss did not fall: $first -> $last"

# Reward model: train, then score the validation pairs.
"$SHOG" reward --init "$W/sft" --train "$W/syn/prefs_train.jsonl" --val "$W/syn/prefs_val.jsonl" --out-dir "$W/rm" \
  --steps 8 --lr 1e-3 "${common[@]}" > "$W/rm.out" 2> "$W/rm.err" || { cat "$W/rm.err"; fail "reward failed"; }
for f in model.safetensors score.safetensors reward.json metrics.jsonl; do [ -f "$W/rm/$f" ] || fail "reward wrote no $f"; done
grep -q "validation accuracy" "$W/rm.out" || fail "reward printed no validation accuracy"
"$SHOG" reward score --model "$W/rm" --data "$W/syn/prefs_val.jsonl" --out "$W/scores.jsonl" 2> "$W/score.err" \
  || { cat "$W/score.err"; fail "reward score"; }
n_pairs=$(grep -c . "$W/syn/prefs_val.jsonl")
[ "$(grep -c score_chosen "$W/scores.jsonl")" = "$n_pairs" ] || fail "score: not one line per pair"
grep -q "pairwise accuracy" "$W/score.err" || fail "score printed no accuracy"
# Broken down by fields of the lines: one row per group, adding up to every
# scored pair (a pair longer than the tiny model's context is not scored).
"$SHOG" reward score --model "$W/rm" --data "$W/syn/prefs_val.jsonl" --out "$W/scores2.jsonl" --by kind,bad_type \
  2> "$W/by.err" || { cat "$W/by.err"; fail "reward score --by"; }
grep -q "^| kind / bad_type | pairs | accuracy |" "$W/by.err" || { cat "$W/by.err"; fail "score --by: no table"; }
grep -q "^| harmful / harmful_compliance | " "$W/by.err" || { cat "$W/by.err"; fail "score --by: no harmful row"; }
by_sum=$(grep -E '^\| [a-z_]+ / [a-z_]+ \| [0-9]+ \|' "$W/by.err" | awk -F'|' '{s += $3} END {print s}')
scored=$(sed -n 's/.*(\([0-9]*\) of \([0-9]*\) scored pairs).*/\2/p' "$W/by.err")
[ -n "$scored" ] && [ "$by_sum" = "$scored" ] || fail "score --by: groups hold $by_sum pairs, not the $scored scored"
if "$SHOG" reward score --model "$W/rm" --data "$W/syn/sft_val.jsonl" --by kind > /dev/null 2> "$W/by2.err"; then
  fail "score --by on conversations must fail"
fi
grep -q "needs preference pairs" "$W/by2.err" || { cat "$W/by2.err"; fail "score --by: unclear error"; }
"$SHOG" reward score --model "$W/rm" --data "$W/syn/sft_val.jsonl" | grep -q '"score"' || fail "score conversations"
if "$SHOG" reward score --model "$W/rm" --data "$W/text.jsonl" > /dev/null 2> "$W/e.err"; then
  fail "reward score accepted text documents"
fi
grep -q "text.jsonl: record 1.*no reply to score" "$W/e.err" || { cat "$W/e.err"; fail "text-record error unclear"; }

# DPO, both losses, from the SFT model.
for loss in sigmoid ipo; do
  "$SHOG" dpo --init "$W/sft" --train "$W/syn/prefs_train.jsonl" --val "$W/syn/prefs_val.jsonl" \
    --out-dir "$W/dpo_$loss" --steps 4 --lr 1e-3 --loss "$loss" --beta 0.2 "${common[@]}" > "$W/dpo.out" 2> "$W/dpo.err" \
    || { cat "$W/dpo.err"; fail "dpo $loss failed"; }
  grep -q '"rewards/margins"' "$W/dpo_$loss/metrics.jsonl" || fail "dpo $loss logged no margins"
  [ -f "$W/dpo_$loss/model.safetensors" ] || fail "dpo $loss wrote no model"
done

# GRPO: checker rewards, each loss variant; KL to the reference with LoRA.
"$SHOG" grpo --init "$W/sft" --train "$W/syn/rl_train.jsonl" --out-dir "$W/grpo" --steps 2 --group-size 4 \
  --prompts-per-step 2 --max-new-tokens 8 --lr 1e-3 "${common[@]}" > "$W/grpo.out" 2> "$W/grpo.err" \
  || { cat "$W/grpo.err"; fail "grpo failed"; }
for key in reward reward_std accuracy refusal_rate clip_fraction reply_tokens; do
  grep -q "\"$key\"" "$W/grpo/metrics.jsonl" || fail "grpo logged no $key"
done
[ -f "$W/grpo/model.safetensors" ] || fail "grpo wrote no model"
for loss in dr_grpo dapo; do
  "$SHOG" grpo --init "$W/sft" --train "$W/syn/rl_train.jsonl" --out-dir "$W/grpo_$loss" --steps 1 --group-size 3 \
    --prompts-per-step 2 --max-new-tokens 6 --loss "$loss" --beta 0.05 --lora-rank 4 "${common[@]}" \
    > /dev/null 2> "$W/grpo.err" || { cat "$W/grpo.err"; fail "grpo $loss failed"; }
  grep -q '"kl"' "$W/grpo_$loss/metrics.jsonl" || fail "grpo $loss with beta logged no kl"
  [ -f "$W/grpo_$loss/adapter_model.safetensors" ] || fail "grpo $loss LoRA wrote no adapter"
done
python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.dumps({"prompt": json.loads(l)["prompt"]}))' "$W/syn/rl_val.jsonl" > "$W/plain.jsonl"
if "$SHOG" grpo --init "$W/sft" --train "$W/plain.jsonl" --out-dir "$W/x" --steps 1 "${common[@]}" 2> "$W/e.err"; then
  fail "grpo accepted prompts without checkers"
fi
grep -q "plain.jsonl:1.*checker" "$W/e.err" || { cat "$W/e.err"; fail "missing-checker error does not say where"; }

# PPO: reward-model scores with a value head on the full policy; then LoRA,
# mixed rewards and a separate value model started from the reward model.
ppo_common=(--init "$W/sft" --train "$W/syn/rl_train.jsonl" --reward-model "$W/rm" --steps 2 --rollouts-per-step 4
            --minibatches 2 --ppo-epochs 2 --max-new-tokens 8 --lr 1e-3 "${common[@]}")
"$SHOG" ppo "${ppo_common[@]}" --out-dir "$W/ppo" > "$W/ppo.out" 2> "$W/ppo.err" || { cat "$W/ppo.err"; fail "ppo failed"; }
for key in score reward kl kl_coef entropy policy_loss value_loss clip_fraction value_clip_fraction explained_variance \
           generate_s train_s; do
  grep -q "\"$key\"" "$W/ppo/metrics.jsonl" || fail "ppo logged no $key"
done
for f in model.safetensors value_head.safetensors ppo.svg run.toml; do [ -f "$W/ppo/$f" ] || fail "ppo wrote no $f"; done
[ -d "$W/ppo/value_model" ] && fail "ppo with a value head wrote a separate value model"
grep -q "mean score" "$W/ppo.out" || fail "ppo printed no summary"
"$SHOG" generate --model "$W/ppo" -q "hello" --max-tokens 4 --temperature 0 > /dev/null || fail "ppo output not loadable"
"$SHOG" ppo "${ppo_common[@]}" --out-dir "$W/ppo_lora" --lora-rank 4 --reward mix --value-model separate \
  --value-init "$W/rm" --target-kl 0 > /dev/null 2> "$W/ppo.err" || { cat "$W/ppo.err"; fail "ppo LoRA/separate failed"; }
[ -f "$W/ppo_lora/adapter_model.safetensors" ] || fail "ppo LoRA wrote no adapter"
[ -f "$W/ppo_lora/model.safetensors" ] && fail "a LoRA ppo run must not write full weights"
for f in value_head.safetensors value_model/model.safetensors value_model/config.json; do
  [ -f "$W/ppo_lora/$f" ] || fail "ppo separate wrote no $f"
done
grep -q '"accuracy"' "$W/ppo_lora/metrics.jsonl" || fail "ppo with mixed rewards logged no checker accuracy"
# Bad settings: named in the error, non-zero exit, no model written.
if "$SHOG" ppo "${ppo_common[@]}" --out-dir "$W/ppo_bad" --value-model separate 2> "$W/e.err"; then
  fail "ppo accepted a separate value model without value_init"
fi
grep -q "ppo.value_init" "$W/e.err" || { cat "$W/e.err"; fail "missing value_init error does not name ppo.value_init"; }
if "$SHOG" ppo "${ppo_common[@]}" --out-dir "$W/ppo_bad" --minibatches 8 2> "$W/e.err"; then
  fail "ppo accepted more minibatches than rollouts"
fi
grep -q "ppo.minibatches" "$W/e.err" || { cat "$W/e.err"; fail "bad minibatches error does not name ppo.minibatches"; }
if "$SHOG" ppo "${ppo_common[@]}" --out-dir "$W/ppo_bad" --value-model separate --value-init "$W/nowhere" 2> "$W/e.err"; then
  fail "ppo accepted a missing value model directory"
fi
[ -f "$W/ppo_bad/model.safetensors" ] && fail "a failed ppo run left a model behind"

# Bad input: a malformed line names file and line, exits non-zero, writes nothing.
{ head -3 "$W/syn/sft_train.jsonl"; echo '{"messages": [{"role": "wizard", "content": "hi"}]}'; } > "$W/bad.jsonl"
if "$SHOG" sft --init "$BASE" --train "$W/bad.jsonl" --out-dir "$W/bad_out" --steps 2 "${common[@]}" 2> "$W/bad.err"; then
  fail "sft accepted a bad role"
fi
grep -q "bad.jsonl:4" "$W/bad.err" || { cat "$W/bad.err"; fail "error does not name bad.jsonl:4"; }
[ -f "$W/bad_out/model.safetensors" ] && fail "a failed run left a model behind"
if "$SHOG" dpo --init "$BASE" --train "$W/syn/prefs_train.jsonl" --out-dir "$W/x" --loss hinge "${common[@]}" 2> "$W/e.err"; then
  fail "dpo accepted --loss hinge"
fi
grep -q "dpo.loss" "$W/e.err" || fail "bad loss error does not name dpo.loss"
# NEFTune: the noise trains (sft, reward), and a negative alpha is named
# before anything is written.
"$SHOG" sft --init "$BASE" --train "$W/syn/sft_train.jsonl" --out-dir "$W/sft_neft" --steps 2 --neftune-alpha 10 \
  "${common[@]}" > /dev/null 2> "$W/neft.err" || { cat "$W/neft.err"; fail "sft with NEFTune"; }
grep -q "neftune_alpha = 10" "$W/sft_neft/run.toml" || fail "run.toml does not record train.neftune_alpha"
for t in sft reward dpo; do
  data="$W/syn/prefs_train.jsonl"; [ $t = sft ] && data="$W/syn/sft_train.jsonl"
  if "$SHOG" $t --init "$BASE" --train "$data" --out-dir "$W/neft_bad" --neftune-alpha -1 "${common[@]}" \
    2> "$W/e.err"; then
    fail "$t accepted --neftune-alpha -1"
  fi
  grep -q "train.neftune_alpha" "$W/e.err" || { cat "$W/e.err"; fail "$t: error does not name train.neftune_alpha"; }
  [ -e "$W/neft_bad" ] && fail "$t: a rejected run left $W/neft_bad behind"
done
# Residual dropout (sft only): it trains, run.toml records it, and a share
# outside [0, 1) is named before anything is written.
"$SHOG" sft --init "$BASE" --train "$W/syn/sft_train.jsonl" --out-dir "$W/sft_drop" --steps 2 --dropout 0.1 \
  "${common[@]}" > /dev/null 2> "$W/drop.err" || { cat "$W/drop.err"; fail "sft with dropout"; }
grep -q "^dropout = 0.1" "$W/sft_drop/run.toml" || fail "run.toml does not record train.dropout"
for p in 1 -0.5; do
  if "$SHOG" sft --init "$BASE" --train "$W/syn/sft_train.jsonl" --out-dir "$W/drop_bad" --dropout $p \
    "${common[@]}" 2> "$W/e.err"; then
    fail "sft accepted --dropout $p"
  fi
  grep -q "train.dropout" "$W/e.err" || { cat "$W/e.err"; fail "sft: error does not name train.dropout"; }
  [ -e "$W/drop_bad" ] && fail "sft: a rejected --dropout left $W/drop_bad behind"
done
if "$SHOG" sft --init "$W/nowhere" --train "$W/syn/sft_train.jsonl" --out-dir "$W/x" 2> "$W/e.err"; then
  fail "sft accepted a missing model"
fi
echo "align: all checks passed"
