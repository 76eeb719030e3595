"""GlobalAveragePooling3D / GlobalMaxPooling3D (and their aliases) against Keras 3."""
import numpy as np
import pytest

from nnforge import layers
from tests.golden.make_conv_golden import LAYER_CASES
from tests.layers.conv_golden import (cases_of, check_config, check_keras_file, check_numbers,
                                      check_own_round_trip)

CASES = cases_of("GlobalAveragePooling3D", "GlobalMaxPooling3D", "GlobalAvgPool3D",
                 "GlobalMaxPool3D")


@pytest.mark.parametrize("name", CASES)
def test_output_and_gradients_match_keras3(name):
    check_numbers(name)


@pytest.mark.parametrize("name", CASES)
def test_config_matches_keras3(name):
    check_config(name)


@pytest.mark.parametrize("name", CASES)
def test_keras_file_round_trips(name, tmp_path):
    check_own_round_trip(name, tmp_path)
    if LAYER_CASES[name][3]:
        check_keras_file(name, tmp_path)


def test_aliases():
    assert layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D


def test_errors():
    with pytest.raises(ValueError, match="GlobalMaxPooling3D 'g'.*5-D input"):
        layers.GlobalMaxPooling3D(name="g")(np.ones((1, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match="channels_last"):
        layers.GlobalAveragePooling3D(data_format="channels_first")
