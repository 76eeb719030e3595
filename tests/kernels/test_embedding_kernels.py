"""The embedding row gather (nnforge._cpu.embedding_gather, used by ops.embedding_lookup on the
CPU) against NumPy's fancy indexing: shapes of ids, repeated and boundary ids, empty batches,
the thread split, and the argument checks; the scatter-add of its gradient
(nnforge._cpu.embedding_backward; checked against np.add.at in test_rnn_kernels.py) for
independence of the thread count."""
import numpy as np
import pytest

from nnforge import _cpu, ops
from nnforge.backend import cpu
from tests.helpers import at_thread_counts

rng = np.random.default_rng(3)


@pytest.mark.parametrize("rows, dim, shape", [(10, 4, (0,)), (7, 3, (50,)), (1000, 64, (32, 100)),
                                              (3, 1, (2, 3, 4)), (10000, 64, (3200,))])
def test_gather_matches_fancy_indexing(rows, dim, shape):
    table = rng.standard_normal((rows, dim)).astype(np.float32)
    ids = rng.integers(0, rows, shape)
    if ids.size:
        ids.reshape(-1)[: ids.size // 3] = rows - 1  # repeats of the last row
        ids.reshape(-1)[-1] = 0
    got = cpu.embedding_gather(table, ids)
    assert got.shape == shape + (dim,) and got.dtype == np.float32
    np.testing.assert_array_equal(got, table[ids])


def test_gather_does_not_depend_on_thread_count():
    table = rng.standard_normal((5000, 64)).astype(np.float32)
    ids = rng.integers(0, 5000, 4096)
    outs = at_thread_counts(lambda: [cpu.embedding_gather(table, ids)])
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0][0], other[0])


def test_embedding_lookup_uses_it_and_keeps_its_gradient():
    table = rng.standard_normal((20, 5)).astype(np.float32)
    ids = rng.integers(0, 20, (4, 6)).astype(np.int32)
    np.testing.assert_array_equal(ops.embedding_lookup(table, ids).numpy(), table[ids])
    with pytest.raises(ValueError, match=r"\[0, 20\)"):
        ops.embedding_lookup(table, np.array([3, 20]))


def test_gather_binding_refuses_bad_arguments():
    table = np.zeros((5, 2), np.float32)
    out = np.zeros((1, 2), np.float32)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        _cpu.embedding_gather(np.array([5], np.int64), table, out)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        _cpu.embedding_gather(np.array([-1], np.int64), table, out)
    with pytest.raises(ValueError, match="int64"):
        _cpu.embedding_gather(np.array([1], np.int32), table, out)
    with pytest.raises(ValueError, match="out"):
        _cpu.embedding_gather(np.array([1], np.int64), table, np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="float32"):
        _cpu.embedding_gather(np.array([1], np.int64), table.astype(np.float64), out)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.embedding_gather(np.array([1], np.int64), table, table[:1])


def test_embedding_backward_does_not_depend_on_thread_count():
    # rows split among threads by range: ids at the range edges and many repeats of one row
    rows, dim = 4099, 17
    ids = rng.integers(0, rows, 20000)
    ids[:5000] = rows // 2
    ids[5000:5100] = rows // 3
    dy = rng.standard_normal((ids.size, dim)).astype(np.float32)

    def scatter():
        out = np.full((rows, dim), np.nan, np.float32)
        _cpu.embedding_backward(ids.astype(np.int64), dy, out)
        return [out]

    outs = at_thread_counts(scatter, counts=(1, 2, 3, 4))
    expected = np.zeros((rows, dim), np.float64)
    np.add.at(expected, ids, dy.astype(np.float64))
    np.testing.assert_allclose(outs[0][0], expected, rtol=1e-4, atol=1e-3)
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0][0], other[0])
