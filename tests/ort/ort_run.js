#!/usr/bin/env node
// ONNX Runtime (CPU, onnxruntime-node from npm) as a consumer of PruneLab's ONNX files,
// for tests and benchmarks only: the product never runs Node.
//
//   node ort_run.js run  MODEL.onnx INPUT.npy OUTDIR [--threads N]
//       Runs MODEL on INPUT (float32 .npy, the model's first input) and writes every output
//       as OUTDIR/output<i>.npy, in the model's output order (the order PruneLab exports
//       them and `prunelab-cli infer` names them). Prints one JSON line describing them.
//   node ort_run.js time MODEL.onnx --batch B [--threads N] [--warmup W] [--iters I] [--json]
//       Times MODEL on a fixed random input of the model's own input shape (read from the
//       file; a symbolic first dim becomes B). Prints "median_ms X"; with --json one JSON
//       line with every sample as well.
//   node ort_run.js profile MODEL.onnx --batch B [--threads N] [--warmup W] [--iters I]
//       Where the time goes: ORT's own profiler over the timed runs (warm-up excluded);
//       prints one JSON line with the mean ms per run of each op type (ORT's kernels after
//       its graph optimizations: fused ops, NCHWc layout reorders) and of the whole run.
//       Profiling costs a little time itself: use `time` for latency figures.
//   node ort_run.js load MODEL.onnx... [--log-severity S]
//       Opens each model in a session with ORT's log severity S (default 2: warnings and
//       worse; 0 verbose, 1 info, 3 errors, 4 fatal) and prints one JSON line per model with
//       its input and output names. ORT writes its log lines to stderr: a test that wants
//       a file ORT has nothing to say about checks that stderr stays empty.
//
// Threads: intra-op N (default 1), inter-op 1, sequential execution, all graph
// optimizations on: what a deployment would use, and the same thread count the LibTorch
// side is given. Errors (missing or corrupt files, wrong shapes, ORT not installed) print
// one line naming the file and exit 1; usage errors exit 2.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

function fail(message, code = 1) {
  process.stderr.write(`ort_run: ${message}\n`);
  process.exit(code);
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    fail(`ONNX Runtime (onnxruntime-node) is not installed in ${__dirname}/node_modules ` +
         `(${e.message.split('\n')[0]}): run installer/deps.sh`);
  }
  return null;
}

// --- .npy (format 1.0-3.0, little-endian, C order) ------------------------------------------

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // \x93NUMPY

function readNpyFloat32(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    fail(`cannot read input ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  if (buf.length < 10 || !buf.subarray(0, 6).equals(NPY_MAGIC)) fail(`${file} is not a .npy file (bad magic)`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > buf.length) fail(`${file}: .npy header is truncated`);
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) fail(`${file}: .npy header is malformed: ${header.trim()}`);
  if (descr[1] !== '<f4') fail(`${file}: dtype ${descr[1]}, expected float32 ('<f4')`);
  if (fortran[1] === 'True') fail(`${file}: Fortran-ordered arrays are not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) fail(`${file}: bad shape (${shape[1]})`);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (buf.length - dataStart !== 4 * count) {
    fail(`${file}: shape (${dims.join(', ')}) needs ${4 * count} bytes of data, the file has ${buf.length - dataStart}`);
  }
  // Copy: the Buffer's offset need not be 4-byte aligned.
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = buf.readFloatLE(dataStart + 4 * i);
  return { dims, data };
}

