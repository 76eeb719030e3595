"""StringLookup / IntegerLookup against Keras 3 goldens; adapt, invert, saving of the vocabulary."""
import os

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
S = G["sl_in"]


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_string_lookup_modes_match_keras(mode):
    lay = layers.StringLookup(vocabulary=["a", "b", "c", "d"], output_mode=mode)
    out = lay(S if mode != "one_hot" else S[:, :1]).numpy()
    np.testing.assert_array_equal(out, G[f"sl_{mode}"])
    assert out.dtype == (np.int64 if mode == "int" else np.float32)


def test_string_lookup_mask_invert_bytes_and_adapt():
    lay = layers.StringLookup(vocabulary=["a", "b", "c"], mask_token="[MASK]")
    np.testing.assert_array_equal(lay(np.array([["a", "[MASK]", "q"]])).numpy(), G["sl_mask"])
    assert lay.get_vocabulary() == ["[MASK]", "[UNK]", "a", "b", "c"]
    inv = layers.StringLookup(vocabulary=["a", "b", "c"], invert=True)
    np.testing.assert_array_equal(inv(np.array([[1, 3, 0, 2]])), G["sl_invert"])
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=["a", "b"])(np.array([b"b", b"x"])).numpy(), [2, 0])
    ad = layers.StringLookup(max_tokens=5)
    ad.adapt(np.array(["b", "a", "c", "a", "b", "e", "d", "a", "e", "f", "c", "e"]))
    assert ad.get_vocabulary() == G["sl_adapt_vocab"].tolist()
    assert ad.vocabulary_size() == 5
    assert ad.get_vocabulary(include_special_tokens=False) == G["sl_adapt_vocab"].tolist()[1:]


def test_string_lookup_tf_idf_matches_keras():
    docs = np.array([["a", "b", "a"], ["c", "a", "b"], ["d", "d", "a"]])
    lay = layers.StringLookup(output_mode="tf_idf")
    lay.adapt(docs)
    assert lay.get_vocabulary() == G["sl_tfidf_vocab"].tolist()
    np.testing.assert_allclose(lay.idf_weights, G["sl_tfidf_idf"], rtol=1e-6)
    np.testing.assert_allclose(lay(docs).numpy(), G["sl_tfidf"], rtol=1e-6)
    given = layers.StringLookup(output_mode="tf_idf", vocabulary=["a", "b", "c"],
                                idf_weights=[0.5, 0.25, 0.75], pad_to_max_tokens=True,
                                max_tokens=6)
    np.testing.assert_allclose(given(docs).numpy(), G["sl_tfidf_given"], rtol=1e-6)


def test_integer_lookup_matches_keras():
    x = G["il_in"]
    voc = [12, 36, 1138, 42]
    np.testing.assert_array_equal(layers.IntegerLookup(vocabulary=voc)(x).numpy(), G["il_int"])
    np.testing.assert_array_equal(layers.IntegerLookup(vocabulary=voc, num_oov_indices=2)(x)
                                  .numpy(), G["il_oov2"])
    np.testing.assert_array_equal(layers.IntegerLookup(vocabulary=voc, mask_token=0)(
        np.array([[12, 0, 7]])).numpy(), G["il_mask"])
    np.testing.assert_array_equal(layers.IntegerLookup(vocabulary=voc, output_mode="multi_hot")
                                  (x).numpy(), G["il_multi"])
    np.testing.assert_array_equal(layers.IntegerLookup(vocabulary=voc, invert=True)(
        np.array([[1, 3, 0, 4]])).numpy(), G["il_invert"])
    ad = layers.IntegerLookup()
    ad.adapt(np.array([3, 3, 7, 1, 7, 7, 9, 1, 3, 3]))
    assert ad.get_vocabulary() == G["il_adapt_vocab"].tolist()


def test_lookup_errors():
    with pytest.raises(ValueError, match="repeated"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="max_tokens"):
        layers.StringLookup(max_tokens=1)
    with pytest.raises(ValueError, match="invert"):
        layers.StringLookup(invert=True, output_mode="multi_hot")
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["b"]))
    with pytest.raises(ValueError, match="idf_weights"):
        layers.StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(ValueError, match="string"):
        layers.StringLookup(vocabulary=["a"])(np.array([1.0]))


def test_lookup_config_round_trip():
    for lay in (layers.StringLookup(vocabulary=["x", "y"], mask_token="", output_mode="count"),
                layers.IntegerLookup(vocabulary=[5, 9], num_oov_indices=3, oov_token=-7)):
        cfg = lay.get_config()
        clone = type(lay).from_config(cfg)
        assert clone.get_config() == cfg
        x = np.array([["x", "", "q"]]) if isinstance(lay, layers.StringLookup) else \
            np.array([[5, 11, 9]])
        np.testing.assert_array_equal(clone(x).numpy(), lay(x).numpy())
    cfg = layers.StringLookup(vocabulary=["x"]).get_config()
    assert "vocabulary_dtype" not in cfg and cfg["encoding"] == "utf-8"
    assert set(cfg) >= {"invert", "max_tokens", "num_oov_indices", "oov_token", "mask_token",
                        "output_mode", "sparse", "pad_to_max_tokens", "idf_weights",
                        "vocabulary", "vocabulary_size", "oov_method", "salt"}


def test_adapted_lookup_saves_vocabulary_as_asset(tmp_path):
    import zipfile
    lay = layers.StringLookup(output_mode="tf_idf")
    docs = np.array([["a", "b", "a"], ["c", "a", "b"], ["d", "d", "a"]])
    lay.adapt(docs)
    model = keras.Sequential([keras.Input((3,), dtype="string"), lay])
    path = str(tmp_path / "lookup.keras")
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.read("assets/layers/string_lookup/vocabulary.txt").decode() == \
            "\n".join(G["sl_tfidf_vocab"].tolist())
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.layers[-1](docs).numpy(), G["sl_tfidf"], rtol=1e-6)
