"""KerasFileEditor on Keras 3's own files (structure against Keras's editor, golden from
tests/golden/make_misc_golden.py) and on nnforge's: edit, resave, load, compare; and the
keras.saving.save_weights / load_weights functions."""
import json
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge.saving import KerasFileEditor
from tests.golden.make_misc_golden import flat_weights

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
G = np.load(GOLDEN / "misc.npz")


def test_structure_of_keras_files_matches_keras_editor():
    ours = flat_weights(KerasFileEditor(str(GOLDEN / "keras3_cnn.keras")).weights_dict)
    assert ours == json.loads(str(G["editor_keras3_cnn"]))
    # Keras's editor drops the weights of a layer nested in another (the LSTM's cell); ours
    # keeps them, and agrees on everything Keras shows
    rnn = flat_weights(KerasFileEditor(str(GOLDEN / "keras3_rnn.keras")).weights_dict)
    keras_view = json.loads(str(G["editor_keras3_rnn"]))
    assert all(rnn[k] == v for k, v in keras_view.items())
    assert any("cell" in k for k in rnn)


def _model():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a"),
                          keras.layers.Dense(2, name="b")])
    m.compile(optimizer="adam", loss="mse")
    return m


def test_edit_resave_and_load(tmp_path, capsys):
    model = _model()
    path = tmp_path / "m.weights.h5"
    keras.saving.save_weights(model, path)
    editor = KerasFileEditor(str(path))
    editor.summary()
    out = capsys.readouterr().out
    assert "Weights structure" in out and "dense_1" in out and "shape=(4, 3)" in out
    # as Keras 3, save_weights wrote the compiled model's optimizer state too
    assert editor.compare(model) == {"status": "success", "error_count": 0, "match_count": 14}
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    assert editor.compare(plain) == {"status": "error", "error_count": 1, "match_count": 4}
    new_kernel = np.full((4, 3), 0.5, np.float32)
    editor.delete_weight("layers/dense", "0")
    editor.add_weights("layers/dense", {"0": new_kernel})
    out_path = tmp_path / "edited.weights.h5"
    editor.resave_weights(str(out_path))
    other = _model()
    keras.saving.load_weights(other, out_path)
    np.testing.assert_array_equal(other.layers[0].kernel.numpy(), new_kernel)
    np.testing.assert_array_equal(other.layers[1].kernel.numpy(), model.layers[1].kernel.numpy())


def test_rename_delete_add_and_compare_errors(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    editor = KerasFileEditor(str(path))
    assert editor.config["class_name"] == "Sequential"
    assert "optimizer" in editor.weights_dict
    with pytest.raises(ValueError, match="more than once"):
        editor.delete_weight("0", "x")
    editor.rename_object("dense_1", "dense_9")
    assert "dense_9" in editor.weights_dict["layers"]
    report = editor.compare(model)
    assert report["status"] == "error" and report["error_count"] == 2
    editor.delete_object("layers/dense_9")
    editor.add_object("layers/dense_1", {"0": np.zeros((3, 2), np.float32),
                                         "1": np.zeros(2, np.float32)})
    assert editor.compare(model)["status"] == "success"
    with pytest.raises(ValueError, match="not found"):
        editor.delete_object("layers/nothing")
    with pytest.raises(ValueError, match="does not appear"):
        editor.delete_object("nothing")
    with pytest.raises(ValueError, match="should be a dict"):
        editor.add_object("layers/x", [1, 2])
    with pytest.raises(ValueError, match="leaf name"):
        editor.rename_object("dense", "layers/x")
    with pytest.raises(ValueError, match=".weights.h5"):
        editor.save(str(tmp_path / "x.h5"))
    with pytest.raises(ValueError, match="extension"):
        KerasFileEditor(str(tmp_path / "x.txt"))


def test_nested_layer_weights_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    path = tmp_path / "rnn.weights.h5"
    m.save_weights(path)
    editor = KerasFileEditor(str(path))
    editor.save(str(tmp_path / "again.weights.h5"))
    other = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    other.load_weights(tmp_path / "again.weights.h5")
    for a, b in zip(m.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_saving_functions_errors(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match="max_shard_size|sharded"):
        keras.saving.save_weights(model, tmp_path / "m.weights.json", max_shard_size=1)
    with pytest.raises(ValueError, match=".weights.h5"):
        keras.saving.save_weights(model, tmp_path / "m.h5")
    with pytest.raises(ValueError, match="invalid keyword"):
        keras.saving.load_weights(model, tmp_path / "m.weights.h5", by_name=True)
