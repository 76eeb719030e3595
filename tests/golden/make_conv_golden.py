"""Golden outputs and gradients from real Keras 3 for the N-D convolution, pooling, reshaping
and convolutional-recurrent layers and ops of the ``conv`` work (issue #17).

Run with the peers' venv (Keras 3.15 on TensorFlow), from the repository root:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_conv_golden.py

It writes ``tests/golden/conv.npz``. For each layer case: the input ``x``, the weights
(random normal, set after build), a random cotangent ``r``, the output ``y`` and the gradients of
``sum(y * r)`` with respect to ``x`` and each weight (list outputs are flattened and concatenated),
the layer's ``get_config()`` as JSON, the signatures of the public names (``signatures``), and
for a few cases a whole ``.keras`` file (bytes) of a
model holding the layer with its expected prediction. For each op case: the arrays, output and
gradients. The case tables (``LAYER_CASES``, ``OP_CASES``) are plain data that the tests import;
Keras is imported only when this file runs.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

# name -> (layer class, constructor kwargs, input shape, save a .keras file too)
LAYER_CASES = {
    "conv3d_same": ("Conv3D", dict(filters=3, kernel_size=(2, 3, 2), strides=(2, 1, 2),
                                   padding="same"), (2, 5, 4, 5, 2), True),
    "conv3d_dilated_relu": ("Conv3D", dict(filters=2, kernel_size=2, dilation_rate=(2, 1, 1),
                                           activation="relu"), (1, 5, 4, 4, 2), False),
    "convolution3d_alias": ("Convolution3D", dict(filters=2, kernel_size=(1, 2, 3)),
                            (1, 3, 3, 4, 2), False),
    "conv1d_transpose_same": ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2,
                                                      padding="same"), (2, 5, 2), True),
    "conv1d_transpose_output_padding": ("Conv1DTranspose",
                                        dict(filters=2, kernel_size=3, strides=2,
                                             output_padding=1), (2, 4, 3), False),
    "conv1d_transpose_short_kernel": ("Convolution1DTranspose",
                                      dict(filters=2, kernel_size=1, strides=3), (1, 4, 2),
                                      False),
    "conv2d_transpose_output_padding": ("Convolution2DTranspose",
                                        dict(filters=2, kernel_size=3, strides=2,
                                             padding="same", output_padding=1),
                                        (1, 3, 4, 2), False),
    "conv2d_transpose_short_kernel": ("Conv2DTranspose", dict(filters=2, kernel_size=(1, 2),
                                                              strides=3), (1, 3, 2, 2), False),
    "conv3d_transpose_same": ("Conv3DTranspose", dict(filters=2, kernel_size=3, strides=2,
                                                      padding="same"), (1, 3, 2, 3, 2), True),
    "conv3d_transpose_valid": ("Convolution3DTranspose",
                               dict(filters=3, kernel_size=(2, 3, 2), strides=(1, 2, 2),
                                    activation="sigmoid"), (1, 2, 3, 2, 2), False),
    "conv3d_transpose_output_padding": ("Conv3DTranspose",
                                        dict(filters=2, kernel_size=2, strides=(2, 3, 2),
                                             output_padding=(1, 2, 0)), (1, 2, 2, 2, 2), False),
    "depthwise_conv1d": ("DepthwiseConv1D", dict(kernel_size=3, strides=2, padding="same",
                                                 depth_multiplier=2), (2, 7, 3), True),
    "depthwise_conv1d_dilated": ("DepthwiseConv1D", dict(kernel_size=2, dilation_rate=2),
                                 (1, 6, 2), False),
    "separable_conv1d": ("SeparableConv1D", dict(filters=4, kernel_size=3, dilation_rate=2,
                                                 depth_multiplier=2, activation="tanh"),
                         (2, 9, 3), True),
    "separable_convolution1d_alias": ("SeparableConvolution1D",
                                      dict(filters=2, kernel_size=2, strides=2,
                                           padding="same"), (1, 5, 3), False),
    "separable_convolution2d_alias": ("SeparableConvolution2D",
                                      dict(filters=2, kernel_size=2, padding="same"),
                                      (1, 4, 3, 2), False),
    "convolution1d_alias": ("Convolution1D", dict(filters=2, kernel_size=3, padding="causal"),
                            (1, 5, 2), False),
    "max_pooling3d": ("MaxPooling3D", dict(), (2, 4, 5, 4, 3), True),
    "max_pooling3d_same": ("MaxPool3D", dict(pool_size=(3, 2, 2), strides=(2, 1, 2),
                                             padding="same"), (1, 5, 4, 5, 2), False),
    "average_pooling3d": ("AveragePooling3D", dict(pool_size=2, strides=1), (1, 3, 4, 3, 2),
                          False),
    "average_pooling3d_same": ("AvgPool3D", dict(pool_size=(3, 2, 2), strides=(2, 1, 2),
                                                 padding="same"), (1, 5, 4, 5, 2), False),
    "global_average_pooling3d": ("GlobalAveragePooling3D", dict(), (2, 3, 4, 2, 3), False),
    "global_max_pooling3d_keepdims": ("GlobalMaxPooling3D", dict(keepdims=True),
                                      (2, 3, 4, 2, 3), False),
    "global_avg_pool3d_alias": ("GlobalAvgPool3D", dict(keepdims=True), (1, 2, 2, 2, 2),
                                False),
    "global_max_pool3d_alias": ("GlobalMaxPool3D", dict(), (1, 2, 3, 2, 2), False),
    "adaptive_average_pooling1d": ("AdaptiveAveragePooling1D", dict(output_size=3), (2, 7, 3),
                                   False),
    "adaptive_average_pooling2d": ("AdaptiveAveragePooling2D", dict(output_size=(3, 2)),
                                   (2, 7, 5, 2), True),
    "adaptive_average_pooling3d": ("AdaptiveAveragePooling3D", dict(output_size=(2, 3, 2)),
                                   (1, 5, 7, 3, 2), False),
    "adaptive_max_pooling1d": ("AdaptiveMaxPooling1D", dict(output_size=3), (2, 7, 3), False),
    "adaptive_max_pooling2d": ("AdaptiveMaxPooling2D", dict(output_size=(3, 2)),
                               (2, 7, 5, 2), False),
    "adaptive_max_pooling3d": ("AdaptiveMaxPooling3D", dict(output_size=(2, 3, 2)),
                               (1, 5, 7, 3, 2), False),
    "adaptive_max_pooling2d_upsize": ("AdaptiveMaxPooling2D", dict(output_size=(5, 4)),
                                      (1, 3, 4, 2), False),
    "up_sampling1d": ("UpSampling1D", dict(size=3), (2, 4, 3), False),
    "up_sampling3d": ("UpSampling3D", dict(size=(2, 1, 3)), (1, 2, 3, 2, 2), False),
    "zero_padding1d": ("ZeroPadding1D", dict(padding=(1, 2)), (2, 4, 3), False),
    "zero_padding3d": ("ZeroPadding3D", dict(padding=((1, 0), (0, 2), (1, 1))),
                       (1, 2, 3, 2, 2), False),
    "zero_padding3d_int": ("ZeroPadding3D", dict(padding=1), (1, 2, 2, 2, 1), False),
    "cropping1d": ("Cropping1D", dict(cropping=(1, 2)), (2, 6, 3), False),
    "cropping3d": ("Cropping3D", dict(cropping=((1, 0), (0, 1), (1, 1))), (1, 3, 4, 4, 2),
                   False),
    "spatial_dropout1d_inference": ("SpatialDropout1D", dict(rate=0.5), (2, 4, 3), False),
    "spatial_dropout3d_inference": ("SpatialDropout3D", dict(rate=0.5), (1, 2, 2, 2, 3),
                                    False),
    "conv_lstm1d_sequences": ("ConvLSTM1D", dict(filters=3, kernel_size=3, padding="same",
                                                 return_sequences=True), (2, 4, 6, 2), True),
    "conv_lstm2d_state": ("ConvLSTM2D", dict(filters=2, kernel_size=(2, 3), strides=(1, 2),
                                             return_state=True), (1, 3, 5, 6, 2), True),
    "conv_lstm2d_backwards": ("ConvLSTM2D", dict(filters=2, kernel_size=3, padding="same",
                                                 go_backwards=True, return_sequences=True,
                                                 unit_forget_bias=False),
                              (1, 3, 4, 4, 2), False),
    "conv_lstm2d_dilated": ("ConvLSTM2D", dict(filters=2, kernel_size=2, dilation_rate=2,
                                               activation="relu",
                                               recurrent_activation="hard_sigmoid"),
                            (1, 3, 5, 5, 1), False),
    "conv_lstm3d": ("ConvLSTM3D", dict(filters=2, kernel_size=2, padding="same"),
                    (1, 2, 3, 3, 3, 2), True),
    "stacked_rnn_cells": ("RNN", dict(cell={"StackedRNNCells": [("LSTMCell", {"units": 3}),
                                                                ("GRUCell", {"units": 2})]},
                                      return_sequences=True), (2, 4, 3), True),
    "stacked_rnn_cells_state": ("RNN", dict(cell={"StackedRNNCells": [
        ("SimpleRNNCell", {"units": 2}), ("LSTMCell", {"units": 3})]}, return_state=True),
        (2, 3, 2), False),
}

# name -> (op, [shapes of the array arguments], kwargs)
OP_CASES = {
    "conv_1d": ("conv", [(2, 7, 3), (3, 3, 4)], dict(strides=2, padding="same")),
    "conv_3d_same": ("conv", [(1, 5, 4, 5, 2), (3, 2, 2, 2, 3)],
                     dict(strides=(2, 1, 2), padding="same")),
    "conv_3d_dilated": ("conv", [(1, 6, 4, 4, 2), (2, 2, 2, 2, 3)],
                        dict(dilation_rate=(2, 1, 2))),
    "conv_transpose_1d": ("conv_transpose", [(2, 4, 3), (3, 2, 3)],
                          dict(strides=2, padding="same")),
    "conv_transpose_1d_output_padding": ("conv_transpose", [(1, 4, 2), (4, 3, 2)],
                                         dict(strides=3, output_padding=2)),
    "conv_transpose_2d_output_padding": ("conv_transpose", [(1, 3, 3, 2), (3, 3, 2, 2)],
                                         dict(strides=2, padding="same", output_padding=0)),
    "conv_transpose_3d": ("conv_transpose", [(1, 2, 3, 2, 2), (2, 3, 2, 3, 2)],
                          dict(strides=(2, 1, 2))),
    "conv_transpose_3d_same": ("conv_transpose", [(1, 3, 2, 2, 2), (3, 3, 3, 2, 2)],
                               dict(strides=2, padding="same")),
    "depthwise_conv_1d": ("depthwise_conv", [(2, 7, 3), (3, 3, 2)],
                          dict(strides=2, padding="same")),
    "depthwise_conv_2d": ("depthwise_conv", [(1, 5, 6, 2), (2, 3, 2, 3)],
                          dict(dilation_rate=(2, 1))),
    "separable_conv_1d": ("separable_conv", [(2, 6, 3), (3, 3, 2), (1, 6, 4)],
                          dict(padding="same")),
    "separable_conv_2d": ("separable_conv", [(1, 5, 5, 2), (3, 3, 2, 2), (1, 1, 4, 3)],
                          dict(strides=2)),
    "max_pool_1d": ("max_pool", [(2, 7, 3)], dict(pool_size=3, strides=2, padding="same")),
    "max_pool_3d": ("max_pool", [(1, 5, 4, 5, 2)], dict(pool_size=(2, 3, 2), strides=(1, 1, 2),
                                                        padding="same")),
    "average_pool_1d": ("average_pool", [(2, 7, 3)], dict(pool_size=3, strides=2,
                                                          padding="same")),
    "average_pool_3d": ("average_pool", [(1, 5, 4, 5, 2)],
                        dict(pool_size=(3, 2, 2), strides=2, padding="same")),
    "adaptive_average_pool_1d": ("adaptive_average_pool", [(2, 10, 3)], dict(output_size=4)),
    "adaptive_average_pool_2d": ("adaptive_average_pool", [(1, 7, 9, 2)],
                                 dict(output_size=(3, 4))),
    "adaptive_average_pool_3d": ("adaptive_average_pool", [(1, 5, 4, 6, 2)],
                                 dict(output_size=(2, 3, 4))),
    "adaptive_max_pool_1d": ("adaptive_max_pool", [(2, 10, 3)], dict(output_size=4)),
    "adaptive_max_pool_2d": ("adaptive_max_pool", [(1, 7, 9, 2)], dict(output_size=(3, 4))),
    "adaptive_max_pool_3d": ("adaptive_max_pool", [(1, 5, 4, 6, 2)],
                             dict(output_size=(2, 3, 4))),
}


# Public names whose signatures (parameter names, order, defaults) are Keras's.
SIGNATURE_LAYERS = sorted({cls for cls, *_ in LAYER_CASES.values() if cls != "RNN"} | {
    "StackedRNNCells", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"})
SIGNATURE_OPS = ["adaptive_average_pool", "adaptive_max_pool", "average_pool", "conv",
                 "conv_transpose", "depthwise_conv", "max_pool", "separable_conv"]


def signatures(module) -> dict:
    """{"layers.X" / "ops.y": [[parameter, repr(default) or None, kind], ...]} of a Keras-like
    module (keras or nnforge), ``self`` left out."""
    import inspect

    def sig(fn):
        return [[p.name, None if p.default is inspect.Parameter.empty else repr(p.default),
                 str(p.kind)] for p in inspect.signature(fn).parameters.values()
                if p.name != "self"]

    out = {f"layers.{n}": sig(getattr(module.layers, n).__init__) for n in SIGNATURE_LAYERS}
    out.update({f"ops.{n}": sig(getattr(module.ops, n)) for n in SIGNATURE_OPS})
    return out


def make_layer(layers, cls: str, kwargs: dict):
    """The layer of a case from a ``layers`` module (keras.layers or nnforge.layers)."""
    kwargs = dict(kwargs)
    cell = kwargs.get("cell")
    if isinstance(cell, dict) and "StackedRNNCells" in cell:
        kwargs["cell"] = layers.StackedRNNCells(
            [getattr(layers, c)(**kw) for c, kw in cell["StackedRNNCells"]])
    return getattr(layers, cls)(**kwargs)


def flat(outputs) -> list:
    """A layer's output(s) as a flat list of tensors (nested state lists included)."""
    if isinstance(outputs, (list, tuple)):
        return [t for o in outputs for t in flat(o)]
    return [outputs]


