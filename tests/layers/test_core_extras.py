"""Lambda (with Keras's safe-mode rule), Identity, Dot / layers.dot, GaussianNoise,
GaussianDropout, AlphaDropout, ActivityRegularization, InputSpec, Wrapper, Pipeline and
ReversibleEmbedding."""
import numpy as np
import pytest

import nnforge
from nnforge import layers, ops
from tests.golden.attn_check import check_layer_case
from tests.helpers import run_layer_test


@pytest.mark.parametrize("case", ["dot_axes", "dot_normalize", "reversible_embedding"])
def test_matches_keras3(case):
    check_layer_case(case)


# ---- Lambda -------------------------------------------------------------------------------------

def test_lambda_in_process_and_symbolic():
    layer = layers.Lambda(lambda x, k: x * k + 1.0, arguments={"k": 3.0})
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(layer(x).numpy(), 4.0)
    inp = nnforge.Input((3,))
    out = layers.Lambda(lambda t: ops.sum(t, axis=-1, keepdims=True))(inp)
    assert out.shape == (None, 1)
    fixed = layers.Lambda(lambda t: ops.concatenate([t, t], axis=-1), output_shape=(6,))(inp)
    assert fixed.shape == (None, 6)


def test_lambda_saved_lambda_needs_safe_mode_false(tmp_path):
    model = nnforge.Sequential([nnforge.Input((3,)), layers.Dense(2),
                                layers.Lambda(lambda x: x * 2.0 + 1.0)])
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    expected = model.predict(x, verbose=0)
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="Requested the deserialization of a `Lambda` layer "
                                         "whose `function` is a Python lambda"):
        nnforge.saving.load_model(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        nnforge.saving.load_model(path, safe_mode=True)
    restored = nnforge.saving.load_model(path, safe_mode=False)
    np.testing.assert_allclose(restored.predict(x, verbose=0), expected, rtol=1e-6)


def test_lambda_config_from_config_is_safe_by_default():
    config = layers.Lambda(lambda x: x + 1.0).get_config()
    assert config["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.Lambda.from_config(config)
    with nnforge.saving.serialization.SafeModeScope(False):
        fn_layer = layers.Lambda.from_config(config)
    np.testing.assert_allclose(fn_layer(np.zeros((1, 2), np.float32)).numpy(), 1.0)


def test_lambda_named_function_loads_in_safe_mode(tmp_path):
    @nnforge.saving.register_keras_serializable(package="attn_test")
    def double(x):
        return ops.multiply(x, 2.0)

    model = nnforge.Sequential([nnforge.Input((3,)), layers.Lambda(double)])
    model.save(tmp_path / "named.keras")
    restored = nnforge.saving.load_model(tmp_path / "named.keras")
    np.testing.assert_allclose(restored.predict(np.ones((1, 3), np.float32), verbose=0), 2.0)


def test_identity_keeps_mask(tmp_path):
    run_layer_test(layers.Identity, {}, input_shape=(2, 3), expected_output_shape=(2, 3),
                   check_gradients=False, tmp_path=tmp_path)
    x = layers.Embedding(5, 2, mask_zero=True)(np.array([[1, 0]]))
    np.testing.assert_array_equal(layers.Identity()(x)._keras_mask.numpy(), [[True, False]])


# ---- Dot ----------------------------------------------------------------------------------------

def test_dot_shapes_config_and_functional():
    a, b = nnforge.Input((3, 5)), nnforge.Input((4, 3))
    out = layers.Dot(axes=(1, 2))([a, b])
    assert out.shape == (None, 5, 4)
    x, y = nnforge.Input((4,)), nnforge.Input((4,))
    assert layers.dot([x, y], axes=1, normalize=True).shape == (None, 1)
    config = layers.Dot(axes=(1, 2), normalize=True).get_config()
    assert config["axes"] == (1, 2) and config["normalize"] is True
    with pytest.raises(ValueError, match="two elements"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="Incompatible input shapes"):
        layers.Dot(axes=1)([np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)])


# ---- noise and regularization -------------------------------------------------------------------

def test_gaussian_noise_statistics():
    x = np.zeros((200, 100), np.float32)
    layer = layers.GaussianNoise(0.5, seed=1)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert abs(y.std() - 0.5) < 0.02 and abs(y.mean()) < 0.02
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(2.0)
    assert layers.GaussianNoise(0.1, seed=3).get_config()["seed"] == 3


def test_gaussian_dropout_statistics_and_gradient():
    x = np.ones((200, 100), np.float32)
    layer = layers.GaussianDropout(0.2, seed=0)
    y = layer(x, training=True).numpy()
    assert abs(y.mean() - 1) < 0.02 and abs(y.std() - np.sqrt(0.25)) < 0.02
    xt = ops.convert_to_tensor(x)
    with nnforge.GradientTape() as tape:
        tape.watch(xt)
        loss = ops.sum(layer(xt, training=True))
    g = tape.gradient(loss, xt).numpy()
    assert g.std() > 0.3  # the noise multiplies the gradient too


def test_alpha_dropout_keeps_mean_and_variance():
    x = np.random.default_rng(0).standard_normal((400, 100)).astype(np.float32)
    layer = layers.AlphaDropout(0.2, seed=0)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert abs(y.mean()) < 0.03 and abs(y.std() - 1) < 0.03
    assert layers.AlphaDropout(0.1, noise_shape=(None, 1)).get_config()["noise_shape"] == \
        (None, 1)


def test_activity_regularization_adds_loss():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    x = np.array([[1.0, -2.0]], np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.1 * 3 + 0.01 * 5, rtol=1e-6)
    config = layer.get_config()
    assert config["l1"] == 0.1 and "activity_regularizer" not in config
    model = nnforge.Sequential([nnforge.Input((2,)), layers.Dense(1),
                                layers.ActivityRegularization(l2=1.0)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32), epochs=1, verbose=0)


# ---- InputSpec, Wrapper, Pipeline ---------------------------------------------------------------

def test_input_spec_is_enforced():
    class Needs3(layers.Layer):
        def __init__(self):
            super().__init__()
            self.input_spec = layers.InputSpec(ndim=2, axes={-1: 3})

    layer = Needs3()
    layer(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        layer(np.zeros((2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="expected axis -1"):
        layer(nnforge.Input((5,)))
    spec = layers.InputSpec(shape=(None, 4), dtype="float32")
    assert spec.ndim == 2 and repr(spec) == "InputSpec(dtype=float32, shape=(None, 4), ndim=2)"
    assert layers.InputSpec.from_config(spec.get_config()).shape == (None, 4)
    assert nnforge.InputSpec is layers.InputSpec


def test_wrapper_base():
    class Twice(layers.Wrapper):
        def call(self, inputs):
            return ops.multiply(self.layer(inputs), 2.0)

    wrapped = Twice(layers.Dense(2, kernel_initializer="ones"))
    np.testing.assert_allclose(wrapped(np.ones((1, 3), np.float32)).numpy(), 6.0)
    assert len(wrapped.trainable_weights) == 2
    config = wrapped.get_config()
    assert config["layer"]["class_name"] == "Dense"
    clone = Twice.from_config(config)
    assert clone.layer.units == 2
    with pytest.raises(ValueError, match="isn't a supported layer type"):
        layers.Wrapper("dense")


def test_pipeline(tmp_path):
    pipe = layers.Pipeline([layers.Rescaling(2.0), layers.Dense(3), layers.Identity()])
    x = np.ones((2, 4), np.float32)
    y = pipe(x).numpy()
    assert y.shape == (2, 3) and len(pipe.layers) == 3
    config = pipe.get_config()
    assert set(config) == {"layers", "name"}
    model = nnforge.Sequential([nnforge.Input((4,)), pipe])
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "pipe.keras")
    restored = nnforge.saving.load_model(tmp_path / "pipe.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="layers"):
        layers.Pipeline.from_config({"name": "p"})


def test_reversible_embedding(tmp_path):
    emb = layers.ReversibleEmbedding(10, 4)
    ids = np.array([[1, 2, 3]])
    h = emb(ids)
    logits = emb(h, reverse=True)
    assert logits.shape == (1, 3, 10)
    np.testing.assert_allclose(logits.numpy(), h.numpy() @ emb.embeddings.numpy().T, rtol=1e-5)
    inp = nnforge.Input((3,), dtype="int32")
    shared = layers.ReversibleEmbedding(10, 4, logit_soft_cap=5.0)
    out = shared(shared(inp), reverse=True)
    assert out.shape == (None, 3, 10)
    model = nnforge.Model(inp, out)
    expected = model.predict(ids, verbose=0)
    model.save(tmp_path / "rev.keras")
    restored = nnforge.saving.load_model(tmp_path / "rev.keras")
    np.testing.assert_allclose(restored.predict(ids, verbose=0), expected, rtol=1e-6)
    assert np.abs(expected).max() <= 5.0
    config = layers.ReversibleEmbedding(10, 4, tie_weights=False).get_config()
    assert config["tie_weights"] is False and config["logit_soft_cap"] is None
