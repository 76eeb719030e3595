"""nnforge.ops.quantized: Keras's abs-max quantization, and int8_dense / int8_conv with every
kind of activation (fused, softmax, any callable), 1-D convolutions and argument errors."""
import numpy as np
import pytest

from nnforge import activations, ops
from nnforge.ops import quantized as qops


def int8_layer(rng, k=12, n=5):
    w = rng.normal(size=(k, n)).astype("float32")
    q, s = qops.abs_max_quantize(w, axis=0)
    return q, qops.pack_weights(q), s.reshape(-1)


def test_abs_max_quantize_is_keras_formula():
    x = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0]], "float32")
    q, s = qops.abs_max_quantize(x, axis=-1)
    np.testing.assert_array_equal(q, [[63, -127, 32], [0, 0, 0]])  # 63.49999: Keras rounds down
    np.testing.assert_allclose(s[:, 0], [127 / (1 + 1e-7), 127 / 1e-7], rtol=1e-6)
    np.testing.assert_allclose(qops.dequantize(q, s), x, atol=0.5 / 127)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax",
                                        activations.gelu, lambda t: ops.multiply(t, 2.0)])
def test_int8_dense_activations(activation):
    rng = np.random.default_rng(0)
    q, packed, s = int8_layer(rng)
    b = rng.normal(size=5).astype("float32")
    x = rng.normal(size=(2, 3, 12)).astype("float32")
    z = qops.int8_dense(x, q, packed, s, b).numpy()
    y = qops.int8_dense(x, q, packed, s, b, activation)
    f = activations.get(activation) if isinstance(activation, str) else activation
    np.testing.assert_allclose(y.numpy(), f(ops.convert_to_tensor(z)).numpy(), rtol=1e-5,
                               atol=1e-6)
    if activation == "softmax":
        np.testing.assert_allclose(y._keras_logits.numpy(), z, rtol=1e-6)


def test_int8_conv_1d_matches_2d_of_height_one():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 4, 6)).astype("float32")
    q, s = qops.abs_max_quantize(w, axis=(0, 1))
    packed = qops.pack_weights(q.reshape(-1, 6))
    x = rng.normal(size=(2, 9, 4)).astype("float32")
    y1 = qops.int8_conv(x, q, packed, s.reshape(-1), strides=2, padding="same").numpy()
    y2 = qops.int8_conv(x[:, None], q[None], packed, s.reshape(-1), strides=(1, 2),
                        padding="same").numpy()
    assert y1.shape == (2, 5, 6)
    np.testing.assert_array_equal(y1, y2[:, 0])


def test_errors_name_the_op_and_shapes():
    rng = np.random.default_rng(2)
    q, packed, s = int8_layer(rng)
    with pytest.raises(ValueError, match=r"int8_dense: .*size 7.*expects 12"):
        qops.int8_dense(np.zeros((2, 7), "float32"), q, packed, s)
    with pytest.raises(ValueError, match="inputs_scale"):
        qops.int8_dense(np.zeros((2, 12), "float32"), q, packed, s, inputs_scale=-1.0)
    with pytest.raises(ValueError, match="2-D int8"):
        qops.pack_weights(np.zeros((3, 3), "float32"))
    with pytest.raises(ValueError, match="int8_conv"):
        qops.int8_conv(np.zeros((1, 5, 5, 3), "float32"), np.zeros((3, 3, 2, 4), np.int8),
                       qops.pack_weights(np.zeros((18, 4), np.int8)), np.ones(4, "float32"))
