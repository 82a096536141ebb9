#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cpp) with clang and runs each for
# a bounded time. Any crash, sanitizer report or abort fails the script.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]
#   SHOG_FUZZ_BUILD=build-fuzz  build directory (default build-fuzz)
#   SHOG_FUZZ_SEED=N            fixed libFuzzer seed (default: random)
#   SHOG_FUZZ_RUNS=N            stop after N inputs as well; with a fixed seed
#                               this makes a run repeatable, as CI needs
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
build=${SHOG_FUZZ_BUILD:-build-fuzz}
# The libraries are instrumented too (coverage + ASan), not only the harness:
# without that libFuzzer sees no coverage inside the code under test.
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address" -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address" \
  -DSHOG_FUZZ=ON -DSHOG_TESTS=OFF -DSHOG_BENCH=OFF >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
cmake --build "$build" --target "${targets[@]}"
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  # Seeds from the repository (if any) are copied so runs never write there.
  [ -d "fuzz/corpus/$t" ] && cp -r "fuzz/corpus/$t/." "$work/"
  echo "fuzz: $t for ${secs}s"
  # A crashing input is kept as $build/crash-* for reproduction.
  set +e
  extra=()
  [ -n "${SHOG_FUZZ_SEED:-}" ] && extra+=(-seed="$SHOG_FUZZ_SEED")
  [ -n "${SHOG_FUZZ_RUNS:-}" ] && extra+=(-runs="$SHOG_FUZZ_RUNS")
  "$build/$t" "${extra[@]}" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$build/" -print_final_stats=1 "$work" >"$work.log" 2>&1
  rc=$?
  set -e
  tail -n 8 "$work.log"
  rm -f "$work.log"
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $t FAILED (exit $rc)" >&2
    exit 1
  fi
done
echo "fuzz: all targets ran clean"
