#!/usr/bin/env bash
# Installs what the peer benchmarks need to run at their best (not needed to
# build or test shoggoth): Debian's python3-torch calls BLAS for f32 matmuls,
# and with only the reference BLAS (libblas3) it runs them at ~0.5 GFLOP/s.
# libopenblas0-pthread registers itself as the libblas.so.3 alternative.
# jemalloc is the allocator PyTorch is fastest with here.
set -euo pipefail
PKGS=(python3-torch python3-numpy libopenblas0-pthread libjemalloc2)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
