"""Conv2DTranspose, DepthwiseConv2D, SeparableConv2D (equal to Keras 3 for the same weights,
gradients vs finite differences) and the Bidirectional / TimeDistributed wrappers."""
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from tests.golden.specs import CONV_SPECS
from tests.helpers import check_layer_grads

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
rng = np.random.default_rng(8)
SPECS = CONV_SPECS


def test_conv_variants_match_keras3():
    """Outputs and input gradients equal Keras 3's (golden file from tests/golden/make_golden.py)
    for the same inputs and weights."""
    ref = np.load(GOLDEN / "conv_variants.npz")
    x = ref["x"]
    for key, (cls, kw) in SPECS.items():
        layer = getattr(layers, cls)(**kw)
        layer(x)
        layer.set_weights([ref[f"{key}_w{i}"] for i in range(len(layer.weights))])
        np.testing.assert_allclose(layer(x).numpy(), ref[f"{key}_y"], rtol=1e-5, atol=1e-5,
                                   err_msg=key)
        xt = keras.ops.convert_to_tensor(x)
        with keras.GradientTape() as tape:
            tape.watch(xt)
            loss = keras.ops.sum(keras.ops.multiply(layer(xt), ref[f"{key}_proj"]))
        np.testing.assert_allclose(tape.gradient(loss, xt).numpy(), ref[f"{key}_dx"],
                                   rtol=1e-4, atol=1e-4, err_msg=f"{key} input gradient")


@pytest.mark.parametrize("key", sorted(SPECS))
def test_conv_variant_gradients_and_shapes(key):
    cls, kw = SPECS[key]
    layer = getattr(layers, cls)(bias_initializer="random_normal", **kw)
    x = rng.standard_normal((1, 5, 4, 2))
    check_layer_grads(layer, x)
    sym = getattr(layers, cls)(**kw)(keras.Input((5, 4, 2)))
    assert sym.shape == (None,) + layer(x.astype("float32")).shape[1:]
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_bidirectional():
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    y = bi(x).numpy()
    assert y.shape == (2, 5, 8)
    fwd = bi.forward_layer(x).numpy()
    bwd = bi.backward_layer(x).numpy()[:, ::-1]
    np.testing.assert_allclose(y, np.concatenate([fwd, bwd], -1), rtol=1e-6)
    summed = layers.Bidirectional(layers.GRU(3), merge_mode="sum")
    assert summed(x).shape == (2, 3)
    m = keras.Sequential([keras.Input((5, 3)), layers.Bidirectional(layers.LSTM(4)),
                          layers.Dense(1)])
    assert m.count_params() == 2 * 4 * 4 * (3 + 4 + 1) + 9  # as Keras counts it
    check_layer_grads(layers.Bidirectional(layers.SimpleRNN(2)), rng.standard_normal((2, 3, 2)))
    with pytest.raises(ValueError, match="recurrent"):
        layers.Bidirectional(layers.Dense(3))


def test_time_distributed():
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    td = layers.TimeDistributed(layers.Dense(5))
    y = td(x).numpy()
    np.testing.assert_allclose(y, x @ td.layer.kernel.numpy() + td.layer.bias.numpy(),
                               rtol=1e-5, atol=1e-6)
    assert layers.TimeDistributed(layers.Dense(2))(keras.Input((4, 3))).shape == (None, 4, 2)
    conv = layers.TimeDistributed(layers.Conv2D(2, 3))
    assert conv(rng.standard_normal((2, 3, 6, 6, 1))).shape == (2, 3, 4, 4, 2)
    check_layer_grads(layers.TimeDistributed(layers.Dense(2)), rng.standard_normal((2, 3, 2)))
