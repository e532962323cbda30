#!/usr/bin/python3
"""Side-by-side BN-gamma curves of two or more runs from their log.jsonl files.

    tests/bench/sr_curves.py runs/sr_0 runs/sr_1e-3
prints a markdown table: per epoch, val top-1, mean |gamma| and the fraction of |gamma| < 0.01
of each run directory.
"""
import json
import os
import sys


def load(run):
    with open(os.path.join(run, 'log.jsonl')) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    runs = sys.argv[1:]
    logs = [load(r) for r in runs]
    names = [os.path.basename(r.rstrip('/')) for r in runs]
    head = '| epoch | ' + ' | '.join(f'{n} top-1 | {n} mean abs(gamma) | {n} frac < 0.01' for n in names) + ' |'
    print(head)
    print('|---' * (1 + 3 * len(runs)) + '|')
    for e in range(max(len(l) for l in logs)):
        cells = []
        for l in logs:
            if e < len(l):
                r = l[e]
                cells += [f"{100 * r['val/top1']:.2f}%", f"{r['bn/gamma_mean']:.4f}", f"{100 * r['bn/frac_lt_0.01']:.1f}%"]
            else:
                cells += ['', '', '']
        print(f'| {e + 1} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
