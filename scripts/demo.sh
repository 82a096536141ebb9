#!/usr/bin/env bash
# The main job on the built-in small default: install and build, assemble
# the corpus from Debian packages, then `shoggoth demo`: the whole cake in
# runs/demo (tokenizer, pretraining, the synthetic world, SFT, reward model,
# DPO, PPO, evaluation, fine-tune erosion, a summary table), ending by
# serving the base model (research tier), the aligned assistant and a
# strictly moderated kids' deployment until Ctrl-C. Extra arguments go to
# `shoggoth demo` (e.g. --no-serve, --grpo, --fresh; docs/demo.md).
# A second run keeps the stages that finished.
set -euo pipefail
cd "$(dirname "$0")/.."
SHOG_TARGETS=shoggoth bash scripts/setup.sh
bash scripts/build_corpus.sh
exec build/shoggoth demo --out runs/demo --corpus data/corpus --recipe configs/demo "$@"
