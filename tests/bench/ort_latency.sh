#!/usr/bin/env bash
# Benchmark (issue 18 item 3): latency before/after a 50 % cut in PruneLab's LibTorch
# executor and in ONNX Runtime (CPU, onnxruntime-node from npm: tests/ort), from a built tree.
#
#   tests/bench/ort_latency.sh [BUILD_DIR]        (default: build)
#   env: ROUNDS=5 THREADS=1 KEEP=DIR (keep the models and samples there)
#        PAUSE_PATTERN=REGEX  (e.g. a fuzzer's bin folder: processes to SIGSTOP while measuring; always
#        resumed with SIGCONT on exit, also on failure or Ctrl-C)
#
# Models: ResNet-18 at 224 (zoo `resnet18`) and YOLOv5s at 640 (resources/models/yolov5s.yaml),
# random weights (latency does not depend on them). The cut: `prunelab-cli prune --criterion l1
# --ratios` with `default: 0.5`, i.e. half of every prunable group's channels (uniform ratio;
# widths stay multiples of 8 here). Both runtimes time the same files: each model exported
# once with `--fold-bn` (the deployment form), dynamic batch; the executor reads the .onnx too.
# Each round visits every (model, batch) and, in a rotating order, {libtorch, ort} x
# {unpruned, pruned}, each a fresh process timing `iters` runs after warm-up runs (every
# output is computed: YOLO's raw heads and decode); a cell's figure is the MINIMUM over rounds
# of the per-round medians (the machine is shared: the least disturbed round). Same intra-op
# thread count in both runtimes (ORT: inter-op 1, sequential). Prints a markdown table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$src/build}" && pwd)"
cli="$build/app/prunelab-cli"
bench="$build/tests/bench/bench_latency"
ort_run="$src/tests/ort/ort_run.js"
rounds="${ROUNDS:-5}"
threads="${THREADS:-1}"

for f in "$cli" "$bench"; do
  [[ -x "$f" ]] || { echo "ort_latency: $f not built (ninja -C $build prunelab-cli bench_latency)" >&2; exit 1; }
done
command -v node >/dev/null || { echo "ort_latency: node not found: run installer/deps.sh" >&2; exit 1; }
[[ -f "$src/tests/ort/node_modules/onnxruntime-node/package.json" ]] ||
  { echo "ort_latency: ONNX Runtime not installed in $src/tests/ort: run installer/deps.sh" >&2; exit 1; }

if [[ -n "${KEEP:-}" ]]; then work="$KEEP"; mkdir -p "$work"; else work="$(mktemp -d)"; fi
resume() {
  if [[ -n "${PAUSE_PATTERN:-}" ]]; then pkill -CONT -f "$PAUSE_PATTERN" || true; fi
  if [[ -z "${KEEP:-}" ]]; then rm -rf "$work"; fi
}
trap resume EXIT
trap 'exit 130' INT TERM

# --- models: name | model | input | iterations at b1, b16 | warm-up runs at b16 ------------------
# Odd counts: both runtimes take the sorted samples' element n/2 as the median. YOLOv5s at 640
# and batch 16 is ~130 G MACs per run (several seconds on one thread): one warm-up and one timed
# run per round, so that the run stays near 10-15 minutes on this machine; its figure is then the
# minimum over the rounds of single runs.
models=("resnet18|resnet18|3x224x224|21|5|2" "yolov5s|$src/resources/models/yolov5s.yaml|3x640x640|11|1|1")
batches=(1 16)
printf 'default: 0.5\n' >"$work/half.yaml"
declare -A macs
for spec in "${models[@]}"; do
  IFS='|' read -r name model input _ _ _ <<<"$spec"
  "$cli" prune --model "$model" --criterion l1 --ratios "$work/half.yaml" --input "$input" \
    --out "$work/${name}_half.plm" --threads "$threads" >"$work/${name}_prune.log"
  "$cli" export --model "$model" --format onnx --fold-bn --input "$input" --out "$work/${name}_full.onnx" >/dev/null
  "$cli" export --model "$work/${name}_half.plm" --format onnx --fold-bn --input "$input" \
    --out "$work/${name}_half.onnx" >/dev/null
  for v in full half; do
    macs[$name.$v]=$("$cli" info --model "$work/${name}_$v.onnx" --input "$input" --json |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).macs))')
  done
done

