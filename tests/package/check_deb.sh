#!/usr/bin/env bash
# Issue 8: build the .deb with CPack, unpack it into a scratch root (what dpkg -i would
# install, without touching the machine), and run the installed programs from there:
# `prunelab-cli --version`, and `prunelab --demo --screenshot` on a virtual display.
# Also checks the package's metadata (generated dependencies) and its file list: the
# package's share/prunelab/{models,demo} must hold exactly (same names, same bytes) the
# source tree's resources/{models,demo}. The installed programs run with the source
# tree's resources/ hidden (an empty directory mounted over it in a private mount
# namespace), so a binary that fell back to the compiled-in source path cannot pass.
# desktop-file-validate (desktop-file-utils, installer/deps.sh) is required.
# usage: check_deb.sh BUILD_DIR
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
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

# The shipped resources are the source tree's, file for file.
shipped=$(cd "$root/usr/share/prunelab" && find models demo -type f | sort)
expected=$(cd "$source_dir/resources" && find models demo -type f | sort)
test -n "$expected" || { echo "no resources/models or resources/demo in $source_dir"; exit 1; }
if [[ "$shipped" != "$expected" ]]; then
  echo "the package's share/prunelab differs from resources/:"
  diff <(echo "$expected") <(echo "$shipped") || true
  exit 1
fi
while read -r f; do
  cmp -s "$source_dir/resources/$f" "$root/usr/share/prunelab/$f" || { echo "share/prunelab/$f differs from resources/$f"; exit 1; }
done <<<"$expected"
echo "resources: $(wc -l <<<"$expected") files, as in resources/"

command -v desktop-file-validate > /dev/null || {
  echo "desktop-file-validate not found: install desktop-file-utils (installer/deps.sh)"
  exit 1
}
desktop-file-validate "$root/usr/share/applications/prunelab.desktop"
man -l "$root/usr/share/man/man1/prunelab-cli.1.gz" > /dev/null 2>&1 || zcat "$root/usr/share/man/man1/prunelab-cli.1.gz" | grep -q "^.SH NAME"
# README: the menu entry is under Development / Science; the man page lists the exit codes.
grep -Eq "^Categories=(.*;)?Development;(.*;)?Science;" "$root/usr/share/applications/prunelab.desktop" ||
  { echo "the desktop entry is not under Development and Science"; exit 1; }
manpage=$(zcat "$root/usr/share/man/man1/prunelab-cli.1.gz")
grep -q "^.SH EXIT STATUS" <<<"$manpage" || { echo "the man page has no EXIT STATUS section"; exit 1; }
exit_status=$(sed -n '/^.SH EXIT STATUS/,/^.SH ENVIRONMENT/p' <<<"$manpage" | tr '\n' ' ')
for code in "0 success" "; 1 the request" "; 2 usage" "; 3 an internal error" "; 130 a"; do
  grep -qF "$code" <<<"$exit_status" || { echo "the man page's EXIT STATUS lacks '$code'"; exit 1; }
done

# Hide the source tree's resources/ (the binaries' compiled-in fallback) for the rest.
empty="$root/.empty"
mkdir -p "$empty"
userns=()
[[ $(id -u) -eq 0 ]] || userns=(--map-root-user)
hidden() {  # runs "$@" with $source_dir/resources empty
  unshare --mount "${userns[@]}" -- bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ \
    "$empty" "$source_dir/resources" "$@"
}
test -z "$(hidden ls -A "$source_dir/resources")" || { echo "could not hide $source_dir/resources"; exit 1; }

version=$(hidden env -u PRUNELAB_RESOURCES "$root/usr/bin/prunelab-cli" --version)
echo "$version"
grep -q "^prunelab-cli [0-9]" <<<"$version"
# The installed CLI finds its own YOLO configs (share/prunelab next to bin/).
hidden env -u PRUNELAB_RESOURCES "$root/usr/bin/prunelab-cli" info --model yolov8n --input 3x160x160 | tail -n1

shot="$root/demo.png"
hidden env -u PRUNELAB_RESOURCES QT_QPA_PLATFORM=xcb timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$root/usr/bin/prunelab" --demo --screenshot "$shot"
test -s "$shot" || { echo "no screenshot written"; exit 1; }
echo "screenshot: $(stat -c %s "$shot") bytes"
echo "package check passed"
