#!/usr/bin/env bash
# ctest entry (args: <shoggoth binary> <source dir>): builds the tokenizer
# fuzz targets with clang into their own build directory and runs each for a
# short bounded time, so CI exercises them without a long run.
set -euo pipefail
src=$(realpath "$2")
export SHOG_FUZZ_BUILD=${SHOG_FUZZ_BUILD:-$src/build-fuzz-ci}
exec bash "$src/scripts/fuzz.sh" "${SHOG_FUZZ_SECONDS:-15}" tokenizer_fuzz tokenizer_file_fuzz
