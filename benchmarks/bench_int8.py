"""Micro benchmark: the int8 GEMM (nnforge._cpu: AMX / AVX-512 VNNI / ...) against our float32 sgemm.

For each n in the sizes, n x n x n, timed interleaved in one process (sgemm, then for each int8
instruction set: int8 matmul, int8 dense; repeat) so that a loaded host slows all alike; the
median of the repeats is reported, with the int8/float speed ratios:
  sgemm        _cpu.sgemm, float32 (M, K) @ (K, N)
  s32          int8_matmul_int32: int8 (M, K) @ packed int8 (K, N) -> int32 (the GEMM alone)
  dense        int8_dense: float32 x, per-row dynamic quantization + GEMM + dequantize epilogue
               (what a quantized Dense layer runs)
Weights are packed once, outside the timing (as a quantized layer does).

--clock wall (default) times wall clock; --clock cpu times the CPU time of the process (all its
threads, OpenMP spin-waits included): on a host shared with other jobs, time slices taken by
them do not count, which keeps the ratios stable when wall clock is not. Usage:

    python benchmarks/bench_int8.py [--threads 2] [--sizes 512 1024 2048] [--repeats 15]
                                    [--isa amx avx512_vnni] [--clock wall|cpu]
"""
import argparse
import statistics
import time

import numpy as np

from nnforge import _cpu
from nnforge.backend import quantized as Q


def bench(n, repeats, isas, clock):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    c = np.empty((n, n), np.float32)
    wq_t, ws = Q.quantize_rows_int8(np.ascontiguousarray(b.T))
    packed = Q.int8_pack_weights(np.ascontiguousarray(wq_t.T))
    aq, _ = Q.quantize_rows_int8(a)

    def on(isa, fn):
        def run():
            _cpu.set_int8_isa(isa)
            fn()
        return run

    cases = {"sgemm": lambda: _cpu.sgemm(a, b, c, False, False, 1.0, 0.0)}
    for isa in isas:
        cases[(isa, "s32")] = on(isa, lambda: Q.int8_matmul_int32(aq, packed))
        cases[(isa, "dense")] = on(isa, lambda: Q.int8_dense(a, packed, ws))
    for fn in cases.values():  # warm up (scratch buffers, threads, AMX permission)
        fn()
    times = {k: [] for k in cases}
    for _ in range(repeats):
        for k, fn in cases.items():
            t0 = clock()
            fn()
            times[k].append(clock() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--isa", nargs="+", default=None,
                    help="int8 instruction sets to time (default: the one the dispatch picks)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = ap.parse_args()
    _cpu.set_num_threads(args.threads)
    default_isa = _cpu.int8_isa()
    isas = args.isa or [default_isa]
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    print(f"threads {args.threads}, float ISA {_cpu.cpu_isa()}, int8 ISAs {', '.join(isas)}, "
          f"median {args.clock} time of {args.repeats} (interleaved; noisy on a loaded host)")
    print(f"{'n^3':>6} {'sgemm ms':>9} {'GFLOP/s':>8}   " +
          "   ".join(f"{isa + ' ' + kind:>20} {'GOP/s':>6} {'x sgemm':>7}"
                     for isa in isas for kind in ("s32", "dense")))
    try:
        for n in args.sizes:
            t = bench(n, args.repeats, isas, clock)
            ops = 2.0 * n ** 3
            row = f"{n:>6} {t['sgemm'] * 1e3:9.2f} {ops / t['sgemm'] / 1e9:8.0f}   "
            row += "   ".join(f"{t[(isa, kind)] * 1e3:17.2f} ms {ops / t[(isa, kind)] / 1e9:6.0f} "
                             f"{t['sgemm'] / t[(isa, kind)]:7.2f}"
                             for isa in isas for kind in ("s32", "dense"))
            print(row)
    finally:
        _cpu.set_int8_isa(default_isa)


if __name__ == "__main__":
    main()
