#!/usr/bin/python3
"""ONNX files exported by PyTorch itself, with PyTorch's outputs, for the ONNX import tests.

For --model NAME writes into --out:
  NAME.onnx            torch.onnx.export of the model in eval mode
  NAME_input.npy       float32 input (batch 2, so that a batch-1 assumption cannot pass)
  NAME_output{i}.npy   PyTorch's eval-mode outputs, in the ONNX graph's output order
  NAME_zero_output{i}.npy  the same for an all-zero input (the tests require the outputs
                       to depend on the input)

Models:
  resnet18, mobilenet_v2   torchvision (random init, no download), BatchNorm kept
                           (training=TrainingMode.PRESERVE), 2x3x224x224
  resnet18_fused           the same ResNet-18 exported with the default EVAL mode: every BN
                           folded into its Conv (Conv with bias, no BatchNormalization)
  resnet18_training        the same ResNet-18 exported in TRAINING mode: BatchNormalization in
                           its training form (training_mode=1, running-statistics outputs);
                           the reference is the eval-mode output of the state exported
  yolov5n_raw              tests/python/yolov5_reference.py's YOLOv5n (nc 80, 160 px), the
                           three raw level outputs [bs, na, ny, nx, no], PRESERVE
  yolov5n_decoded          the same model ending in its inference decode [bs, rows, no]
  ops_mix                  a small net with the remaining mapped ops (see OpsMix), PRESERVE
  resnet20_view            a CIFAR ResNet-20 that flattens with x.view(x.size(0), -1) (exported
                           as a Reshape, not Flatten), 2x3x32x32, PRESERVE
  resnet20_reshape64       the same flattening with x.reshape(-1, 64): a Reshape whose target
                           records the feature count
BatchNorm statistics are calibrated on data, then perturbed, so a wrong BN cannot pass.
--opset selects the opset (default 17). Run with Debian's /usr/bin/python3.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_models  # noqa: E402
import yolov5_reference  # noqa: E402
from make_reference import randomise_bn  # noqa: E402  (calibrated BN statistics, as for the state_dict tests)


class DecodedYolo(torch.nn.Module):
    """YOLOv5 ending in Detect's inference decode (what yolov5's export.py writes)."""

    def __init__(self, yolo):
        super().__init__()
        self.yolo = yolo

    def forward(self, x):
        return self.yolo.model[-1].decode(self.yolo(x))


class OpsMix(torch.nn.Module):
    """One of each op the importer maps that the zoo models lack: LeakyReLU, HardSwish,
    AvgPool2d with padding (exported as Pad + AveragePool), nearest Upsample, SiLU,
    torch.split into unequal parts, ReLU6, a bias-free Linear on a flattened map and x * 0.5."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(16)
        self.act1 = torch.nn.LeakyReLU(0.1)
        self.pool = torch.nn.AvgPool2d(3, 1, 1, count_include_pad=True)
        self.conv2 = torch.nn.Conv2d(16, 24, 3, 1, 1)
        self.act2 = torch.nn.Hardswish()
        self.up = torch.nn.Upsample(scale_factor=2, mode='nearest')
        self.conv3 = torch.nn.Conv2d(24, 24, 3, 2, 1, groups=24)
        self.act3 = torch.nn.SiLU()
        self.conv4 = torch.nn.Conv2d(16, 16, 1)
        self.act4 = torch.nn.ReLU6()
        self.fc = torch.nn.Linear(24 * 4 * 4, 10, bias=False)
        with torch.no_grad():  # logits of order 1: with the default init they move by < 1e-2 between x and 0
            self.fc.weight.mul_(10)

    def forward(self, x):
        x = self.pool(self.act1(self.bn1(self.conv1(x))))
        x = self.act3(self.conv3(self.up(self.act2(self.conv2(x)))))
        a, b = torch.split(x, [16, 8], 1)
        x = torch.cat([self.act4(self.conv4(a)), b * 0.5], 1)
        x = torch.nn.functional.max_pool2d(x, 4)
        return self.fc(torch.flatten(x, 1))


class ViewFlattenResNet(reference_models.CifarResNet):
    """CIFAR ResNet whose classifier input is flattened the way many scripts write it."""

    def __init__(self, depth, fixed_features):
        super().__init__(depth)
        self.fixed_features = fixed_features

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.avgpool(self.layer3(self.layer2(self.layer1(x))))
        x = x.reshape(-1, 64) if self.fixed_features else x.view(x.size(0), -1)
        return self.fc(x)


def build(name, gen):
    """(model, input, export mode) for a model name."""
    preserve, train = torch.onnx.TrainingMode.PRESERVE, torch.onnx.TrainingMode.TRAINING
    if name in ('resnet18', 'resnet18_fused', 'resnet18_training'):
        model = torchvision.models.resnet18(weights=None)
        randomise_bn(model, gen, (2, 3, 224, 224))
        mode = {'resnet18': preserve, 'resnet18_fused': torch.onnx.TrainingMode.EVAL, 'resnet18_training': train}[name]
        return model, torch.randn(2, 3, 224, 224, generator=gen), mode
    if name == 'mobilenet_v2':
        model = torchvision.models.mobilenet_v2(weights=None)
        randomise_bn(model, gen, (2, 3, 224, 224))
        return model, torch.randn(2, 3, 224, 224, generator=gen), preserve
    if name in ('yolov5n_raw', 'yolov5n_decoded'):
        yolo = yolov5_reference.build_model('yolov5n', 80)
        x = torch.randn(2, 3, 160, 160, generator=gen)
        yolov5_reference.randomise_bn(yolo, gen, x)
        return (yolo if name == 'yolov5n_raw' else DecodedYolo(yolo)), x, preserve
    if name in ('resnet20_view', 'resnet20_reshape64'):
        model = ViewFlattenResNet(20, name == 'resnet20_reshape64')
        randomise_bn(model, gen, (2, 3, 32, 32))
        return model, torch.randn(2, 3, 32, 32, generator=gen), preserve
    if name == 'ops_mix':
        model = OpsMix()
        randomise_bn(model, gen, (2, 3, 32, 32))
        return model, torch.randn(2, 3, 32, 32, generator=gen), preserve
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
    model, x, mode = build(args.model, gen)
    model.eval()
    with torch.no_grad():
        outputs_before = model(x)
    count = len(outputs_before) if isinstance(outputs_before, (list, tuple)) else 1
    path = os.path.join(args.out, args.model + '.onnx')
    # A TRAINING export runs the model in train mode (BN updates its running statistics):
    # the reference outputs are taken after the export, from the state the file holds.
    torch.onnx.export(model, x, path, opset_version=args.opset, training=mode, input_names=['images'],
                      output_names=['output%d' % i for i in range(count)])
    model.eval()
    with torch.no_grad():
        y = model(x)
        y0 = model(torch.zeros_like(x))
    outputs = list(y) if isinstance(y, (list, tuple)) else [y]
    zero_outputs = list(y0) if isinstance(y0, (list, tuple)) else [y0]
    np.save(os.path.join(args.out, args.model + '_input.npy'), x.numpy().astype(np.float32))
    for i, o in enumerate(outputs):
        np.save(os.path.join(args.out, '%s_output%d.npy' % (args.model, i)), o.numpy().astype(np.float32))
    for i, o in enumerate(zero_outputs):
        np.save(os.path.join(args.out, '%s_zero_output%d.npy' % (args.model, i)), o.numpy().astype(np.float32))
    print('%s: %s (opset %d, %d outputs)' % (args.model, path, args.opset, len(outputs)))


if __name__ == '__main__':
    main()
