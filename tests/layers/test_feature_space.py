"""FeatureSpace against Keras 3 goldens: feature types, crosses, concat and dict outputs,
adapt, symbolic encodings, saving."""
import os

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
DATA = {k: G["fs_in_" + k] for k in ("age", "city", "n", "h", "d", "r", "f")}
FS = keras.utils.FeatureSpace


def make_concat():
    return FS({"age": "float_normalized", "city": "string_categorical",
               "n": "integer_categorical", "h": "string_hashed", "d": "float_discretized",
               "r": FS.float_rescaled(scale=0.5, offset=1.0), "f": "float"},
              crosses=[("city", "n")], crossing_dim=8, hashing_dim=4, num_discretization_bins=3)


def test_concat_matches_keras():
    fs = make_concat()
    with pytest.raises(ValueError, match="adapt"):
        fs(DATA)
    fs.adapt(DATA)
    np.testing.assert_allclose(fs(DATA).numpy(), G["fs_concat"], atol=1e-5)
    single = fs({k: v[2] for k, v in DATA.items()}).numpy()
    np.testing.assert_allclose(single, G["fs_concat"][2], atol=1e-5)


def test_dict_output_and_int_modes_match_keras():
    fs = FS({"city": FS.string_categorical(output_mode="int"), "n": FS.integer_hashed(5),
             "age": "float"}, output_mode="dict",
            crosses=[FS.cross(("n", "city"), crossing_dim=6, output_mode="int")])
    data = {k: DATA[k] for k in ("city", "n", "age")}
    fs.adapt(data)
    out = fs(data)
    assert sorted(out) == ["age", "city", "n", "n_X_city"]
    for k, v in out.items():
        np.testing.assert_allclose(np.asarray(v), G["fs_dict_" + k], atol=1e-6)


def test_adapt_batches_encoded_features_model_and_saving(tmp_path):
    fs = make_concat()
    fs.adapt([{k: v[:3] for k, v in DATA.items()}, {k: v[3:] for k, v in DATA.items()}])
    np.testing.assert_allclose(fs(DATA).numpy(), G["fs_concat"], atol=1e-5)
    enc = fs.get_encoded_features()
    assert tuple(enc.shape) == (None, G["fs_concat"].shape[1])
    assert sorted(fs.get_inputs()) == sorted(DATA)
    # a model trained on the preprocessed features
    x = fs(DATA).numpy()
    y = (DATA["age"] > 30).astype(np.float32)
    model = keras.Sequential([keras.Input((x.shape[1],)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / "fs.keras")
    fs.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(DATA).numpy(), G["fs_concat"], atol=1e-5)
    def plain(cfg):  # JSON types; build_config only records the symbolic call
        if isinstance(cfg, dict):
            return {k: plain(v) for k, v in cfg.items() if k != "build_config"}
        if isinstance(cfg, (list, tuple)):
            return [plain(v) for v in cfg]
        return cfg
    assert plain(loaded.get_config()) == plain(fs.get_config())


def test_errors():
    with pytest.raises(ValueError, match="empty"):
        FS({})
    with pytest.raises(ValueError, match="Invalid feature type"):
        FS({"a": "float_squashed"})
    with pytest.raises(ValueError, match="unknown features"):
        FS({"a": "float"}, crosses=[("a", "b")])
    fs = FS({"a": FS.integer_categorical(output_mode="int")})
    fs.adapt({"a": [1, 2]})
    with pytest.raises(ValueError, match="has not been encoded"):
        fs({"a": [1, 2]})
    with pytest.raises(ValueError, match="dict"):
        fs([1, 2])
