"""The fused whole-sequence path of LSTM and GRU (ops.lstm_sequence / ops.gru_sequence) against
the step-by-step path of the same layers: outputs, final states and every gradient (inputs,
kernels, biases, initial states) equal within float32 rounding, for masks (with all-masked rows),
go_backwards, return_sequences, return_state, initial states, GRU reset_after True and False
and Bidirectional; finite differences; the fallback for other activations; and the embedding
gradient (one scatter-add kernel) against np.add.at."""
import itertools

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops
from tests.helpers import check_layer_grads

rng = np.random.default_rng(11)
N, T, D, U = 4, 6, 3, 5


def make_layer(kind, **kwargs):
    if kind == "gru_before":
        return layers.GRU(U, reset_after=False, **kwargs)
    return getattr(layers, kind)(U, **kwargs)


def force_steps(layer):
    """Make ``layer`` (and the layers it wraps) run step by step."""
    for sub in (layer, getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None)):
        if sub is not None and hasattr(sub, "_fusable"):
            sub._fusable = lambda: False


def run(layer, x, mask, init):
    """Outputs and the gradients of a random projection of all of them."""
    xt = ops.convert_to_tensor(x)
    states = None if init is None else [ops.convert_to_tensor(s) for s in init]
    with keras.GradientTape() as tape:
        tape.watch(xt)
        if states is not None:
            tape.watch(states)
        kwargs = {} if mask is None else {"mask": mask}
        if states is not None:
            kwargs["initial_state"] = states
        outs = layer(xt, **kwargs)
        outs = outs if isinstance(outs, list) else [outs]
        proj = np.random.default_rng(3)
        loss = None
        for o in outs:
            term = ops.sum(ops.multiply(o, proj.standard_normal(o.shape).astype("float32")))
            loss = term if loss is None else ops.add(loss, term)
    sources = [xt] + list(layer.trainable_weights) + (states or [])
    grads = tape.gradient(loss, sources)
    return [o.numpy() for o in outs], [None if g is None else g.numpy() for g in grads]


def make_mask():
    mask = rng.random((N, T)) > 0.35
    mask[0] = False  # all masked
    mask[1] = True
    mask[2, :2] = False  # leading masked steps
    return mask


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "gru_before"])
@pytest.mark.parametrize("seq,back,masked,init,state,zero",
                         [c for c in itertools.product([False, True], repeat=6)
                          if not (c[5] and not c[2])])  # zero_output_for_mask needs a mask
def test_fused_equals_step_by_step(kind, seq, back, masked, init, state, zero):
    x = rng.standard_normal((N, T, D)).astype("float32")
    mask = make_mask() if masked else None
    n_states = 2 if kind == "LSTM" else 1
    states = [rng.standard_normal((N, U)).astype("float32") for _ in range(n_states)] \
        if init else None
    kwargs = dict(return_sequences=seq, go_backwards=back, return_state=state,
                  zero_output_for_mask=zero)
    fused = make_layer(kind, **kwargs)
    fused(x)  # build
    stepped = make_layer(kind, **kwargs)
    stepped(x)
    stepped.set_weights(fused.get_weights())
    force_steps(stepped)
    assert fused._fusable() and not stepped._fusable()
    out_f, grad_f = run(fused, x, mask, states)
    out_s, grad_s = run(stepped, x, mask, states)
    assert len(out_f) == len(out_s) == (1 + n_states if state else 1)
    for a, b in zip(out_f, out_s):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for i, (a, b) in enumerate(zip(grad_f, grad_s)):
        assert (a is None) == (b is None), f"gradient {i}"
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=f"gradient {i}")


@pytest.mark.parametrize("kind,kwargs", [("LSTM", dict(go_backwards=True)),
                                         ("GRU", dict(return_sequences=True)),
                                         ("gru_before", dict(return_sequences=True,
                                                             go_backwards=True))])
def test_fused_gradients_match_finite_differences(kind, kwargs):
    layer = make_layer(kind, **kwargs)
    check_layer_grads(layer, rng.standard_normal((2, 4, 3)))


