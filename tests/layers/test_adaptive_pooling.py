"""AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D against Keras 3 (bins that
do not divide the input, and outputs larger than the input)."""
import numpy as np
import pytest

from nnforge import layers
from tests.helpers import check_layer_grads
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
                 "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_bins():
    x = np.arange(5, dtype="float32").reshape(1, 5, 1)
    np.testing.assert_allclose(layers.AdaptiveAveragePooling1D(2)(x).numpy().ravel(), [1, 3])
    np.testing.assert_allclose(layers.AdaptiveMaxPooling1D(2)(x).numpy().ravel(), [2, 4])


@pytest.mark.parametrize("cls", ["AdaptiveAveragePooling2D", "AdaptiveMaxPooling2D"])
def test_gradients_match_finite_differences(cls):
    layer = getattr(layers, cls)((2, 3))
    check_layer_grads(layer, np.random.default_rng(3).standard_normal((1, 5, 4, 2)))


def test_errors():
    with pytest.raises(ValueError, match="AdaptiveMaxPooling2D 'a'.*4-D input"):
        layers.AdaptiveMaxPooling2D(2, name="a")(np.ones((1, 4, 2), "float32"))
    with pytest.raises(ValueError, match="output_size"):
        layers.AdaptiveAveragePooling3D((2, 2))
