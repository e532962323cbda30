#!/usr/bin/python3
"""PyTorch reference for bench_trainer: the same training epoch as PruneLab's trainer.

CIFAR ResNet-20 (1 input channel) on a Fashion-MNIST subset with the usual torchvision
pipeline (RandomCrop(28, padding=2), RandomHorizontalFlip, ToTensor, Normalize) and a
torch.utils.data.DataLoader, SGD (Nesterov, momentum 0.9, weight decay 5e-4),
cross-entropy. Prints one JSON line: images/s over the epoch, data loading included,
and the validation top-1 after it. With --nproc N: N processes under
DistributedDataParallel (Gloo, loopback) with a DistributedSampler, --batch per process,
images/s summed over the ranks (the data-parallel peer of tests/bench/dp_scaling.sh).
"""
import argparse
import gzip
import socket
import json
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from reference_models import CifarResNet  # noqa: E402

FMNIST = os.environ.get('PRUNELAB_FASHION_MNIST', '/usr/share/datasets/fashion-mnist')


def load_idx(split):
    with gzip.open(os.path.join(FMNIST, f'{split}-images-idx3-ubyte.gz')) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(FMNIST, f'{split}-labels-idx1-ubyte.gz')) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images, labels


class Images(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i], mode='L')), int(self.labels[i])


def train(rank, args, port):
    world = args.nproc
    if world > 1:
        os.environ['MASTER_ADDR'] = '127.0.0.1'
        os.environ['MASTER_PORT'] = str(port)
        dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    norm = transforms.Normalize((0.2860,), (0.3530,))
    train_t = transforms.Compose([transforms.RandomCrop(28, padding=2), transforms.RandomHorizontalFlip(),
                                  transforms.ToTensor(), norm])
    val_t = transforms.Compose([transforms.ToTensor(), norm])
    xi, yi = load_idx('train')
    xv, yv = load_idx('t10k')
    train_set = Images(xi[:args.images], yi[:args.images], train_t)
    val = Images(xv[:args.val], yv[:args.val], val_t)
    sampler = torch.utils.data.DistributedSampler(train_set, world, rank, seed=0) if world > 1 else None
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch, shuffle=sampler is None, sampler=sampler,
                                         num_workers=args.workers, persistent_workers=args.workers > 0)
    model = CifarResNet(20, in_channels=1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    steps = args.epochs * len(loader)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps, pct_start=0.1,
                                                anneal_strategy='cos') if args.epochs > 1 else None
    seen, train_time = 0, 0.0
    for epoch in range(args.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        t0 = time.perf_counter()
        for x, y in loader:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            seen += y.numel()
        train_time += time.perf_counter() - t0
    rate = seen / train_time
    if world > 1:
        total = torch.tensor([rate], dtype=torch.float64)
        dist.all_reduce(total)
        rate = total.item()
        dist.destroy_process_group()
        if rank != 0:
            return
        model = model.module  # evaluation on rank 0 alone, outside DDP
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in torch.utils.data.DataLoader(val, batch_size=256):
            correct += (model(x).argmax(1) == y).sum().item()
    print(json.dumps({'images_per_s': rate, 'val_top1': correct / len(val), 'seconds': train_time}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--images', type=int, default=6144)
    ap.add_argument('--val', type=int, default=1000)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--nproc', type=int, default=1)
    args = ap.parse_args()
    if args.nproc == 1:
        train(0, args, 0)
        return
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(train, args=(args, port), nprocs=args.nproc, join=True)


if __name__ == '__main__':
    main()
