"""Model.quantize("int8") on MNIST: the seed MLP loses at most 0.3 accuracy points, the
keras.io convnet (two Conv2D) at most 0.5, and static calibration (calibration_data=) loses no
more than dynamic per-row quantization (up to one test image). Trained on subsets for a few
epochs to keep the run short; the comparisons are on the same real test digits."""
import warnings

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers


@pytest.fixture(scope="module")
def mnist():
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    return (x.astype("float32") / 255, y), (xt.astype("float32") / 255, yt)


def seed_mlp():
    m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                          layers.Dense(128, activation="relu"),
                          layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def mnist_convnet():
    m = keras.Sequential([keras.Input((28, 28, 1)),
                          layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                          layers.MaxPooling2D(pool_size=(2, 2)),
                          layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                          layers.MaxPooling2D(pool_size=(2, 2)),
                          layers.Flatten(), layers.Dropout(0.5),
                          layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def accuracies(make, weights, xt, yt, calibration):
    out = {}
    for mode in ("float", "dynamic", "static"):
        m = make()
        m.set_weights(weights)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Flatten, pooling: nothing to quantize
            if mode == "dynamic":
                m.quantize("int8")
            elif mode == "static":
                m.quantize("int8", calibration_data=calibration)
        out[mode] = m.evaluate(xt, yt, verbose=0)[1]
    return out


@pytest.mark.slow
def test_seed_mlp_int8_accuracy(mnist):
    (x, y), (xt, yt) = mnist
    keras.utils.set_random_seed(0)
    m = seed_mlp()
    m.fit(x[:12000], y[:12000], epochs=2, batch_size=64, verbose=0)
    acc = accuracies(seed_mlp, m.get_weights(), xt, yt, x[:2000])
    assert acc["float"] > 0.9
    assert acc["dynamic"] >= acc["float"] - 0.003, acc
    assert acc["static"] >= acc["dynamic"] - 1 / len(yt), acc


@pytest.mark.slow
def test_mnist_convnet_int8_accuracy(mnist):
    (x, y), (xt, yt) = mnist
    x, xt = x[..., None], xt[:1000, ..., None]
    yt = yt[:1000]
    keras.utils.set_random_seed(0)
    m = mnist_convnet()
    m.fit(x[:4096], y[:4096], epochs=2, batch_size=128, verbose=0)
    acc = accuracies(mnist_convnet, m.get_weights(), xt, yt, x[:1000])
    assert acc["float"] > 0.85
    assert acc["dynamic"] >= acc["float"] - 0.005, acc
    assert acc["static"] >= acc["dynamic"] - 1 / len(yt), acc
