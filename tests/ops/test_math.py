"""nnforge.ops element-wise, reduction and shape ops: values vs NumPy, gradients vs finite
differences, and input conversion (any dtype, any strides)."""
import numpy as np
import pytest

import nnforge
from nnforge import ops
from tests.helpers import check_grads

rng = np.random.default_rng(0)


@pytest.mark.parametrize("name,ref", [
    ("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
    ("divide", np.divide), ("maximum", np.maximum), ("minimum", np.minimum)])
def test_binary_values_and_broadcast_grads(name, ref):
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4,)) + (3.0 if name == "divide" else 0.0)
    a = np.where(np.abs(a - b) < 0.05, a + 0.2, a)  # away from the max/min kink
    np.testing.assert_allclose(getattr(ops, name)(a, b).numpy(), ref(a, b), rtol=1e-6)
    check_grads(lambda x, y: getattr(ops, name)(x, y), [a, b])


@pytest.mark.parametrize("name", ["exp", "square", "negative", "abs", "sin", "cos"])
def test_unary_grads(name):
    a = rng.standard_normal((2, 5))
    check_grads(getattr(ops, name), [a])


def test_log_sqrt_positive():
    a = rng.uniform(0.5, 2.0, (4, 3))
    np.testing.assert_allclose(ops.log(a).numpy(), np.log(a), rtol=1e-6)
    check_grads(ops.log, [a])
    check_grads(ops.sqrt, [a])


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ((0, 2), False)])
def test_reductions(axis, keepdims):
    a = rng.standard_normal((3, 4, 5))
    np.testing.assert_allclose(ops.sum(a, axis=axis, keepdims=keepdims).numpy(),
                               a.sum(axis=axis, keepdims=keepdims), rtol=1e-5)
    np.testing.assert_allclose(ops.mean(a, axis=axis, keepdims=keepdims).numpy(),
                               a.mean(axis=axis, keepdims=keepdims), rtol=1e-5)
    check_grads(lambda x: ops.sum(x, axis=axis, keepdims=keepdims), [a])
    check_grads(lambda x: ops.mean(x, axis=axis, keepdims=keepdims), [a])
    check_grads(lambda x: ops.max(x, axis=axis, keepdims=keepdims), [a])


def test_shape_ops_and_grads():
    a = rng.standard_normal((2, 3, 4))
    assert ops.reshape(a, (6, 4)).shape == (6, 4)
    assert ops.transpose(a, (2, 0, 1)).shape == (4, 2, 3)
    assert ops.expand_dims(a, 1).shape == (2, 1, 3, 4)
    check_grads(lambda x: ops.reshape(x, (4, 6)), [a])
    check_grads(lambda x: ops.transpose(x, (1, 2, 0)), [a])
    check_grads(lambda x, y: ops.concatenate([x, y], axis=1), [a, a[:, :2]])
    check_grads(lambda x: x[:, 1:, ::2], [a])
    with pytest.raises(ValueError, match="cannot reshape"):
        ops.reshape(a, (5, 5))


def test_matmul_2d_and_batched():
    a, b = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    np.testing.assert_allclose(ops.matmul(a, b).numpy(), a @ b, rtol=1e-5, atol=1e-5)
    check_grads(ops.matmul, [a, b])
    a3, b3 = rng.standard_normal((2, 4, 3)), rng.standard_normal((3, 5))
    np.testing.assert_allclose(ops.matmul(a3, b3).numpy(), a3 @ b3, rtol=1e-5, atol=1e-5)
    check_grads(ops.matmul, [a3, b3])
    with pytest.raises(ValueError, match="inner dimensions"):
        ops.matmul(a, a)


def test_inputs_of_any_dtype_and_strides():
    base = rng.standard_normal((8, 6))
    strided = base[::2, ::3]  # non-contiguous
    assert not strided.flags.c_contiguous
    np.testing.assert_allclose(ops.relu(strided).numpy(), np.maximum(strided, 0), rtol=1e-6)
    ints = np.arange(12, dtype=np.int16).reshape(3, 4)
    np.testing.assert_allclose(ops.sigmoid(ints).numpy(), 1 / (1 + np.exp(-ints)), rtol=1e-5)
    f64 = rng.standard_normal((4, 3))
    assert ops.softmax(f64).dtype == "float32"
    np.testing.assert_allclose(ops.matmul(f64.T[::1], f64).numpy(), f64.T @ f64, rtol=1e-5,
                               atol=1e-5)
    assert ops.add([1, 2], 3).numpy().tolist() == [4, 5]


def test_non_numeric_input_is_a_clear_type_error():
    with pytest.raises(TypeError, match="numeric"):
        ops.relu(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        ops.add(object(), 1)


def test_convert_to_tensor_and_numpy():
    t = ops.convert_to_tensor([[1.0, 2.0]])
    assert isinstance(t, nnforge.Tensor) and t.dtype == "float32"
    assert ops.convert_to_numpy(t).tolist() == [[1.0, 2.0]]
    assert np.asarray(t).shape == (1, 2)
    assert (t + 1).numpy().tolist() == [[2.0, 3.0]]


def test_one_hot_and_argmax():
    y = ops.one_hot(np.array([0, 2, 1]), 3).numpy()
    np.testing.assert_array_equal(y, np.eye(3)[[0, 2, 1]])
    assert ops.argmax(y).numpy().tolist() == [0, 2, 1]
