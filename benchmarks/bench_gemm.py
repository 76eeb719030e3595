"""Micro benchmark: nnforge._cpu.sgemm against NumPy (OpenBLAS) and torch (if importable).

Shapes are M x K x N. Timings are interleaved (nnforge, numpy, torch, nnforge, ...) and the median
of the repeats is reported. Run numpy with its default OpenBLAS kernel selection, e.g.:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gemm.py [--quick]
"""
import argparse
import ctypes
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from nnforge import _cpu

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except Exception:  # pragma: no cover - optional peer
    HAVE_TORCH = False

# (label, M, K, N, trans_a)
SQUARE = [(f"{n}^3", n, n, n, False) for n in (256, 512, 1024, 2048)]
SEEDS = [
    ("32x784x128 (dense fwd)", 32, 784, 128, False),
    ("784x32x128 (dense dW, a^T)", 784, 32, 128, True),
    ("28800x27x32 (conv1 fwd)", 28800, 27, 32, False),
    ("5408x288x64 (conv2 fwd)", 5408, 288, 64, False),
    ("288x5408x64 (conv2 dW, a^T)", 288, 5408, 64, True),
]


def _openblas_lib():
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))
    libs += glob.glob(os.path.join(os.path.dirname(np.__file__), ".libs", "*openblas*"))
    for path in libs:
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def set_openblas_threads(n):
    """Thread count of numpy's OpenBLAS (threadpoolctl if installed, else the C API)."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
        return True
    except Exception:
        pass
    lib = _openblas_lib()
    for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                 "openblas_set_num_threads"):
        f = getattr(lib, name, None) if lib is not None else None
        if f is not None:
            f.argtypes = [ctypes.c_int]
            f(n)
            return True
    return False


def openblas_info():
    """Which OpenBLAS numpy loaded and the kernel (core) it picked."""
    try:
        from threadpoolctl import threadpool_info
        for d in threadpool_info():
            if d.get("internal_api") == "openblas":
                return f"{d.get('version')} core={d.get('architecture')} threads={d.get('num_threads')}"
    except Exception:
        pass
    lib = _openblas_lib()
    if lib is not None:
        for cfg, core in (("scipy_openblas_get_config64_", "scipy_openblas_get_corename64_"),
                          ("openblas_get_config64_", "openblas_get_corename64_"),
                          ("openblas_get_config", "openblas_get_corename")):
            try:
                fcfg, fcore = getattr(lib, cfg), getattr(lib, core)
            except AttributeError:
                continue
            fcfg.restype = fcore.restype = ctypes.c_char_p
            return f"{fcfg().decode()} | core={fcore().decode()}"
    return "unknown (threadpoolctl not installed and no OpenBLAS found by ctypes)"


_PEAK_SRC = r"""
#include <immintrin.h>
float fma_loop(long iters) {
#if defined(__AVX512F__)
  __m512 a[16]; __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
  for (int i = 0; i < 16; ++i) a[i] = _mm512_set1_ps((float)i);
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) a[i] = _mm512_fmadd_ps(a[i], x, y);
  }
  __m512 s = a[0]; for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
#else
  __m256 a[12]; __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps((float)i);
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], x, y);
  }
  __m256 s = a[0]; for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  float o[8]; _mm256_storeu_ps(o, s); return o[0];
