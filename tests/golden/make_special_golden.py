"""Golden values of keras.ops.erfc, erfinv and divide_no_nan (and their gradients) from Keras 3.

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_special_golden.py

Writes tests/golden/special_ops.npz."""
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent


def grad(fn, *xs):
    xs = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        y = fn(*xs)
        loss = tf.reduce_sum(y * y)
    return np.asarray(y), [np.asarray(g) for g in tape.gradient(loss, xs)]


def main():
    rng = np.random.default_rng(0)
    out = {}
    x = np.concatenate([np.linspace(-6, 6, 25), [0.0, 1e-4, -1e-4, 10.0, -10.0]]).astype("float32")
    out["erfc_x"] = x
    out["erfc_y"], (out["erfc_dx"],) = grad(keras.ops.erfc, x)
    p = np.concatenate([np.linspace(-0.999, 0.999, 31), [0.0, 1e-6, -0.9999, 0.9999]]
                       ).astype("float32")
    out["erfinv_x"] = p
    out["erfinv_y"], (out["erfinv_dx"],) = grad(keras.ops.erfinv, p)
    out["erfinv_edges"] = np.asarray(keras.ops.erfinv(np.array([1.0, -1.0, 1.5], "float32")))
    a = rng.standard_normal((4, 5)).astype("float32")
    b = rng.standard_normal((4, 5)).astype("float32")
    b[0, :2] = 0.0
    b[2, 3] = 0.0
    out["dnn_a"], out["dnn_b"] = a, b
    out["dnn_y"], (out["dnn_da"], out["dnn_db"]) = grad(keras.ops.divide_no_nan, a, b)
    out["dnn_int"] = np.asarray(keras.ops.divide_no_nan(np.array([3, 4], "int32"),
                                                        np.array([0, 2], "int32")))
    np.savez(HERE / "special_ops.npz", **out)


if __name__ == "__main__":
    main()
