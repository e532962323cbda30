#!/usr/bin/python3
"""PyTorch reference for `bench_train_step --model yolov5n`: forward + backward + SGD of
YOLOv5n (80 classes, tests/python/yolov5_reference.py's model, built from the shipped
resources/models/yolov5n.yaml) on a fixed random batch with a trivial loss (sum of the
mean of each raw level output), like the figure quoted in the YOLO issue. Prints one JSON line."""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'python'))
import yolov5_reference as ref  # noqa: E402
from step_timer import report_steps_per_second  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='yolov5n', choices=['yolov5n'])
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--iters', type=int, default=20)
    ap.add_argument('--size', type=int, default=160)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ref.build_model(args.model, 80)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.937, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, args.size, args.size)

    def step():
        opt.zero_grad(set_to_none=True)
        sum(o.mean() for o in model(x)).backward()
        opt.step()

    report_steps_per_second(step, args.batch, args.warmup, args.iters)

if __name__ == '__main__':
    main()
