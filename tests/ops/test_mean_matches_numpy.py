"""ops.mean computes float32 means without NumPy's Python wrapper: the results must be NumPy's,
bit for bit (values, dtype, shape, scalar-ness), and its gradient the broadcast 1/count."""
import numpy as np
import pytest

from nnforge import GradientTape, Variable, ops

RNG = np.random.default_rng(12)


@pytest.mark.parametrize("shape,axis", [((32,), None), ((32,), 0), ((1,), None), ((7, 5), 1),
                                        ((7, 5), (0, 1)), ((4, 3, 6), (0, 2)), ((4, 3, 6), -1),
                                        ((), None), ((3, 0), 0), ((1000, 33), None)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_mean_is_numpys(shape, axis, keepdims):
    for scale in (1e-3, 1.0, 1e4):
        a = (RNG.standard_normal(shape) * scale).astype(np.float32)
        got = ops.mean(a, axis=axis, keepdims=keepdims).data
        with np.errstate(all="ignore"):
            want = np.mean(a, axis=axis, keepdims=keepdims)
        assert type(got) is type(want)
        assert got.dtype == want.dtype and np.shape(got) == np.shape(want)
        np.testing.assert_array_equal(got, want)


def test_mean_gradient_of_a_scalar_mean():
    v = Variable(RNG.standard_normal((6, 4)).astype(np.float32))
    with GradientTape() as tape:
        y = ops.mean(v)
    g = tape.gradient(y, v)
    np.testing.assert_array_equal(g.numpy(), np.full((6, 4), np.float32(1) / np.float32(24)))
    with GradientTape() as tape:
        y = ops.sum(v)
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), np.ones((6, 4), np.float32))
