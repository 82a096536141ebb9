#!/usr/bin/env bash
# ctest entry (args: <shoggoth binary> <source dir>): builds the model-file
# fuzz targets (safetensors and GGUF readers, the files `shoggoth import`
# and every loader parse) with clang and runs each for a short bounded time.
# Its own build directory, so that it can run beside tokenizer_fuzz_test.sh.
set -euo pipefail
src=$(realpath "$2")
# Fixed seed and input count: a repeatable run (see tokenizer_fuzz_test.sh).
export SHOG_FUZZ_SEED=${SHOG_FUZZ_SEED:-1} SHOG_FUZZ_RUNS=${SHOG_FUZZ_RUNS:-200000}
export SHOG_FUZZ_BUILD=${SHOG_FUZZ_BUILD_INTEROP:-$src/build-fuzz-ci-interop}
exec bash "$src/scripts/fuzz.sh" "${SHOG_FUZZ_SECONDS:-60}" safetensors_fuzz gguf_fuzz
