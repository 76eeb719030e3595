"""SpatialDropout1D / SpatialDropout3D: identity at inference (Keras 3 golden, config), whole
channels dropped in training."""
import numpy as np
import pytest

from nnforge import layers
from tests.layers.conv_golden import cases_of, keras3_tests

CASES = cases_of("SpatialDropout1D", "SpatialDropout3D")

(test_output_and_gradients_match_keras3, test_config_matches_keras3,
 test_keras_file_round_trips) = keras3_tests(CASES)


@pytest.mark.parametrize("cls,shape", [("SpatialDropout1D", (4, 6, 8)),
                                       ("SpatialDropout3D", (4, 2, 3, 2, 8))])
def test_training_drops_whole_channels(cls, shape):
    layer = getattr(layers, cls)(0.5, seed=3)
    y = layer(np.ones(shape, "float32"), training=True).numpy()
    flat = y.reshape(shape[0], -1, shape[-1])
    assert (flat == flat[:, :1]).all()  # one value per sample and channel
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (flat[:, 0] == 0).mean() < 1


def test_errors():
    with pytest.raises(ValueError, match="SpatialDropout1D 's'.*3-D input"):
        layers.SpatialDropout1D(0.5, name="s")(np.ones((1, 2, 2, 2), "float32"), training=True)
    with pytest.raises(ValueError, match="rate"):
        layers.SpatialDropout3D(1.5)