function writeNpy(file, tensor) {
  const kinds = { float32: ['<f4', 4], int64: ['<i8', 8], int32: ['<i4', 4], bool: ['|b1', 1] };
  const kind = kinds[tensor.type];
  if (!kind) fail(`output of type ${tensor.type} cannot be written as .npy (${file})`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${kind[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so that magic + version + length + header + '\n' is a multiple of 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  NPY_MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const src = tensor.data;
  const body = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

// --- ONNX Runtime -------------------------------------------------------------------------

async function openSession(ort, model, threads, extra = {}, logSeverityLevel = 3) {
  if (!fs.existsSync(model)) fail(`cannot read model ${model}: no such file`);
  try {
    return await ort.InferenceSession.create(model, {
      ...extra,
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel,  // errors only unless asked (load): timings and outputs are what matter there
    });
  } catch (e) {
    fail(`${model} is not a model ONNX Runtime can load: ${String(e.message || e).split('\n')[0]}`);
  }
  return null;
}

// The model's first input shape with its batch dim set to `batch`.
function inputShape(session, model, batch) {
  const meta = session.inputMetadata && session.inputMetadata[0];
  if (!meta || !meta.isTensor || !meta.shape || meta.shape.length === 0) {
    fail(`${model}: the first input has no static shape to time at`);
  }
  return meta.shape.map((d, i) => {
    if (typeof d === 'number' && d > 0) {
      if (i === 0 && d !== batch) fail(`${model}: the batch dim is fixed at ${d}, asked for ${batch}`);
      return d;
    }
    if (i === 0) return batch;
    return fail(`${model}: input dim ${i} is symbolic (${d}): no size to time at`);
  });
}

function checkInput(session, model, inputFile, dims) {
  const meta = session.inputMetadata && session.inputMetadata[0];
  if (!meta || !meta.isTensor || !meta.shape) return;
  const want = meta.shape;
  const ok = want.length === dims.length &&
             want.every((d, i) => typeof d !== 'number' || d <= 0 || d === dims[i]);
  if (!ok) fail(`${inputFile}: shape (${dims.join(', ')}) does not fit ${model}'s input [${want.join(', ')}]`);
}

// Deterministic standard-normal values (Box-Muller on a 32-bit LCG): the same input every run.
function randomInput(count) {
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  const out = new Float32Array(count);
  for (let i = 0; i < count; ++i) out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

// The element at n/2 of the sorted samples: tests/bench/bench_latency's definition, so that
// both runtimes' figures are the same statistic (use odd counts for a true median).
function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// --- commands -------------------------------------------------------------------------------

function parseOptions(args, known) {
  const opts = {};
  const positional = [];
  for (let i = 0; i < args.length; ++i) {
    const a = args[i];
    if (a.startsWith('--')) {
      const name = a.slice(2);
      if (!(name in known)) fail(`unknown option ${a}`, 2);
      if (known[name] === 'flag') {
        opts[name] = true;
      } else {
        if (i + 1 >= args.length) fail(`option ${a} needs a value`, 2);
        const v = Number(args[++i]);
        if (!Number.isInteger(v) || v < known[name]) fail(`option ${a}: expected an integer >= ${known[name]}, got ${args[i]}`, 2);
        opts[name] = v;
      }
    } else {
      positional.push(a);
    }
  }
  return { opts, positional };
}

async function run(args) {
  const { opts, positional } = parseOptions(args, { threads: 1 });
  if (positional.length !== 3) fail('usage: ort_run.js run MODEL.onnx INPUT.npy OUTDIR [--threads N]', 2);
  const [model, inputFile, outDir] = positional;
  const ort = loadOrt();
  const input = readNpyFloat32(inputFile);
  const session = await openSession(ort, model, opts.threads || 1);
  checkInput(session, model, inputFile, input.dims);
  let results;
  try {
    results = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) });
  } catch (e) {
    fail(`${model}: ONNX Runtime failed to run on ${inputFile}: ${String(e.message || e).split('\n')[0]}`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const outputs = session.outputNames.map((name, i) => {
    const file = path.join(outDir, `output${i}.npy`);
    writeNpy(file, results[name]);
    return { name, file, shape: results[name].dims };
  });
  process.stdout.write(JSON.stringify({ model, outputs }) + '\n');
}

async function time(args) {
  const { opts, positional } = parseOptions(args, { batch: 1, threads: 1, warmup: 0, iters: 1, json: 'flag' });
  if (positional.length !== 1) {
    fail('usage: ort_run.js time MODEL.onnx --batch B [--threads N] [--warmup W] [--iters I] [--json]', 2);
  }
  const model = positional[0];
  const batch = opts.batch || 1, threads = opts.threads || 1;
  const warmup = opts.warmup === undefined ? 2 : opts.warmup, iters = opts.iters || 20;
  const ort = loadOrt();
  const session = await openSession(ort, model, threads);
  const dims = inputShape(session, model, batch);
  const x = new ort.Tensor('float32', randomInput(dims.reduce((a, b) => a * b, 1)), dims);
  const feeds = { [session.inputNames[0]]: x };
  const samples = [];
  try {
    for (let i = 0; i < warmup; ++i) await session.run(feeds);
    for (let i = 0; i < iters; ++i) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);  // every output (YOLO: the raw heads and the decode)
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } catch (e) {
    fail(`${model}: ONNX Runtime failed to run: ${String(e.message || e).split('\n')[0]}`);
  }
  const med = median(samples);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ model, batch, input_shape: dims, threads, warmup, iters, median_ms: med,
                                          samples_ms: samples }) + '\n');
  } else {
    process.stdout.write(`median_ms ${med.toFixed(3)}\n`);
  }
}

