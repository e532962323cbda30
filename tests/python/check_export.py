#!/usr/bin/python3
"""Independent checks of PruneLab's exports, with Debian's python3-onnx and python3-torch.

  check_export.py onnx FILE [--dynamic-batch]
      onnx.checker.check_model(full_check=True) (structure and ONNX shape inference);
      prints the opset, node count and whether the batch dim is symbolic.
  check_export.py torchscript FILE [--threads N] --input x.npy --expect out0.npy [out1.npy ...]
      torch.jit.load in eval mode: outputs equal the expected ones within 1e-5 (relative
      to max(1, |expected|)); then model.train() and one SGD step on a loss over every
      output: every parameter gets a finite, non-zero gradient and changes wherever its
      step is representable in float32 (params_unchanged must be empty), and the
      BatchNorm running statistics move (train-mode BN).
Prints one JSON line; exits 1 on any failed check.
"""
import argparse
import json
import sys

import numpy as np


def check_onnx(args):
    import onnx
    model = onnx.load(args.file)
    onnx.checker.check_model(model, full_check=True)
    opset = [o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')][0]
    dim0 = model.graph.input[0].type.tensor_type.shape.dim[0]
    symbolic = bool(dim0.dim_param)
    report = {'ok': True, 'opset': opset, 'nodes': len(model.graph.node), 'symbolic_batch': symbolic,
              'initializers': len(model.graph.initializer)}
    if args.dynamic_batch and not symbolic:
        report['ok'] = False
        report['error'] = 'batch dim is not symbolic'
    return report


def check_torchscript(args):
    import torch
    torch.manual_seed(0)
    m = torch.jit.load(args.file)
    m.eval()
    x = torch.from_numpy(np.load(args.input))
    with torch.no_grad():
        y = m(x)
    outs = list(y) if isinstance(y, (list, tuple)) else [y]
    report = {'ok': True, 'outputs': len(outs)}
    worst = 0.0
    for o, path in zip(outs, args.expect):
        ref = torch.from_numpy(np.load(path))
        if tuple(o.shape) != tuple(ref.shape):
            return {'ok': False, 'error': 'shape %s vs %s (%s)' % (tuple(o.shape), tuple(ref.shape), path)}
        worst = max(worst, float(((o - ref).abs() / ref.abs().clamp_min(1.0)).max()))
    report['max_rel_diff'] = worst
    if len(outs) != len(args.expect) or worst > 1e-5:
        report['ok'] = False

    # One training step in train mode.
    m.train()
    params = dict(m.named_parameters())
    before = {k: p.detach().clone() for k, p in params.items()}
    buffers = {k: b.detach().clone() for k, b in m.named_buffers() if k.endswith('running_mean')}
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    opt.zero_grad()
    y = m(torch.cat([x, x.flip(0)]) if x.shape[0] == 1 else x)
    outs = list(y) if isinstance(y, (list, tuple)) else [y]
    loss = sum(o.float().pow(2).mean() for o in outs)
    loss.backward()
    no_grad = [k for k, p in params.items() if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0]
    opt.step()
    # A parameter must change where its step is visible in float32: an element whose update
    # lr * |grad| exceeds two ulps of its value. A step below that (a tiny gradient on a
    # weight near 1, e.g. the gamma of a 1-channel BN) rounds away and is reported apart.
    lr = opt.param_groups[0]['lr']
    visible = {k: bool(((lr * p.grad.abs()) > p.detach().abs() * 2.0 ** -22).any()) for k, p in params.items()
               if p.grad is not None}
    unchanged = [k for k, p in params.items() if visible.get(k, True) and torch.equal(p.detach(), before[k])]
    below_resolution = [k for k, v in visible.items() if not v]
    stale_bn = [k for k, b in m.named_buffers() if k in buffers and torch.equal(b, buffers[k])]
    report.update({'params': len(params), 'params_without_grad': no_grad[:10], 'params_unchanged': unchanged[:10],
                   'params_step_below_float32_resolution': below_resolution[:10],
                   'bn_stats_unchanged': stale_bn[:10], 'loss': float(loss)})
    if no_grad or unchanged or stale_bn or not params:
        report['ok'] = False
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('kind', choices=['onnx', 'torchscript'])
    ap.add_argument('file')
    ap.add_argument('--dynamic-batch', action='store_true')
    ap.add_argument('--input')
    ap.add_argument('--expect', nargs='*', default=[])
    ap.add_argument('--threads', type=int, default=0, help='torch intra-op threads (0: torch default)')
    args = ap.parse_args()
    if args.threads > 0:
        import torch
        torch.set_num_threads(args.threads)
    try:
        report = check_onnx(args) if args.kind == 'onnx' else check_torchscript(args)
    except Exception as e:  # the checker's and torch's errors are the finding
        report = {'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
    print(json.dumps(report))
    sys.exit(0 if report['ok'] else 1)


if __name__ == '__main__':
    main()
