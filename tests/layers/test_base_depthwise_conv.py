"""DepthwiseConv1D and SeparableConv1D (and SeparableConvolution1D/2D) on the shared depthwise
and separable bases, against Keras 3."""
import numpy as np
import pytest

from nnforge import layers
from tests.helpers import check_layer_grads
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("DepthwiseConv1D", "SeparableConv1D", "SeparableConvolution1D",
                 "SeparableConvolution2D")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_aliases_are_the_classes():
    assert layers.SeparableConvolution1D is layers.SeparableConv1D
    assert layers.SeparableConvolution2D is layers.SeparableConv2D


def test_weights_and_shapes():
    d = layers.DepthwiseConv1D(3, depth_multiplier=2)
    assert d(np.ones((2, 6, 4), "float32")).shape == (2, 4, 8)
    assert [tuple(w.shape) for w in d.weights] == [(3, 4, 2), (8,)]
    s = layers.SeparableConv1D(5, 3, depth_multiplier=2, padding="same")
    assert s(np.ones((2, 6, 4), "float32")).shape == (2, 6, 5)
    assert [tuple(w.shape) for w in s.weights] == [(3, 4, 2), (1, 8, 5), (5,)]


@pytest.mark.parametrize("layer", [
    lambda: layers.DepthwiseConv1D(2, strides=2, depth_multiplier=2,
                                   bias_initializer="random_normal"),
    lambda: layers.SeparableConv1D(2, 3, padding="same", bias_initializer="random_normal"),
])
def test_gradients_match_finite_differences(layer):
    check_layer_grads(layer(), np.random.default_rng(2).standard_normal((1, 5, 2)))


def test_errors():
    with pytest.raises(ValueError, match="depth_multiplier"):
        layers.DepthwiseConv1D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="causal"):
        layers.SeparableConv1D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="DepthwiseConv1D 'd'.*3-D input"):
        layers.DepthwiseConv1D(3, name="d")(np.ones((1, 5, 5, 2), "float32"))
