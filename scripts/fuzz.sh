#!/usr/bin/env bash
# Builds the fuzz harnesses (tests/fuzz, instrumented tree build-fuzz) and runs each on its
# seed corpus (tests/fuzz/corpus/<harness>) for PRUNELAB_FUZZ_SECONDS seconds (default 20).
# Fails on any crash, sanitizer report, leak, out-of-memory or timeout; the input that did it
# is left in build-fuzz/fuzz-artifacts/. New inputs the fuzzer finds go to
# build-fuzz/fuzz-corpus/<harness> (reused by the next run), never into the seed corpus.
#   scripts/fuzz.sh [HARNESS...]      e.g. PRUNELAB_FUZZ_SECONDS=600 scripts/fuzz.sh fuzz_npy
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fuzz_tree.sh

harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  harnesses=(fuzz_onnx fuzz_torch_pickle fuzz_pt_file fuzz_plm fuzz_model_yaml fuzz_data_yaml fuzz_labels fuzz_idx
             fuzz_npy fuzz_ratios)
fi
start=$(date +%s)
build_fuzz_tree "${harnesses[@]}"
echo "fuzz build: $(($(date +%s) - start)) s"

seconds=${PRUNELAB_FUZZ_SECONDS:-20}
mkdir -p "$FUZZ_BUILD/fuzz-artifacts"
failed=()
for h in "${harnesses[@]}"; do
  # Absolute paths (fuzz_data_yaml works in a sandbox directory of its own).
  work="$FUZZ_BUILD/fuzz-corpus/$h"
  mkdir -p "$work"
  echo "== $h: ${seconds} s"
  # -timeout: one input may take at most 10 s (the slowest valid seeds, whole YOLO models
  # built under ASan, take well under 1 s); -rss_limit_mb: LibTorch + ASan start near 1 GB.
  if ! "$FUZZ_BUILD/tests/fuzz/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="$FUZZ_BUILD/fuzz-artifacts/$h-" \
      "$work" "$PWD/tests/fuzz/corpus/$h" > "$FUZZ_BUILD/fuzz-artifacts/$h.log" 2>&1; then
    failed+=("$h")
    tail -40 "$FUZZ_BUILD/fuzz-artifacts/$h.log"
  fi
  grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec" "$FUZZ_BUILD/fuzz-artifacts/$h.log" | tr '\n' ' ' || true
  echo
done
echo "fuzz: $(($(date +%s) - start)) s in all"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $FUZZ_BUILD/fuzz-artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#harnesses[@]} harnesses, no crash, leak or timeout"