def main() -> None:  # pragma: no cover - needs Keras 3 (the peers' venv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(17)
    out = {}
    for name, (cls, kwargs, shape, save) in LAYER_CASES.items():
        keras.utils.set_random_seed(1)
        layer = make_layer(keras.layers, cls, kwargs)
        x = rng.standard_normal(shape).astype(np.float32)
        layer(x)
        weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.5
                   for w in layer.weights]
        layer.set_weights(weights)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            ys = flat(layer(xt, training=False))
            y = tf.concat([tf.reshape(t, [-1]) for t in ys], 0)
            r = tf.constant(rng.standard_normal(y.shape).astype(np.float32))
            loss = tf.reduce_sum(y * r)
        grads = tape.gradient(loss, [xt] + [w.value for w in layer.weights])
        out[f"{name}/x"] = x
        out[f"{name}/y"] = y.numpy()
        out[f"{name}/r"] = r.numpy()
        out[f"{name}/dx"] = grads[0].numpy()
        for i, (w, g) in enumerate(zip(weights, grads[1:])):
            out[f"{name}/w{i}"] = w
            out[f"{name}/dw{i}"] = g.numpy()
        out[f"{name}/config"] = np.array(json.dumps(layer.get_config(), default=list))
        if save:
            model = keras.Sequential([keras.Input(shape[1:]), layer])
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "m.keras"
                model.save(path)
                out[f"{name}/keras_file"] = np.frombuffer(path.read_bytes(), np.uint8)
            pred = flat(model.predict(x, verbose=0))
            out[f"{name}/predict"] = np.concatenate([np.asarray(p).reshape(-1) for p in pred])
        print(name, y.shape)
    for name, (op, shapes, kwargs) in OP_CASES.items():
        arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        ts = [tf.constant(a) for a in arrays]
        with tf.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            y = getattr(keras.ops, op)(*ts, **kwargs)
            r = tf.constant(rng.standard_normal(y.shape).astype(np.float32))
            loss = tf.reduce_sum(y * r)
        grads = tape.gradient(loss, ts)
        for i, (a, g) in enumerate(zip(arrays, grads)):
            out[f"op/{name}/a{i}"] = a
            out[f"op/{name}/g{i}"] = g.numpy()
        out[f"op/{name}/y"] = y.numpy()
        out[f"op/{name}/r"] = r.numpy()
        print(name, y.shape)
    out["signatures"] = np.array(json.dumps(signatures(keras)))
    target = Path(__file__).resolve().parent / "conv.npz"
    np.savez_compressed(target, **out)
    print(f"wrote {target} ({target.stat().st_size} bytes, Keras {keras.__version__})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
