#!/usr/bin/env bash
# Issue 8: build the .deb with CPack, unpack it into a scratch root (what dpkg -i would
# install, without touching the machine), and run the installed programs from there:
# `prunelab-cli --version`, and `prunelab --demo --screenshot` on a virtual display.
# Also checks the package's metadata (generated dependencies) and its file list.
# usage: check_deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$build"
rm -f prunelab_*.deb
cpack -G DEB > cpack.log 2>&1 || { cat cpack.log; exit 1; }
deb=$(ls prunelab_*.deb | head -n1)
echo "package: $deb ($(du -h "$deb" | cut -f1))"

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libqt6widgets6 libopencv-core dataset-fashion-mnist libonnx; do
  grep -q "$lib" <<<"$depends" || { echo "missing dependency $lib"; exit 1; }
done
grep -Eq "libtorch|libc10" <<<"$depends" || { echo "missing the LibTorch dependency"; exit 1; }

files=$(dpkg-deb -c "$deb")
for f in ./usr/bin/prunelab ./usr/bin/prunelab-cli ./usr/share/applications/prunelab.desktop \
         ./usr/share/icons/hicolor/scalable/apps/prunelab.svg ./usr/share/man/man1/prunelab-cli.1.gz \
         ./usr/share/man/man1/prunelab.1.gz ./usr/share/prunelab/models/yolov8.yaml \
         ./usr/share/prunelab/demo/classifier.plm ./usr/share/prunelab/demo/detector.plm; do
  grep -q " $f\$" <<<"$files" || { echo "missing $f in the package"; exit 1; }
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
if command -v desktop-file-validate > /dev/null; then desktop-file-validate "$root/usr/share/applications/prunelab.desktop"; fi
man -l "$root/usr/share/man/man1/prunelab-cli.1.gz" > /dev/null 2>&1 || zcat "$root/usr/share/man/man1/prunelab-cli.1.gz" | grep -q "^.SH NAME"

version=$(env -u PRUNELAB_RESOURCES "$root/usr/bin/prunelab-cli" --version)
echo "$version"
grep -q "^prunelab-cli [0-9]" <<<"$version"
# The installed CLI finds its own YOLO configs (share/prunelab next to bin/).
env -u PRUNELAB_RESOURCES "$root/usr/bin/prunelab-cli" info --model yolov8n --input 3x160x160 | tail -n1

shot="$root/demo.png"
env -u PRUNELAB_RESOURCES QT_QPA_PLATFORM=xcb timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$root/usr/bin/prunelab" --demo --screenshot "$shot"
test -s "$shot" || { echo "no screenshot written"; exit 1; }
echo "screenshot: $(stat -c %s "$shot") bytes"
echo "package check passed"
