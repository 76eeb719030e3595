"""GPU benchmarks: nnforge._cuda against the vendor libraries on the same GPU.

1. sgemm at FP32, TF32 and BF16 against cuBLAS: FP32 and TF32 through CuPy (cupy.matmul, with
   CuPy's compute type set to TF32 for the TF32 rows when this CuPy offers it, else torch.matmul
   with allow_tf32), BF16 through torch.matmul on bfloat16 tensors. Our BF16 path reads FP32
   operands and rounds them while staging, so cuBLAS reads half the bytes there: the ratio is
   reported as is.
2. The seed CNN (CIFAR-10 shaped: Conv2D 32 3x3 relu, MaxPool 2, Conv2D 64 3x3 relu, MaxPool 2,
   Flatten, Dense 64 relu, Dense 10 softmax; the conv shapes of benchmarks/bench_gemm.py) and the
   seed MLP (784-128-10), trained with Adam and used for prediction, by nnforge on the GPU
   (keras.config.set_device('cuda')) and by PyTorch on the same GPU when torch is installed. Both
   take host (NumPy) batches, so both pay the host-to-device copies. Random data: speed does not
   depend on it.

Prints Markdown for benchmarks/RESULTS.md. Every section reports its own failure and the script
goes on; `--quick` uses fewer repeats. Exit status 0 unless --strict and a section failed.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import traceback

import numpy as np

from timing import median_seconds

FAILED = []


def section(title):
    def wrap(fn):
        def run(*a, **k):
            print(f"\n## {title}\n", flush=True)
            try:
                fn(*a, **k)
            except Exception as e:  # report and go on
                FAILED.append(title)
                print(f"**{title} failed:** `{type(e).__name__}: {e}`\n")
                print("```\n" + traceback.format_exc(limit=4) + "```", flush=True)
        return run
    return wrap


def gpu_time(fn, cupy, reps, warmup=2):
    """Median seconds of fn() measured with CUDA events on the current stream."""
    for _ in range(warmup):
        fn()
    cupy.cuda.get_current_stream().synchronize()
    times = []
    for _ in range(reps):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return statistics.median(times)


def header(cupy, _cuda, torch):
    dev = cupy.cuda.runtime.getDevice()
    props = cupy.cuda.runtime.getDeviceProperties(dev)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    major, minor = _cuda.compute_capability(dev)
    print("# nnforge GPU benchmarks\n")
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"- GPU: {name} (sm_{major}{minor}, {props['multiProcessorCount']} SMs)")
    print(f"- driver supports CUDA {_cuda.driver_version()}, nnforge._cuda runtime "
          f"{_cuda.runtime_version()} (static), CuPy {cupy.__version__}, "
          f"PyTorch {torch.__version__ if torch else 'not installed'}")
    print(f"- Python {platform.python_version()}, NumPy {np.__version__}")


# ---- 1. sgemm --------------------------------------------------------------------------------

GEMM_SHAPES = [  # (label, M, N, K, trans_a)
    ("1024^3", 1024, 1024, 1024, False),
    ("2048^3", 2048, 2048, 2048, False),
    ("4096^3", 4096, 4096, 4096, False),
    ("8192x8192x1024", 8192, 8192, 1024, False),
    ("28800x32x27 conv1 fwd", 28800, 32, 27, False),
    ("5408x64x288 conv2 fwd", 5408, 64, 288, False),
    ("288x64x5408 conv2 dW (a^T)", 288, 64, 5408, True),
    ("128x128x784 dense fwd", 128, 128, 784, False),
]


def _set_cupy_compute_type(cupy, kind):
    """Switch CuPy's cuBLAS compute type for float32 ('fp32' or 'tf32'); False when this CuPy
    has no such switch."""
    try:
        from cupy._core import _routines_linalg as rl
        const = {"fp32": "COMPUTE_TYPE_FP32", "tf32": "COMPUTE_TYPE_TF32"}[kind]
        rl.set_compute_type(np.float32, getattr(rl, const))
        return True
    except Exception:
        return False


@section("sgemm vs cuBLAS")
def bench_sgemm(cupy, _cuda, torch, reps):
    print("TFLOP/s (median of CUDA-event timings); ratio = nnforge / cuBLAS; err = max |nnforge - "
          "cuBLAS FP32| / max |cuBLAS FP32|.\n")
    print("| shape (M x N x K) | precision | nnforge TFLOP/s | cuBLAS TFLOP/s | ratio | err | "
          "tensor cores |")
    print("|---|---|---:|---:|---:|---:|---|")
    stream = lambda: cupy.cuda.get_current_stream().ptr  # noqa: E731
    rng = np.random.default_rng(0)
    for label, m, n, k, ta in GEMM_SHAPES:
        a = cupy.asarray(rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32))
        b = cupy.asarray(rng.uniform(-1, 1, (k, n)).astype(np.float32))
        c = cupy.empty((m, n), dtype=cupy.float32)
        flop = 2.0 * m * n * k
        _set_cupy_compute_type(cupy, "fp32")
        ref = (a.T if ta else a) @ b  # cuBLAS FP32: the accuracy reference
        scale = float(cupy.abs(ref).max())
        for prec in ("fp32", "tf32", "bf16"):
            def ours():
                _cuda.sgemm(a, b, c, ta, False, 1.0, 0.0, prec, stream())
            t_ours = gpu_time(ours, cupy, reps)
            err = float(cupy.abs(c - ref).max()) / scale
            t_ref, peer = None, ""
            if prec != "bf16" and _set_cupy_compute_type(cupy, prec):
                at = a.T if ta else a
                out = cupy.empty((m, n), dtype=cupy.float32)
                t_ref = gpu_time(lambda: cupy.matmul(at, b, out=out), cupy, reps)
                peer = "cupy"
                _set_cupy_compute_type(cupy, "fp32")
            elif torch is not None:
                # torch runs on the legacy default stream, as does CuPy's default current
                # stream, so the CUDA events around it time it.
                ta_ = torch.as_tensor(a, device="cuda")
                tb_ = torch.as_tensor(b, device="cuda")
                if prec == "bf16":
                    ta_, tb_ = ta_.to(torch.bfloat16), tb_.to(torch.bfloat16)
                torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
                at = ta_.t() if ta else ta_
                t_ref = gpu_time(lambda: torch.matmul(at, tb_), cupy, reps)
                torch.backends.cuda.matmul.allow_tf32 = False
                peer = "torch"
            tc = "yes" if _cuda.tensor_cores_used(prec) else "no"
            if t_ref is None:
                print(f"| {label} | {prec} | {flop / t_ours / 1e12:.2f} | n/a | n/a | {err:.1e} | "
                      f"{tc} |", flush=True)
            else:
                print(f"| {label} | {prec} | {flop / t_ours / 1e12:.2f} | "
                      f"{flop / t_ref / 1e12:.2f} ({peer}) | {t_ref / t_ours:.2f} | {err:.1e} | "
                      f"{tc} |", flush=True)
        del a, b, c, ref
        cupy.get_default_memory_pool().free_all_blocks()


# ---- 2. seed models against PyTorch ---------------------------------------------------------

def _nnforge_cnn(keras):
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def _nnforge_mlp(keras):
    return keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def _torch_cnn(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 6 * 6, 64), nn.ReLU(), nn.Linear(64, 10))


def _torch_mlp(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def _bench_nnforge(keras, cupy, build, x, y, batch, reps):
    keras.config.set_device("cuda")
    keras.utils.set_random_seed(0)
    model = build(keras)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    sync = cupy.cuda.get_current_stream().synchronize
    fit = lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # noqa: E731
    t_fit = median_seconds(fit, reps, sync=sync)
    pred = lambda: model.predict(x, batch_size=1024, verbose=0)  # noqa: E731
    t_pred = median_seconds(pred, reps, sync=sync)
    return t_fit, t_pred


def _bench_torch(torch, build, x, y, batch, reps, nchw):
    dev = torch.device("cuda")
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = build(torch).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xs = x.transpose(0, 3, 1, 2).copy() if nchw else x  # torch convs want NCHW
    n = len(xs)

    def fit():
        model.train()
        for i in range(0, n, batch):
            xb = torch.from_numpy(xs[i:i + batch]).to(dev, non_blocking=False)
            yb = torch.from_numpy(y[i:i + batch]).to(dev)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    def pred():
        model.eval()
        outs = []
        with torch.no_grad():
            for i in range(0, n, 1024):
                xb = torch.from_numpy(xs[i:i + 1024]).to(dev)
                outs.append(torch.softmax(model(xb), dim=1).cpu().numpy())
        return np.concatenate(outs)

    sync = torch.cuda.synchronize
    return median_seconds(fit, reps, sync=sync), median_seconds(pred, reps, sync=sync)


@section("Seed models: training and prediction, nnforge vs PyTorch (same GPU)")
def bench_models(cupy, _cuda, torch, reps, quick):
    import nnforge as keras
    rng = np.random.default_rng(0)
    n_cnn = 2048 if quick else 8192
    n_mlp = 8192 if quick else 32768
    cases = [
        ("seed CNN (32x32x3, batch 128)", _nnforge_cnn, _torch_cnn,
         rng.uniform(0, 1, (n_cnn, 32, 32, 3)).astype(np.float32),
         rng.integers(0, 10, n_cnn).astype(np.int64), 128, True),
        ("seed MLP (784-128-10, batch 128)", _nnforge_mlp, _torch_mlp,
         rng.uniform(0, 1, (n_mlp, 784)).astype(np.float32),
         rng.integers(0, 10, n_mlp).astype(np.int64), 128, False),
    ]
    print("Seconds per epoch (fit, Adam, FP32) and per pass over the same samples (predict, batch "
          "1024); median of the timed repeats after one warm-up. ratio = PyTorch time / nnforge "
          "time (> 1: nnforge faster).\n")
    print("| model | samples | nnforge fit s | PyTorch fit s | fit ratio | nnforge predict s | "
          "PyTorch predict s | predict ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    saved = keras.config.get_device()
    try:
        for label, nb, tb, x, y, batch, nchw in cases:
            f_ours, p_ours = _bench_nnforge(keras, cupy, nb, x, y, batch, reps)
            if torch is not None:
                f_t, p_t = _bench_torch(torch, tb, x, y, batch, reps, nchw)
                print(f"| {label} | {len(x)} | {f_ours:.3f} | {f_t:.3f} | {f_t / f_ours:.2f} | "
                      f"{p_ours:.3f} | {p_t:.3f} | {p_t / p_ours:.2f} |", flush=True)
            else:
                print(f"| {label} | {len(x)} | {f_ours:.3f} | n/a | n/a | {p_ours:.3f} | n/a | "
                      f"n/a |", flush=True)
    finally:
        keras.config.set_device(saved)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and samples")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a section failed")
    ap.add_argument("--only", choices=["sgemm", "models"], help="run one section")
    args = ap.parse_args(argv)
    try:
        import cupy
        from nnforge import _cuda
    except ImportError as e:
        print(f"GPU benchmarks need CuPy and nnforge._cuda: {e}")
        return 0
    if _cuda.device_count() == 0:
        print("GPU benchmarks: no CUDA device; nothing to measure.")
        return 0
    try:
        import torch
        if not torch.cuda.is_available():
            torch = None
    except Exception:
        torch = None
    header(cupy, _cuda, torch)
    reps = 5 if args.quick else 15
    if args.only in (None, "sgemm"):
        bench_sgemm(cupy, _cuda, torch, reps)
    if args.only in (None, "models"):
        bench_models(cupy, _cuda, torch, 2 if args.quick else 3, args.quick)
    if FAILED:
        print(f"\nSections that failed: {', '.join(FAILED)}")
    return 1 if (FAILED and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