def test_bidirectional_fused_equals_step_by_step():
    x = rng.standard_normal((N, T, D)).astype("float32")
    mask = make_mask()
    for inner in (layers.LSTM, layers.GRU):
        fused = layers.Bidirectional(inner(U, return_sequences=True))
        fused(x)
        stepped = layers.Bidirectional(inner(U, return_sequences=True))
        stepped(x)
        stepped.set_weights(fused.get_weights())
        force_steps(stepped)
        out_f, grad_f = run(fused, x, mask, None)
        out_s, grad_s = run(stepped, x, mask, None)
        np.testing.assert_allclose(out_f[0], out_s[0], rtol=1e-5, atol=1e-6)
        for a, b in zip(grad_f, grad_s):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_other_activations_fall_back_to_steps():
    x = rng.standard_normal((N, T, D)).astype("float32")
    relu_lstm = layers.LSTM(U, activation="relu", return_sequences=True)
    y = relu_lstm(x).numpy()
    assert not relu_lstm._fusable()
    # the same recurrence in NumPy (relu for the cell input and the output activation)
    k, u, b = (w.numpy().astype(np.float64) for w in relu_lstm.weights)
    h = np.zeros((N, U))
    c = np.zeros((N, U))
    for t in range(T):
        z = x[:, t] @ k + h @ u + b
        i, f, o = (1 / (1 + np.exp(-z[:, j * U:(j + 1) * U])) for j in (0, 1, 3))
        c = f * c + i * np.maximum(z[:, 2 * U:3 * U], 0)
        h = o * np.maximum(c, 0)
        np.testing.assert_allclose(y[:, t], h, rtol=1e-4, atol=1e-5)
    cell_rnn = layers.RNN(layers.LSTMCell(U))
    cell_rnn(x)
    assert not cell_rnn._fusable()  # RNN(cell) keeps the cell-by-cell path


def test_gru_reset_after_false_layout_and_config():
    gru = layers.GRU(U, reset_after=False)
    gru(np.zeros((1, 2, D), "float32"))
    assert [w.shape for w in gru.weights] == [(D, 3 * U), (U, 3 * U), (3 * U,)]
    config = gru.get_config()
    assert config["reset_after"] is False
    assert layers.GRU.from_config(config).cell.reset_after is False


def test_text_model_trains_on_the_fused_path():
    keras.utils.set_random_seed(0)
    n, length, vocab = 256, 12, 30
    x = rng.integers(3, vocab, (n, length))
    y = rng.integers(0, 2, n)
    x[y == 1, rng.integers(0, length, (y == 1).sum())] = 1
    x[:, -3:] = 0  # right padding, masked
    model = keras.Sequential([keras.Input((length,), dtype="int32"),
                              layers.Embedding(vocab, 8, mask_zero=True), layers.GRU(8),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9


def test_embedding_gradient_is_a_scatter_add():
    e = layers.Embedding(50, 6)
    ids = rng.integers(0, 50, (7, 9))
    ids[:, :4] = 3  # repeated ids accumulate
    proj = rng.standard_normal((7, 9, 6)).astype("float32")
    with keras.GradientTape() as tape:
        loss = ops.sum(ops.multiply(e(ids), proj))
    g = tape.gradient(loss, e.embeddings).numpy()
    expected = np.zeros((50, 6), np.float32)
    np.add.at(expected, ids.reshape(-1), proj.reshape(-1, 6))
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6)


GOLDEN = np.load(__import__("pathlib").Path(__file__).resolve().parents[1] / "golden" /
                 "keras_rnn_fused.npz")
KERAS_CASES = {
    "lstm_mask_seq": (lambda: layers.LSTM(5, return_sequences=True), False),
    "lstm_mask_init_state": (lambda: layers.LSTM(5, return_sequences=True, return_state=True,
                                                 go_backwards=True), True),
    "lstm_mask_zero_output": (lambda: layers.LSTM(5, return_sequences=True,
                                                  zero_output_for_mask=True), False),
    "gru_mask_last": (lambda: layers.GRU(5), False),
    "gru_before_seq": (lambda: layers.GRU(5, reset_after=False, return_sequences=True), False),
    "gru_before_back_init": (lambda: layers.GRU(5, reset_after=False, go_backwards=True,
                                                return_state=True), True),
    "bidir_lstm_mask": (lambda: layers.Bidirectional(layers.LSTM(5, return_sequences=True)),
                        False),
}


@pytest.mark.parametrize("name", sorted(KERAS_CASES))
@pytest.mark.parametrize("fused", [True, False])
def test_outputs_equal_keras3_golden(name, fused):
    """Golden outputs from Keras 3.15 (TensorFlow backend), written by
    make_keras_rnn_golden.py with the same weights, mask and initial states."""
    make, with_init = KERAS_CASES[name]
    x, mask = GOLDEN["x"], GOLDEN["mask"]
    layer = make()
    layer(x)
    n_w = len(layer.get_weights())
    layer.set_weights([GOLDEN[f"{name}/w{i}"] for i in range(n_w)])
    if isinstance(layer, layers.Bidirectional):
        # Keras's Bidirectional makes masked steps output zeros when returning sequences.
        layer.forward_layer.zero_output_for_mask = True
        layer.backward_layer.zero_output_for_mask = True
    if not fused:
        force_steps(layer)
    kwargs = {"mask": mask}
    if with_init:
        kwargs["initial_state"] = [GOLDEN["h0"], GOLDEN["c0"]] if "lstm" in name \
            else [GOLDEN["h0"]]
    res = layer(x, **kwargs)
    res = res if isinstance(res, list) else [res]
    for i, r in enumerate(res):
        np.testing.assert_allclose(r.numpy(), GOLDEN[f"{name}/out{i}"], rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name} output {i}")
