"""Micro benchmark: the int8 GEMM (nnforge._cpu, VNNI) against our float32 sgemm.

For each n in the sizes, n x n x n, timed interleaved in one process (sgemm, int8 matmul, int8
dense, sgemm, ...) so that a loaded host slows all alike; the median of the repeats is reported,
with the int8/float speed ratios:
  sgemm        _cpu.sgemm, float32 (M, K) @ (K, N)
  int8 s32     int8_matmul_int32: int8 (M, K) @ packed int8 (K, N) -> int32 (the GEMM alone)
  int8 dense   int8_dense: float32 x, per-row dynamic quantization + GEMM + dequantize epilogue
               (what a quantized Dense layer runs)
Weights are packed once, outside the timing (as a quantized layer does). Usage:

    python benchmarks/bench_int8.py [--threads 2] [--sizes 512 1024 2048] [--repeats 15] [--isa avx512_vnni]
"""
import argparse
import statistics
import time

import numpy as np

from nnforge import _cpu
from nnforge.backend import quantized as Q


def _time(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(n, repeats):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    c = np.empty((n, n), np.float32)
    wq_t, ws = Q.quantize_rows_int8(np.ascontiguousarray(b.T))
    packed = Q.int8_pack_weights(np.ascontiguousarray(wq_t.T))
    aq, _ = Q.quantize_rows_int8(a)
    cases = {
        "sgemm": lambda: _cpu.sgemm(a, b, c, False, False, 1.0, 0.0),
        "int8 s32": lambda: Q.int8_matmul_int32(aq, packed),
        "int8 dense": lambda: Q.int8_dense(a, packed, ws),
    }
    for fn in cases.values():  # warm up (scratch buffers, threads)
        fn()
    times = {k: [] for k in cases}
    for _ in range(repeats):
        for k, fn in cases.items():
            times[k].append(_time(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--isa", default=None, help="force the int8 ISA (see _cpu.set_int8_isa)")
    args = ap.parse_args()
    _cpu.set_num_threads(args.threads)
    if args.isa:
        _cpu.set_int8_isa(args.isa)
    print(f"threads {args.threads}, float ISA {_cpu.cpu_isa()}, int8 ISA {_cpu.int8_isa()}, "
          f"median of {args.repeats} (interleaved; noisy on a loaded host)")
    print(f"{'n^3':>6} {'sgemm ms':>9} {'GFLOP/s':>8} {'int8 s32 ms':>12} {'GOP/s':>7} "
          f"{'x sgemm':>8} {'int8 dense ms':>14} {'x sgemm':>8}")
    for n in args.sizes:
        t = bench(n, args.repeats)
        ops = 2.0 * n ** 3
        print(f"{n:>6} {t['sgemm'] * 1e3:9.2f} {ops / t['sgemm'] / 1e9:8.0f} "
              f"{t['int8 s32'] * 1e3:12.2f} {ops / t['int8 s32'] / 1e9:7.0f} "
              f"{t['sgemm'] / t['int8 s32']:8.2f} {t['int8 dense'] * 1e3:14.2f} "
              f"{t['sgemm'] / t['int8 dense']:8.2f}")


if __name__ == "__main__":
    main()
