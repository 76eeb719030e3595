"""Seed CNN training on shared cores: nnforge and PyTorch with 0, 1 and 2 busy processes beside.

    python benchmarks/bench_contention.py [--rounds 3] [--images 2000] [--peers-python PATH]

Users train beside other work (a data loader, a notebook, a second job). Each measurement runs
`seed_workloads.py FRAMEWORK cnn_train` (seed CNN, batch 32, one epoch over N CIFAR-shaped
images) in its own process while `--load` processes spin in pure Python on the same cores.
Three programs alternate in every round (the order rotates from round to round) and the median
of the rounds is reported:

- nnforge: as installed, default settings (the kernels' loops run on nnforge's chunk pool,
  cpp/src/thread_pool.h, whose idle workers sleep; the OpenMP loops left, int8 and recurrent
  kernels, wait passively: python/nnforge/_thread_policy.py);
- nnforge-spin: the same with GNU OpenMP's own default wait (GOMP_SPINCOUNT=300000, what
  nnforge did before it chose a policy). The seed CNN's kernels no longer use OpenMP, so this
  row now differs from the first only by chance: it shows how far apart two runs of one
  program land;
- torch: a plain PyTorch loop (needs the peers venv from ../shared/peers/setup.sh).

Where the scheduler puts the busy processes matters as much as the code, and a run mostly keeps
the placement it starts with. On two cores with two busy processes: both busy processes on one
core and nnforge's threads on the other (nnforge gets a whole core: about 0.7x its quiet speed),
or one busy process beside each of nnforge's threads (each gets half a core: at best about
0.5x, since the serial Python part of a step then runs at half speed too; measured 0.45x with
the busy processes pinned one per core). Single runs therefore spread widely (0.4x to 0.75x);
take several rounds.

Printed: samples/s per program and load, each program's loaded / quiet ratio, and nnforge's
ratio to torch under the same load. The targets (issue 16): under load nnforge keeps >= 0.5x its
quiet speed and is >= 2x PyTorch.
"""
import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def spin(stop) -> None:
    """A busy process: pure-Python arithmetic until told to stop."""
    x = 0
    while not stop.is_set():
        for _ in range(100000):
            x = (x * 31 + 7) % 1000003


def run_once(python: str, framework: str, mnist: str, images: int, env: dict) -> float:
    out = subprocess.run([python, str(HERE / "seed_workloads.py"), framework, "cnn_train", mnist,
                          str(images)], env=env, capture_output=True, text=True, check=True,
                         timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])["samples_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--loads", default="0,1,2", help="busy processes beside, comma-separated")
    ap.add_argument("--peers-python", default="/tmp/peers/bin/python")
    args = ap.parse_args()
    import nnforge.datasets.mnist as mn
    mnist = mn.bundled_path()

    base_env = {k: v for k, v in os.environ.items()
                if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    programs = {
        "nnforge": (sys.executable, "nnforge", base_env),
        "nnforge-spin": (sys.executable, "nnforge", dict(base_env, GOMP_SPINCOUNT="300000")),
    }
    if Path(args.peers_python).exists():
        programs["torch"] = (args.peers_python, "torch", base_env)
    else:
        print(f"(no peers venv at {args.peers_python}: PyTorch is not measured)")

    loads = [int(v) for v in args.loads.split(",")]
    results = {(p, n): [] for p in programs for n in loads}
    ctx = mp.get_context("fork")
    for n in loads:
        stop = ctx.Event()
        burners = [ctx.Process(target=spin, args=(stop,), daemon=True) for _ in range(n)]
        for b in burners:
            b.start()
        time.sleep(0.5)
        try:
            names = list(programs)
            for r in range(args.rounds):
                # The order rotates from round to round: a program starts where the previous
                # one left the busy processes, so no program always follows the same one.
                for name in names[r % len(names):] + names[:r % len(names)]:
                    python, fw, env = programs[name]
                    v = run_once(python, fw, mnist, args.images, env)
                    results[(name, n)].append(v)
                    print(f"  load {n} round {r + 1} {name:13s} {v:8.0f} samples/s", flush=True)
        finally:
            stop.set()
            for b in burners:
                b.join()

    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"\nseed CNN training, batch 32, {args.images} images; medians of {args.rounds} "
          f"alternating rounds; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'program':14s}" + "".join(f"{'load ' + str(n):>12s}" for n in loads)
          + "".join(f"{'x quiet @' + str(n):>12s}" for n in loads if n))
    for name in programs:
        row = f"{name:14s}" + "".join(f"{med[(name, n)]:12.0f}" for n in loads)
        if 0 in loads:
            row += "".join(f"{med[(name, n)] / med[(name, 0)]:12.2f}" for n in loads if n)
        print(row)
    if "torch" in programs:
        print("nnforge / torch: " + ", ".join(
            f"load {n}: {med[('nnforge', n)] / med[('torch', n)]:.2f}x" for n in loads))


if __name__ == "__main__":
    main()
