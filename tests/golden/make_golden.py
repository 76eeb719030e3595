"""Regenerate the golden outputs of real Keras 3 that the Keras-equality tests compare with.

Run with the peers venv (Keras 3 + TensorFlow), from the repository root:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_golden.py

It writes, next to this file, small ``.npz`` files holding the inputs, the weights and Keras's
outputs (and input gradients where the tests compare them), all from fixed seeds:

- ``conv_variants.npz``: Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
  (tests/layers/test_conv_variants.py);
- ``recurrent.npz``: SimpleRNN, LSTM, GRU with return_sequences/go_backwards
  (tests/layers/test_rnn.py);
- ``keras3_cnn.keras`` / ``keras3_rnn.keras`` and their ``*_io.npz`` (input, Keras's
  prediction): ``.keras`` files written by Keras 3 itself, which nnforge must load and predict
  with identically (tests/saving/test_keras_golden.py). The other direction (Keras reading
  nnforge's files) needs Keras at test time: tests/saving/test_keras_file.py runs it when the
  peers venv is there.

The tests never import Keras: they load these files, so they run in CI without the peers.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import keras  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from specs import CONV_SPECS, RNN_KINDS  # noqa: E402

HERE = Path(__file__).resolve().parent


def _input_gradient(layer, x, proj):
    """d sum(layer(x) * proj) / dx, through the backend Keras runs on."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss = tf.reduce_sum(layer(xt) * proj)
        return tape.gradient(loss, xt).numpy()
    import torch
    xt = torch.tensor(x, requires_grad=True)
    (layer(xt) * torch.tensor(proj)).sum().backward()
    return xt.grad.numpy()


def make_conv_variants() -> dict:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 7, 6, 3)).astype("float32")
    out = {"x": x}
    for key, (cls, kw) in CONV_SPECS.items():
        layer = getattr(keras.layers, cls)(**kw)
        layer.build(x.shape)
        weights = [rng.standard_normal(tuple(v.shape)).astype("float32") for v in layer.weights]
        layer.set_weights(weights)
        out.update({f"{key}_w{i}": w for i, w in enumerate(weights)})
        y = np.asarray(layer(x))
        proj = rng.standard_normal(y.shape).astype("float32")
        out[f"{key}_y"] = y
        out[f"{key}_proj"] = proj
        out[f"{key}_dx"] = _input_gradient(layer, x, proj)
    return out


def make_recurrent() -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4)).astype("float32")
    out = {"x": x}
    for kind in RNN_KINDS:
        probe = getattr(keras.layers, kind)(5)
        probe.build(x.shape)
        weights = [rng.standard_normal(tuple(v.shape)).astype("float32") * 0.5
                   for v in probe.weights]
        out.update({f"{kind}_w{i}": w for i, w in enumerate(weights)})
        for rs in (False, True):
            for gb in (False, True):
                layer = getattr(keras.layers, kind)(5, return_sequences=rs, go_backwards=gb)
                layer.build(x.shape)
                layer.set_weights(weights)
                out[f"{kind}_{rs}_{gb}_y"] = np.asarray(layer(x))
    return out


def make_keras_files() -> None:
    """Two small models saved by Keras 3: a compiled CNN (optimizer state, metrics) and a
    recurrent/wrapper/normalization stack."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(5)
    cnn = keras.Sequential([
        keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax")])
    cnn.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x = rng.random((6, 8, 8, 3), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 6)]
    cnn.fit(x, y, epochs=1, batch_size=3, verbose=0)  # non-zero optimizer state in the file
    cnn.save(HERE / "keras3_cnn.keras")
    np.savez(HERE / "keras3_cnn_io.npz", x=x, y=cnn.predict(x, verbose=0))
    rnn = keras.Sequential([
        keras.Input((5, 3)), keras.layers.LSTM(4, return_sequences=True),
        keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True)),
        keras.layers.TimeDistributed(keras.layers.Dense(2)),
        keras.layers.BatchNormalization()])
    x = rng.random((2, 5, 3), dtype=np.float32)
    rnn.save(HERE / "keras3_rnn.keras")
    np.savez(HERE / "keras3_rnn_io.npz", x=x, y=rnn.predict(x, verbose=0))


def main() -> None:
    meta = {"keras_version": keras.__version__, "backend": keras.backend.backend()}
    for name, make in (("conv_variants", make_conv_variants), ("recurrent", make_recurrent)):
        arrays = make()
        np.savez_compressed(HERE / f"{name}.npz", **arrays,
                            keras_version=np.array(meta["keras_version"]),
                            keras_backend=np.array(meta["backend"]))
        print(f"wrote {name}.npz ({len(arrays)} arrays) with Keras {meta['keras_version']} "
              f"on {meta['backend']}", file=sys.stderr)
    make_keras_files()


if __name__ == "__main__":
    main()
