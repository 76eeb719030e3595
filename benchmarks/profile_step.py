"""Where a seed training step spends its time: every nnforge._cpu kernel call made during one
epoch of `fit`, timed in place, with the rest of the step (Python, NumPy glue) as the remainder.

    python benchmarks/profile_step.py [mlp|cnn]

Kernel times measured inside training differ from the isolated micro benchmarks (bench_gemm.py,
bench_layers.py): there, operands stay hot in cache between repeats; here every step streams the
activations, gradients and optimizer slots of the whole model. The wrapper adds about a
microsecond per call, so the printed step time is slightly above bench_seed.py's.
"""
import argparse
import os
import sys
import time

import numpy as np

import nnforge as keras
from nnforge import _cpu
from nnforge.backend import cpu as cpu_backend
from seed_workloads import nnforge_cifar_shaped, nnforge_seed_cnn, nnforge_seed_mlp


def instrument(totals: dict) -> None:
    """Replace every _cpu function the CPU backend calls with a timing wrapper."""
    for name in dir(_cpu):
        fn = getattr(_cpu, name)
        if name.startswith("_") or not callable(fn) or isinstance(fn, type):
            continue

        def wrapped(*args, _fn=fn, _name=name, **kwargs):
            shapes = tuple(tuple(a.shape) for a in args[:2] if hasattr(a, "shape"))
            t0 = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                entry = totals.setdefault((_name, shapes), [0.0, 0])
                entry[0] += time.perf_counter() - t0
                entry[1] += 1

        setattr(cpu_backend._cpu, name, wrapped)


def print_kernel_table(totals: dict, steps: int, dt: float) -> None:
    """Print the per-step time of each kernel (as ``instrument`` collected it, slowest first),
    their sum, and the rest of the ``dt`` seconds that ``steps`` training steps took."""
    print(f"{'kernel (first two operand shapes)':62s} {'us/step':>8s} {'calls/step':>10s}")
    kernel_total = 0.0
    for (name, shapes), (secs, calls) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        kernel_total += secs
        if secs / steps * 1e6 < 0.5:
            continue
        label = f"{name} {' '.join(str(s) for s in shapes)}"
        print(f"{label[:62]:62s} {secs / steps * 1e6:8.1f} {calls / steps:10.2f}")
    print(f"{'all kernels':62s} {kernel_total / steps * 1e6:8.1f}")
    print(f"{'rest of the step (Python, NumPy glue)':62s} {(dt - kernel_total) / steps * 1e6:8.1f}")


def profile_fit(model, x, y, title: str, step_decimals: int = 1) -> None:
    """Trains ``model`` one epoch on ``(x, y)`` at batch 32 with every kernel call timed
    (``instrument``), then prints ``title`` with the step count, threads and load, the time of a
    step (``step_decimals`` decimals, in microseconds) and the kernel table."""
    totals: dict = {}
    instrument(totals)
    steps = (len(x) + 31) // 32
    t0 = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    dt = time.perf_counter() - t0
    print(f"{title}, batch 32, {steps} steps, threads={_cpu.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"step: {dt / steps * 1e6:.{step_decimals}f} us ({len(x) / dt:,.0f} samples/s)")
    print_kernel_table(totals, steps, dt)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model", nargs="?", default="cnn", choices=("mlp", "cnn"))
    args = ap.parse_args()
    keras.utils.set_random_seed(0)
    if args.model == "mlp":
        npz = np.load(keras.datasets.mnist.bundled_path())
        x = npz["x_train"].astype("float32") / 255
        y = keras.utils.to_categorical(npz["y_train"], 10)
        model = nnforge_seed_mlp()
    else:
        x, y = nnforge_cifar_shaped()
        model = nnforge_seed_cnn()
    model.fit(x[:640], y[:640], epochs=1, batch_size=32, verbose=0)  # warm-up
    profile_fit(model, x, y, f"seed {args.model.upper()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
