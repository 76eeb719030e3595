"""Hashing, HashedCrossing and hashed OOV buckets against Keras 3 (TensorFlow's FarmHash,
SipHash and FingerprintCat64)."""
import os

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from nnforge.utils.fingerprint import fingerprint64, siphash64

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
HS, HI = G["hash_str_in"], G["hash_int_in"]


def test_fingerprints_known_values():
    # FarmHash Fingerprint64 and SipHash-2-4 reference values
    assert fingerprint64(b"") == 0x9AE16A3B2F90404F
    assert siphash64((0x0706050403020100, 0x0F0E0D0C0B0A0908), bytes(range(15))) == \
        0xA129CA6149BE45E5


def test_hashing_matches_keras():
    np.testing.assert_array_equal(layers.Hashing(num_bins=7)(HS).numpy(), G["hash_str"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=7, mask_value="C")(HS).numpy(),
                                  G["hash_str_mask"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=7, salt=[133, 137])(HS).numpy(),
                                  G["hash_str_salt"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=7, salt=1337)(HS).numpy(),
                                  G["hash_str_salt1"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=11)(HI).numpy(), G["hash_int"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=11, mask_value=0)(HI).numpy(),
                                  G["hash_int_mask"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=11)(np.array([[1.7, -2.2, 3.0]]))
                                  .numpy(), G["hash_float"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=5, output_mode="multi_hot")(HI)
                                  .numpy(), G["hash_multi"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=5, output_mode="count")(HI).numpy(),
                                  G["hash_count"])
    np.testing.assert_array_equal(layers.Hashing(num_bins=5, output_mode="one_hot")(HS)
                                  .numpy(), G["hash_onehot"])


def test_hashed_crossing_matches_keras():
    a, b = G["cross_a"], np.array(["a", "b", "c", "d", "e"])
    np.testing.assert_array_equal(layers.HashedCrossing(num_bins=1000)((a, b)).numpy(),
                                  G["cross_int_str"])
    np.testing.assert_array_equal(layers.HashedCrossing(num_bins=97)((b, a, a * 3)).numpy(),
                                  G["cross_str_int_int"])
    np.testing.assert_array_equal(
        layers.HashedCrossing(num_bins=6, output_mode="one_hot")((a[:, None], b[:, None]))
        .numpy(), G["cross_onehot"])
    with pytest.raises(ValueError, match="at least two"):
        layers.HashedCrossing(num_bins=3)([a])
    with pytest.raises(ValueError, match="equal shape"):
        layers.HashedCrossing(num_bins=3)([a, b[:2]])
    with pytest.raises(ValueError, match="integer or string"):
        layers.HashedCrossing(num_bins=3)([a, a * 0.5])


def test_hashed_oov_buckets_match_keras():
    x = np.array(["a", "q", "zz", "b", "hello", "w"])
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=3)(x).numpy(), G["sl_oov3"])
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=3, salt=[7, 9])(x).numpy(),
        G["sl_oov3_salt"])
    np.testing.assert_array_equal(
        layers.IntegerLookup(vocabulary=[5, 6], num_oov_indices=4, oov_method="farmhash")(
            np.array([5, 7, 8, 6, 100, -3])).numpy(), G["il_farm"])
    with pytest.raises(ValueError, match="salt"):
        layers.IntegerLookup(vocabulary=[5], salt=3)


def test_hashing_config_errors_and_saving(tmp_path):
    lay = layers.Hashing(num_bins=7, salt=5, mask_value="C", output_mode="count")
    cfg = lay.get_config()
    assert cfg["salt"] == [5, 5]
    clone = layers.Hashing.from_config(cfg)
    assert clone.get_config() == cfg
    np.testing.assert_array_equal(clone(HS).numpy(), lay(HS).numpy())
    with pytest.raises(ValueError, match="num_bins"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="output_mode"):
        layers.Hashing(num_bins=3, output_mode="tf_idf")
    cross = layers.HashedCrossing(num_bins=9)
    assert layers.HashedCrossing.from_config(cross.get_config()).get_config() == \
        cross.get_config()
    model = keras.Sequential([keras.Input((3,), dtype="int64"), layers.Hashing(num_bins=11)])
    model.save(str(tmp_path / "h.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "h.keras"))
    np.testing.assert_array_equal(loaded.layers[-1](HI).numpy(), G["hash_int"])
