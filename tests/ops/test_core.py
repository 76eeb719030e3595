"""keras.ops core functions of ops/core.py: control flow differentiated through eager loops,
custom_gradient, jvp, scatter/slice updates, segment reductions and utilities, against Keras 3
(TF backend) golden outputs and finite differences."""
import numpy as np
import pytest

import nnforge
from nnforge import ops
from tests.golden.opsnn_cases import check_case
from tests.helpers import check_grads

rng = np.random.default_rng(5)


def scan_fn(x, w):
    def step(c, xi):
        c = c * 0.5 + xi * w
        return c, c * c
    return ops.scan(step, ops.zeros((3,)), x)


@ops.custom_gradient
def clipped_identity(x):
    def grad(upstream):
        return ops.clip(upstream, -0.1, 0.1)
    return x * 1.0, grad


def _red(red):
    return lambda b, u: ops.scatter_update(b, np.array([[2, 0], [0, 1]], np.int32), u,
                                           reduction=red)


CASES = [
    ("scan", scan_fn),
    ("scan_reverse", lambda x, w: ops.scan(lambda c, xi: (c + xi * w, c), ops.ones((3,)), x,
                                           reverse=True)),
    ("fori_loop", lambda w: ops.fori_loop(0, 4, lambda i, v: v * w + 1.0, w)),
    ("while_loop", lambda w: ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * w + v),
                                            (0, w))[1]),
    ("map", lambda x: ops.map(lambda r: ops.sum(r * r), x)),
    ("associative_scan", lambda x: ops.associative_scan(lambda a, b: a * b, x, axis=0)),
    ("associative_scan_rev", lambda x: ops.associative_scan(ops.add, x, reverse=True, axis=1)),
    ("vectorized_map", lambda x: ops.vectorized_map(lambda r: ops.sum(r) * r, x)),
    ("custom_gradient", lambda x: clipped_identity(x) * 3.0),
    ("jvp", lambda p, t: ops.jvp(lambda a: ops.sin(a) * ops.sum(a * a), (p,), (t,))),
    ("scatter", lambda v: ops.scatter(np.array([[0, 1], [2, 0], [0, 1]], np.int32), v, (3, 2, 2))),
    ("scatter_update_None", _red(None)),
    ("scatter_update_add", _red("add")),
    ("scatter_update_max", _red("max")),
    ("scatter_update_min", _red("min")),
    ("scatter_update_mul", _red("mul")),
    ("scatter_update_rows", lambda b, u: ops.scatter_update(b, np.array([[1]], np.int32), u)),
    ("slice", lambda x: ops.slice(x, (1, 0, 2), (1, 3, 2))),
    ("slice_update", lambda x, u: ops.slice_update(x, (0, 1, 1), u)),
    ("saturate_cast_u8", lambda x: ops.saturate_cast(x, "uint8")),
    ("saturate_cast_i8", lambda x: ops.saturate_cast(x, "int8")),
    ("get_item", lambda x: ops.get_item(x, (slice(0, 2), 1))),
    ("unique", lambda x: ops.unique(x, return_index=True, return_inverse=True,
                                    return_counts=True)),
    ("unique_unsorted", lambda x: ops.unique(x, sorted=False, return_inverse=True)),
    ("unique_size", lambda x: ops.unique(x, size=6, fill_value=-1, return_counts=True)),
    ("unique_axis", lambda x: ops.unique(x, axis=0, return_inverse=True)),
    ("cdist", lambda a, b: ops.cdist(a, b)),
    ("cond", lambda x: ops.cond(ops.sum(x) > 0, lambda: x * 2.0, lambda: x * -1.0)),
    ("switch", lambda x: ops.switch(5, [lambda a: a * 2.0, lambda a: ops.sin(a)], x)),
]
SEG_IDS = np.array([0, 0, 2, 1, 2, 2], np.int32)
for _op in ["segment_sum", "segment_max", "segment_min", "segment_prod"]:
    CASES += [
        (_op, lambda d, op=_op: getattr(ops, op)(d, SEG_IDS)),
        (_op + "_n", lambda d, op=_op: getattr(ops, op)(d, SEG_IDS, num_segments=4)),
        (_op + "_sorted", lambda d, op=_op: getattr(ops, op)(
            d, np.array([0, 0, 1, 1, 3, 3], np.int32), sorted=True)),
    ]


