"""ConvLSTM1D/2D/3D against Keras 3: sequences, states, go_backwards, dilation, other
activations; gradients vs finite differences; masks and errors."""
import numpy as np
import pytest

from nnforge import layers
from tests.helpers import check_layer_grads
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_gradients_match_finite_differences():
    layer = layers.ConvLSTM1D(2, 2, padding="same", return_sequences=True,
                              bias_initializer="random_normal")
    check_layer_grads(layer, np.random.default_rng(4).standard_normal((1, 3, 3, 2)))


def test_weights_are_in_the_cell_as_keras_saves_them():
    layer = layers.ConvLSTM2D(3, (2, 3))
    layer(np.ones((1, 2, 4, 5, 2), "float32"))
    assert [tuple(w.shape) for w in layer.weights] == [(2, 3, 2, 12), (2, 3, 3, 12), (12,)]
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    assert layer.filters == 3 and layer.kernel_size == (2, 3)


def test_mask_carries_the_state_through():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 5, 2)).astype("float32")
    layer = layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    y = layer(x, mask=mask).numpy()
    short = layer(x[:, :2]).numpy()
    np.testing.assert_allclose(y[0, 2], short[0, 1], rtol=1e-6)
    np.testing.assert_allclose(y[0, 3], short[0, 1], rtol=1e-6)


def test_initial_state():
    layer = layers.ConvLSTM1D(2, 3, padding="same", return_state=True)
    x = np.ones((1, 2, 4, 1), "float32")
    _, h, c = layer(x)
    y2 = layer(x, initial_state=[h, c])
    assert y2[0].shape == (1, 4, 2)


def test_errors():
    with pytest.raises(ValueError, match="ConvLSTM2D 'l'.*5-D input"):
        layers.ConvLSTM2D(2, 3, name="l")(np.ones((1, 2, 4, 2), "float32"))
    with pytest.raises(ValueError, match="stateful"):
        layers.ConvLSTM2D(2, 3, stateful=True)
    with pytest.raises(ValueError, match="dropout"):
        layers.ConvLSTM1D(2, 3, dropout=1.5)


def test_dropout_masks_per_gate_shared_over_time():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 6, 2)).astype("float32")
    layer = layers.ConvLSTM1D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.3, seed=1,
                              return_sequences=True)
    plain = layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True)
    plain(x)
    layer(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x).numpy(), plain(x).numpy(), rtol=1e-6)  # inference
    assert not np.allclose(layer(x, training=True).numpy(), plain(x).numpy())
    cell = layer.cell
    masks = cell.gate_masks((2, 6, 2), 0.5)
    assert len(masks) == 4 and set(np.unique(masks[0].numpy())) <= {0.0, 2.0}
    # The step with masks equals the plain step on masked inputs, gate by gate.
    h = rng.standard_normal((2, 6, 2)).astype("float32")
    ones = [np.ones((2, 6, 2), "float32")] * 4
    xp = cell.project(x[:, 0], ones)
    np.testing.assert_allclose(xp.numpy(), cell.project(x[:, 0]).numpy(), rtol=1e-5,
                               atol=1e-6)
    a, _ = cell.step(xp, [h, h], ones)
    b, _ = cell.step(xp, [h, h])
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    check_layer_grads(layers.ConvLSTM1D(1, 2, padding="same", dropout=0.5, seed=2),
                      rng.standard_normal((1, 2, 3, 1)), training=False)
