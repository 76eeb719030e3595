"""MultiHeadAttention and LayerNormalization, forward + backward, in nnforge against Keras 3
(TensorFlow backend, the step in a ``tf.function`` as ``fit`` runs it) and PyTorch
(``nn.MultiheadAttention``, ``nn.LayerNorm``), correctness first.

    python benchmarks/bench_attention.py [--rounds 5] [--peers-python /tmp/peers/bin/python]
    python benchmarks/bench_attention.py --one nnforge --op mha   # one measurement

Workloads: self-attention on (32, 128, 256) with 8 heads of 32 (Keras key_dim=32, torch
embed_dim=256); layer normalization over the last axis of (64, 128, 512). Each framework builds
the same weights and inputs from one NumPy seed; a step is ``y = op(x)`` and the gradients of
``sum(y * p)`` with respect to ``x`` and every weight. Before timing, each process writes ``y``
and ``dL/dx`` and they are compared with nnforge's (rtol 1e-3 / atol 1e-4). Each framework runs
in its own process (the peers under the peers venv); the median step time over ``--rounds``
processes is printed with the ratios nnforge / peer (< 1: nnforge is faster).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from timing import median_seconds

B, T, D, HEADS = 32, 128, 256, 8
LN_SHAPE = (64, 128, 512)
STEPS = 20


def data(op: str):
    rng = np.random.default_rng(0)
    if op == "mha":
        x = rng.standard_normal((B, T, D)).astype(np.float32)
        k = HEADS, D // HEADS
        w = {n: (rng.standard_normal((D,) + k) / np.sqrt(D)).astype(np.float32)
             for n in ("q", "k", "v")}
        w.update({f"b{n}": (0.1 * rng.standard_normal(k)).astype(np.float32)
                  for n in ("q", "k", "v")})
        w["o"] = (rng.standard_normal(k + (D,)) / np.sqrt(D)).astype(np.float32)
        w["bo"] = (0.1 * rng.standard_normal(D)).astype(np.float32)
    else:
        x = rng.standard_normal(LN_SHAPE).astype(np.float32)
        w = {"gamma": (1 + 0.1 * rng.standard_normal(LN_SHAPE[-1])).astype(np.float32),
             "beta": (0.1 * rng.standard_normal(LN_SHAPE[-1])).astype(np.float32)}
    p = rng.standard_normal(x.shape).astype(np.float32)
    return x, w, p


def keras_layer(keras, op: str, x, w):
    """The workload's layer in ``keras`` (nnforge or Keras 3: the same API), built on ``x`` and
    given the weights ``w`` of ``data(op)``; returns it and its forward function of one tensor
    (self-attention: query = value = the input)."""
    if op == "mha":
        layer = keras.layers.MultiHeadAttention(HEADS, D // HEADS)
        layer(x[:1], x[:1])
        layer.set_weights([w["q"], w["bq"], w["k"], w["bk"], w["v"], w["bv"], w["o"], w["bo"]])

        def fwd(t):
            return layer(t, t)
    else:
        layer = keras.layers.LayerNormalization(epsilon=1e-5)
        layer(x[:1])
        layer.set_weights([w["gamma"], w["beta"]])
        fwd = layer
    return layer, fwd


def run_nnforge(op: str, out: str) -> float:
    import nnforge as keras
    from nnforge import ops
    x, w, p = data(op)
    layer, fwd = keras_layer(keras, op, x, w)
    xt = ops.convert_to_tensor(x)

    def step():
        with keras.GradientTape() as tape:
            tape.watch(xt)
            y = fwd(xt)
            loss = ops.sum(ops.multiply(y, p))
        return y, tape.gradient(loss, [xt] + layer.trainable_weights)

    y, g = step()
    np.savez(out, y=y.numpy(), dx=g[0].numpy())
    return median_seconds(step, STEPS, warmup=2)


def run_keras(op: str, out: str) -> float:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf
    x, w, p = data(op)
    layer, fwd = keras_layer(keras, op, x, w)
    xt, pt = tf.constant(x), tf.constant(p)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = fwd(xt)
            loss = tf.reduce_sum(y * pt)
        return y, tape.gradient(loss, [xt] + layer.trainable_weights)

    y, g = step()
    np.savez(out, y=y.numpy(), dx=g[0].numpy())
    return median_seconds(lambda: step()[0].numpy(), STEPS, warmup=2)


def run_torch(op: str, out: str) -> float:
    import torch
    torch.manual_seed(0)
    x, w, p = data(op)
    if op == "mha":
        layer = torch.nn.MultiheadAttention(D, HEADS, batch_first=True)
        with torch.no_grad():
            layer.in_proj_weight.copy_(torch.from_numpy(np.concatenate(
                [w[n].reshape(D, D).T for n in ("q", "k", "v")])))
            layer.in_proj_bias.copy_(torch.from_numpy(np.concatenate(
                [w[f"b{n}"].reshape(-1) for n in ("q", "k", "v")])))
            layer.out_proj.weight.copy_(torch.from_numpy(w["o"].reshape(D, D).T.copy()))
            layer.out_proj.bias.copy_(torch.from_numpy(w["bo"]))

        def fwd(t):
            return layer(t, t, t, need_weights=False)[0]
    else:
        layer = torch.nn.LayerNorm(LN_SHAPE[-1], eps=1e-5)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w["gamma"]))
            layer.bias.copy_(torch.from_numpy(w["beta"]))
        fwd = layer
    xt = torch.from_numpy(x).requires_grad_(True)
    pt = torch.from_numpy(p)

    def step():
        xt.grad = None
        layer.zero_grad()
        y = fwd(xt)
        (y * pt).sum().backward()
        return y

    y = step()
    np.savez(out, y=y.detach().numpy(), dx=xt.grad.numpy())
    return median_seconds(step, STEPS, warmup=2)


RUNNERS = {"nnforge": run_nnforge, "keras": run_keras, "torch": run_torch}


def one(framework: str, op: str, out: str, python: str) -> float:
    env = dict(os.environ)
    if framework == "keras":
        env["KERAS_BACKEND"] = "tensorflow"
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([python, __file__, "--one", framework, "--op", op, "--out", out],
                          capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{framework} {op} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", choices=sorted(RUNNERS))
    parser.add_argument("--op", choices=["mha", "layernorm"], default="mha")
    parser.add_argument("--out", default=None)
    parser.add_argument("--ops", nargs="+", default=["mha", "layernorm"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peers-python", default="/tmp/peers/bin/python")
    args = parser.parse_args()
    if args.one:
        out = args.out or os.path.join(tempfile.gettempdir(), "bench_attention.npz")
        print(json.dumps({"seconds": RUNNERS[args.one](args.op, out)}))
        return
    peers = [f for f in ("keras", "torch") if Path(args.peers_python).exists()]
    with tempfile.TemporaryDirectory() as tmp:
        for op in args.ops:
            pythons = {"nnforge": sys.executable, **{f: args.peers_python for f in peers}}
            results = {f: [] for f in pythons}
            for r in range(args.rounds):
                for f, py in pythons.items():
                    results[f].append(one(f, op, os.path.join(tmp, f"{f}_{op}.npz"), py))
                if r == 0:  # correctness first
                    ref = np.load(os.path.join(tmp, f"nnforge_{op}.npz"))
                    for f in peers:
                        other = np.load(os.path.join(tmp, f"{f}_{op}.npz"))
                        for key in ("y", "dx"):
                            np.testing.assert_allclose(ref[key], other[key], rtol=1e-3,
                                                       atol=1e-4,
                                                       err_msg=f"{op}: {key} vs {f}")
                    print(f"{op}: outputs and input gradients agree with {peers or 'no peer'}")
            med = {f: statistics.median(v) for f, v in results.items()}
            line = ", ".join(f"{f} {1e3 * s:.2f} ms" for f, s in med.items())
            ratios = ", ".join(f"nnforge/{f} {med['nnforge'] / med[f]:.2f}x" for f in peers)
            print(f"{op} forward+backward step (median of {args.rounds}): {line}; {ratios}",
                  flush=True)


if __name__ == "__main__":
    main()
