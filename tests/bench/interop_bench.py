#!/usr/bin/python3
"""Interop figures for BENCHMARKS.md (issue 7): for each model, unpruned and pruned 50 %
(l1), export ONNX (opset 17; opset 13 with BN folded) and TorchScript with prunelab-cli,
then report file size against parameters, PruneLab's own read-back difference, OpenCV
DNN's difference from the executor, and the TorchScript check in Python torch.
usage: interop_bench.py BUILD_DIR OUT_DIR
"""
import json
import os
import subprocess
import sys

import cv2
import numpy as np

build, out = sys.argv[1], sys.argv[2]
cli = os.path.join(build, 'app', 'prunelab-cli')
here = os.path.dirname(os.path.abspath(__file__))
check = os.path.join(here, '..', 'python', 'check_export.py')
os.makedirs(out, exist_ok=True)
MODELS = [('resnet18', '3x224x224'), ('mobilenet_v2', '3x224x224'), ('yolov5n', '3x320x320'),
          ('yolov8n', '3x320x320'), ('yolo11n', '3x320x320')]


def run(args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def rel(a, b):
    return float((np.abs(a - b) / np.maximum(1.0, np.abs(b))).max())


print('| model | variant | params | .onnx bytes (opset 17) | bytes/param | read-back diff | OpenCV DNN vs executor | folded opset 13: OpenCV diff | TorchScript (Python): eval diff, grads |')
print('|---|---|---|---|---|---|---|---|---|')
for model, chw in MODELS:
    c, h, w = map(int, chw.split('x'))
    x = np.random.default_rng(0).standard_normal((1, c, h, w)).astype(np.float32)
    xin = os.path.join(out, model + '_x.npy')
    np.save(xin, x)
    for variant in ('unpruned', 'pruned 50 %'):
        src = model
        if variant != 'unpruned':
            src = os.path.join(out, model + '_p.plm')
            run([cli, 'prune', '--model', model, '--input', chw, '--criterion', 'l1', '--percent', '0.5', '--out', src])
        onnx17 = os.path.join(out, model + ('_p' if src != model else '') + '.onnx')
        onnx13 = onnx17.replace('.onnx', '_folded13.onnx')
        ts = onnx17.replace('.onnx', '.pt')
        j = json.loads(run([cli, 'export', '--model', src, '--input', chw, '--out', onnx17, '--json']))
        run([cli, 'export', '--model', src, '--input', chw, '--out', onnx13, '--opset', '13', '--fold-bn'])
        run([cli, 'export', '--model', src, '--input', chw, '--out', ts])
        yd = os.path.join(out, model + '_y')
        run([cli, 'infer', '--model', src, '--input', xin, '--output-dir', yd])
        ys = [np.load(os.path.join(yd, f)) for f in sorted(os.listdir(yd), key=lambda s: int(s[6:-4]))]
        diffs = []
        for path in (onnx17, onnx13):
            try:
                net = cv2.dnn.readNetFromONNX(path)
                net.setInput(x)
                outs = net.forward(net.getUnconnectedOutLayersNames())
                diffs.append('%.1e' % max(min(rel(o.reshape(y.shape), y) for o in outs if o.size == y.size) for y in ys))
            except cv2.error as e:  # OpenCV 4.6 cannot read Clip with min/max inputs (opset >= 11)
                diffs.append('rejected (%s)' % ('Clip' if 'Clip' in str(e) else str(e).splitlines()[0][:40]))
        tsj = json.loads(subprocess.run([sys.executable, check, 'torchscript', ts, '--input', xin, '--expect'] +
                                        [os.path.join(yd, f) for f in sorted(os.listdir(yd), key=lambda s: int(s[6:-4]))],
                                        capture_output=True, text=True).stdout)
        grads = 'all %d params' % tsj['params'] if not tsj.get('params_without_grad') else 'MISSING'
        print('| %s | %s | %d | %d | %.3f | %.1e | %s | %s | %.1e, %s |' % (
            model, variant, j['params'], j['bytes'], j['bytes'] / j['params'] / 4, j['max_rel_diff'], diffs[0], diffs[1],
            tsj.get('max_rel_diff', -1), grads))
