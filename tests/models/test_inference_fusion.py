"""Sequential's inference fusion (models/inference_fusion.py): Conv2D + MaxPooling2D run as one
kernel for inference, with results bitwise those of the layers one by one; anything else runs
layer by layer."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from nnforge.backend import cpu as cpu_backend
from nnforge.models import sequential as sequential_module
from nnforge.ops import fused


@pytest.fixture
def fused_calls(monkeypatch):
    """Counts the fused kernel's calls that it took (did not decline)."""
    calls = []
    orig = cpu_backend.conv2d_max_pool

    def counting(*args):
        y = orig(*args)
        calls.append(y is not None)
        return y

    monkeypatch.setattr(cpu_backend, "conv2d_max_pool", counting)
    return calls


def layer_by_layer(model, x):
    y = x
    for layer in model.layers:
        y = layer(y, training=False)
    return np.asarray(y)


def make(conv_kwargs, pool_kwargs, shape=(17, 17, 3), filters=(16, 32)):
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input(shape), layers.Conv2D(filters[0], 3, **conv_kwargs),
        layers.MaxPooling2D(**pool_kwargs), layers.Conv2D(filters[1], 3, activation="relu"),
        layers.MaxPooling2D(), layers.Flatten(), layers.Dense(5, activation="softmax")])


@pytest.mark.parametrize("conv_kwargs,pool_kwargs", [
    ({"activation": "relu"}, {}),
    ({"activation": "tanh", "padding": "same"}, {"pool_size": 3, "strides": 2,
                                                  "padding": "same"}),
    ({"use_bias": False}, {"pool_size": (2, 3), "strides": 1}),
    ({"activation": "sigmoid", "strides": 2}, {"padding": "same"}),
])
def test_predict_is_bitwise_the_layers(conv_kwargs, pool_kwargs, fused_calls):
    model = make(conv_kwargs, pool_kwargs)
    x = np.random.default_rng(0).standard_normal((37, 17, 17, 3)).astype("float32")
    want = layer_by_layer(model, x)
    assert not fused_calls  # layer by layer never fuses
    got = model.predict(x, batch_size=16, verbose=0)
    # predict's batches of 16 (and 5) against the layers on the same batches
    np.testing.assert_array_equal(
        got, np.concatenate([layer_by_layer(model, x[i:i + 16]) for i in range(0, 37, 16)]))
    np.testing.assert_array_equal(np.asarray(model(x)), want)  # training=None: inference
    assert fused_calls and all(fused_calls)


def test_training_and_recording_run_layer_by_layer(fused_calls):
    model = make({"activation": "relu"}, {})
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = np.random.default_rng(1).standard_normal((8, 17, 17, 3)).astype("float32")
    y = np.eye(5, dtype="float32")[np.arange(8) % 5]
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert not fused_calls
    with keras.GradientTape() as tape:  # training=None under a tape: gradients must flow
        loss = keras.ops.sum(model(x))
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(g is not None for g in grads)
    assert not any(fused_calls)
    model.evaluate(x, y, verbose=0)  # inference: fused
    assert fused_calls and all(fused_calls)


def test_pairs_it_leaves_alone(fused_calls):
    class MyConv(layers.Conv2D):
        def call(self, inputs):
            return super().call(inputs) * 2.0

    x = np.random.default_rng(2).standard_normal((4, 12, 12, 3)).astype("float32")
    for first in (MyConv(8, 3), layers.Conv2D(8, 3, activation="gelu"),
                  layers.Conv2D(8, 3, activity_regularizer="l2")):
        keras.utils.set_random_seed(4)
        model = keras.Sequential([keras.Input((12, 12, 3)), first, layers.MaxPooling2D()])
        np.testing.assert_array_equal(model.predict(x, verbose=0), layer_by_layer(model, x))
    # gelu is not fused into the kernel: the op falls back to conv then max_pool
    assert not any(fused_calls)
    avg = keras.Sequential([keras.Input((12, 12, 3)), layers.Conv2D(8, 3),
                            layers.AveragePooling2D()])
    np.testing.assert_array_equal(avg.predict(x, verbose=0), layer_by_layer(avg, x))
    assert not any(fused_calls)


def test_wrong_input_channels_name_the_layer():
    model = make({"activation": "relu"}, {})
    with pytest.raises(ValueError, match=model.layers[0].name):
        model.predict(np.ones((2, 17, 17, 4), "float32"), verbose=0)


def test_op_equals_the_two_ops_and_records_like_them():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 9, 9, 4)).astype("float32")
    w = rng.standard_normal((3, 3, 4, 6)).astype("float32")
    b = rng.standard_normal(6).astype("float32")
    want = keras.ops.max_pool(keras.ops.conv(x, w, bias=b, activation="relu"), 2)
    got = fused.conv_max_pool(x, w, bias=b, activation="relu", pool_size=2)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    xv = keras.Variable(x)
    with keras.GradientTape() as tape:  # recording: the two ops, so the gradient exists
        y = keras.ops.sum(fused.conv_max_pool(xv, w, bias=b, activation="relu"))
    assert tape.gradient(y, xv) is not None


def test_sequential_module_uses_the_fusion():
    assert sequential_module.fusable_conv_pool is not None
