#!/usr/bin/python3
"""Writes PyTorch reference data for PruneLab's parity tests.

For each model: <name>.pt (plain torch.save(model.state_dict())), <name>_input.npy and
<name>_output.npy (eval mode). BatchNorm statistics and affine parameters are randomised
so that a wrong BN implementation cannot pass. Also writes training-mode references for
resnet20 and several state_dict variants for the loader's tests.
Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import CifarResNet, CifarVGG  # noqa: E402


def randomise_bn(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.num_batches_tracked.fill_(7)


def save_eval_reference(out, name, model, input_shape, gen):
    randomise_bn(model, gen)
    model.eval()
    x = torch.randn(*input_shape, generator=gen)
    with torch.no_grad():
        y = model(x)
    torch.save(model.state_dict(), os.path.join(out, name + '.pt'))
    np.save(os.path.join(out, name + '_input.npy'), x.numpy())
    np.save(os.path.join(out, name + '_output.npy'), y.numpy())
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
    }
    for name, (model, shape) in models.items():
        save_eval_reference(args.out, name, model, shape, gen)
        counts[name] = sum(p.numel() for p in model.parameters())
    for name, model in {'resnet34': torchvision.models.resnet34(num_classes=10),
                        'resnet56': CifarResNet(56), 'vgg16_bn': CifarVGG(16)}.items():
        counts[name] = sum(p.numel() for p in model.parameters())
    with open(os.path.join(args.out, 'param_counts.json'), 'w') as f:
        json.dump(counts, f, indent=1)

    # Training mode: output, input gradient of the first conv's weight, updated BN stats.
    model = CifarResNet(20)
    randomise_bn(model, gen)
    model.train()
    torch.save(model.state_dict(), os.path.join(args.out, 'resnet20_train_before.pt'))
    x = torch.randn(4, 3, 32, 32, generator=gen)
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
