"""Writes tests/golden/keras_rnn_fused.npz: Keras 3 (TensorFlow backend) outputs of the
recurrent configurations the fused kernels cover beyond keras_rnn_reference.py (masks with
all-masked and leading-masked rows, initial states, GRU reset_after=False, zero_output_for_mask,
Bidirectional with a mask). Run with the peers venv:

    /tmp/peers/bin/python tests/golden/make_keras_rnn_golden.py
"""
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

rng = np.random.default_rng(5)
N, T, D, U = 3, 6, 4, 5
x = rng.standard_normal((N, T, D)).astype("float32")
mask = np.array([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 1]], bool)
h0 = rng.standard_normal((N, U)).astype("float32")
c0 = rng.standard_normal((N, U)).astype("float32")
out = {"x": x, "mask": mask, "h0": h0, "c0": c0}
CASES = {
    "lstm_mask_seq": (lambda: keras.layers.LSTM(U, return_sequences=True), False),
    "lstm_mask_init_state": (lambda: keras.layers.LSTM(U, return_sequences=True,
                                                       return_state=True, go_backwards=True), True),
    "lstm_mask_zero_output": (lambda: keras.layers.LSTM(U, return_sequences=True,
                                                        zero_output_for_mask=True), False),
    "gru_mask_last": (lambda: keras.layers.GRU(U), False),
    "gru_before_seq": (lambda: keras.layers.GRU(U, reset_after=False, return_sequences=True), False),
    "gru_before_back_init": (lambda: keras.layers.GRU(U, reset_after=False, go_backwards=True,
                                                      return_state=True), True),
    "bidir_lstm_mask": (lambda: keras.layers.Bidirectional(
        keras.layers.LSTM(U, return_sequences=True)), False),
}
for name, (make, with_init) in CASES.items():
    layer = make()
    layer.build(x.shape)
    weights = [(rng.standard_normal(w.shape) * 0.5).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    kwargs = {"mask": mask}
    if with_init:
        kwargs["initial_state"] = [h0, c0] if "lstm" in name else [h0]
    res = layer(x, **kwargs)
    res = res if isinstance(res, (list, tuple)) else [res]
    for i, w in enumerate(weights):
        out[f"{name}/w{i}"] = w
    for i, r in enumerate(res):
        out[f"{name}/out{i}"] = np.asarray(r)
np.savez_compressed(Path(__file__).resolve().parent / "keras_rnn_fused.npz", **out)