async function profile(args) {
  const { opts, positional } = parseOptions(args, { batch: 1, threads: 1, warmup: 0, iters: 1 });
  if (positional.length !== 1) {
    fail('usage: ort_run.js profile MODEL.onnx --batch B [--threads N] [--warmup W] [--iters I]', 2);
  }
  const model = positional[0];
  const batch = opts.batch || 1, threads = opts.threads || 1;
  const warmup = opts.warmup === undefined ? 2 : opts.warmup, iters = opts.iters || 5;
  const ort = loadOrt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort_run_profile_'));
  try {
    const session = await openSession(ort, model, threads,
                                      { enableProfiling: true, profileFilePrefix: path.join(dir, 'profile') });
    const dims = inputShape(session, model, batch);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', randomInput(dims.reduce((a, b) => a * b, 1)), dims) };
    for (let i = 0; i < warmup + iters; ++i) await session.run(feeds);
    await session.release();  // writes the profile (endProfiling() returns no path in onnxruntime-node)
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) fail(`${model}: ONNX Runtime wrote no profile in ${dir}`);
    const events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    if (runs.length !== warmup + iters) fail(`${model}: the profile has ${runs.length} runs, expected ${warmup + iters}`);
    const start = runs[warmup].ts;
    const opMs = {};
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
      const op = e.args.op_name;
      opMs[op] = (opMs[op] || 0) + e.dur / 1000 / iters;
    }
    const runMs = runs.slice(warmup).reduce((a, e) => a + e.dur / 1000, 0) / iters;
    process.stdout.write(JSON.stringify({ model, batch, threads, iters, run_ms: runMs, op_ms: opMs }) + '\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function load(args) {
  const { opts, positional } = parseOptions(args, { 'log-severity': 0 });
  if (positional.length < 1) fail('usage: ort_run.js load MODEL.onnx... [--log-severity S]', 2);
  const severity = opts['log-severity'] === undefined ? 2 : opts['log-severity'];
  if (severity > 4) fail(`option --log-severity: expected 0 to 4, got ${severity}`, 2);
  const ort = loadOrt();
  for (const model of positional) {
    const session = await openSession(ort, model, 1, {}, severity);
    process.stdout.write(JSON.stringify({ model, inputs: session.inputNames, outputs: session.outputNames }) + '\n');
    await session.release();
  }
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'run') return run(rest);
  if (command === 'time') return time(rest);
  if (command === 'profile') return profile(rest);
  if (command === 'load') return load(rest);
  return fail('usage: ort_run.js run MODEL.onnx INPUT.npy OUTDIR [--threads N]\n' +
              '       ort_run.js time MODEL.onnx --batch B [--threads N] [--warmup W] [--iters I] [--json]\n' +
              '       ort_run.js profile MODEL.onnx --batch B [--threads N] [--warmup W] [--iters I]\n' +
              '       ort_run.js load MODEL.onnx... [--log-severity S]', 2);
}

main().catch((e) => fail(String((e && e.stack) || e)));
