#!/usr/bin/python3
"""Writes PyTorch reference data for PruneLab's parity tests.

For each model: <name>.pt (plain torch.save(model.state_dict())), <name>_input.npy,
<name>_output.npy (eval mode) and <name>_zero_output.npy (the output for an all-zero input
of the same shape: the tests require the two outputs to differ by far more than the
tolerance, so a reference that ignores its input cannot pass). BatchNorm statistics are
calibrated on a separate batch of data and then perturbed (bn_calibration.py), so that a
wrong BN implementation cannot pass either. Also writes training-mode references for
resnet20 and several state_dict variants for the loader's tests.
Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision).
"""
import argparse
import copy
import json
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bn_calibration import calibrate_bn  # noqa: E402
from reference_models import CifarResNet, CifarVGG  # noqa: E402

# running_var = GAIN * calibrated variance: BN outputs at ~1/2 unit scale. Measured with
# the calibration below: every eval reference moves by >= 0.1 when its input is replaced
# by zeros (>= 1000x the 1e-4 tolerance) while float32 and float64 runs of the same model
# differ by <= 2e-5.
GAIN = 4.0
CALIBRATION_BATCH = 8


def randomise_bn(model, gen, input_shape):
    """BN statistics calibrated on a random batch shaped like `input_shape` (see bn_calibration)."""
    data = torch.randn(CALIBRATION_BATCH, *input_shape[1:], generator=gen)
    calibrate_bn(model, gen, data, GAIN)


def save_eval_reference(out, name, model, input_shape, gen):
    randomise_bn(model, gen, input_shape)
    model.eval()
    x = torch.randn(*input_shape, generator=gen)
    with torch.no_grad():
        y = model(x)
        y0 = model(torch.zeros_like(x))
    torch.save(model.state_dict(), os.path.join(out, name + '.pt'))
    np.save(os.path.join(out, name + '_input.npy'), x.numpy())
    np.save(os.path.join(out, name + '_output.npy'), y.numpy())
    np.save(os.path.join(out, name + '_zero_output.npy'), y0.numpy())
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    counts = {}

    models = {
        'resnet18': (torchvision.models.resnet18(num_classes=10), (2, 3, 32, 32)),
        'mobilenet_v2': (torchvision.models.mobilenet_v2(num_classes=10), (2, 3, 64, 64)),
        'resnet20': (CifarResNet(20), (2, 3, 32, 32)),
        'vgg11_bn': (CifarVGG(11), (2, 3, 32, 32)),
        'resnet56': (CifarResNet(56), (2, 3, 32, 32)),
        'resnet34': (torchvision.models.resnet34(num_classes=10), (2, 3, 32, 32)),
        'vgg16_bn': (CifarVGG(16), (2, 3, 32, 32)),
    }
    for name, (model, shape) in models.items():
        save_eval_reference(args.out, name, model, shape, gen)
        counts[name] = sum(p.numel() for p in model.parameters())
    with open(os.path.join(args.out, 'param_counts.json'), 'w') as f:
        json.dump(counts, f, indent=1)

    # Training mode: output, input gradient of the first conv's weight, updated BN stats.
    model = CifarResNet(20)
    randomise_bn(model, gen, (4, 3, 32, 32))
    model.train()
    torch.save(model.state_dict(), os.path.join(args.out, 'resnet20_train_before.pt'))
    x = torch.randn(4, 3, 32, 32, generator=gen)
    untouched = copy.deepcopy(model)  # the zero-input output, without updating the model's BN statistics
    np.save(os.path.join(args.out, 'resnet20_train_zero_output.npy'), untouched(torch.zeros_like(x)).detach().numpy())
    y = model(x)
    loss = (y * torch.linspace(-1, 1, 10)).sum()
    loss.backward()
    torch.save(model.state_dict(), os.path.join(args.out, 'resnet20_train_after.pt'))
    np.save(os.path.join(args.out, 'resnet20_train_input.npy'), x.numpy())
    np.save(os.path.join(args.out, 'resnet20_train_output.npy'), y.detach().numpy())
    np.save(os.path.join(args.out, 'resnet20_train_grad_conv1.npy'), model.conv1.weight.grad.numpy())
    np.save(os.path.join(args.out, 'resnet20_train_grad_fc.npy'), model.fc.weight.grad.numpy())

    # State-dict variants for the loader.
    sd = models['resnet20'][0].state_dict()
    torch.save({'epoch': 3, 'state_dict': sd, 'best_acc': 0.9}, os.path.join(args.out, 'wrapped.pt'))
    torch.save({'module.' + k: v for k, v in sd.items()}, os.path.join(args.out, 'dataparallel.pt'))
    torch.save({k: v.half() for k, v in sd.items()}, os.path.join(args.out, 'half.pt'))
    broken = dict(sd)
    del broken['layer1.0.conv1.weight']
    broken['extra.weight'] = torch.zeros(3)
    broken['fc.weight'] = torch.zeros(5, 64)
    torch.save(broken, os.path.join(args.out, 'mismatched.pt'))
    torch.save(sd, os.path.join(args.out, 'legacy.pt'), _use_new_zipfile_serialization=False)
    print('reference data written to', args.out)


if __name__ == '__main__':
    main()
