"""nnforge.ops neural-network ops on our kernels: values vs NumPy references (Keras/TF
semantics) and gradients vs finite differences."""
import numpy as np
import pytest

from nnforge import ops
from tests.helpers import check_grads

rng = np.random.default_rng(1)


def ref_conv(x, w, b, stride, dil, padding):
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    ekh, ekw = (kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1
    if padding == "same":
        oh, ow = -(-h // stride[0]), -(-wd // stride[1])
        ph = max((oh - 1) * stride[0] + ekh - h, 0)
        pw = max((ow - 1) * stride[1] + ekw - wd, 0)
        pt, pl = ph // 2, pw // 2
    else:
        oh, ow = (h - ekh) // stride[0] + 1, (wd - ekw) // stride[1] + 1
        pt = pl = ph = pw = 0
    xp = np.zeros((n, h + ph, wd + pw, c))
    xp[:, pt:pt + h, pl:pl + wd] = x
    y = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for bb in range(kw):
                    patch = xp[:, i * stride[0] + a * dil[0], j * stride[1] + bb * dil[1], :]
                    y[:, i, j, :] += patch @ w[a, bb]
    return y + (0 if b is None else b)


@pytest.mark.parametrize("h,w,k,stride,dil,padding", [
    (7, 7, 3, (1, 1), (1, 1), "valid"),
    (7, 6, 3, (2, 2), (1, 1), "same"),
    (8, 9, 3, (1, 2), (2, 2), "same"),
    (5, 5, 1, (1, 1), (1, 1), "valid"),
    (6, 7, 2, (3, 3), (1, 1), "valid"),  # stride > kernel
    (5, 4, 4, (2, 1), (1, 1), "same"),   # even kernel, odd extra pad at bottom/right
])
def test_conv_values_and_grads(h, w, k, stride, dil, padding):
    x = rng.standard_normal((2, h, w, 3))
    kern = rng.standard_normal((k, k, 3, 4)) * 0.3
    b = rng.standard_normal(4)
    y = ops.conv(x, kern, stride, padding, dilation_rate=dil, bias=b).numpy()
    np.testing.assert_allclose(y, ref_conv(x, kern, b, stride, dil, padding), rtol=1e-4,
                               atol=1e-4)
    check_grads(lambda a, kk, bb: ops.conv(a, kk, stride, padding, dilation_rate=dil, bias=bb),
                [x[:1], kern, b])


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_conv_fused_activation_grads(act):
    x = rng.standard_normal((1, 5, 5, 2))
    kern = rng.standard_normal((3, 3, 2, 3)) * 0.5
    b = rng.standard_normal(3) * 0.1
    ref = getattr(ops, act)(ops.conv(x, kern, 1, "same", bias=b)).numpy()
    fused = ops.conv(x, kern, 1, "same", bias=b, activation=act).numpy()
    np.testing.assert_allclose(fused, ref, rtol=1e-5, atol=1e-6)
    check_grads(lambda a, kk, bb: ops.conv(a, kk, 1, "same", bias=bb, activation=act),
                [x, kern, b], eps=1e-3)


def test_conv_bad_inputs():
    with pytest.raises(ValueError, match="channels"):
        ops.conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match="smaller than"):
        ops.conv(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="padding"):
        ops.conv(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), padding="full")
    with pytest.raises(ValueError, match="strides"):
        ops.conv(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), strides=0)


def ref_pool(x, p, s, padding, mode):
    n, h, w, c = x.shape
    if padding == "same":
        oh, ow = -(-h // s[0]), -(-w // s[1])
        pt = max((oh - 1) * s[0] + p[0] - h, 0) // 2
        pl = max((ow - 1) * s[1] + p[1] - w, 0) // 2
    else:
        oh, ow, pt, pl = (h - p[0]) // s[0] + 1, (w - p[1]) // s[1] + 1, 0, 0
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - pt, j * s[1] - pl
            win = x[:, max(r0, 0):min(r0 + p[0], h), max(c0, 0):min(c0 + p[1], w), :]
            y[:, i, j] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return y


@pytest.mark.parametrize("h,w,p,s,padding", [
    (6, 6, (2, 2), (2, 2), "valid"), (7, 5, (2, 2), (2, 2), "same"),
    (7, 7, (3, 3), (2, 2), "same"), (5, 6, (2, 3), (1, 2), "valid"), (5, 5, (1, 1), (3, 3), "valid")])
def test_pooling_values_and_grads(h, w, p, s, padding):
    x = rng.standard_normal((2, h, w, 3))
    np.testing.assert_allclose(ops.max_pool(x, p, s, padding).numpy(),
                               ref_pool(x, p, s, padding, "max"), rtol=1e-6)
    np.testing.assert_allclose(ops.average_pool(x, p, s, padding).numpy(),
                               ref_pool(x, p, s, padding, "avg"), rtol=1e-5, atol=1e-6)
    check_grads(lambda a: ops.max_pool(a, p, s, padding), [x[:1]], eps=1e-3)
    check_grads(lambda a: ops.average_pool(a, p, s, padding), [x[:1]])


@pytest.mark.parametrize("act", [None, "relu", "sigmoid", "tanh", "softmax"])
def test_dense_fused_values_and_grads(act):
    x = rng.standard_normal((4, 6))
    k = rng.standard_normal((6, 5)) * 0.5
    b = rng.standard_normal(5) * 0.1
    z = x @ k + b
    ref = {None: z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)),
           "tanh": np.tanh(z),
           "softmax": np.exp(z - z.max(1, keepdims=True)) / np.exp(
               z - z.max(1, keepdims=True)).sum(1, keepdims=True)}[act]
    np.testing.assert_allclose(ops.dense(x, k, b, act).numpy(), ref, rtol=1e-5, atol=1e-6)
    check_grads(lambda a, kk, bb: ops.dense(a, kk, bb, act), [x, k, b])


