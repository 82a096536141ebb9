#!/usr/bin/env bash
# Pretraining alone on the built-in small default (what scripts/demo.sh's
# first stages do inside runs/demo): install and build, assemble the corpus
# from Debian packages, train a 4096-token BPE tokenizer on it (data/), cut
# it into token shards, and pretrain the small model
# (configs/pretrain_small.toml) into runs/pretrain-small.
# Extra arguments go to `shoggoth pretrain` (e.g. --steps 50, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
SHOG_TARGETS=shoggoth bash scripts/setup.sh
bash scripts/build_corpus.sh
SHOG=build/shoggoth
[ -f data/tokenizer.json ] || $SHOG tokenizer train --input data/corpus/*.txt --vocab-size 4096 --out data/tokenizer.json
[ -f data/shards/train_000.bin ] || $SHOG data prepare --tokenizer data/tokenizer.json --input data/corpus --out data/shards
[ -f runs/pretrain-small/latest ] && [[ " $* " != *" --resume "* ]] && rm -rf runs/pretrain-small
$SHOG pretrain --config configs/pretrain_small.toml "$@"
echo "loss curve: runs/pretrain-small/loss.svg   metrics: runs/pretrain-small/metrics.jsonl"
ckpt=runs/pretrain-small/$(cat runs/pretrain-small/latest)
echo "--- a greedy continuation from $ckpt:"
$SHOG generate --model "$ckpt" "And God said" --max-tokens 40 --temperature 0
echo
