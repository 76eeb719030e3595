"""Conv3D (and the Convolution1D / Convolution3D aliases) against Keras 3: outputs,
gradients, config, .keras files; finite differences; errors."""
import numpy as np
import pytest

import nnforge
from nnforge import layers
from tests.helpers import check_layer_grads
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("Conv3D", "Convolution3D", "Convolution1D")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_aliases_are_the_classes():
    assert layers.Convolution3D is layers.Conv3D
    assert layers.Convolution1D is layers.Conv1D


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    layer = layers.Conv3D(2, (2, 1, 2), strides=(1, 1, 2), padding="same",
                          bias_initializer="random_normal")
    check_layer_grads(layer, rng.standard_normal((1, 3, 2, 3, 2)))


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="Conv3D 'c3'.*5-D input"):
        layers.Conv3D(2, 2, name="c3")(np.ones((1, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv3D(2, (2, 2))
    with pytest.raises(ValueError, match="groups"):
        layers.Conv3D(3, 2, groups=2)  # filters not divisible by groups
    with pytest.raises(ValueError, match="depth"):
        layers.Conv3D(2, 3)(np.ones((1, 2, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv3D(2, 2, padding="causal")


def test_symbolic_shape_with_unknown_depth():
    y = layers.Conv3D(4, 3, padding="same", strides=2)(nnforge.Input((None, 6, 5, 2)))
    assert tuple(y.shape) == (None, None, 3, 3, 4)
