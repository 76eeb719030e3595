"""ops.dot_product_attention, ops.layer_normalization, ops.rms_normalization and ops.einsum:
Keras 3 goldens (tests/golden/attn.npz), finite-difference gradients, NumPy references and
errors."""
import numpy as np
import pytest

import nnforge
from nnforge import ops
from tests.golden.attn_check import check_op_case
from tests.golden.attn_cases import OP_CASES
from tests.helpers import check_grads


@pytest.mark.parametrize("case", sorted(OP_CASES))
def test_matches_keras3(case):
    check_op_case(case)


def _attention_reference(q, k, v, mask=None, causal=False, scale=None):
    """Plain NumPy (float64) attention over (B, T, N, H) / (B, S, K, H)."""
    b, t, n, h = q.shape
    groups = n // k.shape[2]
    k = np.repeat(k, groups, axis=2).astype(np.float64)
    v = np.repeat(v, groups, axis=2).astype(np.float64)
    scale = 1 / np.sqrt(h) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q.astype(np.float64), k) * scale
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask
    if causal:
        keep &= np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, -1e30)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", p, v)


@pytest.mark.parametrize("shape_q,shape_k,causal", [
    ((1, 1, 1, 1), (1, 1, 1, 1), False),
    ((2, 7, 4, 8), (2, 5, 4, 8), False),
    ((3, 6, 6, 4), (3, 6, 3, 4), True),
    ((1, 9, 2, 16), (1, 9, 1, 16), True),
])
def test_dot_product_attention_reference(shape_q, shape_k, causal):
    rng = np.random.default_rng(0)
    q = rng.standard_normal(shape_q).astype(np.float32)
    k = rng.standard_normal(shape_k).astype(np.float32)
    v = rng.standard_normal(shape_k).astype(np.float32)
    got = ops.dot_product_attention(q, k, v, is_causal=causal).numpy()
    np.testing.assert_allclose(got, _attention_reference(q, k, v, causal=causal), rtol=1e-5,
                               atol=1e-5)


def test_dot_product_attention_gradients():
    rng = np.random.default_rng(1)
    q = rng.standard_normal((2, 3, 4, 2))
    k = rng.standard_normal((2, 5, 2, 2))
    v = rng.standard_normal((2, 5, 2, 3))
    mask = rng.random((2, 1, 3, 5)) > 0.3
    mask[..., 0] = True
    check_grads(lambda a, b, c: ops.dot_product_attention(a, b, c, mask=mask), [q, k, v])
    bias = rng.standard_normal((1, 4, 3, 5))
    check_grads(lambda a, b, c, d: ops.dot_product_attention(a, b, c, bias=d, scale=0.7),
                [q, k, v, bias])


def test_dot_product_attention_errors():
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match="only supports 4D"):
        ops.dot_product_attention(x, x, x)
    q = np.zeros((1, 2, 3, 4), np.float32)
    with pytest.raises(ValueError, match="multiple of K"):
        ops.dot_product_attention(q, np.zeros((1, 2, 2, 4), np.float32),
                                  np.zeros((1, 2, 2, 4), np.float32))
    with pytest.raises(ValueError, match="JAX on TPU"):
        ops.dot_product_attention(q, q, q, attn_logits_soft_cap=2.0)
    with pytest.raises(ValueError, match="flash"):
        ops.dot_product_attention(q, q, q, flash_attention=True)


def test_layer_and_rms_normalization_references_and_grads():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 6))
    g, b = rng.standard_normal(6), rng.standard_normal(6)
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    ref = (x - mean) / np.sqrt(var + 1e-3) * g + b
    np.testing.assert_allclose(ops.layer_normalization(x.astype(np.float32), g, b,
                                                       epsilon=1e-3).numpy(), ref, rtol=1e-5,
                               atol=1e-5)
    rms = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6) * g
    np.testing.assert_allclose(ops.rms_normalization(x.astype(np.float32), g,
                                                     epsilon=1e-6).numpy(), rms, rtol=1e-5,
                               atol=1e-5)
    check_grads(lambda a, c, d: ops.layer_normalization(a, c, d), [x, g, b])
    check_grads(lambda a, c: ops.rms_normalization(a, c, axis=-1), [x, g])
    check_grads(lambda a: ops.layer_normalization(a, axis=(0, 2)), [x])
    np.testing.assert_allclose(ops.layer_normalization(np.arange(5, dtype="float32")).numpy(),
                               [-1.4142135, -0.70710677, 0.0, 0.70710677, 1.4142135], rtol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        ops.layer_normalization(x, axis=3)


@pytest.mark.parametrize("subscripts,shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("...ij,jk->...ik", [(2, 2, 3, 4), (4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij->ji", [(2, 3)]),
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 2), (2, 3)]),
])
def test_einsum_matches_numpy_and_gradients(subscripts, shapes):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in shapes]
    want = np.einsum(subscripts, *arrays)
    got = ops.einsum(subscripts, *[a.astype(np.float32) for a in arrays]).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    check_grads(lambda *xs: ops.einsum(subscripts, *xs), arrays)


def test_einsum_errors_and_symbolic():
    with pytest.raises(ValueError, match="name 2 operands"):
        ops.einsum("ij,jk->ik", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="label 'j'"):
        ops.einsum("ij,jk->ik", np.zeros((2, 3)), np.zeros((4, 2)))
    a, b = nnforge.Input((3, 4)), nnforge.Input((4, 5))
    out = ops.einsum("bij,bjk->bik", a, b)
    assert tuple(out.shape) == (None, 3, 5)
    att = ops.dot_product_attention(nnforge.Input((3, 2, 4)), nnforge.Input((5, 2, 4)),
                                    nnforge.Input((5, 2, 4)))
    assert tuple(att.shape) == (None, 3, 2, 4)
    assert tuple(ops.layer_normalization(a).shape) == (None, 3, 4)