def test_dense_nd_input_and_width_error():
    x = rng.standard_normal((2, 3, 6))
    k = rng.standard_normal((6, 4))
    np.testing.assert_allclose(ops.dense(x, k).numpy(), x @ k, rtol=1e-5, atol=1e-5)
    check_grads(lambda a, kk: ops.dense(a, kk), [x, k])
    with pytest.raises(ValueError, match="kernel expects 6"):
        ops.dense(np.zeros((2, 5)), k)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu",
                                  "selu", "gelu", "silu", "softplus", "softsign", "leaky_relu",
                                  "hard_sigmoid", "exponential", "relu6"])
def test_activation_grads(name):
    x = rng.standard_normal((3, 5)) * 2
    x[np.abs(x) < 0.05] = 0.3  # keep away from kinks
    if name in ("hard_sigmoid", "relu6"):
        x[np.abs(np.abs(x) - 3) < 0.05] = 1.0
    check_grads(getattr(ops, name), [x], eps=1e-3)


def test_softmax_stable_and_axis():
    x = np.array([[1000.0, 1001.0, 999.0]])
    y = ops.softmax(x).numpy()
    assert np.all(np.isfinite(y)) and abs(y.sum() - 1) < 1e-6
    z = rng.standard_normal((2, 3, 4))
    e = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(ops.softmax(z, axis=1).numpy(), e / e.sum(1, keepdims=True),
                               rtol=1e-5)
    check_grads(lambda a: ops.softmax(a, axis=1), [z])


def keras_cce(t, p):
    p = p / p.sum(-1, keepdims=True)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(t * np.log(p)).sum(-1)


def test_crossentropy_values_keras_semantics():
    logits = rng.standard_normal((6, 4)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 4, 6)
    onehot = np.eye(4)[labels]
    np.testing.assert_allclose(ops.categorical_crossentropy(onehot, probs).numpy(),
                               keras_cce(onehot, probs), rtol=1e-5)
    np.testing.assert_allclose(ops.categorical_crossentropy(onehot, logits, from_logits=True)
                               .numpy(), keras_cce(onehot, probs), rtol=1e-4)
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(labels, probs).numpy(),
                               keras_cce(onehot, probs), rtol=1e-5)
    # unnormalised "probabilities" are normalised by their sum, zeros are clipped
    raw = np.array([[0.0, 2.0, 2.0]])
    np.testing.assert_allclose(ops.categorical_crossentropy(np.array([[1.0, 0, 0]]), raw).numpy(),
                               [-np.log(1e-7)], rtol=1e-4)
    t = rng.integers(0, 2, (5, 3)).astype(float)
    p = rng.uniform(0.01, 0.99, (5, 3))
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(ops.binary_crossentropy_mean(t, p).numpy(), bce, rtol=1e-4)
    z = rng.standard_normal((5, 3)) * 4
    s = 1 / (1 + np.exp(-z))
    bce_l = -(t * np.log(s) + (1 - t) * np.log(1 - s)).mean(-1)
    np.testing.assert_allclose(ops.binary_crossentropy_mean(t, z, from_logits=True).numpy(),
                               bce_l, rtol=1e-4)
    np.testing.assert_allclose(ops.mean_squared_error(t, p).numpy(), ((t - p) ** 2).mean(-1),
                               rtol=1e-5)


def test_crossentropy_grads():
    logits = rng.standard_normal((4, 3))
    onehot = np.eye(3)[rng.integers(0, 3, 4)]
    probs = rng.uniform(0.1, 1.0, (4, 3))
    check_grads(lambda z: ops.categorical_crossentropy(onehot, z, from_logits=True), [logits])
    check_grads(lambda p: ops.categorical_crossentropy(onehot, p), [probs], eps=1e-3)
    check_grads(lambda z: ops.sparse_categorical_crossentropy(np.array([0, 2, 1, 1]), z,
                                                              from_logits=True), [logits])
    t = rng.integers(0, 2, (4, 3)).astype(float)
    check_grads(lambda z: ops.binary_crossentropy_mean(t, z, from_logits=True), [logits])
    check_grads(lambda p: ops.binary_crossentropy_mean(t, p), [probs * 0.8], eps=1e-3)
    check_grads(lambda p: ops.mean_squared_error(t, p), [probs])


def test_softmax_output_uses_logits_path():
    x = rng.standard_normal((3, 4))
    k = rng.standard_normal((4, 5)) * 10  # saturating: the probability path would clip
    onehot = np.eye(5)[[0, 1, 2]]
    y = ops.dense(x, k, None, "softmax")
    fused = ops.categorical_crossentropy(onehot, y).numpy()
    z = x @ k
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    np.testing.assert_allclose(fused, lse - (z * onehot).sum(1), rtol=1e-4)


def test_loss_label_errors():
    with pytest.raises(ValueError, match="out of range|labels|\\[0, "):
        ops.sparse_categorical_crossentropy(np.array([0, 5]), np.ones((2, 3)) / 3)
    with pytest.raises(ValueError):
        ops.sparse_categorical_crossentropy(np.array([0, -1]), np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match="labels but y_pred has"):
        ops.sparse_categorical_crossentropy(np.array([0, 1, 2]), np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))


def test_dropout_scaling_and_mask_gradient():
    x = np.ones((200, 50))
    r = np.random.default_rng(3)
    y = ops.dropout(x, 0.3, r).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