@pytest.mark.parametrize("key,fn", CASES, ids=[c[0] for c in CASES])
def test_core_ops_match_keras(key, fn):
    check_case(key, fn, rtol=2e-5)


def test_select_matches_keras():
    from tests.golden.opsnn_cases import golden
    g = golden()
    x_act = g["ops.celu/in0"]
    ca, cb = x_act[0] > 0.5, x_act[0] < -0.5
    check_case("select", lambda a, b: ops.select([ca, cb], [a, b], -1.0))


@pytest.mark.parametrize("fn,shapes", [
    (lambda x, w: ops.scan(lambda c, xi: (c * xi + w, ops.sin(c)), ops.ones((3,)), x)[1],
     [(4, 3), (3,)]),
    (lambda w: ops.while_loop(lambda v: ops.sum(ops.abs(v)) < 50.0, lambda v: v * 1.7 + w,
                              w, maximum_iterations=5), [(3,)]),
    (lambda x: ops.associative_scan(lambda a, b: a * b + b, x, axis=1), [(2, 5)]),
    (lambda x, u: ops.slice_update(x, (1, 0), u), [(3, 4), (2, 2)]),
    (lambda b, u: ops.scatter_update(b, np.array([[2], [0]]), u, reduction="mul"),
     [(3, 2), (2, 2)]),
    (lambda d: ops.segment_prod(d, np.array([0, 1, 0, 1, 1])), [(5, 2)]),
    (lambda d: ops.segment_max(d, np.array([0, 1, 0, -1, 1]), num_segments=2), [(5, 2)]),
    (lambda a, b: ops.cdist(a, b), [(3, 2), (4, 2)]),
    (lambda a, b: ops.select([a > 0], [a * b], b), [(3, 4), (3, 4)]),
])
def test_core_grads_finite_differences(fn, shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    arrays = [a + np.sign(a) * 0.1 for a in arrays]  # keep away from the kinks at 0
    check_grads(fn, arrays)


def test_segment_prod_gradient_with_zeros():
    d = nnforge.Variable(np.array([0.0, 2.0, 3.0, 0.0, 0.0, 5.0], "float32"))
    ids = np.array([0, 0, 0, 1, 1, 2])
    with nnforge.GradientTape() as tape:
        y = ops.sum(ops.segment_prod(d, ids))
    g = tape.gradient(y, d).numpy()
    np.testing.assert_allclose(g, [6.0, 0.0, 0.0, 0.0, 0.0, 1.0])


def test_custom_gradient_torch_style_and_multiple_outputs():
    @ops.custom_gradient
    def f(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
        return ops.log(1 + e), grad

    @ops.custom_gradient
    def two(x, w):
        def grad(ups):
            ga, gb = ups
            return ga * 10.0 + gb, ga * 0.0 + gb * 2.0
        return (x * w, x + w), grad

    x = nnforge.Variable(np.array([0.5, -1.0], "float32"))
    w = nnforge.Variable(np.array([2.0, 3.0], "float32"))
    with nnforge.GradientTape(persistent=True) as tape:
        y = ops.sum(f(x))
        a, b = two(x, w)
        z = ops.sum(a) + ops.sum(b * 3.0)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 1 / (1 + np.exp(-x.numpy())),
                               rtol=1e-6)
    gx, gw = tape.gradient(z, [x, w])
    np.testing.assert_allclose(gx.numpy(), [13.0, 13.0])
    np.testing.assert_allclose(gw.numpy(), [6.0, 6.0])


def test_jvp_matches_finite_difference_and_has_aux():
    p = rng.standard_normal((2, 3)).astype("float32")
    t = rng.standard_normal((2, 3)).astype("float32")

    def fn(a):
        return ops.tanh(ops.matmul(a, np.ones((3, 2), "float32"))), ops.sum(a)

    y, tan, aux = ops.jvp(fn, (p,), (t,), has_aux=True)
    eps = 1e-3
    fd = (np.tanh((p + eps * t) @ np.ones((3, 2))) - np.tanh((p - eps * t) @ np.ones((3, 2)))) \
        / (2 * eps)
    np.testing.assert_allclose(tan.numpy(), fd, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(float(aux), p.sum(), rtol=1e-6)
    np.testing.assert_allclose(y.numpy(), np.tanh(p @ np.ones((3, 2))), rtol=1e-6)


def test_control_flow_structures():
    carry, ys = ops.scan(lambda c, x: ({"s": c["s"] + x["a"]}, (x["a"] * 2, c["s"])),
                         {"s": ops.zeros((2,))}, {"a": np.ones((3, 2), "float32")})
    np.testing.assert_allclose(carry["s"].numpy(), [3.0, 3.0])
    assert isinstance(ys, tuple) and ys[0].shape == (3, 2)
    np.testing.assert_allclose(ys[1].numpy()[:, 0], [0.0, 1.0, 2.0])
    _, ys = ops.scan(lambda c, x: (c + 1.0, None), 0.0, length=4)
    assert ys[0].shape == (4,)
    assert ops.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1, j * 2), (0, 1)) == (3, 8)
    assert ops.while_loop(lambda i: True, lambda i: i + 1, 0, maximum_iterations=4) == 4
    assert ops.switch(-3, [lambda: "a", lambda: "b"]) == "a"
    assert ops.cond(False, lambda: 1, lambda: 2) == 2
    out = ops.map(lambda d: d["x"] + d["y"], {"x": np.ones((2, 2)), "y": np.ones((2, 2))})
    np.testing.assert_allclose(out.numpy(), 2.0)


