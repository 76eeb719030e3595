"""UpSampling1D/3D, ZeroPadding1D/3D and Cropping1D/3D against Keras 3."""
import numpy as np
import pytest

from nnforge import layers
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("UpSampling1D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding3D", "Cropping1D",
                 "Cropping3D")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


def test_argument_forms():
    assert layers.ZeroPadding1D(2).padding == (2, 2)
    assert layers.ZeroPadding3D((1, 2, 3)).padding == ((1, 1), (2, 2), (3, 3))
    assert layers.Cropping3D(1).cropping == ((1, 1), (1, 1), (1, 1))
    assert layers.Cropping1D(2).cropping == (2, 2)
    assert layers.UpSampling3D(2).size == (2, 2, 2)


def test_errors():
    with pytest.raises(ValueError, match="Cropping1D 'c'.*leaves nothing"):
        layers.Cropping1D((2, 2), name="c")(np.ones((1, 4, 2), "float32"))
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding3D(((1, 1), (1, 1)))
    with pytest.raises(ValueError, match="negative"):
        layers.Cropping3D(-1)
    with pytest.raises(ValueError, match="UpSampling3D 'u'.*5-D input"):
        layers.UpSampling3D(name="u")(np.ones((1, 4, 2), "float32"))
