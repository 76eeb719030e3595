"""OpLayer: ops on KerasTensors get their output shape and dtype from shape rules (Keras's
compute_output_spec), not by running the op on zeros; ops without a rule run on a small
well-conditioned stand-in; Python lists convert as Keras's convert_to_tensor does."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import ops
from nnforge.ops import _output_spec


@pytest.fixture
def no_stand_in(monkeypatch):
    """Fail if an op is run to find its output shape."""
    def refuse(fn, *a, **k):
        raise AssertionError(f"{fn.__name__} was run to infer its shape")
    monkeypatch.setattr(_output_spec, "stand_in_spec", refuse)


def test_common_ops_use_shape_rules_without_running(no_stand_in):
    a = keras.Input((None, 3))
    b = keras.Input((4, 3))
    s = keras.Input((3, 3))
    i = keras.Input((4, 3), dtype="int32")
    cases = [
        (a + 1.0, (None, None, 3), "float32"),
        (2.0 - b, (None, 4, 3), "float32"),
        (ops.multiply(b, ops.expand_dims(ops.max(b, axis=1), 1)), (None, 4, 3), "float32"),
        (ops.mean(a, axis=1), (None, 3), "float32"),
        (ops.sum(b, axis=(1, 2), keepdims=True), (None, 1, 1), "float32"),
        (ops.mean(i, axis=-1), (None, 4), "float32"),
        (ops.sum(i, axis=-1), (None, 4), "int32"),
        (ops.argmax(b, axis=1), (None, 3), "int32"),
        (ops.concatenate([a, b], axis=1), (None, None, 3), "float32"),
        (ops.concatenate([b, b], axis=-1), (None, 4, 6), "float32"),
        (ops.stack([b, b, b], axis=1), (None, 3, 4, 3), "float32"),
        (ops.reshape(b, (-1, 12)), (None, 12), "float32"),
        (ops.reshape(b, (2, 6)), (2, 6), "float32"),
        (ops.transpose(b, (0, 2, 1)), (None, 3, 4), "float32"),
        (ops.transpose(b), (3, 4, None), "float32"),
        (ops.squeeze(ops.expand_dims(b, -1), axis=-1), (None, 4, 3), "float32"),
        (ops.matmul(b, s), (None, 4, 3), "float32"),
        (ops.greater(a, 0.5), (None, None, 3), "bool"),
        (ops.where(ops.less(b, 0.0), b, 0.0), (None, 4, 3), "float32"),
        (ops.sqrt(i), (None, 4, 3), "float32"),
        (i + 1, (None, 4, 3), "int32"),
        (i * 0.5, (None, 4, 3), "float32"),
        (i / 2, (None, 4, 3), "float32"),
        (ops.cast(b, "float16"), (None, 4, 3), "float16"),
        (ops.softmax(b, axis=1), (None, 4, 3), "float32"),
    ]
    for k, (t, shape, dtype) in enumerate(cases):
        assert tuple(t.shape) == shape, (k, t.shape, shape)
        assert t.dtype == dtype, (k, t.dtype, dtype)


def test_shape_rule_errors_name_the_op_and_shapes():
    b = keras.Input((4, 3))
    with pytest.raises(ValueError, match=r"add.*\(None, 4, 3\).*\(5,\)"):
        b + np.ones(5, "float32")
    with pytest.raises(ValueError, match="reshape"):
        ops.reshape(keras.Input(batch_shape=(2, 4, 3)), (5, -1))
    with pytest.raises(ValueError, match="matmul"):
        ops.matmul(b, keras.Input((4, 2)))


@pytest.mark.parametrize("make", [
    lambda s, v: ops.inv(s),
    lambda s, v: ops.cholesky(s + ops.transpose(s, (0, 2, 1)) + 8.0 * ops.eye(3)),
    lambda s, v: ops.solve(s + 4.0 * ops.eye(3), v),
    lambda s, v: ops.det(s),
])
def test_linalg_ops_on_symbolic_tensors_build_and_round_trip(tmp_path, make):
    s = keras.Input((3, 3))
    v = keras.Input((3, 2))
    y = make(s, v)
    model = keras.Model([s, v], y)
    rng = np.random.default_rng(0)
    xs = (rng.normal(size=(2, 3, 3)) + 3 * np.eye(3)).astype("float32")
    xv = rng.normal(size=(2, 3, 2)).astype("float32")
    out = model.predict([xs, xv], verbose=0)
    assert out.shape[1:] == tuple(y.shape[1:])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict([xs, xv], verbose=0), out, rtol=1e-6)


def test_stand_in_is_well_conditioned():
    t = keras.Input((3, 3))
    a = _output_spec._stand_in(t, 2)
    assert a.shape == (2, 3, 3)
    assert np.all(np.linalg.eigvalsh(a) > 1.0)  # symmetric positive definite
    np.linalg.cholesky(a)


def test_python_lists_convert_like_keras():
    assert ops.add([1.0], [2.0]).dtype == "float32"
    assert ops.add([1], [2]).dtype == "int32"
    assert ops.add([1, 2.5], [2]).dtype == "float32"
    assert ops.multiply(np.arange(3, dtype="int32"), 0.5).dtype == "float32"
    assert ops.add(np.ones(2), np.ones(2)).dtype == "float64"  # NumPy arrays keep their dtype
    assert ops.add(np.ones(2, "float16"), 1.0).dtype == "float16"
    assert ops.add(np.ones(2, "float32"), np.ones(2, "int32")).dtype == "float32"


def test_op_layer_names_follow_keras_op_names():
    b = keras.Input((4, 3))
    y = b / 2.0
    assert y._keras_history[0].name.startswith("true_divide")
