#!/usr/bin/env python3
"""PyTorch DDP reference for PruneLab's data-parallel training (issue 17).

Trains a TorchScript model (as `prunelab-cli export` writes it) with
torch.nn.parallel.DistributedDataParallel on the Gloo backend, 2 processes on loopback:
an image-folder dataset read as PruneLab reads it (sorted classes and files, RGB,
[0, 1], no augmentation), DistributedSampler(shuffle, seed), cross-entropy, SGD
(momentum, Nesterov, weight decay) at a constant lr, BatchNorm in eval mode, and
Network Slimming's subgradient sr * sign(gamma) added to every BN weight's gradient
after DDP's all-reduce. Rank 0 saves the final state_dict with torch.save.

  ddp_reference.py --model init.pt --data DIR/train --batch 16 --steps 20 --lr 0.05 \
      --sr 0.01 --out final.pt [--world 2]
  ddp_reference.py --compare final.pt ours.pt     # max |difference| over all tensors
  ddp_reference.py --sampler N WORLD SEED EPOCH   # DistributedSampler's indices, as JSON
  ddp_reference.py --make-folder DIR [--per-class N]  # DIR/train (10 x N, 64) and DIR/val (10 x 4) PNGs
  ddp_reference.py --make-net FILE.onnx            # a small conv-BN-SiLU classifier, BN kept
"""
import argparse
import json
import os
import socket
import sys

import cv2
import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler


class Folder(Dataset):
    def __init__(self, root):
        self.items = []
        for label, cls in enumerate(sorted(os.listdir(root))):
            for f in sorted(os.listdir(os.path.join(root, cls))):
                self.items.append((os.path.join(root, cls, f), label))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        img = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return torch.from_numpy(img).permute(2, 0, 1).float() / 255.0, label


def worker(rank, a, port):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=a.world)
    model = torch.jit.load(a.model)
    model.eval()  # BatchNorm with its running statistics; gammas and betas still train
    state = model.state_dict()
    gammas = [p for name, p in model.named_parameters()
              if name.endswith(".weight") and name[: -len("weight")] + "running_mean" in state]
    ddp = DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum, nesterov=a.momentum > 0,
                          weight_decay=a.weight_decay)
    data = Folder(a.data)
    sampler = DistributedSampler(data, num_replicas=a.world, rank=rank, shuffle=True, seed=a.seed)
    step, epoch = 0, 0
    while step < a.steps:
        sampler.set_epoch(epoch)
        for x, y in DataLoader(data, batch_size=a.batch, sampler=sampler):
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x), y)
            loss.backward()  # DDP averages the gradients here
            with torch.no_grad():
                for g in gammas:
                    g.grad.add_(torch.sign(g), alpha=a.sr)
            opt.step()
            step += 1
            if step == a.steps:
                break
        epoch += 1
    if rank == 0:
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, a.out)
    dist.destroy_process_group()


def load_state(path):
    """A state_dict from a TorchScript file or from torch.save(state_dict)."""
    try:
        return torch.jit.load(path).state_dict()
    except RuntimeError:
        return torch.load(path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model")
    p.add_argument("--data")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--sr", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--out")
    p.add_argument("--compare", nargs=2)
    p.add_argument("--sampler", nargs=4, type=int)
    p.add_argument("--make-folder")
    p.add_argument("--make-net")
    p.add_argument("--per-class", type=int, default=64)
    a = p.parse_args()
    if a.make_net:
        # Smooth activations: with ReLU, the rounding differences between any two
        # summation orders (1 x 32 against 2 x 16, PyTorch's own DDP included) flip a
        # unit at its kink within a few steps and the trajectories part by 1e-3; with
        # SiLU they stay within 1e-7 over 20 steps.
        torch.manual_seed(0)
        layers = []
        for i, o, s in ((3, 16, 1), (16, 32, 2), (32, 32, 1), (32, 64, 2)):
            layers += [torch.nn.Conv2d(i, o, 3, s, 1, bias=False), torch.nn.BatchNorm2d(o), torch.nn.SiLU()]
        net = torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                  torch.nn.Linear(64, 10)).eval()
        torch.onnx.export(net, torch.zeros(1, 3, 16, 16), a.make_net, opset_version=13, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
        return
    if a.make_folder:
        # 16x16 RGB images: a class-specific colour and stripe period under noise, so the
        # classes are learnable and every pixel matters to the gradients.
        rng = np.random.default_rng(17)
        for split, count in (("train", a.per_class), ("val", 4)):
            for c in range(10):
                d = os.path.join(a.make_folder, split, "class%d" % c)
                os.makedirs(d, exist_ok=True)
                for i in range(count):
                    img = rng.integers(0, 256, (16, 16, 3)).astype(np.float64) * 0.5
                    img[:, :: (c % 4) + 2, c % 3] += 100
                    img[:: (c // 4) + 2, :, (c + 1) % 3] += 60
                    cv2.imwrite(os.path.join(d, "%03d.png" % i), np.clip(img, 0, 255).astype(np.uint8))
        return
    if a.sampler:
        n, world, seed, epoch = a.sampler
        out = []
        for rank in range(world):
            s = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed)
            s.set_epoch(epoch)
            out.append(list(s))
        print(json.dumps(out))
        return
    if a.compare:
        ref, ours = load_state(a.compare[0]), load_state(a.compare[1])
        worst, where = 0.0, ""
        moved = 0.0
        init = torch.jit.load(a.model).state_dict() if a.model else None
        for k, v in ref.items():
            d = (v.double() - ours[k].double()).abs().max().item() if v.numel() else 0.0
            if d > worst:
                worst, where = d, k
            if init is not None and v.is_floating_point():
                moved = max(moved, (v.double() - init[k].double()).abs().max().item())
        print(json.dumps({"max_abs_diff": worst, "worst_tensor": where, "tensors": len(ref),
                          "max_abs_change_from_init": moved}))
        return
    mp.spawn(worker, args=(a, free_port()), nprocs=a.world, join=True)


if __name__ == "__main__":
    sys.exit(main())
