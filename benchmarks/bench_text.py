"""Text classification (the seed's sentiment use case) in nnforge against the peers, side by side:
Embedding(10000, 64) -> LSTM(64) or GRU(64) -> Dense(1, sigmoid), Adam, binary cross-entropy,
8,000 random sequences of length 100; training at batch 32, predict at batch 256. The workload is
exactly ../shared/peers/keras_text_bench.py's (and torch_text_bench.py's lean PyTorch loop).

    python benchmarks/bench_text.py [--cells lstm gru] [--rounds 3] [--peers-python PY]
                                    [--peers-dir ../shared/peers]
    python benchmarks/bench_text.py --one lstm        # nnforge alone, one run (what a round runs)
    python benchmarks/bench_text.py --profile lstm    # per-kernel time of one training step

Each run is its own process; rounds alternate nnforge, the PyTorch loop and TF-Keras, and the
median of the rounds is printed with the ratios nnforge / peer. Without a peers venv only nnforge
is measured.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED_PEERS = HERE.parent.parent / "shared" / "peers"
PATTERN = re.compile(r"text_(\w+): (\d+) samples/s (train|predict)")


def warmed_up_workload(cell: str, n: int):
    """The workload in nnforge: ``n`` random sequences and labels and the compiled model (seeded),
    after a warm-up epoch on 320 of them. Returns ``(model, x, y)``."""
    import nnforge as keras
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10000, (n, 100)).astype("int32")
    y = rng.integers(0, 2, (n, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    rnn = keras.layers.LSTM(64) if cell == "lstm" else keras.layers.GRU(64)
    m = keras.Sequential([keras.Input((100,), dtype="int32"), keras.layers.Embedding(10000, 64),
                          rnn, keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    m.fit(x[:320], y[:320], epochs=1, batch_size=32, verbose=0)  # warm-up
    return m, x, y


def run_nnforge(cell: str) -> None:
    """One measurement, printed in the peers' format."""
    m, x, y = warmed_up_workload(cell, 8000)
    t = time.perf_counter()
    m.fit(x, y, epochs=1, batch_size=32, verbose=0)
    dt = time.perf_counter() - t
    print(f"nnforge text_{cell}: {len(x) / dt:.0f} samples/s train (batch 32)", flush=True)
    t = time.perf_counter()
    m.predict(x, batch_size=256, verbose=0)
    dt = time.perf_counter() - t
    print(f"nnforge text_{cell}: {len(x) / dt:.0f} samples/s predict (batch 256)", flush=True)


def profile(cell: str, steps: int = 50) -> None:
    """Where one training step (batch 32) spends its time: every nnforge._cpu call timed in
    place (profile_step.py's instrumentation), the rest being Python and NumPy glue."""
    from profile_step import profile_fit
    m, x, y = warmed_up_workload(cell, 32 * steps)
    profile_fit(m, x, y, f"text {cell.upper()} training", step_decimals=0)


def measure(cmd, env) -> dict:
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return {(c, kind): float(v) for c, v, kind in PATTERN.findall(out)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cells", nargs="+", default=["lstm", "gru"], choices=("lstm", "gru"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--peers-python", default="/tmp/peers/bin/python")
    ap.add_argument("--peers-dir", default=str(SHARED_PEERS),
                    help="where keras_text_bench.py and torch_text_bench.py are")
    ap.add_argument("--one", choices=("lstm", "gru"), help="run nnforge once and exit")
    ap.add_argument("--profile", choices=("lstm", "gru"), help="per-kernel profile of training")
    args = ap.parse_args()
    if args.profile:
        profile(args.profile)
        return 0
    if args.one:
        run_nnforge(args.one)
        return 0
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent / "python"),
                                                      env.get("PYTHONPATH")]))
    peers = args.peers_python if Path(args.peers_python).exists() else None
    frameworks = {"nnforge": lambda c: [sys.executable, str(HERE / "bench_text.py"), "--one", c]}
    if peers:
        frameworks["pytorch-loop"] = lambda c: [peers, str(Path(args.peers_dir) / "torch_text_bench.py"), c]
        frameworks["tf-keras"] = lambda c: [peers, str(Path(args.peers_dir) / "keras_text_bench.py"), c]
    results: dict = {}
    for cell in args.cells:
        for r in range(args.rounds):
            for fw, cmd in frameworks.items():
                e = dict(env, KERAS_BACKEND="tensorflow") if fw == "tf-keras" else env
                for (c, kind), v in measure(cmd(cell), e).items():
                    results.setdefault((fw, c, kind), []).append(v)
                    print(f"round {r + 1}: {fw:12s} {c} {kind:7s} {v:8.0f} samples/s", flush=True)
    print(f"\nmedians of {args.rounds} alternating rounds (samples/s), load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'workload':16s} " + " ".join(f"{fw:>12s}" for fw in frameworks) +
          "   nnforge/best peer")
    for cell in args.cells:
        for kind in ("train", "predict"):
            med = {fw: statistics.median(results.get((fw, cell, kind), [float("nan")]))
                   for fw in frameworks}
            peer_best = max((v for fw, v in med.items() if fw != "nnforge"), default=None)
            ratio = f"{med['nnforge'] / peer_best:.2f}x" if peer_best else "-"
            print(f"{cell + ' ' + kind:16s} " + " ".join(f"{med[fw]:12.0f}" for fw in frameworks)
                  + f"   {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
