"""Shared by the PyTorch halves of the step benchmarks: time `step` and print the JSON
line that bench_train_step parses."""
import json
import time


def report_steps_per_second(step, batch, warmup, iters):
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    dt = time.perf_counter() - t0
    print(json.dumps({'images_per_s': batch * iters / dt, 'ms_per_step': 1000 * dt / iters}))
