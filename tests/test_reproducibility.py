"""utils.set_random_seed(s) then training gives bitwise-identical weights, run to run and with
1 or 2 threads (the kernels never split a reduction in a thread-count-dependent way)."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers


def _mnist_slice(n=2048):
    (x, y), _ = keras.datasets.mnist.load_data()
    return x[:n].astype("float32") / 255, keras.utils.to_categorical(y[:n], 10)


def train_mlp(seed: int, threads: int):
    keras.config.set_num_threads(threads)
    try:
        keras.utils.set_random_seed(seed)
        x, y = _mnist_slice()
        m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(128, activation="relu"), layers.Dropout(0.2),
                              layers.Dense(10, activation="softmax")])
        m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        m.fit(x, y, epochs=2, batch_size=32, validation_split=0.1, verbose=0)
        return m.get_weights()
    finally:
        keras.config.set_num_threads(2)


def train_cnn(seed: int, threads: int):
    keras.config.set_num_threads(threads)
    try:
        keras.utils.set_random_seed(seed)
        rng = np.random.default_rng(0)
        x = rng.random((256, 32, 32, 3), dtype=np.float32)
        y = keras.utils.to_categorical(rng.integers(0, 10, 256), 10)
        m = keras.Sequential([
            keras.Input((32, 32, 3)), layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(10, activation="softmax")])
        m.compile(optimizer="adam", loss="categorical_crossentropy")
        m.fit(x, y, epochs=1, batch_size=32, verbose=0)
        return m.get_weights()
    finally:
        keras.config.set_num_threads(2)


def assert_bitwise_equal(a, b):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        assert wa.tobytes() == wb.tobytes()


def test_mlp_same_seed_same_weights_any_thread_count():
    a = train_mlp(7, 2)
    assert_bitwise_equal(a, train_mlp(7, 2))
    assert_bitwise_equal(a, train_mlp(7, 1))
    c = train_mlp(8, 2)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))


@pytest.mark.slow
def test_cnn_same_seed_same_weights_any_thread_count():
    a = train_cnn(3, 2)
    assert_bitwise_equal(a, train_cnn(3, 2))
    assert_bitwise_equal(a, train_cnn(3, 1))


def test_kernels_do_not_depend_on_where_arrays_sit_in_memory():
    """Small arrays packed next to each other make the compiler's vectorised loops take their
    scalar fallback; the result must be bitwise the same as for arrays far apart."""
    from nnforge import _cpu
    rng = np.random.default_rng(0)
    n = 10
    vals = [rng.standard_normal(n).astype("float32") for _ in range(2)] + [
        rng.standard_normal(n).astype("float32") * 1e-3, rng.random(n).astype("float32") * 1e-5]
    results = set()
    for gap in (0, 1, 3, 16, 1000):
        buf = np.zeros(4 * (n + gap) + 16, dtype=np.float32)
        views = [buf[i * (n + gap):i * (n + gap) + n] for i in range(4)]
        for v, src in zip(views, vals):
            v[...] = src
        p, g, m, v = views
        _cpu.adam_update(p, g, m, v, None, 1e-3, 0.9, 0.999, 1e-7, 3)
        _cpu.sgd_update(p, g, m, 0.01, 0.9, True)
        y = np.empty_like(p)
        _cpu.activation_forward(p.reshape(2, 5), y.reshape(2, 5), 2)
        results.add(p.tobytes() + m.tobytes() + v.tobytes() + y.tobytes())
    assert len(results) == 1
