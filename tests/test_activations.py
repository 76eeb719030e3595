"""keras.activations added for issue #17 (celu, glu, hard_shrink, hard_silu/hard_swish,
hard_tanh, log_sigmoid, mish, soft_shrink, sparse_plus, sparse_sigmoid, sparsemax, squareplus,
tanh_shrink, threshold, deserialize): values and gradients against Keras 3 golden outputs,
lookup by name, and use in layers with a saving round trip."""
import numpy as np
import pytest

import nnforge
from nnforge import activations
from tests.golden.opsnn_cases import check_case
from tests.helpers import check_grads

NAMES = ["celu", "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid",
         "mish", "soft_shrink", "sparse_plus", "sparse_sigmoid", "squareplus", "tanh_shrink"]


@pytest.mark.parametrize("name", NAMES)
def test_activation_matches_keras(name):
    check_case(f"act.{name}", activations.get(name))


def test_threshold_matches_keras():
    check_case("act.threshold", lambda x: activations.threshold(x, 0.3, -2.0))


def test_mish_grads_finite_differences():
    check_grads(activations.mish, [np.linspace(-4, 4, 12).reshape(3, 4)])


@pytest.mark.parametrize("name", NAMES + ["sparsemax", "threshold"])
def test_lookup_serialize_deserialize(name):
    fn = activations.get(name)
    assert activations.serialize(fn) in (name, "hard_silu")
    assert activations.deserialize(name) is fn
    assert activations.deserialize({"module": "keras.activations", "class_name": "function",
                                    "config": name, "registered_name": None}) is fn


def test_hard_swish_is_hard_silu_and_custom_objects():
    assert activations.get("hard_swish") is activations.hard_silu

    def my_act(x):
        return x * 2

    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.deserialize("no_such_activation")


@pytest.mark.parametrize("act", ["mish", "hard_silu", "celu", "squareplus", "sparsemax"])
def test_dense_with_new_activation_saves_and_loads(tmp_path, act):
    model = nnforge.Sequential([nnforge.Input((5,)), nnforge.layers.Dense(4, activation=act)])
    x = np.random.default_rng(0).standard_normal((3, 5)).astype("float32")
    y = model.predict(x, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = nnforge.saving.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), y, rtol=1e-6)
    assert again.layers[-1].get_config()["activation"] == act
