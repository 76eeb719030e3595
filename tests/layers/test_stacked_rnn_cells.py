"""StackedRNNCells inside RNN against Keras 3 (sequences; states grouped per cell), config
and .keras files (Keras's weight groups cells/<class>)."""
import numpy as np
import pytest

from nnforge import layers
from tests.helpers import check_layer_grads
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("RNN")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_state_sizes_and_errors():
    cells = layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(2)])
    assert cells.state_size == [3, 3, 2] and cells.output_size == 2
    with pytest.raises(ValueError, match="StackedRNNCells"):
        layers.StackedRNNCells([layers.Dense(2)])


def test_gradients_match_finite_differences():
    layer = layers.RNN(layers.StackedRNNCells([layers.SimpleRNNCell(2), layers.GRUCell(2)]),
                       return_sequences=True)
    check_layer_grads(layer, np.random.default_rng(6).standard_normal((1, 3, 2)))


def test_initial_state_grouped_per_cell():
    layer = layers.RNN(layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(2)]),
                       return_state=True)
    x = np.ones((2, 4, 3), "float32")
    out, (h1, c1), h2 = layer(x)
    again = layer(x, initial_state=[[h1, c1], h2])
    assert again[0].shape == (2, 2)
