"""GlobalAveragePooling3D / GlobalMaxPooling3D (and their aliases) against Keras 3."""
import numpy as np
import pytest

from nnforge import layers
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("GlobalAveragePooling3D", "GlobalMaxPooling3D", "GlobalAvgPool3D",
                 "GlobalMaxPool3D")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_aliases():
    assert layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D


def test_errors():
    with pytest.raises(ValueError, match="GlobalMaxPooling3D 'g'.*5-D input"):
        layers.GlobalMaxPooling3D(name="g")(np.ones((1, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match="channels_last"):
        layers.GlobalAveragePooling3D(data_format="channels_first")
