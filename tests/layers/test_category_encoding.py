"""CategoryEncoding and Discretization against Keras 3 goldens."""
import os

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
C = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_matches_keras(mode):
    lay = layers.CategoryEncoding(num_tokens=4, output_mode=mode)
    out = lay(C if mode != "one_hot" else np.array([3, 2, 0, 1])).numpy()
    np.testing.assert_array_equal(out, G[f"ce_{mode}"])
    assert out.dtype == np.float32
    assert lay.compute_output_shape((4, 2) if mode != "one_hot" else (4,)) == out.shape


def test_category_encoding_weights_errors_config():
    w = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    out = layers.CategoryEncoding(4, output_mode="count")(C, count_weights=w).numpy()
    np.testing.assert_allclose(out, G["ce_count_w"], rtol=1e-6)
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(4)(C, count_weights=w)
    with pytest.raises(ValueError, match="num_tokens"):
        layers.CategoryEncoding(4)(np.array([[4]]))
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding()
    lay = layers.CategoryEncoding(4, output_mode="count")
    assert layers.CategoryEncoding.from_config(lay.get_config()).get_config() == lay.get_config()


def test_discretization_matches_keras():
    x = G["disc_x"]
    b = [-0.5, 0.0, 0.7]
    out = layers.Discretization(bin_boundaries=b)(x).numpy()
    np.testing.assert_array_equal(out, G["disc_int"])
    assert out.dtype == np.int32
    np.testing.assert_array_equal(
        layers.Discretization(bin_boundaries=b, output_mode="one_hot")(x[:, :1]).numpy(),
        G["disc_onehot"])
    np.testing.assert_array_equal(
        layers.Discretization(bin_boundaries=b, output_mode="multi_hot")(x).numpy(),
        G["disc_multi"])


def test_discretization_adapt_matches_keras_and_round_trips(tmp_path):
    x = G["disc_x"]
    lay = layers.Discretization(num_bins=4, epsilon=0.01)
    lay.adapt(x)
    np.testing.assert_allclose(lay.bin_boundaries, G["disc_adapt_bounds"], rtol=1e-6)
    clone = layers.Discretization.from_config(lay.get_config())
    assert clone.bin_boundaries == lay.bin_boundaries
    model = keras.Sequential([keras.Input((2,)), lay])
    path = str(tmp_path / "disc.keras")
    model.save(path)
    np.testing.assert_array_equal(keras.saving.load_model(path).predict(x, verbose=0),
                                  G["disc_int"] * 0 + lay(x).numpy())
    with pytest.raises(ValueError, match="bin_boundaries"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(x)
    with pytest.raises(ValueError, match="either"):
        layers.Discretization()


def test_discretization_adapt_over_batches():
    rng = np.random.default_rng(5)
    data = rng.standard_normal(4000).astype(np.float32)
    lay = layers.Discretization(num_bins=4, epsilon=0.01)
    lay.adapt([data[:2000], data[2000:]])
    # approximate quartiles of N(0, 1): -0.674, 0, 0.674
    np.testing.assert_allclose(lay.bin_boundaries, [-0.674, 0.0, 0.674], atol=0.08)
