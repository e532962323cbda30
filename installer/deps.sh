#!/usr/bin/env bash
# Installs the Debian 12 packages PruneLab needs to build, test and run (as root).
# Only missing packages are installed; docs/install.md lists why each one is needed.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config
  # GUI
  qt6-base-dev qt6-base-dev-tools libqcustomplot-dev libgraphviz-dev
  # engine
  libtorch-dev libgloo-dev libopencv-dev libonnx-dev libprotobuf-dev protobuf-compiler zlib1g-dev
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
# --- ONNX Runtime for tests and benchmarks (node + npm) ------------------------------------
# Any node/npm on the PATH will do (a newer one from another repository too); Debian's only
# when there is none, so that apt does not try to replace it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
# --- end ONNX Runtime (node + npm) -------------------------------------------------------------
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

# --- ONNX Runtime (CPU) from the npm registry, tests and benchmarks only -------------------
# tests/ort/package-lock.json pins onnxruntime-node; its install script is skipped (it would
# only fetch GPU providers): the npm package already holds libonnxruntime for linux-x64.
# Quick when the pinned version is already there.
ort_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/ort"
ort_want=$(node -p "require('$ort_dir/package.json').dependencies['onnxruntime-node']")
ort_have=$(node -p "try { require('$ort_dir/node_modules/onnxruntime-node/package.json').version } catch (e) { '' }")
if [[ "$ort_have" != "$ort_want" ]]; then
  echo "Installing onnxruntime-node $ort_want into $ort_dir (npm)"
  (cd "$ort_dir" && npm ci --ignore-scripts --no-audit --no-fund)
fi
# --- end ONNX Runtime --------------------------------------------------------------------------
