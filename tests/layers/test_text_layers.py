"""Embedding (with masks), Conv1D (valid/same/causal), 1-D pooling: values, gradients, shapes."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops
from tests.helpers import check_grads, check_layer_grads

rng = np.random.default_rng(4)


def test_embedding_lookup_gradient_and_mask():
    e = layers.Embedding(10, 4, mask_zero=True)
    ids = np.array([[1, 2, 0], [3, 3, 0]])
    out = e(ids)
    np.testing.assert_array_equal(out.numpy(), e.embeddings.numpy()[ids])
    np.testing.assert_array_equal(out._keras_mask.numpy(), ids != 0)
    with keras.GradientTape() as tape:
        loss = ops.sum(e(ids))
    g = tape.gradient(loss, e.embeddings).numpy()
    counts = np.bincount(ids.ravel(), minlength=10)[:, None] * np.ones((1, 4))
    np.testing.assert_array_equal(g, counts)
    with pytest.raises(ValueError, match="\\[0, 10\\)"):
        e(np.array([[11]]))
    assert layers.Embedding(10, 4)(keras.Input((5,), dtype="int32")).shape == (None, 5, 4)


def test_masked_global_average_ignores_padding():
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    out = layers.GlobalAveragePooling1D()(x, mask=mask).numpy()
    np.testing.assert_allclose(out[0], x[0, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(out[1], x[1].mean(0), rtol=1e-6)
    mx = layers.GlobalMaxPooling1D()(x, mask=mask).numpy()
    np.testing.assert_allclose(mx[0], x[0, :2].max(0), rtol=1e-6)


def ref_conv1d(x, k, stride, dil, padding):
    n, steps, c = x.shape
    ks, _, f = k.shape
    eff = (ks - 1) * dil + 1
    if padding == "causal":
        x = np.concatenate([np.zeros((n, eff - 1, c)), x], axis=1)
        padding = "valid"
    if padding == "same":
        out = -(-steps // stride)
        total = max((out - 1) * stride + eff - steps, 0)
        x = np.concatenate([np.zeros((n, total // 2, c)), x,
                            np.zeros((n, total - total // 2, c))], axis=1)
    out = (x.shape[1] - eff) // stride + 1
    y = np.zeros((n, out, f))
    for t in range(out):
        for j in range(ks):
            y[:, t] += x[:, t * stride + j * dil] @ k[j]
    return y


@pytest.mark.parametrize("padding,stride,dil", [("valid", 1, 1), ("same", 2, 1), ("causal", 1, 2),
                                                ("same", 1, 3)])
def test_conv1d_values_and_grads(padding, stride, dil):
    layer = layers.Conv1D(4, 3, strides=stride, padding=padding, dilation_rate=dil,
                          use_bias=False)
    x = rng.standard_normal((2, 11, 3))
    y = layer(x.astype("float32")).numpy()
    np.testing.assert_allclose(y, ref_conv1d(x, layer.kernel.numpy(), stride, dil, padding),
                               rtol=1e-4, atol=1e-5)
    assert layer.compute_output_shape((None, 11, 3)) == (None,) + y.shape[1:]
    check_layer_grads(layer, x)


def test_pooling1d():
    x = rng.standard_normal((2, 9, 3))
    np.testing.assert_allclose(layers.MaxPooling1D(3)(x).numpy(),
                               x.reshape(2, 3, 3, 3).max(2), rtol=1e-6)
    np.testing.assert_allclose(layers.AveragePooling1D(3)(x).numpy(),
                               x.reshape(2, 3, 3, 3).mean(2), rtol=1e-5)
    check_grads(lambda t: layers.AveragePooling1D(2, padding="same")(t), [x])
    assert layers.MaxPooling1D(2)(keras.Input((9, 3))).shape == (None, 4, 3)


def test_text_model_learns_synthetic_sentiment():
    keras.utils.set_random_seed(0)
    n, length, vocab = 512, 20, 50
    x = rng.integers(3, vocab, (n, length))
    y = rng.integers(0, 2, n)
    x[y == 1, rng.integers(0, length, (y == 1).sum())] = 1  # a "positive" token
    x[y == 0, rng.integers(0, length, (y == 0).sum())] = 2  # a "negative" token
    model = keras.Sequential([keras.Input((length,), dtype="int32"),
                              layers.Embedding(vocab, 8), layers.Conv1D(8, 3, activation="relu"),
                              layers.GlobalMaxPooling1D(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9
