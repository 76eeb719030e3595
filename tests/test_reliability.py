"""Issue 6: bad input never crashes, empty batches work, non-finite losses are reported with
their place, and long training runs do not grow in memory."""
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import nnforge as keras
from nnforge import layers, ops


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
def test_resident_memory_stays_flat_over_epochs():
    keras.utils.set_random_seed(0)
    (x, y), _ = keras.datasets.mnist.load_data()
    x = x.astype("float32") / 255
    y = keras.utils.to_categorical(y, 10)
    m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                          layers.Dense(128, activation="relu"),
                          layers.Dense(10, activation="softmax")])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    samples = []
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: samples.append(rss_mib()))
    m.fit(x, y, epochs=20, batch_size=32, validation_split=0.1, verbose=0, callbacks=[cb])
    # The allocator's trimming makes single samples jitter by a few MiB either way; a leak shows
    # as the last epochs sitting above the first ones.
    baseline = max(samples[:2])
    growth = (max(samples[-3:]) - baseline) / baseline
    assert growth < 0.05, f"RSS after each epoch (MiB): {samples}"


def test_predict_and_evaluate_on_empty_batches():
    m = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    out = m.predict(np.zeros((0, 4), "float32"), verbose=0)
    assert out.shape == (0, 3)
    cnn = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3), layers.MaxPooling2D(),
                            layers.Flatten(), layers.Dense(2)])
    assert cnn.predict(np.zeros((0, 8, 8, 1), "float32"), verbose=0).shape == (0, 2)


def test_fit_error_says_where_it_happened():
    m = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.ones((64, 4), "float32")
    y = np.zeros(64, "int64")
    y[40] = 9  # out of range for 3 classes, in the second batch
    with pytest.raises(ValueError) as info:
        m.fit(x, y, batch_size=32, shuffle=False, epochs=1, verbose=0)
    text = str(info.value) + "".join(getattr(info.value, "__notes__", []))
    assert "epoch 1, batch 1" in text


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="negative"):
        keras.utils.to_categorical([0, -1, 2], 3)
    m = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    m.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="same number of samples"):
        m.fit(np.ones((10, 4)), np.ones((9, 2)), verbose=0)
    with pytest.raises(ValueError, match="value 4"):
        m.predict(np.ones((3, 5)), verbose=0)
    with pytest.raises(ValueError, match="units"):
        layers.Dense(-3)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(4, 0)
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(pool_size=(0, 2))
    with pytest.raises(TypeError, match="numeric"):
        m.predict(np.array([["x"] * 4]), verbose=0)


finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64, np.int32, np.uint8]),
                  hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6),
                  elements=st.integers(0, 50)),
       st.booleans())
def test_elementwise_ops_never_crash_and_match_numpy(a, transpose):
    if transpose:
        a = a.T  # non-contiguous when 2-D or more
    x = a.astype(np.float64)
    np.testing.assert_allclose(ops.relu(a).numpy(), np.maximum(x, 0), rtol=1e-6)
    np.testing.assert_allclose(ops.sigmoid(a).numpy(), 1 / (1 + np.exp(-x)), rtol=1e-5)
    np.testing.assert_allclose(ops.tanh(a).numpy(), np.tanh(x), rtol=1e-5, atol=1e-6)
    if a.ndim and a.shape[-1] > 0:
        s = ops.softmax(a).numpy()
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        np.testing.assert_allclose(s, e / e.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 3), st.integers(1, 9), st.integers(1, 9), st.integers(1, 3),
       st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 2),
       st.sampled_from(["valid", "same"]), st.booleans())
def test_conv_and_pool_random_geometry(n, h, w, c, k, f, s, d, padding, strided_input):
    rng = np.random.default_rng(n * 1000 + h * 100 + w)
    x = rng.standard_normal((n, h, w, c * (2 if strided_input else 1)))
    if strided_input:
        x = x[..., ::2]  # non-contiguous channels
    kern = rng.standard_normal((k, k, c, f))
    eff = (k - 1) * d + 1
    if padding == "valid" and (h < eff or w < eff):
        with pytest.raises(ValueError, match="smaller than"):
            ops.conv(x, kern, s, padding, dilation_rate=d)
        return
    y = ops.conv(x, kern, s, padding, dilation_rate=d).numpy()
    from tests.ops.test_nn import ref_conv, ref_pool
    np.testing.assert_allclose(y, ref_conv(x, kern, None, (s, s), (d, d), padding), rtol=1e-4,
                               atol=1e-4)
    if padding == "valid" and (h < k or w < k):
        return
    p = ops.max_pool(x, k, s, padding).numpy()
    np.testing.assert_allclose(p, ref_pool(x, (k, k), (s, s), padding, "max"), rtol=1e-6)
