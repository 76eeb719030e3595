"""SimpleRNN, LSTM and GRU: outputs equal Keras 3's for the same weights (committed golden
outputs), gradients vs finite differences, masks, states, configs, errors."""
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from tests.helpers import check_layer_grads

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
KINDS = ("SimpleRNN", "LSTM", "GRU")
rng = np.random.default_rng(0)


def test_outputs_match_keras3():
    """Outputs equal Keras 3's for the same inputs and weights (golden file from
    tests/golden/make_golden.py)."""
    ref = np.load(GOLDEN / "recurrent.npz")
    x = ref["x"]
    for kind in KINDS:
        for rs in (False, True):
            for gb in (False, True):
                layer = getattr(layers, kind)(5, return_sequences=rs, go_backwards=gb)
                layer(x)
                layer.set_weights([ref[f"{kind}_w{i}"] for i in range(len(layer.weights))])
                np.testing.assert_allclose(layer(x).numpy(), ref[f"{kind}_{rs}_{gb}_y"],
                                           rtol=1e-5, atol=1e-6, err_msg=f"{kind} {rs} {gb}")


@pytest.mark.parametrize("kind", KINDS)
def test_gradients(kind):
    layer = getattr(layers, kind)(3, return_sequences=True)
    check_layer_grads(layer, rng.standard_normal((2, 4, 3)))


def test_weights_layout_and_forget_bias():
    lstm = layers.LSTM(4)
    lstm(np.zeros((1, 2, 3), "float32"))
    assert [w.shape for w in lstm.weights] == [(3, 16), (4, 16), (16,)]
    np.testing.assert_array_equal(lstm.weights[2].numpy(), [0] * 4 + [1] * 4 + [0] * 8)
    gru = layers.GRU(4)
    gru(np.zeros((1, 2, 3), "float32"))
    assert [w.shape for w in gru.weights] == [(3, 12), (4, 12), (2, 12)]


def test_masked_steps_carry_the_state():
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    for kind in KINDS:
        layer = getattr(layers, kind)(4)
        full = layer(x[:, :3]).numpy()
        masked = layer(x, mask=mask).numpy()
        np.testing.assert_allclose(masked[0], full[0], rtol=1e-5, atol=1e-6)
    emb = keras.Sequential([keras.Input((5,), dtype="int32"),
                            layers.Embedding(10, 3, mask_zero=True), layers.LSTM(4)])
    ids = np.array([[1, 2, 3, 0, 0]])
    short = keras.Sequential([keras.Input((3,), dtype="int32"), emb.layers[0], emb.layers[1]])
    np.testing.assert_allclose(emb.predict(ids, verbose=0), short.predict(ids[:, :3], verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_return_state_and_functional_shapes():
    inp = keras.Input((7, 3))
    out, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inp)
    assert out.shape == (None, 7, 4) and h.shape == (None, 4) and c.shape == (None, 4)
    model = keras.Model(inp, [out, h, c])
    o, hh, cc = model.predict(rng.standard_normal((2, 7, 3)), verbose=0)
    np.testing.assert_allclose(o[:, -1], hh, rtol=1e-6)
    seq, state = layers.GRU(2, return_state=True)(rng.standard_normal((2, 7, 3)))
    np.testing.assert_allclose(seq.numpy(), state.numpy())


def test_configs_and_errors():
    for kind in KINDS:
        layer = getattr(layers, kind)(6, return_sequences=True, go_backwards=True)
        clone = type(layer).from_config(layer.get_config())
        assert clone.units == 6 and clone.return_sequences and clone.go_backwards
    with pytest.raises(ValueError, match="3-D"):
        layers.LSTM(3)(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="units"):
        layers.GRU(0)


def test_lstm_learns_a_sequence_task():
    keras.utils.set_random_seed(0)
    x = rng.standard_normal((256, 10, 1)).astype("float32")
    y = (x.sum(axis=(1, 2)) > 0).astype("int64")
    model = keras.Sequential([keras.Input((10, 1)), layers.LSTM(8),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.85
