#!/usr/bin/env bash
# ctest entry (args: <shoggoth binary> <source dir>): builds the tokenizer
# fuzz targets with clang into their own build directory and runs each for a
# short bounded run, so CI exercises them without a long run. The seed and
# the number of inputs are fixed so that a CI run is repeatable: a failure
# here is a bug to reproduce, not bad luck. Long random runs: scripts/fuzz.sh.
set -euo pipefail
src=$(realpath "$2")
export SHOG_FUZZ_SEED=${SHOG_FUZZ_SEED:-1} SHOG_FUZZ_RUNS=${SHOG_FUZZ_RUNS:-200000}
export SHOG_FUZZ_BUILD=${SHOG_FUZZ_BUILD:-$src/build-fuzz-ci}
exec bash "$src/scripts/fuzz.sh" "${SHOG_FUZZ_SECONDS:-60}" tokenizer_fuzz tokenizer_file_fuzz
