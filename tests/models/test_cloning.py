"""clone_model: new layers and weights, or the layers clone_function returns, on new inputs or
on the input_tensors given (as Keras 3's keras/src/models/cloning.py)."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers


def _functional():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(5, name="da")(a), layers.Dense(5, name="db")(b)])
    return keras.Model([a, b], layers.Dense(2, name="out")(h), name="two_inputs")


def test_default_clone_has_new_weights_and_same_architecture():
    keras.utils.set_random_seed(0)
    model = _functional()
    clone = keras.models.clone_model(model)
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert all(c is not o for c, o in zip(clone.layers, model.layers))
    clone.set_weights(model.get_weights())
    x = [np.ones((2, 4), "float32"), np.full((2, 3), 0.5, "float32")]
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_clone_function_can_share_or_replace_layers():
    model = _functional()
    shared = keras.models.clone_model(model, clone_function=lambda layer: layer)
    assert all(c is o for c, o in zip(shared.layers[2:], model.layers[2:]))
    x = [np.ones((2, 4), "float32"), np.ones((2, 3), "float32")]
    np.testing.assert_array_equal(shared.predict(x, verbose=0), model.predict(x, verbose=0))

    def relu_dense(layer):
        config = layer.get_config()
        if isinstance(layer, layers.Dense):
            config["activation"] = "relu"
        return type(layer).from_config(config)
    relu = keras.models.clone_model(model, clone_function=relu_dense)
    assert [l.get_config().get("activation") for l in relu.layers
            if isinstance(l, layers.Dense)] == ["relu"] * 3
    relu.set_weights(model.get_weights())
    assert (relu.predict(x, verbose=0) >= 0).all()


def test_input_tensors_become_the_clone_inputs():
    model = _functional()
    new_a, new_b = keras.Input((4,), name="new_a"), keras.Input((3,), name="new_b")
    clone = keras.models.clone_model(model, input_tensors=[new_a, new_b])
    assert clone.inputs[0] is new_a and clone.inputs[1] is new_b
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    t = keras.Input((4,), name="seq_in")
    seq_clone = keras.models.clone_model(seq, input_tensors=t)
    assert seq_clone.inputs[0] is t and seq_clone.output_shape == (None, 3)
    with pytest.raises(ValueError, match="keras.Input"):
        keras.models.clone_model(model, input_tensors=[np.ones((1, 4)), new_b])
    with pytest.raises(ValueError, match="one input tensor"):
        keras.models.clone_model(seq, input_tensors=[t, t])


def test_sequential_clone_keeps_compile_and_refuses_setting_inputs():
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    seq.compile(optimizer="sgd", loss="mse")
    clone = keras.models.clone_model(seq, clone_function=lambda l: type(l).from_config(
        l.get_config()))
    assert clone.compiled and type(clone.optimizer).__name__ == "SGD"
    with pytest.raises(AttributeError):
        seq.inputs = []
