#!/usr/bin/env bash
# The unit and parity tests under AddressSanitizer + UndefinedBehaviorSanitizer, in the
# instrumented tree build-fuzz (shared with scripts/fuzz.sh: the core is compiled once for
# both; cmake/Fuzz.cmake). Labels cli, gui and train are not run: gui is not built in this
# tree, train (two detectors trained for minutes) would take most of CI's budget under ASan,
# and cli drives the same code as the unit tests through a subprocess.
# Extra arguments go to ctest, e.g. scripts/sanitize.sh -R test_graph
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fuzz_tree.sh
labels='^(unit|parity)$'
start=$(date +%s)
configure_fuzz_tree
# Only the executables of those labels (their python fixtures need nothing built) and the
# CLI some of them run: the cli and train tests would add minutes of compiling for nothing.
mapfile -t tests < <(cd "$FUZZ_BUILD" && ctest -N -L "$labels" | awk '/Test +#/ && $3 ~ /^test_/ {print $3}')
build_fuzz_tree prunelab-cli "${tests[@]}"
echo "sanitizer build: $(($(date +%s) - start)) s"
cd "$FUZZ_BUILD"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -L "$labels" -j"${PRUNELAB_TEST_JOBS:-2}" "$@"
echo "sanitize: $(($(date +%s) - start)) s in all"
