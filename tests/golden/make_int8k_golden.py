"""Golden outputs of Keras 3's int8 Dense for the int8 kernel tests (tests/kernels/test_qgemm.py).

Run with the peers venv (real Keras 3 + TensorFlow), from the repository root:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_int8k_golden.py

It writes tests/golden/int8k.npz: for a few small Dense layers (inputs x, float kernel and bias),
Keras's ``layer.quantize("int8")`` results (the int8 kernel, its per-column kernel_scale) and the
quantized layer's output on x, plus ``quantizers.abs_max_quantize(x, axis=-1)`` of x.
"""
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
from keras import quantizers  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "int8k.npz")

CASES = [  # (name, M, K, N, activation, use_bias)
    ("small", 3, 5, 4, "linear", True),
    ("relu", 7, 33, 17, "relu", True),
    ("nobias", 16, 64, 65, "linear", False),
    ("wide", 5, 130, 40, "relu", True),
]


def main():
    rng = np.random.default_rng(2026)
    data = {}
    for name, M, K, N, act, use_bias in CASES:
        x = (rng.standard_normal((M, K)) * rng.uniform(0.1, 3.0, (M, 1))).astype(np.float32)
        x[0, 0] = 0.0
        kernel = (rng.standard_normal((K, N)) * 0.2).astype(np.float32)
        layer = keras.layers.Dense(N, activation=act, use_bias=use_bias)
        layer.build((None, K))
        weights = [kernel] + ([rng.standard_normal(N).astype(np.float32)] if use_bias else [])
        layer.set_weights(weights)
        layer.quantize("int8")
        y = keras.ops.convert_to_numpy(layer(x))
        xq, xs = quantizers.abs_max_quantize(x, axis=-1)
        data[f"{name}_x"] = x
        data[f"{name}_kernel"] = kernel
        if use_bias:
            data[f"{name}_bias"] = weights[1]
        data[f"{name}_kq"] = keras.ops.convert_to_numpy(layer._kernel).astype(np.int8)
        data[f"{name}_kscale"] = keras.ops.convert_to_numpy(layer.kernel_scale).astype(np.float32)
        data[f"{name}_y"] = y.astype(np.float32)
        data[f"{name}_xq"] = keras.ops.convert_to_numpy(xq).astype(np.int8)
        data[f"{name}_xscale"] = keras.ops.convert_to_numpy(xs).astype(np.float32)
        data[f"{name}_act"] = np.array(act)
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
