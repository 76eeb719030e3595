"""keras.utils breadth: Config, standardize_dtype, is_keras_tensor / get_source_inputs,
split_dataset (against Keras's split, golden from tests/golden/make_misc_golden.py),
interactive logging, pack/unpack, the registry re-exports and clear_session."""
import logging
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import utils

G = np.load(Path(__file__).resolve().parents[1] / "golden" / "misc.npz")


def test_config():
    c = utils.Config(learning_rate=0.1, momentum=0.9)
    c.seed = 123
    c["use_ema"] = True
    assert c.seed == 123 and c["learning_rate"] == 0.1 and "use_ema" in c
    assert list(c) == sorted(["learning_rate", "momentum", "seed", "use_ema"])
    assert c.as_dict() == {"learning_rate": 0.1, "momentum": 0.9, "seed": 123,
                           "use_ema": True}
    assert c.to_json().startswith('{"learning_rate": 0.1')
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        c.momentun
    c.freeze()
    assert c.frozen
    with pytest.raises(ValueError, match="frozen"):
        c.seed = 1
    with pytest.raises(ValueError, match="frozen"):
        del c["seed"]
    c.unfreeze()
    c.pop("seed")
    assert len(c) == 3 and c.get("seed", 5) == 5


def test_standardize_dtype():
    assert utils.standardize_dtype(None) == "float32"
    assert utils.standardize_dtype(np.float32) == "float32"
    assert utils.standardize_dtype(np.dtype("int32")) == "int32"
    assert utils.standardize_dtype(int) == "int64"
    assert utils.standardize_dtype(float) == "float32"
    assert utils.standardize_dtype(bool) == "bool"
    assert utils.standardize_dtype("int") == "int64"
    assert utils.standardize_dtype("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match="Invalid dtype"):
        utils.standardize_dtype("float7")


def test_is_keras_tensor_and_get_source_inputs():
    a, b = keras.Input((3,)), keras.Input((3,))
    h = keras.layers.Add()([a, b])
    out = keras.layers.Dense(2)(keras.layers.Concatenate()([h, a]))
    assert utils.is_keras_tensor(a) and utils.is_keras_tensor(out)
    assert not utils.is_keras_tensor(np.ones(3))
    assert not utils.is_keras_tensor(keras.ops.convert_to_tensor(np.ones(3)))
    src = utils.get_source_inputs(out)
    assert len(src) == 2 and src[0] is a and src[1] is b
    assert utils.get_source_inputs(a) == [a]
    x = np.ones(3)
    assert utils.get_source_inputs(x) is x


def test_split_dataset_matches_keras():
    data = (np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10, dtype=np.int64))
    (lx, ly), (rx, ry) = utils.split_dataset(data, left_size=0.7)
    np.testing.assert_array_equal(ly, G["split_plain_left"])
    np.testing.assert_array_equal(ry, G["split_plain_right"])
    np.testing.assert_array_equal(lx, data[0][ly])
    (lx, ly), (rx, ry) = utils.split_dataset(data, left_size=6, right_size=3, shuffle=True,
                                             seed=7)
    np.testing.assert_array_equal(ly, G["split_shuffle_left"])
    np.testing.assert_array_equal(ry, G["split_shuffle_right"])


def test_split_dataset_forms_and_errors():
    x = np.random.default_rng(0).random((1000, 4))
    left, right = utils.split_dataset(x, right_size=0.25)
    assert left.shape == (750, 4) and right.shape == (250, 4)
    np.testing.assert_array_equal(np.concatenate([left, right]), x)
    samples = [(i, i * 2) for i in range(10)]
    left, right = utils.split_dataset(samples, left_size=0.5)
    assert left == samples[:5] and right == samples[5:]
    lst = [np.arange(4), np.arange(4) * 10]
    left, right = utils.split_dataset(lst, left_size=1)
    assert isinstance(left, list) and left[1].tolist() == [0]
    with pytest.raises(ValueError, match="At least one|at least one"):
        utils.split_dataset(x)
    with pytest.raises(ValueError, match="left_size"):
        utils.split_dataset(x, left_size=1.5)
    with pytest.raises(ValueError, match="greater than 1"):
        utils.split_dataset(x, left_size=0.6, right_size=0.6)
    with pytest.raises(TypeError, match="left_size"):
        utils.split_dataset(x, left_size="half")
    with pytest.raises(ValueError, match="same length"):
        utils.split_dataset((np.ones(3), np.ones(4)), left_size=1)
    with pytest.raises(ValueError, match="empty"):
        utils.split_dataset(np.ones(3), left_size=0.1)


def test_interactive_logging(capsys, caplog):
    assert utils.is_interactive_logging_enabled()
    utils.disable_interactive_logging()
    try:
        assert not utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="nnforge"):
            utils.print_msg("hello log")
        assert "hello log" in caplog.text
        assert "hello log" not in capsys.readouterr().out
    finally:
        utils.enable_interactive_logging()
    utils.print_msg("hello out")
    assert "hello out" in capsys.readouterr().out


def test_pack_unpack_and_registry_exports():
    assert utils.pack_x_y_sample_weight(1, 2) == (1, 2)
    assert utils.unpack_x_y_sample_weight((1, 2, 3)) == (1, 2, 3)
    assert utils.unpack_x_y_sample_weight(5) == (5, None, None)

    @keras.saving.register_keras_serializable(package="MiscTest")
    class Scale(keras.layers.Layer):
        pass
    assert utils.get_registered_name(Scale) == "MiscTest>Scale"
    assert utils.get_registered_object("MiscTest>Scale") is Scale
    with utils.CustomObjectScope({"Thing": Scale}):
        assert utils.get_registered_object("Thing") is Scale
    layer = keras.layers.Dense(2, name="d")
    again = utils.deserialize_keras_object(utils.serialize_keras_object(layer))
    assert type(again) is keras.layers.Dense and again.units == 2


def test_clear_session_resets_names():
    utils.clear_session()
    a = keras.layers.Dense(1)
    utils.clear_session(free_memory=False)
    b = keras.layers.Dense(1)
    assert a.name == b.name == "dense"
