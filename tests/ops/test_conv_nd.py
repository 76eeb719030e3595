"""ops.conv / conv_transpose / max_pool / average_pool of rank 1 and 3, depthwise_conv,
separable_conv, adaptive_average_pool and adaptive_max_pool (ops/conv_nd.py) against Keras 3's
ops (golden file), finite differences, symbolic inputs and errors."""
import numpy as np
import pytest

import nnforge
from nnforge import ops
from tests.golden.make_conv_golden import OP_CASES
from tests.helpers import check_grads
from tests.layers.conv_golden import check_op


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_matches_keras3_ops(name):
    check_op(name)


rng = np.random.default_rng(7)


@pytest.mark.parametrize("fn,arrays", [
    (lambda x, w: ops.conv(x, w, (2, 1, 1), "same", dilation_rate=(1, 2, 1)),
     [rng.standard_normal((1, 3, 4, 2, 2)), rng.standard_normal((2, 2, 1, 2, 2))]),
    (lambda x, w: ops.conv_transpose(x, w, (2, 1, 2), "valid", output_padding=(1, 0, 0)),
     [rng.standard_normal((1, 2, 2, 2, 2)), rng.standard_normal((2, 1, 2, 2, 2))]),
    (lambda x, w: ops.depthwise_conv(x, w, 1, "same"),
     [rng.standard_normal((1, 5, 2)), rng.standard_normal((3, 2, 2))]),
    (lambda x: ops.average_pool(x, (2, 2, 1), 1, "same"), [rng.standard_normal((1, 3, 3, 2, 2))]),
])
def test_gradients_match_finite_differences(fn, arrays):
    check_grads(fn, arrays, eps=1e-3)


def test_max_pool_3d_matches_a_plain_reference():
    x = rng.standard_normal((2, 4, 5, 6, 3)).astype("float32")
    y = ops.max_pool(x, (2, 3, 2), (2, 1, 2)).numpy()
    ref = np.empty(y.shape, "float32")
    for d in range(y.shape[1]):
        for h in range(y.shape[2]):
            for w in range(y.shape[3]):
                window = x[:, 2 * d:2 * d + 2, h:h + 3, 2 * w:2 * w + 2]
                ref[:, d, h, w] = window.max(axis=(1, 2, 3))
    np.testing.assert_array_equal(y, ref)


def test_adaptive_pool_bins_and_upsizing():
    x = np.arange(5.0, dtype="float32").reshape(1, 5, 1)
    np.testing.assert_allclose(ops.adaptive_average_pool(x, 2).numpy().ravel(), [1.0, 3.0])
    # 7 bins over 5 steps: [0,1) [0,2) [1,3) [2,3) [2,4) [3,5) [4,5) (as keras.ops gives)
    np.testing.assert_allclose(ops.adaptive_max_pool(x, 7).numpy().ravel(),
                               [0, 1, 2, 2, 3, 4, 4])


def test_symbolic_inputs():
    x = nnforge.Input((4, 5, 6, 2))
    assert tuple(ops.adaptive_max_pool(x, 2).shape) == (None, 2, 2, 2, 2)
    assert tuple(ops.max_pool(x, 2).shape) == (None, 2, 2, 3, 2)


def test_errors():
    with pytest.raises(ValueError, match="depthwise_conv.*channels"):
        ops.depthwise_conv(np.ones((1, 5, 3)), np.ones((3, 2, 1)))
    with pytest.raises(ValueError, match="conv_transpose.*output_padding"):
        ops.conv_transpose(np.ones((1, 5, 2)), np.ones((3, 4, 2)), 2, output_padding=2)
    with pytest.raises(ValueError, match="adaptive_max_pool.*3-D, 4-D or 5-D"):
        ops.adaptive_max_pool(np.ones((2, 3)), 2)
    with pytest.raises(ValueError, match="separable_conv.*pointwise"):
        ops.separable_conv(np.ones((1, 5, 2)), np.ones((3, 2, 1)), np.ones((2, 2, 3)))
    with pytest.raises(ValueError, match="conv.*channels"):
        ops.conv(np.ones((1, 3, 3, 3, 2)), np.ones((2, 2, 2, 3, 1)))
