# Sourced by scripts/fuzz.sh and scripts/sanitize.sh: configures and builds the
# instrumented tree build-fuzz (clang, ASan + UBSan + libFuzzer coverage; cmake/Fuzz.cmake
# says why one tree serves both) and sets the sanitizer options both use.
#   build_fuzz_tree TARGET...
# PRUNELAB_JOBS sets the build's parallelism (CI: 2; on a shared machine: 1).

FUZZ_BUILD=$(realpath -m "${PRUNELAB_FUZZ_BUILD:-build-fuzz}")  # absolute: fuzz_data_yaml changes directory
FUZZ_SUPP=$PWD/tests/fuzz/sanitizers

configure_fuzz_tree() {
  # Without the GUI (its tests are not part of the sanitizer job) and without benchmarks.
  CXX=clang++ cmake -S . -B "$FUZZ_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPRUNELAB_FUZZ=ON \
    -DPRUNELAB_BUILD_GUI=OFF -DPRUNELAB_BUILD_BENCH=OFF > /dev/null
}

build_fuzz_tree() {
  configure_fuzz_tree
  cmake --build "$FUZZ_BUILD" -j"${PRUNELAB_JOBS:-2}" --target "$@"
}

# halt_on_error: the first report fails the run (UBSan would otherwise print and go on).
# Suppression files list third-party code only (each entry says why); never ours.
export ASAN_OPTIONS="abort_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:report_error_type=1:suppressions=$FUZZ_SUPP/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$FUZZ_SUPP/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
