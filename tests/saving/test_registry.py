"""The registry of serializable classes: users' layers through register_keras_serializable and
custom_objects, the public lookup functions, safe mode, and saving's place below layers/models."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops, saving

PYTHON_DIR = Path(keras.__file__).resolve().parent.parent


class Scale(layers.Layer):
    """A custom layer with a weight and a config argument: y = x * w * factor."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="random_uniform",
                                 name="w")

    def call(self, x):
        return ops.multiply(ops.multiply(x, self.w), self.factor)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


@saving.register_keras_serializable(package="NnforgeTests")
class RegisteredScale(Scale):
    pass


def _model(layer_cls):
    return keras.Sequential([keras.Input((4,)), layers.Dense(3), layer_cls(factor=3.0, name="s")])


def test_registered_custom_layer_round_trips_through_keras_file(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model(RegisteredScale)
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    model.save(tmp_path / "m.keras")
    config = json.loads(model.to_json())
    assert config["config"]["layers"][-1]["registered_name"] == "NnforgeTests>RegisteredScale"
    restored = saving.load_model(tmp_path / "m.keras")
    assert type(restored.layers[-1]) is RegisteredScale and restored.layers[-1].factor == 3.0
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unregistered_custom_layer_needs_custom_objects(tmp_path):
    keras.utils.set_random_seed(1)
    model = _model(Scale)
    x = np.random.default_rng(1).random((5, 4)).astype("float32")
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'.*custom_objects"):
        saving.load_model(tmp_path / "m.keras")
    restored = saving.load_model(tmp_path / "m.keras", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    with keras.utils.custom_object_scope({"Scale": Scale}):
        scoped = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(scoped.predict(x, verbose=0), model.predict(x, verbose=0))


def test_custom_layer_inside_functional_model_and_wrapper(tmp_path):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((3, 4))
    h = layers.TimeDistributed(Scale(factor=0.5))(inputs)
    model = keras.Model(inputs, layers.Flatten()(h))
    x = np.random.default_rng(2).random((2, 3, 4)).astype("float32")
    model.save(tmp_path / "f.keras")
    restored = keras.models.load_model(tmp_path / "f.keras", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_lookup_functions():
    assert saving.get_registered_name(RegisteredScale) == "NnforgeTests>RegisteredScale"
    assert saving.get_registered_name(layers.Dense) == "Dense"
    assert saving.get_registered_object("NnforgeTests>RegisteredScale") is RegisteredScale
    assert saving.get_custom_objects()["NnforgeTests>RegisteredScale"] is RegisteredScale
    assert saving.get_registered_object("Scale") is None
    assert saving.get_registered_object("Scale", custom_objects={"Scale": Scale}) is Scale
    with saving.custom_object_scope({"Scale": Scale}):
        assert saving.get_registered_object("Scale") is Scale
    assert saving.get_registered_object("Scale") is None
    assert keras.utils.custom_object_scope is saving.custom_object_scope


def test_serialize_and_deserialize_keras_object_for_every_family():
    for obj, attr in ((layers.Dense(3, activation="relu", name="d"), "units"),
                      (keras.losses.Huber(delta=2.0), "name"),
                      (keras.optimizers.Adam(learning_rate=0.01), "learning_rate"),
                      (keras.initializers.HeNormal(seed=3), "seed"),
                      (keras.regularizers.L2(0.1), "l2"),
                      (keras.constraints.MaxNorm(1.5), "max_value"),
                      (keras.metrics.Precision(thresholds=0.3), "name")):
        config = saving.serialize_keras_object(obj)
        assert config["class_name"] == type(obj).__name__ and config["module"].startswith("keras")
        back = saving.deserialize_keras_object(json.loads(json.dumps(config)))
        assert type(back) is type(obj)
        assert getattr(back, attr) == getattr(obj, attr)
        assert back.get_config() == obj.get_config()
    # A loss and a metric share the class name MeanSquaredError: the module decides.
    loss = saving.deserialize_keras_object(
        saving.serialize_keras_object(keras.losses.MeanSquaredError()))
    metric = saving.deserialize_keras_object(
        saving.serialize_keras_object(keras.metrics.MeanSquaredError()))
    assert isinstance(loss, keras.losses.Loss) and isinstance(metric, keras.metrics.Metric)


def test_safe_mode_refuses_lambda_configs():
    with pytest.raises(ValueError, match="safe mode"):
        saving.deserialize_keras_object({"class_name": "__lambda__", "config": {"code": "x"}})


def test_register_requires_get_config():
    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_importing_saving_loads_no_layers_or_models():
    """``nnforge/__init__.py`` imports every family, so this loads the package as a bare
    namespace (its ``__init__`` not run) and imports ``nnforge.saving`` alone."""
    code = (
        "import sys, types\n"
        f"pkg = types.ModuleType('nnforge'); pkg.__path__ = [{str(PYTHON_DIR / 'nnforge')!r}]\n"
        "sys.modules['nnforge'] = pkg\n"
        "import nnforge.saving, nnforge.saving.keras_file, nnforge.saving.weights_file\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('nnforge.layers', "
        "'nnforge.models')))\n"
        "assert not bad, bad\n")
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
