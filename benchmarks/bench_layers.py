"""Micro benchmark of the seed CNN's layers (batch 32): Conv2D forward, Conv2D forward+backward
and MaxPooling2D forward+backward, nnforge against a NumPy reference (im2col by
sliding_window_view + matmul on OpenBLAS) and, when a peers venv exists, PyTorch (same shapes,
NCHW, in a subprocess). Medians of interleaved repeats.

    python benchmarks/bench_layers.py [--quick] [--peers-python /tmp/peers/bin/python]
"""
import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

from timing import median_seconds

# (name, N, H, W, C, F): the seed CNN's two conv layers; pools follow each of them.
CONVS = [("conv1 3x3 3->32", 32, 32, 32, 3, 32), ("conv2 3x3 32->64", 32, 15, 15, 32, 64)]
POOLS = [("pool1 2x2 on 30x30x32", 32, 30, 30, 32), ("pool2 2x2 on 13x13x64", 32, 13, 13, 64)]


def timeit(fn, repeats):
    """Median milliseconds of ``fn()`` over ``repeats`` runs after one warm-up run."""
    return median_seconds(fn, repeats) * 1e3


def nnforge_cases():
    from nnforge import backend
    be = backend.cpu
    rng = np.random.default_rng(0)
    cases = {}
    for name, n, h, w, c, f in CONVS:
        x = rng.random((n, h, w, c), dtype=np.float32)
        k = rng.random((3, 3, c, f), dtype=np.float32)
        b = np.zeros(f, np.float32)
        args = ((1, 1), (1, 1), (0, 0), (h - 2, w - 2))

        def fwd(x=x, k=k, b=b, args=args):
            return be.conv2d(x, k, b, *args, 1)

        def fwd_bwd(x=x, k=k, b=b, args=args):
            y = be.conv2d(x, k, b, *args, 1)
            dz = be.activation_grad(y, y, 1)
            be.conv2d_grad_filter(x, dz, k.shape, *args[:3], True)
            be.conv2d_grad_input(dz, k, x.shape, *args[:3])
        cases[f"{name} forward"] = fwd
        cases[f"{name} forward+backward"] = fwd_bwd
    for name, n, h, w, c in POOLS:
        x = rng.random((n, h, w, c), dtype=np.float32)

        def pool(x=x):
            y, arg = be.max_pool2d(x, (2, 2), (2, 2), (0, 0), (x.shape[1] // 2, x.shape[2] // 2),
                                   True)
            be.max_pool2d_grad(y, arg, x.shape, (2, 2), (2, 2), (0, 0))  # as ops.max_pool
        cases[f"{name} forward+backward"] = pool
    return cases


def numpy_cases():
    rng = np.random.default_rng(0)
    cases = {}
    for name, n, h, w, c, f in CONVS:
        x = rng.random((n, h, w, c), dtype=np.float32)
        k = rng.random((3, 3, c, f), dtype=np.float32)

        def fwd(x=x, k=k):
            win = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
            cols = np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(-1, 9 * x.shape[3])
            return np.maximum(cols @ k.reshape(-1, k.shape[3]), 0), cols
        cases[f"{name} forward"] = lambda fwd=fwd: fwd()[0]

        def fwd_bwd(fwd=fwd, k=k, x=x):
            y, cols = fwd()
            dz = (y > 0).astype(np.float32)
            cols.T @ dz
            dcols = dz @ k.reshape(-1, k.shape[3]).T
            return dcols  # col2im omitted: the reference is a lower bound for NumPy
        cases[f"{name} forward+backward"] = fwd_bwd
    for name, n, h, w, c in POOLS:
        x = rng.random((n, h, w, c), dtype=np.float32)

        def pool(x=x):
            hh, ww = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
            v = x[:, :hh, :ww].reshape(x.shape[0], hh // 2, 2, ww // 2, 2, x.shape[3])
            y = v.max(axis=(2, 4))
            mask = v == y[:, :, None, :, None]
            return mask * y[:, :, None, :, None]
        cases[f"{name} forward+backward"] = pool
    return cases


TORCH_WORKER = r'''
import json, statistics, sys, time, torch
torch.manual_seed(0)
reps = int(sys.argv[1])
def timeit(fn):
    fn(); s = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); s.append(time.perf_counter() - t)
    return statistics.median(s) * 1e3
out = {}
for name, n, h, w, c, f in %s:
    x = torch.rand(n, c, h, w); conv = torch.nn.Conv2d(c, f, 3)
    with torch.no_grad():
        out[name + " forward"] = timeit(lambda: torch.relu(conv(x)))
    def fb():
        conv.zero_grad(); xx = x.clone().requires_grad_(True)
        torch.relu(conv(xx)).sum().backward()
    out[name + " forward+backward"] = timeit(fb)
for name, n, h, w, c in %s:
    x = torch.rand(n, c, h, w)
    def pb():
        xx = x.clone().requires_grad_(True)
        torch.nn.functional.max_pool2d(xx, 2).sum().backward()
    out[name + " forward+backward"] = timeit(pb)
print(json.dumps(out))
''' % (CONVS, POOLS)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--peers-python", default="/tmp/peers/bin/python")
    args = ap.parse_args()
    reps = 10 if args.quick else 40
    ours, ref = nnforge_cases(), numpy_cases()
    t_ours = {k: [] for k in ours}
    t_ref = {k: [] for k in ours}
    for _ in range(3):  # interleave the libraries
        for k in ours:
            # OpenBLAS's worker threads keep spinning ~0.1-0.15 s after a call and would steal
            # the second core from whoever runs next: let them settle between libraries.
            time.sleep(0.3)
            t_ours[k].append(timeit(ours[k], reps))
            time.sleep(0.3)
            t_ref[k].append(timeit(ref[k], max(3, reps // 4)))
    torch_ms = {}
    if Path(args.peers_python).exists():
        out = subprocess.run([args.peers_python, "-c", TORCH_WORKER, str(reps)],
                             capture_output=True, text=True)
        if out.returncode == 0:
            torch_ms = json.loads(out.stdout.strip().splitlines()[-1])
    print("| layer (batch 32) | nnforge ms | NumPy ms | NumPy / nnforge | PyTorch ms | "
          "PyTorch / nnforge |")
    print("|---|---|---|---|---|---|")
    for k in ours:
        a, b = statistics.median(t_ours[k]), statistics.median(t_ref[k])
        tt = torch_ms.get(k)
        print(f"| {k} | {a:.3f} | {b:.3f} | {b / a:.2f}x | "
              f"{f'{tt:.3f}' if tt else '-'} | {f'{tt / a:.2f}x' if tt else '-'} |")


if __name__ == "__main__":
    main()