#endif
}
int lanes(void) {
#if defined(__AVX512F__)
  return 16 * 16;
#else
  return 12 * 8;
#endif
}
"""


def measured_peak(threads):
    """FMA-throughput peak (GFLOP/s) of `threads` cores, from a compiled register-only loop."""
    isa = _cpu.cpu_isa()
    if isa == "generic":
        return None
    flags = ["-mavx512f"] if isa == "avx512" else ["-mavx2", "-mfma"]
    d = tempfile.mkdtemp(prefix="nnforge_peak_")
    src, so = os.path.join(d, "p.c"), os.path.join(d, "p.so")
    with open(src, "w") as f:
        f.write(_PEAK_SRC)
    try:
        subprocess.run(["cc", "-O3", "-shared", "-fPIC", *flags, src, "-o", so], check=True,
                       capture_output=True)
    except Exception:
        return None
    lib = ctypes.CDLL(so)
    lib.fma_loop.argtypes = [ctypes.c_long]
    lib.fma_loop.restype = ctypes.c_float
    lanes = lib.lanes()
    iters = 20_000_000
    lib.fma_loop(iters // 10)
    best = 0.0
    for _ in range(3):
        ts = [threading.Thread(target=lib.fma_loop, args=(iters,)) for _ in range(threads)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        dt = time.perf_counter() - t0
        best = max(best, threads * iters * lanes * 2 / dt / 1e9)
    return best


SETTLE_S = 0.3  # OpenBLAS workers spin ~0.1-0.15 s after a call on this machine


def make(M, K, N, ta, rng):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    return a, b


def bench_shape(M, K, N, ta, repeats, min_time):
    rng = np.random.default_rng(0)
    a, b = make(M, K, N, ta, rng)
    c_nf = np.empty((M, N), np.float32)
    c_np = np.empty((M, N), np.float32)
    a_op = a.T if ta else a
    runners = {
        "nnforge": lambda: _cpu.sgemm(a, b, c_nf, ta, False),
        "numpy": lambda: np.matmul(a_op, b, out=c_np),
    }
    if HAVE_TORCH:
        import torch
        ta_t, b_t = torch.from_numpy(a), torch.from_numpy(b)
        a_t = ta_t.t() if ta else ta_t
        c_t = torch.from_numpy(np.empty((M, N), np.float32))
        runners["torch"] = lambda: torch.matmul(a_t, b_t, out=c_t)
    flop = 2.0 * M * N * K
    # inner loop count so one sample lasts >= min_time (from the fastest of a few settled calls,
    # so a single disturbed call cannot shrink it to one iteration)
    for f in runners.values():
        f()
    time.sleep(SETTLE_S)
    one = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        runners["nnforge"]()
        one = min(one, time.perf_counter() - t0)
    inner = max(1, int(min_time / max(one, 1e-7)))
    times = {k: [] for k in runners}
    for _ in range(repeats):
        for name, f in runners.items():
            # Let the other library's worker threads stop spinning before timing this one: on a
            # 2-core machine an OpenBLAS or OpenMP thread busy-waiting after its last call takes
            # a whole core away from the next library (OpenBLAS spins for tens of ms).
            time.sleep(SETTLE_S)
            f()
            t0 = time.perf_counter()
            for _ in range(inner):
                f()
            times[name].append((time.perf_counter() - t0) / inner)
    gf = {k: flop / statistics.median(v) / 1e9 for k, v in times.items()}
    ref = a_op.astype(np.float64) @ b.astype(np.float64)
    err = float(np.abs(c_nf - ref).max() / max(np.abs(ref).max(), 1e-30))
    return gf, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats, skip 2048^3")
    ap.add_argument("--threads", type=int, default=0,
                    help="threads for nnforge and OpenBLAS (default: nnforge's default)")
    args = ap.parse_args()
    if args.threads:
        _cpu.set_num_threads(args.threads)
        if not set_openblas_threads(args.threads):
            print("warning: could not set OpenBLAS's thread count")
    repeats, min_time = (5, 0.05) if args.quick else (7, 0.2)
    threads = _cpu.get_num_threads()
    print(f"nnforge isa={_cpu.cpu_isa()} threads={threads} blocking={_cpu.gemm_blocking()} "
          f"caches={_cpu.cache_sizes()}")
    print(f"numpy {np.__version__}: {openblas_info()}")
    print("OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s OPENBLAS_NUM_THREADS=%s" % tuple(
        os.environ.get(k, "<unset>") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                               "OPENBLAS_NUM_THREADS")))
    print(f"torch: {'yes' if HAVE_TORCH else 'not importable'}")
    if HAVE_TORCH and args.threads:
        import torch
        torch.set_num_threads(args.threads)
    # Other processes on the machine distort multi-threaded timings badly (a team of threads
    # waits at every barrier for a descheduled member): report the load around the run.
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    peak = measured_peak(threads)
    print(f"measured FMA peak ({threads} threads): " + (f"{peak:.0f} GFLOP/s" if peak else "n/a"))
    shapes = SQUARE[:3] + SEEDS if args.quick else SQUARE + SEEDS
    hdr = f"{'shape (MxKxN)':30s} {'nnforge':>9s} {'numpy':>9s} {'ratio':>6s} {'torch':>6s} {'%peak':>6s} {'relerr':>8s}"
    print(hdr)
    print("-" * len(hdr))
    for label, M, K, N, ta in shapes:
        gf, err = bench_shape(M, K, N, ta, repeats, min_time)
        tr = f"{gf['nnforge'] / gf['torch']:6.2f}" if "torch" in gf else f"{'-':>6s}"
        pk = f"{100 * gf['nnforge'] / peak:5.1f}%" if peak else f"{'-':>6s}"
        print(f"{label:30s} {gf['nnforge']:9.1f} {gf['numpy']:9.1f} "
              f"{gf['nnforge'] / gf['numpy']:6.2f} {tr} {pk} {err:8.1e}", flush=True)

    # 1 vs 2 threads at 1024^3, and bitwise identity
    n = 1024
    rng = np.random.default_rng(1)
    a, b = make(n, n, n, False, rng)
    outs, gfs = {}, {}
    old = _cpu.get_num_threads()
    try:
        for t in (1, 2, 1, 2):
            _cpu.set_num_threads(t)
            c = np.empty((n, n), np.float32)
            _cpu.sgemm(a, b, c)
            ts = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                _cpu.sgemm(a, b, c)
                ts.append(time.perf_counter() - t0)
            gfs.setdefault(t, []).append(2.0 * n ** 3 / statistics.median(ts) / 1e9)
            outs[t] = c
    finally:
        _cpu.set_num_threads(old)
    g1, g2 = max(gfs[1]), max(gfs[2])
    same = np.array_equal(outs[1].view(np.uint32), outs[2].view(np.uint32))
    print(f"\n1024^3 threads: 1 -> {g1:.1f} GFLOP/s, 2 -> {g2:.1f} GFLOP/s, "
          f"speed-up {g2 / g1:.2f}x, bitwise identical: {same}")
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
