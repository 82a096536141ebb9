#!/usr/bin/env bash
# Alignment I on the built-in small default: the synthetic world, then SFT,
# a reward model and DPO from the pretrained small model (scripts/pretrain_small.sh
# makes it), each with its config in configs/. Prints each stage's figures;
# docs/alignment.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
SHOG_TARGETS=shoggoth bash scripts/setup.sh
SHOG=build/shoggoth
[ -f runs/pretrain-small/latest ] || bash scripts/pretrain_small.sh
[ -f data/synth/manifest.json ] || $SHOG data synth --out data/synth --seed 1
rm -rf runs/sft-small runs/reward-small runs/dpo-small
time $SHOG sft --config configs/sft_small.toml "$@"
time $SHOG reward --config configs/reward_small.toml
$SHOG reward score --model runs/reward-small --data data/synth/prefs_test.jsonl --out runs/reward-small/test_scores.jsonl
time $SHOG dpo --config configs/dpo_small.toml
