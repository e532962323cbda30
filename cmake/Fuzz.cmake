# PRUNELAB_FUZZ: one instrumented tree for both the libFuzzer harnesses (tests/fuzz) and
# the ASan + UBSan run of the unit and parity tests (scripts/fuzz.sh, scripts/sanitize.sh).
#
# Why one tree for both: the core is most of the build time. Compiled once with
# -fsanitize=address,undefined,fuzzer-no-link it serves the harnesses (linked with
# -fsanitize=fuzzer, which adds libFuzzer's main) and the ordinary test executables
# (linked with -fsanitize=address,undefined only; the coverage callbacks the core calls
# have no-op defaults in the sanitizer runtime). A separate gcc sanitizer tree would
# compile the core a second time in CI for no extra finding.
#
# Only our targets are instrumented. LibTorch, OpenCV, Qt, onnx, protobuf and yaml-cpp are
# Debian's uninstrumented shared libraries: ASan still sees their heap through its
# malloc/new interceptors, but not their stack or globals.
option(PRUNELAB_FUZZ "Build with ASan+UBSan+libFuzzer coverage (clang) and the fuzz harnesses in tests/fuzz" OFF)

if(PRUNELAB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PRUNELAB_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # -O1: the usual sanitizer level (fast enough, readable stacks) and much quicker to
  # compile than Release's -O3; line tables only, for symbolized reports at little link cost.
  add_compile_options(-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer
                      -O1 -gline-tables-only)
  add_link_options(-fsanitize=address,undefined)
endif()
