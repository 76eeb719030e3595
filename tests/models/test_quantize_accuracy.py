"""Model.quantize("int8") on MNIST: the seed MLP loses at most 0.3 accuracy points, the
keras.io convnet (two Conv2D) at most 0.5, and static calibration (calibration_data=) loses no
more than dynamic per-row quantization (up to one test image). Trained on subsets for a few
epochs to keep the run short; the comparisons are on the same real test digits."""
import warnings

import pytest

import nnforge as keras
from nnforge import layers


@pytest.fixture(scope="module")
def mnist():
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    return (x.astype("float32") / 255, y), (xt.astype("float32") / 255, yt)


def seed_mlp():
    """The seed MLP (examples/mnist_mlp.py), compiled for integer labels (also built by
    benchmarks/bench_quantize_accuracy.py)."""
    m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                          layers.Dense(128, activation="relu"),
                          layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def mnist_convnet():
    """The keras.io MNIST convnet, compiled for integer labels."""
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
    """Test accuracy of ``make()`` with ``weights`` as float, int8 dynamic and int8 static
    (calibrated on ``calibration``): ``{"float": ..., "dynamic": ..., "static": ...}``."""
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


def check_int8_accuracy(make, x, y, batch_size, xt, yt, calibration, float_bar, max_drop):
    """Trains ``make()`` 2 epochs on (x, y), then asserts its float test accuracy is above
    ``float_bar``, dynamic int8 loses at most ``max_drop`` and static int8 no more than dynamic
    (up to one test image)."""
    keras.utils.set_random_seed(0)
    m = make()
    m.fit(x, y, epochs=2, batch_size=batch_size, verbose=0)
    acc = accuracies(make, m.get_weights(), xt, yt, calibration)
    assert acc["float"] > float_bar
    assert acc["dynamic"] >= acc["float"] - max_drop, acc
    assert acc["static"] >= acc["dynamic"] - 1 / len(yt), acc


@pytest.mark.slow
def test_seed_mlp_int8_accuracy(mnist):
    (x, y), (xt, yt) = mnist
    check_int8_accuracy(seed_mlp, x[:12000], y[:12000], 64, xt, yt, x[:2000],
                        float_bar=0.9, max_drop=0.003)


@pytest.mark.slow
def test_mnist_convnet_int8_accuracy(mnist):
    (x, y), (xt, yt) = mnist
    x, xt = x[..., None], xt[:1000, ..., None]
    yt = yt[:1000]
    check_int8_accuracy(mnist_convnet, x[:4096], y[:4096], 128, xt, yt, x[:1000],
                        float_bar=0.85, max_drop=0.005)
