#!/usr/bin/python3
"""ONNX files exported by PyTorch itself, with PyTorch's outputs, for the ONNX import tests.

For --model NAME writes into --out:
  NAME.onnx            torch.onnx.export of the model in eval mode
  NAME_input.npy       float32 input (batch 2, so that a batch-1 assumption cannot pass)
  NAME_output{i}.npy   PyTorch's eval-mode outputs, in the ONNX graph's output order

Models:
  resnet18, mobilenet_v2   torchvision (random init, no download), BatchNorm kept
                           (training=TrainingMode.PRESERVE), 2x3x224x224
  resnet18_fused           the same ResNet-18 exported with the default EVAL mode: every BN
                           folded into its Conv (Conv with bias, no BatchNormalization)
  yolov5n_raw              tests/python/yolov5_reference.py's YOLOv5n (nc 80, 160 px), the
                           three raw level outputs [bs, na, ny, nx, no], PRESERVE
  yolov5n_decoded          the same model ending in its inference decode [bs, rows, no]
BatchNorm statistics and affine parameters are randomised so a wrong BN cannot pass.
--opset selects the opset (default 17). Run with Debian's /usr/bin/python3.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yolov5_reference  # noqa: E402
from make_reference import randomise_bn  # noqa: E402  (random BN statistics, as for the state_dict tests)


class DecodedYolo(torch.nn.Module):
    """YOLOv5 ending in Detect's inference decode (what yolov5's export.py writes)."""

    def __init__(self, yolo):
        super().__init__()
        self.yolo = yolo

    def forward(self, x):
        return self.yolo.model[-1].decode(self.yolo(x))


def build(name, gen):
    """(model, input, preserve_bn) for a model name."""
    if name in ('resnet18', 'resnet18_fused'):
        model = torchvision.models.resnet18(weights=None)
        randomise_bn(model, gen)
        return model, torch.randn(2, 3, 224, 224, generator=gen), name == 'resnet18'
    if name == 'mobilenet_v2':
        model = torchvision.models.mobilenet_v2(weights=None)
        randomise_bn(model, gen)
        return model, torch.randn(2, 3, 224, 224, generator=gen), True
    if name in ('yolov5n_raw', 'yolov5n_decoded'):
        yolo = yolov5_reference.build_model('yolov5n', 80)
        x = torch.randn(2, 3, 160, 160, generator=gen)
        yolov5_reference.randomise_bn(yolo, gen, x)
        return (yolo if name == 'yolov5n_raw' else DecodedYolo(yolo)), x, True
    raise SystemExit('unknown model ' + name)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed + 4321)
    model, x, preserve = build(args.model, gen)
    model.eval()
    with torch.no_grad():
        y = model(x)
    outputs = list(y) if isinstance(y, (list, tuple)) else [y]
    path = os.path.join(args.out, args.model + '.onnx')
    mode = torch.onnx.TrainingMode.PRESERVE if preserve else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, path, opset_version=args.opset, training=mode, input_names=['images'],
                      output_names=['output%d' % i for i in range(len(outputs))])
    np.save(os.path.join(args.out, args.model + '_input.npy'), x.numpy().astype(np.float32))
    for i, o in enumerate(outputs):
        np.save(os.path.join(args.out, '%s_output%d.npy' % (args.model, i)), o.numpy().astype(np.float32))
    print('%s: %s (opset %d, %d outputs)' % (args.model, path, args.opset, len(outputs)))


if __name__ == '__main__':
    main()
