"""A/B timing of the seed CNN's training step for two copies of the package, alternated.

    python benchmarks/ab_seed_step.py A_PYTHON_DIR B_PYTHON_DIR [--rounds 3] [--samples 3000]
    python benchmarks/ab_seed_step.py A_DIR B_DIR --stub     # Python only: kernels are no-ops

Each round runs one fresh process per copy (A then B), in which the seed CNN (seed_workloads.py)
is warmed up on 320 samples and then fitted three times for one epoch on ``--samples`` samples at
batch 32; the process prints the minimum us/step. With ``--stub`` every ``nnforge._cpu`` kernel
the CPU backend calls is replaced by a no-op after the warm-up, so that what is left is the
step's Python cost (the values computed are then meaningless). Build a baseline copy with, e.g.:

    mkdir /tmp/base && git -C /work/main archive main python | tar -x -C /tmp/base
    cp python/nnforge/_c*.so /tmp/base/python/nnforge/

Timings on a shared machine drift between minutes: compare A and B from the same run only
(under /work/quiet.sh where there is one), never with a figure from another run.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def child(samples: int, stub: bool) -> None:
    """Runs in the child process: warm up, fit three epochs, print the best us/step."""
    sys.path.insert(0, HERE)
    import types

    import nnforge as keras
    from nnforge import _cpu
    from nnforge.backend import cpu as cpu_backend
    from seed_workloads import nnforge_cifar_shaped, nnforge_seed_cnn

    keras.utils.set_random_seed(0)
    x, y = nnforge_cifar_shaped(max(samples, 320))
    model = nnforge_seed_cnn()
    model.fit(x[:320], y[:320], epochs=1, batch_size=32, verbose=0)
    if stub:
        ns = types.SimpleNamespace()
        for name in dir(_cpu):
            fn = getattr(_cpu, name)
            setattr(ns, name, fn)
            if (callable(fn) and not name.startswith("_") and not isinstance(fn, type)
                    and name != "get_num_threads"):
                setattr(ns, name, lambda *a, **k: None)
        cpu_backend._cpu = ns
    steps = (samples + 31) // 32
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        model.fit(x[:samples], y[:samples], epochs=1, batch_size=32, verbose=0)
        best = min(best, time.perf_counter() - t)
    print(f"{best / steps * 1e6:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="python/ directory of copy A (holding nnforge/)")
    ap.add_argument("b", help="python/ directory of copy B")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--stub", action="store_true", help="kernels as no-ops: Python cost only")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.samples, args.stub)
        return 0
    results = {"A": [], "B": []}
    for _ in range(args.rounds):
        for label, path in (("A", args.a), ("B", args.b)):
            env = dict(os.environ, PYTHONPATH=os.path.abspath(path))
            cmd = [sys.executable, os.path.abspath(__file__), args.a, args.b, "--child",
                   "--samples", str(args.samples)] + (["--stub"] if args.stub else [])
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            results[label].append(float(out.stdout.strip().splitlines()[-1]))
            print(f"{label} ({path}): {results[label][-1]:.1f} us/step", flush=True)
    a, b = min(results["A"]), min(results["B"])
    print(f"best: A {a:.1f} us/step, B {b:.1f} us/step, B/A {b / a:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
