#!/usr/bin/env bash
# Installs the Debian 12 packages PruneLab needs to build, test and run (as root).
# Only missing packages are installed; the README lists why each one is needed.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config
  # GUI
  qt6-base-dev qt6-base-dev-tools libqcustomplot-dev libgraphviz-dev
  # engine
  libtorch-dev libopencv-dev libonnx-dev libprotobuf-dev protobuf-compiler zlib1g-dev
  libyaml-cpp-dev nlohmann-json3-dev
  # command line (prunelab-cli)
  libcli11-dev
  # built-in data
  dataset-fashion-mnist
  # tests: PyTorch references, headless GUI, report pages
  python3-torch python3-torchvision python3-onnx python3-opencv python3-numpy
  xvfb xauth poppler-utils
  # tests: the package's .desktop file (tests/package/check_deb.sh)
  desktop-file-utils
  # tests: sanitizer and fuzz builds (scripts/sanitize.sh, scripts/fuzz.sh): clang, its
  # ASan/UBSan/libFuzzer runtimes and llvm-symbolizer for readable reports
  clang libclang-rt-14-dev llvm-14
  # packaging
  dpkg-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "Missing packages: ${missing[*]}" >&2
    echo "Run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
