"""MaxPooling3D / AveragePooling3D (and MaxPool3D / AvgPool3D) against Keras 3."""
import numpy as np
import pytest

from nnforge import layers
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("MaxPooling3D", "MaxPool3D", "AveragePooling3D", "AvgPool3D")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_aliases_and_defaults():
    assert layers.MaxPool3D is layers.MaxPooling3D and layers.AvgPool3D is layers.AveragePooling3D
    assert layers.MaxPooling3D().get_config()["pool_size"] == [2, 2, 2]
    with pytest.raises(TypeError):
        layers.AveragePooling3D()  # pool_size is required, as in Keras


def test_same_average_counts_real_elements_only():
    y = layers.AveragePooling3D(3, strides=1, padding="same")(np.ones((1, 3, 3, 3, 1), "float32"))
    np.testing.assert_allclose(y.numpy(), 1.0, rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="MaxPooling3D 'p'.*5-D input"):
        layers.MaxPooling3D(name="p")(np.ones((1, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match="depth"):
        layers.MaxPooling3D(3)(np.ones((1, 2, 4, 4, 2), "float32"))
