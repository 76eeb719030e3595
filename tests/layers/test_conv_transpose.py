"""Conv1DTranspose, Conv2DTranspose (output_padding, short kernels) and Conv3DTranspose on
BaseConvTranspose, with their Convolution*Transpose aliases, against Keras 3."""
import numpy as np
import pytest

from nnforge import layers
from tests.helpers import check_layer_grads
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("Conv1DTranspose", "Convolution1DTranspose", "Conv2DTranspose",
                 "Convolution2DTranspose",
                 "Conv3DTranspose", "Convolution3DTranspose")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_aliases_are_the_classes():
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose


@pytest.mark.parametrize("cls,shape,kw", [
    ("Conv1DTranspose", (1, 3, 2), dict(strides=2, output_padding=1)),
    ("Conv3DTranspose", (1, 2, 2, 1, 2), dict(strides=(2, 1, 2), padding="same")),
])
def test_gradients_match_finite_differences(cls, shape, kw):
    rng = np.random.default_rng(1)
    layer = getattr(layers, cls)(2, 2, bias_initializer="random_normal", **kw)
    check_layer_grads(layer, rng.standard_normal(shape))


@pytest.mark.parametrize("size,kernel,stride,padding,op,expected", [
    (5, 3, 2, "valid", None, 11), (5, 3, 2, "same", None, 10), (4, 1, 3, "valid", None, 12),
    (4, 3, 2, "valid", 1, 10), (3, 3, 2, "same", 1, 6), (3, 4, 2, "same", 0, 4),
])
def test_output_length_is_keras(size, kernel, stride, padding, op, expected):
    layer = layers.Conv1DTranspose(1, kernel, strides=stride, padding=padding,
                                   output_padding=op)
    assert layer.compute_output_shape((None, size, 2)) == (None, expected, 1)
    assert layer(np.ones((1, size, 2), "float32")).shape == (1, expected, 1)


def test_errors():
    with pytest.raises(ValueError, match="output_padding.*smaller than its stride"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="causal"):
        layers.Conv1DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match="Conv3DTranspose 't'.*5-D input"):
        layers.Conv3DTranspose(2, 2, name="t")(np.ones((1, 3, 3, 2), "float32"))