def test_utilities():
    assert ops.is_tensor(ops.ones((2,))) and not ops.is_tensor(np.ones(2))
    assert ops.dtype(ops.ones((2,), dtype="int32")) == "int32"
    assert ops.dtype(1.5) == "float32" and ops.dtype(3) == "int32" and ops.dtype(True) == "bool"
    y = ops.saturate_cast(np.array([-1e10, 1e10], "float32"), "int32").numpy()
    assert y.dtype == np.int32 and y[0] == np.iinfo(np.int32).min and y[1] > 2**30, y


def test_errors():
    with pytest.raises(ValueError, match="scan: got no xs"):
        ops.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(ValueError, match="slice: the block"):
        ops.slice(np.ones((2, 3)), (1, 2), (2, 2))
    with pytest.raises(ValueError, match="slice_update: updates of shape"):
        ops.slice_update(np.ones((2, 3)), (1, 2), np.ones((1, 2)))
    with pytest.raises(ValueError, match="scatter_update: invalid reduction"):
        ops.scatter_update(np.ones(3), [[0]], [1.0], reduction="avg")
    with pytest.raises(ValueError, match="segment_sum: segment_ids and data"):
        ops.segment_sum(np.ones((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="num_segments cannot be set when sorted"):
        ops.segment_max(np.ones(3), np.array([0, 1, 1]), num_segments=3, sorted=True)
    with pytest.raises(ValueError, match="cdist: the last dimensions"):
        ops.cdist(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="select: condlist has 2"):
        ops.select([np.ones(2) > 0, np.ones(2) > 0], [np.ones(2)])
    with pytest.raises(ValueError, match="jvp: a tangent of shape"):
        ops.jvp(lambda a: a, (np.ones(2),), (np.ones(3),))


def test_ufunc_at_host_fallback_for_array_modules_without_it():
    """CuPy has no multiply.at: the scatter runs on the host and is copied back."""
    import types
    from nnforge.ops.core import _ufunc_at
    fake = types.SimpleNamespace(multiply=object(), asarray=np.asarray)
    out = np.ones(3)
    _ufunc_at(fake, "multiply", out, np.array([0, 0, 2]), np.array([2.0, 3.0, 5.0]))
    np.testing.assert_allclose(out, [6.0, 1.0, 5.0])


@pytest.mark.parametrize("module", ["nnforge.ops.nn_extra", "nnforge.ops.core",
                                    "nnforge.ops.ctc", "nnforge.activations"])
def test_docstring_examples_run(module):
    """Every example in these modules' docstrings prints what it shows."""
    import doctest
    import importlib
    from nnforge import activations
    mod = importlib.import_module(module)
    res = doctest.testmod(mod, extraglobs={"ops": ops, "np": np, "nnforge": nnforge,
                                           "activations": activations},
                          optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                          report=False)
    assert res.failed == 0 and res.attempted > 0, res


def test_scalar_inputs_keep_their_shape():
    assert ops.celu(1.0).shape == () and ops.mish(np.float32(2.0)).shape == ()
    assert ops.polar(2.0, 0.0).shape == ()
