"""End-to-end benchmark of the seed programs: nnforge against TF-Keras, Keras 3 on PyTorch and a
plain PyTorch loop, measured side by side in one run on this machine.

    python benchmarks/bench_seed.py [--rounds 3] [--peers-python /tmp/peers/bin/python]

Each workload runs in its own process (so each has its own peak resident memory); rounds are
interleaved across frameworks and the median of the rounds is reported, with ratios. Peers come
from ../shared/peers (make their venv with `bash ../shared/peers/setup.sh /tmp/peers`); without
a peers venv only nnforge is measured.
"""
import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED_PEERS = HERE.parent.parent / "shared" / "peers"
WORKLOADS = ("mlp_train", "cnn_train", "cnn_predict")


def measured(cmd, env=None):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            os.execvpe(cmd[0], cmd, env or os.environ)
        finally:
            os._exit(127)
    os.close(w)
    chunks = []
    with os.fdopen(r) as f:
        chunks.append(f.read())
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {os.waitstatus_to_exitcode(status)}")
    return "".join(chunks), usage.ru_maxrss / 1024.0


def parse_keras(out: str) -> dict:
    res = {}
    m = re.search(r"mnist_mlp: (\d+) samples/s train, test acc ([0-9.]+)", out)
    if m:
        res["mlp_train"] = float(m.group(1))
        res["mlp_acc"] = float(m.group(2))
    m = re.search(r"cifar_cnn: (\d+) samples/s train", out)
    if m:
        res["cnn_train"] = float(m.group(1))
    m = re.search(r"cifar_cnn: (\d+) samples/s predict", out)
    if m:
        res["cnn_predict"] = float(m.group(1))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--peers-python", default="/tmp/peers/bin/python")
    ap.add_argument("--mnist", default=None, help="MNIST .npz (default: nnforge's shipped copy)")
    ap.add_argument("--skip-keras", action="store_true", help="skip TF-Keras / Keras-torch")
    args = ap.parse_args()
    if args.mnist is None:
        import nnforge.datasets.mnist as mn
        args.mnist = mn.bundled_path()
    peers = args.peers_python if Path(args.peers_python).exists() else None

    results = {}  # (framework, workload) -> list of samples/s
    overhead = {}  # framework -> list of microseconds per step at batch 1
    acc = {}
    rss = {}
    env = dict(os.environ)
    # (the name in the tables, its Python, seed_workloads.py's FRAMEWORK); no peers: nnforge only
    frameworks = [(fw, py, impl) for fw, py, impl in (("nnforge", sys.executable, "nnforge"),
                                                      ("pytorch-loop", peers, "torch")) if py]
    for rnd in range(args.rounds):
        for wl in WORKLOADS:
            for fw, py, impl in frameworks:
                out, mem = measured([py, str(HERE / "seed_workloads.py"), impl, wl, args.mnist],
                                    env)
                r = json.loads(out.strip().splitlines()[-1])
                results.setdefault((fw, wl), []).append(r["samples_per_s"])
                rss.setdefault((fw, wl), []).append(mem)
                if "accuracy" in r:
                    acc.setdefault(fw, []).append(r["accuracy"])
        for fw, py, impl in frameworks:
            out, _ = measured([py, str(HERE / "seed_workloads.py"), impl, "mlp_overhead",
                               args.mnist], env)
            overhead.setdefault(fw, []).append(
                json.loads(out.strip().splitlines()[-1])["us_per_step"])
        if peers and not args.skip_keras:
            for backend in ("tensorflow", "torch"):
                name = "tf-keras" if backend == "tensorflow" else "keras3-torch"
                kenv = dict(env, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
                out, _ = measured([peers, str(SHARED_PEERS / "keras_seed_bench.py"), args.mnist],
                                  kenv)
                r = parse_keras(out)
                for wl in WORKLOADS:
                    if wl in r:
                        results.setdefault((name, wl), []).append(r[wl])
                if "mlp_acc" in r:
                    acc.setdefault(name, []).append(r["mlp_acc"])
        print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr, flush=True)

    frameworks = ["nnforge", "tf-keras", "keras3-torch", "pytorch-loop"]
    labels = {"mlp_train": "seed MLP train, batch 32 (samples/s)",
              "cnn_train": "seed CNN train, batch 32 (samples/s)",
              "cnn_predict": "seed CNN predict, batch 256 (samples/s)"}
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: "
          f"{platform.machine()}, {os.cpu_count()} cores ({_cpu_name()}); rounds: {args.rounds} "
          f"(median)")
    head = "| workload | " + " | ".join(f for f in frameworks) + " | nnforge / fastest peer |"
    print(head)
    print("|" + "---|" * (len(frameworks) + 2))
    for wl in WORKLOADS:
        cells = []
        for f in frameworks:
            v = med.get((f, wl))
            cells.append(f"{v:,.0f}" if v else "-")
        peer_vals = [med[(f, wl)] for f in frameworks[1:] if (f, wl) in med]
        ratio = f"{med[('nnforge', wl)] / max(peer_vals):.2f}x" if peer_vals else "-"
        print(f"| {labels[wl]} | " + " | ".join(cells) + f" | {ratio} |")
    cells = [f"{statistics.median(acc[f]):.4f}" if f in acc else "-" for f in frameworks]
    print("| seed MLP test accuracy after 1 epoch | " + " | ".join(cells) + " | |")
    cells = [f"{statistics.median(rss[(f, 'mlp_train')]):,.0f}" if (f, "mlp_train") in rss
             else "-" for f in frameworks]
    print("| seed MLP train, peak RSS (MiB) | " + " | ".join(cells) + " | |")
    cells = [f"{statistics.median(overhead[f]):.0f}" if f in overhead else "-"
             for f in frameworks]
    print("| per-step overhead: seed MLP step at batch 1 (us) | " + " | ".join(cells) + " | |")


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
