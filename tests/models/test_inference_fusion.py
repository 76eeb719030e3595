"""Sequential's layer fusion (models/inference_fusion.py): Conv2D + MaxPooling2D run as one
kernel for inference and as one tape node in training, with outputs bitwise those of the layers
one by one and the same gradients; anything else runs layer by layer."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from nnforge.backend import cpu as cpu_backend
from nnforge.models import inference_fusion, sequential as sequential_module
from nnforge.ops import fused


@pytest.fixture
def fused_calls(monkeypatch):
    """Counts the fused kernel's calls that it took (did not decline)."""
    calls = []
    orig = cpu_backend.conv2d_max_pool

    def counting(*args, **kwargs):
        y = orig(*args, **kwargs)
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


def grads_of(model, x, y, fuse, monkeypatch):
    """Loss and gradients of one step, with the fusion on or off."""
    monkeypatch.setattr(sequential_module, "fusable_conv_pool",
                        inference_fusion.fusable_conv_pool if fuse else lambda a, b: False)
    loss_fn = keras.losses.CategoricalCrossentropy()
    with keras.GradientTape() as tape:
        out = model(x, training=True)
        loss = loss_fn(y, out)
    return np.asarray(out), tape.gradient(loss, model.trainable_weights)


@pytest.mark.parametrize("activation", ["relu", None])
def test_training_gradients_are_the_layers(activation, fused_calls, monkeypatch):
    model = make({"activation": activation}, {})
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 17, 17, 3)).astype("float32")
    x[0, :4] = -5.0  # windows whose relu output is all zero (their gradient must vanish)
    y = np.eye(5, dtype="float32")[np.arange(8) % 5]
    out_f, g_f = grads_of(model, x, y, True, monkeypatch)
    out_u, g_u = grads_of(model, x, y, False, monkeypatch)
    np.testing.assert_array_equal(out_f, out_u)
    for w, a, b in zip(model.trainable_weights, g_f, g_u):
        if w is model.layers[0].bias:  # a first layer's bias gradient: summed in another order
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)
        else:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_fit_uses_the_fused_node_and_trains(fused_calls):
    model = make({"activation": "relu"}, {})
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 17, 17, 3)).astype("float32")
    y = np.eye(5, dtype="float32")[np.arange(64) % 5]
    hist = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert fused_calls and all(fused_calls)  # training: the kernel, keeping the winners
    del fused_calls[:]
    model.evaluate(x, y, verbose=0)  # inference: the kernel
    assert fused_calls and all(fused_calls)


def test_sigmoid_pair_trains_layer_by_layer(monkeypatch):
    # the relu mask trick does not hold for sigmoid: while recording, the two ops run
    model = make({"activation": "sigmoid"}, {})
    x = np.random.default_rng(3).standard_normal((4, 17, 17, 3)).astype("float32")
    y = np.eye(5, dtype="float32")[np.arange(4) % 5]
    _, g_f = grads_of(model, x, y, True, monkeypatch)
    _, g_u = grads_of(model, x, y, False, monkeypatch)
    for a, b in zip(g_f, g_u):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


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


def test_a_layer_observed_through_its_call_runs_alone(fused_calls):
    # explain/ and int8 calibration set `call` on the instance to see a layer's output
    model = make({"activation": "relu"}, {})
    x = np.random.default_rng(6).standard_normal((3, 17, 17, 3)).astype("float32")
    conv = model.layers[2]
    seen = []
    original = conv.call

    def watching(inputs, *args, **kwargs):
        out = original(inputs, *args, **kwargs)
        seen.append(tuple(out.shape))
        return out

    object.__setattr__(conv, "call", watching)
    try:
        model.predict(x, verbose=0)
    finally:
        object.__delattr__(conv, "call")
    assert seen == [(3, 5, 5, 32)]
    assert fused_calls == [True]  # the first pair still fused


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
    xv, wv, bv = keras.Variable(x), keras.Variable(w), keras.Variable(b)
    grads = []
    for op in (fused.conv_max_pool, lambda *a, **k: keras.ops.max_pool(
            keras.ops.conv(*a, bias=k["bias"], activation=k["activation"]), 2)):
        with keras.GradientTape() as tape:  # recording: one fused node vs the two ops
            y = keras.ops.sum(keras.ops.square(op(xv, wv, bias=bv, activation="relu")))
        grads.append(tape.gradient(y, [xv, wv, bv]))
    for a, b_ in zip(*grads):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b_))


def test_sequential_module_uses_the_fusion():
    assert sequential_module.fusable_conv_pool is not None
