"""End to end: the same small MLP, and the seed CNN's layer stack (Conv2D + ReLU, MaxPooling2D,
Dense; every GPU kernel family on the training path), trained on an MNIST subset with
nnforge.config.set_device('cuda') and with 'cpu', through the public Keras-style API, reach the
same accuracy. Skipped without a GPU (see conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest


def _data():
    import nnforge as keras
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()  # shipped with nnforge: no download
    x = x[:6000].reshape(-1, 784).astype("float32") / 255.0
    xt = xt[:2000].reshape(-1, 784).astype("float32") / 255.0
    return x, y[:6000].astype("int64"), xt, yt[:2000].astype("int64")


def _train(device, data):
    import nnforge as keras
    x, y, xt, yt = data
    keras.config.set_device(device)
    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=64, epochs=3, verbose=0, shuffle=False)
    loss, acc = model.evaluate(xt, yt, batch_size=256, verbose=0)
    probs = np.asarray(model.predict(xt[:64], verbose=0))
    from nnforge.core import unwrap
    kernel = unwrap(model.layers[-1].kernel)  # the raw array behind the Variable
    return float(loss), float(acc), history.history["loss"], probs, kernel


@pytest.fixture
def restore_device():
    import nnforge as keras
    saved = keras.config.get_device()
    yield
    keras.config.set_device(saved)


def test_mlp_trains_the_same_on_gpu_and_cpu(restore_device):
    import cupy
    data = _data()
    gpu_loss, gpu_acc, gpu_hist, gpu_probs, gpu_kernel = _train("cuda", data)
    assert isinstance(gpu_kernel, cupy.ndarray), f"weights not on the GPU: {type(gpu_kernel)}"
    cpu_loss, cpu_acc, cpu_hist, cpu_probs, cpu_kernel = _train("cpu", data)
    assert isinstance(cpu_kernel, np.ndarray), type(cpu_kernel)

    assert cpu_acc > 0.85 and gpu_acc > 0.85, (cpu_acc, gpu_acc)
    assert abs(gpu_acc - cpu_acc) < 0.02, (cpu_acc, gpu_acc)
    assert abs(gpu_loss - cpu_loss) < 0.05 * max(cpu_loss, 1e-3) + 0.01, (cpu_loss, gpu_loss)
    # Same seed and same data order: the first epoch's mean loss agrees closely.
    assert abs(gpu_hist[0] - cpu_hist[0]) <= 1e-2 * cpu_hist[0] + 1e-3, (cpu_hist, gpu_hist)
    assert gpu_probs.shape == cpu_probs.shape == (64, 10)
    np.testing.assert_allclose(gpu_probs.sum(axis=1), 1.0, rtol=1e-4)
    assert (gpu_probs.argmax(1) == cpu_probs.argmax(1)).mean() > 0.9


def _train_cnn(device, data):
    import nnforge as keras
    x, y, xt, yt = data
    x, xt = x[:3000].reshape(-1, 28, 28, 1), xt[:1000].reshape(-1, 28, 28, 1)
    y, yt = y[:3000], yt[:1000]
    keras.config.set_device(device)
    keras.utils.set_random_seed(11)
    layers = keras.layers
    # The seed CNN (benchmarks/seed_workloads.py: conv 32 / pool / conv 64 / pool / dense) on
    # 28x28x1 inputs, narrower so the CPU half stays quick.
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(16, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Flatten(), layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=64, epochs=2, verbose=0, shuffle=False)
    loss, acc = model.evaluate(xt, yt, batch_size=250, verbose=0)
    from nnforge.core import unwrap
    return float(loss), float(acc), history.history["loss"], unwrap(model.layers[0].kernel)


def test_seed_cnn_trains_the_same_on_gpu_and_cpu(restore_device):
    import cupy
    data = _data()
    gpu_loss, gpu_acc, gpu_hist, gpu_kernel = _train_cnn("cuda", data)
    assert isinstance(gpu_kernel, cupy.ndarray), f"weights not on the GPU: {type(gpu_kernel)}"
    cpu_loss, cpu_acc, cpu_hist, _ = _train_cnn("cpu", data)
    assert cpu_acc > 0.8 and gpu_acc > 0.8, (cpu_acc, gpu_acc)  # 0.878 on the CPU (measured)
    assert abs(gpu_acc - cpu_acc) < 0.03, (cpu_acc, gpu_acc)
    assert abs(gpu_hist[0] - cpu_hist[0]) <= 2e-2 * cpu_hist[0] + 1e-3, (cpu_hist, gpu_hist)
    assert abs(gpu_loss - cpu_loss) < 0.1 * max(cpu_loss, 1e-3) + 0.02, (cpu_loss, gpu_loss)
