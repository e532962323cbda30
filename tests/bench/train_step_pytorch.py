#!/usr/bin/python3
"""PyTorch reference for bench_train_step: forward + backward + SGD step of CIFAR
ResNet-20 on a fixed random batch (no data loading). Prints one JSON line."""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from reference_models import CifarResNet  # noqa: E402
from step_timer import report_steps_per_second  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='resnet20', choices=['resnet20'])
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--iters', type=int, default=30)
    ap.add_argument('--size', type=int, default=32, help='input height and width')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = CifarResNet(int(args.model[len('resnet'):]))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    report_steps_per_second(step, args.batch, args.warmup, args.iters)

if __name__ == '__main__':
    main()