# --- measurement ---------------------------------------------------------------------------
if [[ -n "${PAUSE_PATTERN:-}" ]]; then pkill -STOP -f "$PAUSE_PATTERN" || true; fi
echo "machine load before: $(uptime)" >&2
samples="$work/samples.txt"
: >"$samples"
started=$SECONDS
for ((r = 0; r < rounds; ++r)); do
  for spec in "${models[@]}"; do
    IFS='|' read -r name _ input it1 it16 wu16 <<<"$spec"
    for b in "${batches[@]}"; do
      iters=$it16 warmup=$wu16
      if [[ $b == 1 ]]; then iters=$it1 warmup=2; fi
      cells=(libtorch.full libtorch.half ort.full ort.half)
      for ((k = 0; k < 4; ++k)); do
        cell=${cells[$(((k + r) % 4))]}
        runtime=${cell%.*} v=${cell#*.}
        file="$work/${name}_$v.onnx"
        if [[ $runtime == libtorch ]]; then
          # bench_latency's table row: | model | params | MACs | batch | ms | ...
          ms=$("$bench" --input "$input" --batches "$b" --iters "$iters" --rounds 1 --threads "$threads" --warmup "$warmup" "$file" |
            awk -F'|' 'NF > 8 && $5 ~ /^ *[0-9]+ *$/ {gsub(/ /, "", $6); print $6}')
        else
          ms=$(node "$ort_run" time "$file" --batch "$b" --threads "$threads" --warmup "$warmup" --iters "$iters" |
            awk '$1 == "median_ms" {print $2}')
        fi
        [[ -n "$ms" ]] || { echo "ort_latency: no timing for $runtime ${name}_$v batch $b" >&2; exit 1; }
        echo "$name $b $runtime $v $r $ms" >>"$samples"
      done
    done
  done
  echo "round $((r + 1))/$rounds done at $((SECONDS - started)) s" >&2
done
# Where ORT's batch-1 time goes, before and after the cut (its profiler, warm-up excluded).
for spec in "${models[@]}"; do
  IFS='|' read -r name _ _ it1 _ _ <<<"$spec"
  for v in full half; do
    node "$ort_run" profile "$work/${name}_$v.onnx" --batch 1 --threads "$threads" --warmup 2 --iters "$it1" \
      >"$work/${name}_${v}_profile.json"
  done
done
echo "machine load after: $(uptime)" >&2
if [[ -n "${PAUSE_PATTERN:-}" ]]; then pkill -CONT -f "$PAUSE_PATTERN" || true; fi

# --- table ---------------------------------------------------------------------------------
best() {  # minimum over rounds of the per-round medians of one cell
  awk -v n="$1" -v b="$2" -v rt="$3" -v v="$4" '$1 == n && $2 == b && $3 == rt && $4 == v {
    if (m == "" || $6 < m) m = $6 } END { printf "%.2f", m }' "$samples"
}
spread() {  # all per-round medians of one cell, for the detail line
  awk -v n="$1" -v b="$2" -v rt="$3" -v v="$4" '$1 == n && $2 == b && $3 == rt && $4 == v {
    s = s (s == "" ? "" : " ") $6 } END { print s }' "$samples"
}
echo "$threads intra-op thread(s) in both runtimes; minimum over $rounds interleaved rounds of per-round medians;"
echo "ONNX Runtime $(node -p "require('$src/tests/ort/node_modules/onnxruntime-node/package.json').version") (npm, CPU), LibTorch executor: bench_latency on the same .onnx"
echo
echo "| model | batch | runtime | MACs before | MACs after | ms before | ms after | speed-up | MACs reduction | speed-up ÷ MACs reduction |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for spec in "${models[@]}"; do
  IFS='|' read -r name _ input _ _ _ <<<"$spec"
  for b in "${batches[@]}"; do
    for runtime in libtorch ort; do
      before=$(best "$name" "$b" "$runtime" full) after=$(best "$name" "$b" "$runtime" half)
      awk -v n="$name @${input##*x}" -v b="$b" -v rt="$runtime" -v m0="${macs[$name.full]}" -v m1="${macs[$name.half]}" \
        -v t0="$before" -v t1="$after" 'BEGIN {
          s = t0 / t1; red = m0 / m1
          printf "| %s | %d | %s | %.3fG | %.3fG | %.2f | %.2f | %.2fx | %.2fx | %.2f |\n",
                 n, b, (rt == "ort" ? "ONNX Runtime" : "LibTorch executor"), m0 / 1e9, m1 / 1e9, t0, t1, s, red, s / red }'
    done
  done
done
echo
echo "Per-round medians (ms), in round order:"
echo
for spec in "${models[@]}"; do
  IFS='|' read -r name _ _ _ _ _ <<<"$spec"
  for b in "${batches[@]}"; do
    for cell in libtorch.full libtorch.half ort.full ort.half; do
      echo "- $name b$b ${cell/./ }: $(spread "$name" "$b" "${cell%.*}" "${cell#*.}")"
    done
  done
done
echo
echo "ONNX Runtime at batch 1, ms per run by op type (its profiler, after its graph optimizations; one"
echo "profiled session each, not interleaved: shares, not latency figures):"
echo
for spec in "${models[@]}"; do
  IFS='|' read -r name _ _ _ _ _ <<<"$spec"
  node -e '
    const fs = require("fs");
    const [name, a, b] = process.argv.slice(1);
    const p0 = JSON.parse(fs.readFileSync(a, "utf8")), p1 = JSON.parse(fs.readFileSync(b, "utf8"));
    const ops = Object.keys(p0.op_ms).concat(Object.keys(p1.op_ms).filter((k) => !(k in p0.op_ms)));
    ops.sort((x, y) => (p0.op_ms[y] || 0) - (p0.op_ms[x] || 0));
    console.log(`| ${name} op | ms before | share | ms after | share | speed-up |`);
    console.log("|---|---|---|---|---|---|");
    const pct = (v, t) => (100 * v / t).toFixed(1) + " %";
    for (const k of ops) {
      const t0 = p0.op_ms[k] || 0, t1 = p1.op_ms[k] || 0;
      if (t0 < 0.005 * p0.run_ms && t1 < 0.005 * p1.run_ms) continue;  // below 0.5 % in both
      console.log(`| ${k} | ${t0.toFixed(2)} | ${pct(t0, p0.run_ms)} | ${t1.toFixed(2)} | ${pct(t1, p1.run_ms)} | ${t1 > 0 ? (t0 / t1).toFixed(2) + "x" : "-"} |`);
    }
    console.log(`| whole run | ${p0.run_ms.toFixed(2)} | | ${p1.run_ms.toFixed(2)} | | ${(p0.run_ms / p1.run_ms).toFixed(2)}x |`);
    console.log();
  ' "$name" "$work/${name}_full_profile.json" "$work/${name}_half_profile.json"
done
