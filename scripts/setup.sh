#!/usr/bin/env bash
# Installs the Debian 12 packages shoggoth needs (idempotent: only what is
# missing is installed) and builds it into build/. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake ninja-build pkg-config git
  libdnnl-dev ocl-icd-opencl-dev   # oneDNN: CPU GEMM (f32, bf16); its CMake config requires OpenCL (a Recommends, which --no-install-recommends skips)
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libpcre2-dev           # tokenizer pre-split regex (with JIT)
  libsqlite3-dev         # moderation audit log, serve API keys
  libopenmpi-dev openmpi-bin   # data-parallel pretraining over MPI (optional for the build; its tests need it)
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  python3 python3-torch python3-numpy   # PyTorch: test oracle and bench peer
  libjemalloc2           # for a fair PyTorch bench (LD_PRELOAD)
  nodejs                 # (ships npm) tokenizer conformance against js-tiktoken
  libcpp-httplib-dev prometheus-cpp-dev libssl-dev   # serve: HTTP, /metrics, SHA-256 of API keys (kept in SQLite)
  chromium curl          # serve tests: the web page (playwright-core), the API from the shell
  clang libclang-rt-14-dev   # libFuzzer targets
  bible-kjv fortunes fortunes-min jargon-text debian-reference-en   # built-in corpus
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD=${SHOG_BUILD_DIR:-build}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
# SHOG_TARGETS limits the build (the demo needs only the binary); default: all.
cmake --build "$BUILD" -j"$(nproc)" ${SHOG_TARGETS:+--target $SHOG_TARGETS}
[ -f data/corpus/MANIFEST.json ] || scripts/build_corpus.sh   # built-in corpus (docs/formats.md, "Token shards")
