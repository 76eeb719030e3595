"""Cost of nnforge.explain.integrated_gradients against the passes it is made of.

Integrated gradients with S steps on N images takes N*S gradient evaluations. nnforge runs them
as batches of ``batch_size`` rows: ceil(N*S / batch_size) forward+backward passes plus building
the interpolated inputs and summing the weighted gradients. This benchmark times IG (64 steps,
32 MNIST test images, the keras.io MNIST convnet) against the same number of batched forward and
backward passes written directly with GradientTape (same batch size, gradient with respect to the
input only, as IG computes), alternating the two, and reports the medians and their ratio
(the issue's bar: <= 1.2x).

    python benchmarks/bench_explain.py [--repeats 7] [--steps 64] [--images 32] [--batch-size 256]
"""
import argparse
import datetime
import json
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

import nnforge as keras
from nnforge import backend, explain, layers


def build_model() -> keras.Model:
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ])


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = build_model()
    (_, _), (x_test, _) = keras.datasets.mnist.load_data()
    x = x_test[:args.images].astype("float32")[..., None] / 255.0
    be = backend.of(model.weights[0].data)
    target = np.argmax(np.asarray(model.predict(x, verbose=0)), axis=1)

    rows = args.images * args.steps
    # The direct version: the same rows (the interpolated inputs, built once, outside the
    # timing), the same batch size, one forward and one backward pass per batch.
    alphas = np.linspace(0, 1, args.steps, dtype=np.float32)
    interp = (alphas[:, None, None, None, None] * x[None]).reshape((rows,) + x.shape[1:])
    interp = be.asarray(interp)
    onehot = np.zeros((rows, 10), np.float32)
    onehot[np.arange(rows), np.tile(target, args.steps)] = 1.0
    onehot = be.asarray(onehot)
    batches = [(interp[i:i + args.batch_size], onehot[i:i + args.batch_size])
               for i in range(0, rows, args.batch_size)]

    def direct():
        total = 0.0
        for xb, seed in batches:
            t = keras.Tensor(xb)
            with keras.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(t)
                y = model(t, training=False)
            g = tape.gradient(y._keras_logits, t, output_gradients=seed)
            total += float(g.data[0, 0, 0, 0])  # use the result (and sync on a GPU)
        return total

    def integrated():
        attr = explain.integrated_gradients(model, x, target=target, steps=args.steps,
                                            output="logits", batch_size=args.batch_size)
        return float(attr[0, 0, 0, 0])

    direct(), integrated()  # warm up (allocations, caches)
    t_ig, t_direct = [], []
    for _ in range(args.repeats):
        for fn, store in ((integrated, t_ig), (direct, t_direct)):
            start = time.perf_counter()
            fn()
            store.append(time.perf_counter() - start)
    med_ig, med_direct = statistics.median(t_ig), statistics.median(t_direct)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "device": "cuda" if be is not backend.cpu else "cpu",
        "command": "python " + " ".join(sys.argv),
        "images": args.images, "steps": args.steps, "batch_size": args.batch_size,
        "passes": len(batches),
        "ig_median_s": round(med_ig, 4), "direct_median_s": round(med_direct, 4),
        "ratio": round(med_ig / med_direct, 3),
        "pair_ratios": [round(a / b, 3) for a, b in zip(t_ig, t_direct)],
    }
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
