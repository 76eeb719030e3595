"""Data-parallel training on one machine: one process with 2 threads against 2 processes
(``mpiexec -n 2``, ``DataParallel``) with 1 thread each, for the seed MLP and the seed CNN, with
the time each training step spends in communication. One process with 1 thread is measured too
(the 2 x 1 speed-up over it is the data-parallel efficiency, free of OpenMP effects).

    python benchmarks/bench_distributed.py [--rounds 3] [--mlp-rows 12800] [--cnn-rows 3200]

Each measurement is its own launch; the rounds alternate the two set-ups and the medians are
reported with the ratios (2 x 1 throughput / 1 x 2, and / 1 x 1). Communication time is the time
process 0 spends inside collectives (transfer and waiting for the peer), per step.
Requires ``pip install ".[distributed]"``.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def worker(workload: str, rows: int, distributed: bool) -> None:
    """One timed epoch of ``workload`` in this process (under mpiexec when ``distributed``);
    process 0 prints one JSON line."""
    import numpy as np

    import nnforge as keras
    sys.path.insert(0, str(HERE))
    from seed_workloads import nnforge_cifar_shaped, nnforge_seed_cnn, nnforge_seed_mlp

    strategy = None
    if distributed:
        keras.distribution.initialize()
        strategy = keras.distribution.DataParallel()
        keras.distribution.set_distribution(strategy)
    keras.utils.set_random_seed(0)
    if workload == "mlp":
        npz = np.load(keras.datasets.mnist.bundled_path())
        x = npz["x_train"][:rows].astype("float32") / 255
        y = keras.utils.to_categorical(npz["y_train"][:rows], 10)
        model = nnforge_seed_mlp()
    else:
        x, y = nnforge_cifar_shaped(rows)
        model = nnforge_seed_cnn()
    model.fit(x[:640], y[:640], epochs=1, batch_size=32, verbose=0)  # warm-up
    comm0 = strategy.communication_seconds if strategy else 0.0
    t = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    dt = time.perf_counter() - t
    steps = -(-rows // 32)
    comm = (strategy.communication_seconds - comm0) if strategy else 0.0
    if keras.distribution.process_id() == 0:
        print(json.dumps({"samples_per_s": rows / dt, "ms_per_step": dt / steps * 1e3,
                          "comm_ms_per_step": comm / steps * 1e3}), flush=True)


def mpiexec() -> str:
    local = Path(sys.executable).parent / "mpiexec"
    return str(local) if local.exists() else "mpiexec"


def launch(workload: str, rows: int, setup: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "python"),
                                                    env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", workload,
           "--rows", str(rows)]
    if setup == "2x1":
        env["OMP_NUM_THREADS"] = "1"
        cmd = [mpiexec(), "-n", "2"] + cmd + ["--distributed"]
    else:
        env["OMP_NUM_THREADS"] = setup[-1]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                    if line.startswith("Model name"))
    except Exception:
        return platform.processor() or "unknown"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--mlp-rows", type=int, default=12800)
    p.add_argument("--cnn-rows", type=int, default=3200)
    p.add_argument("--workloads", default="mlp,cnn")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker, args.rows, args.distributed)
        return
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    for workload in args.workloads.split(","):
        rows = args.mlp_rows if workload == "mlp" else args.cnn_rows
        runs = {"1x2": [], "2x1": [], "1x1": []}
        for r in range(args.rounds):
            order = ("1x2", "2x1", "1x1") if r % 2 == 0 else ("1x1", "2x1", "1x2")
            for setup in order:
                runs[setup].append(launch(workload, rows, setup))
        med = {s: {k: statistics.median(x[k] for x in v) for k in v[0]} for s, v in runs.items()}
        ratio = med["2x1"]["samples_per_s"] / med["1x2"]["samples_per_s"]
        print(f"{workload}: 1 process x 2 threads {med['1x2']['samples_per_s']:.0f} samples/s "
              f"({med['1x2']['ms_per_step']:.2f} ms/step); 2 processes x 1 thread "
              f"{med['2x1']['samples_per_s']:.0f} samples/s ({med['2x1']['ms_per_step']:.2f} "
              f"ms/step, {med['2x1']['comm_ms_per_step']:.2f} ms/step in communication); "
              f"ratio 2x1/1x2 {ratio:.2f}; 1 process x 1 thread "
              f"{med['1x1']['samples_per_s']:.0f} samples/s, ratio 2x1/1x1 "
              f"{med['2x1']['samples_per_s'] / med['1x1']['samples_per_s']:.2f} (samples/s per "
              f"round, 1x2 / 2x1 / 1x1: {[round(x['samples_per_s']) for x in runs['1x2']]} / "
              f"{[round(x['samples_per_s']) for x in runs['2x1']]} / "
              f"{[round(x['samples_per_s']) for x in runs['1x1']]})", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
