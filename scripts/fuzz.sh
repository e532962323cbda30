#!/usr/bin/env bash
# Builds the fuzz harnesses (tests/fuzz, instrumented tree build-fuzz) and runs each on its
# seed corpus (tests/fuzz/corpus/<harness>).
#   CI (default): a fixed seed and a fixed number of executions per harness (RUNS below,
#   about 20 s each on 2 cores), so a run is repeatable: the same inputs in the same order,
#   and a finding fails every run until it is fixed, not one run in ten.
#   PRUNELAB_FUZZ_SECONDS=S: S seconds per harness with a random seed (exploration).
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
             fuzz_npy fuzz_ratios fuzz_sensitivity)
fi
start=$(date +%s)
build_fuzz_tree "${harnesses[@]}"
echo "fuzz build: $(($(date +%s) - start)) s"

# Executions per harness in CI mode, from the rates measured on this machine (BENCHMARKS.md).
declare -A RUNS=([fuzz_labels]=400000 [fuzz_npy]=200000 [fuzz_idx]=200000 [fuzz_ratios]=120000
                 [fuzz_torch_pickle]=100000 [fuzz_data_yaml]=80000 [fuzz_pt_file]=40000 [fuzz_onnx]=8000
                 [fuzz_plm]=8000 [fuzz_model_yaml]=8000 [fuzz_sensitivity]=60000)
seconds=${PRUNELAB_FUZZ_SECONDS:-}
export OMP_NUM_THREADS=1  # one LibTorch thread: repeatable coverage, no thread start-up per input
mkdir -p "$FUZZ_BUILD/fuzz-artifacts"
failed=()
for h in "${harnesses[@]}"; do
  # Absolute paths (fuzz_data_yaml works in a sandbox directory of its own).
  work="$FUZZ_BUILD/fuzz-corpus/$h"
  if [[ -n $seconds ]]; then
    budget=(-max_total_time="$seconds")
    echo "== $h: ${seconds} s, random seed"
  else
    # A fresh work corpus: what earlier runs found would change the inputs tried. The time
    # cap only guards a much slower machine (the run then stops early, still repeatable).
    rm -rf "$work"
    budget=(-runs="${RUNS[$h]:-10000}" -seed=1 -max_total_time=180)
    echo "== $h: ${RUNS[$h]:-10000} executions, seed 1"
  fi
  mkdir -p "$work"
  # -timeout: one input may take at most 30 s. A full-width YOLOv8 YAML (43M weights
  # initialised under ASan) takes 1.7 s alone but took 13 s beside three other jobs on 2 cores:
  # a hang still shows, a busy neighbour does not fail CI. -rss_limit_mb: LibTorch + ASan
  # start near 1 GB.
  if ! "$FUZZ_BUILD/tests/fuzz/$h" "${budget[@]}" -timeout=30 -rss_limit_mb=4096 \
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
