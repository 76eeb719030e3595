"""BaseConv(rank) and BasePooling(rank) through their public layers: every layer passes the
shared layer test (shapes, gradients vs finite differences, config and .keras round trips), the
argument checks come from one module, and ops decides which activations its kernels fuse."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import activations, layers, ops
from nnforge.ops.nn import fused_activation
from nnforge.utils.argument_validation import (conv_output_length, standardize_padding,
                                               standardize_tuple)
from tests.helpers import run_layer_test

CASES = [
    (layers.Conv1D, dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2,
                         activation="tanh"), (2, 7, 2), (2, 7, 3)),
    (layers.Conv1D, dict(filters=2, kernel_size=2, strides=2, activation="gelu"), (2, 6, 3),
     (2, 3, 2)),
    (layers.Conv2D, dict(filters=3, kernel_size=(2, 3), padding="same", activation="relu",
                         bias_initializer="random_normal"), (1, 5, 4, 2), (1, 5, 4, 3)),
    (layers.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same"),
     (1, 3, 3, 2), (1, 6, 6, 2)),
    (layers.DepthwiseConv2D, dict(kernel_size=3, depth_multiplier=2), (1, 5, 4, 2),
     (1, 3, 2, 4)),
    (layers.SeparableConv2D, dict(filters=3, kernel_size=2, activation="sigmoid"),
     (1, 4, 4, 2), (1, 3, 3, 3)),
    (layers.MaxPooling1D, dict(pool_size=2), (2, 6, 3), (2, 3, 3)),
    (layers.AveragePooling2D, dict(pool_size=2, padding="same"), (1, 5, 5, 2), (1, 3, 3, 2)),
]


@pytest.mark.parametrize("cls,kwargs,shape,out_shape", CASES,
                         ids=[f"{c.__name__}-{i}" for i, (c, *_) in enumerate(CASES)])
def test_layer(cls, kwargs, shape, out_shape, tmp_path):
    run_layer_test(cls, kwargs, shape, out_shape, tmp_path=tmp_path)


def test_conv1d_equals_conv2d_of_height_one():
    keras.utils.set_random_seed(3)
    x = np.random.default_rng(3).standard_normal((2, 9, 3)).astype("float32")
    c1 = layers.Conv1D(4, 3, strides=2, padding="same", activation="relu")
    y1 = c1(x).numpy()
    c2 = layers.Conv2D(4, (1, 3), strides=(1, 2), padding="same", activation="relu")
    c2(x[:, None])
    c2.set_weights([c1.get_weights()[0][None], c1.get_weights()[1]])
    np.testing.assert_allclose(y1, c2(x[:, None]).numpy()[:, 0], rtol=1e-6)
    assert c1.kernel_size == (3,) and c1.get_config()["kernel_size"] == [3]


def test_shared_argument_checks():
    assert standardize_tuple(3, 2, "kernel_size") == (3, 3)
    assert standardize_tuple([1, 2], 2, "strides") == (1, 2)
    assert standardize_padding("SAME") == "same"
    assert conv_output_length(5, 3, 2, 1, "same") == (3, 1)
    assert conv_output_length(7, 3, 1, 2, "valid") == (3, 0)
    for bad, match in (((0, 2), "'kernel_size' values must be >= 1"),
                       ((1, 2, 3), "'kernel_size' must have 2 values")):
        with pytest.raises(ValueError, match=match):
            layers.Conv2D(2, bad)
    with pytest.raises(TypeError, match="'strides' must be an int"):
        layers.Conv2D(2, 3, strides="x")
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.DepthwiseConv2D(3, padding="causal")
    assert layers.Conv1D(2, 3, padding="causal").padding == "causal"
    with pytest.raises(ValueError, match="channels_last"):
        layers.MaxPooling2D(data_format="channels_first")
    for cls in (layers.Conv1D, layers.Conv2D):
        with pytest.raises(ValueError, match="groups"):
            cls(3, 3, groups=2)  # filters not divisible by groups
        with pytest.raises(ValueError, match="groups must be a positive integer"):
            cls(2, 3, groups=0)
        with pytest.raises(ValueError, match="lora_rank"):
            cls(2, 3, lora_rank=4)
    with pytest.raises(ValueError, match="lora_rank"):
        layers.Dense(2, lora_rank=4)


def test_ops_decide_fusion():
    assert fused_activation(None) == ("linear", None)
    assert fused_activation("relu") == ("relu", None)
    assert fused_activation(activations.tanh) == ("tanh", None)
    assert fused_activation(ops.sigmoid) == ("sigmoid", None)
    assert fused_activation(activations.softmax) == ("softmax", None)
    name, after = fused_activation(activations.gelu)
    assert name is None and after is activations.gelu

    def relu(x):  # a user's function named like a fused one is applied, not fused
        return ops.multiply(x, 2.0)
    assert fused_activation(relu) == (None, relu)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    k = np.random.default_rng(1).standard_normal((4, 5)).astype("float32")
    np.testing.assert_allclose(ops.dense(x, k, activation=relu).numpy(), 2 * (x @ k), rtol=1e-5)
    np.testing.assert_allclose(ops.dense(x, k, activation="relu").numpy(),
                               np.maximum(x @ k, 0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="fused activation"):
        ops.dense(x, k, activation="gelu")
