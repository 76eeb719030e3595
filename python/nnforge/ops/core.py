"""``keras.ops`` core functions: control flow (cond, switch, scan, fori_loop, while_loop, map,
associative_scan, vectorized_map), custom gradients and forward-mode products (custom_gradient,
jvp), scatter/slice updates, segment reductions, and small utilities (saturate_cast, is_tensor,
dtype, get_item, select, unique, cdist).

nnforge executes eagerly, so control flow runs as Python loops over differentiable ops: a
``GradientTape`` records every iteration and differentiates through loops whose bodies close
over watched tensors, as Keras's ops do in eager mode."""
from __future__ import annotations

import builtins as _b
from typing import Callable, Optional, Sequence

import numpy as np

from nnforge import backend
from nnforge.core import tape as _tape
from nnforge.core.tape import record
from nnforge.core.tensor import KerasTensor, Tensor

from ._dtypes import strong
from ._util import data_of, same_backend, unbroadcast
from .array import flip
from .math import (concatenate, expand_dims, getitem, sqrt, square, stack, subtract, sum,
                   where)

__all__ = ["cond", "switch", "scan", "fori_loop", "while_loop", "map", "associative_scan",
           "vectorized_map", "custom_gradient", "jvp", "scatter", "scatter_update", "slice",
           "slice_update", "segment_sum", "segment_max", "segment_min", "segment_prod",
           "saturate_cast", "is_tensor", "dtype", "get_item", "select", "unique", "cdist"]


# ---- nested structures ---------------------------------------------------------------------------

def _is_nested(s) -> bool:
    return isinstance(s, (list, tuple, dict))


def _flatten(s) -> list:
    if isinstance(s, dict):
        return [v for k in sorted(s) for v in _flatten(s[k])]
    if isinstance(s, (list, tuple)):
        return [v for e in s for v in _flatten(e)]
    return [s]


def _pack(structure, flat: list):
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            out = {k: build(s[k]) for k in sorted(s)}
            return {k: out[k] for k in s}
        if isinstance(s, tuple) and hasattr(s, "_fields"):
            return type(s)(*(build(e) for e in s))
        if isinstance(s, (list, tuple)):
            return type(s)(build(e) for e in s)
        return next(it)

    return build(structure)


def _tensor(x):
    # (not convert_to_tensor: it turns 0-d input into shape (1,))
    return x if isinstance(x, Tensor) or x is None else Tensor(data_of(x, "op", "x"))


def _ufunc_at(xp, name: str, out, idx, vals) -> None:
    """``xp.<name>.at(out, idx, vals)`` (unbuffered, duplicates combine); computed on the host
    and copied back where the array module lacks that ``ufunc.at`` (CuPy's multiply)."""
    try:
        getattr(xp, name).at(out, idx, vals)
        return
    except (AttributeError, NotImplementedError, TypeError):
        if xp is np:
            raise
    host = backend.to_numpy(out)
    hidx = tuple(backend.to_numpy(i) if backend.is_array(i) else i for i in idx) \
        if isinstance(idx, tuple) else backend.to_numpy(idx)
    getattr(np, name).at(host, hidx, backend.to_numpy(vals) if backend.is_array(vals) else vals)
    out[...] = xp.asarray(host)


def _row(x: Tensor, i: int) -> Tensor:
    """``x[i]`` as a (possibly 0-d) array Tensor, differentiable."""
    a = x.data
    xp = backend.of(a).xp
    y = xp.asarray(a[i])

    def backward(g, needs):
        out = xp.zeros(a.shape, dtype=g.dtype)
        out[i] = g
        return (out,)

    return record(y, (x,), backward)


# ---- control flow --------------------------------------------------------------------------------

def cond(pred, true_fn: Callable, false_fn: Callable):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (``keras.ops.cond``); run eagerly, so
    gradients flow through the branch taken.

    Args:
        pred: a boolean scalar (Python bool or scalar tensor).
        true_fn: callable of no arguments.
        false_fn: callable of no arguments.

    Returns:
        The chosen branch's output.

    Example:

    >>> ops.cond(ops.convert_to_tensor(True), lambda: 1.0, lambda: 2.0)
    1.0
    """
    p = data_of(pred, "cond", "pred") if not isinstance(pred, bool) else pred
    if not isinstance(p, bool) and getattr(p, "size", 1) != 1:
        raise ValueError(f"cond: pred must be a scalar, got shape {tuple(p.shape)}")
    return true_fn() if bool(p) else false_fn()


def switch(index, branches: Sequence[Callable], *operands):
    """``branches[index](*operands)``, the index clamped to ``[0, len(branches) - 1]``
    (``keras.ops.switch``).

    Args:
        index: integer scalar.
        branches: a list of callables taking ``*operands``.
        *operands: the branches' inputs.

    Returns:
        The selected branch's output.

    Example:

    >>> ops.switch(1, [lambda x: x + 1, lambda x: x - 1], 5)
    4
    """
    if not branches:
        raise ValueError("switch: branches must be a non-empty list of callables")
    i = int(np.asarray(backend.to_numpy(data_of(index, "switch", "index"))).reshape(()))
    i = _b.min(_b.max(i, 0), len(branches) - 1)
    return branches[i](*operands)


def scan(f: Callable, init, xs=None, length: Optional[int] = None, reverse: bool = False,
         unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs`` and stack the ``y``
    (``keras.ops.scan``, ``jax.lax.scan`` semantics).

    Args:
        f: ``f(carry, x) -> (carry, y)``; ``carry`` keeps the structure of ``init``.
        init: initial carry (a tensor or a nested structure of tensors).
        xs: values to scan over (a tensor or nested structure, leading axis scanned), or None.
        length: number of iterations (required when ``xs`` is None).
        reverse: scan from the end; ``ys[i]`` still pairs with ``xs[i]``.
        unroll: accepted for compatibility (a positive int or bool); eager loops ignore it.

    Returns:
        ``(final_carry, stacked_ys)``.

    Example:

    >>> carry, ys = ops.scan(lambda c, x: (c + x, c + x), 0.0, np.arange(4.0, dtype="float32"))
    >>> ys.numpy()
    array([0., 1., 3., 6.], dtype=float32)
    """
    if not callable(f):
        raise TypeError(f"scan: f must be callable, got {f!r}")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"scan: unroll must be a positive int or a bool, got {unroll!r}")
    if xs is None and length is None:
        raise ValueError("scan: got no xs to scan over and no length")
    xs_flat = [] if xs is None else [_tensor(x) for x in _flatten(xs)]
    n = int(length) if length is not None else xs_flat[0].shape[0]
    for x in xs_flat:
        if x.shape[0] != n:
            raise ValueError(f"scan: every xs must have leading size {n}, got shape {x.shape}")
    init_flat = [_tensor(v) for v in _flatten(init)]
    carry = _pack(init, init_flat) if _is_nested(init) else init_flat[0]
    order = range(n - 1, -1, -1) if reverse else range(n)
    ys = []
    for i in order:
        xi = None
        if xs_flat:
            sl = [_row(x, i) for x in xs_flat]
            xi = _pack(xs, sl) if _is_nested(xs) else sl[0]
        carry, y = f(carry, xi)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:
        return carry, None
    if ys[0] is None:
        ys = [[Tensor(backend.of(v.data).xp.zeros_like(v.data)) for v in init_flat]] * n
        return carry, [stack([y[j] for y in ys]) for j in range(len(init_flat))]
    flat_ys = [_flatten(y) for y in ys]
    stacked = [stack([fy[j] for fy in flat_ys]) for j in range(len(flat_ys[0]))]
    return carry, (_pack(ys[0], stacked) if _is_nested(ys[0]) else stacked[0])


def fori_loop(lower: int, upper: int, body_fun: Callable, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)`` (``keras.ops.fori_loop``).

    Args:
        lower: first index (int or scalar tensor).
        upper: end index, exclusive.
        body_fun: ``body_fun(i, val) -> val``.
        init_val: initial value (any structure).

    Returns:
        The final value.

    Example:

    >>> float(ops.fori_loop(0, 3, lambda i, v: v * 2.0, np.float32(1.0)))
    8.0
    """
    lo = int(backend.to_numpy(data_of(lower, "fori_loop", "lower")))
    hi = int(backend.to_numpy(data_of(upper, "fori_loop", "upper")))
    val = init_val
    for i in range(lo, hi):
        val = body_fun(i, val)
    return val


def while_loop(cond: Callable, body: Callable, loop_vars, maximum_iterations: Optional[int] = None):
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (``keras.ops.while_loop``);
    a single non-tuple ``loop_vars`` is passed as one argument.

    Args:
        cond: ``cond(*loop_vars) -> bool`` (or a scalar bool tensor).
        body: ``body(*loop_vars) -> loop_vars`` of the same structure.
        loop_vars: a tensor or a tuple/list of (nested) tensors.
        maximum_iterations: optional cap on the number of iterations.

    Returns:
        The final ``loop_vars``, of the same structure (a tuple for a tuple/list input).

    Example:

    >>> ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0)
    10
    """
    is_tuple = isinstance(loop_vars, (tuple, list))
    vars_ = tuple(loop_vars) if is_tuple else (loop_vars,)
    it = 0
    while (maximum_iterations is None or it < maximum_iterations) and bool(cond(*vars_)):
        vars_ = body(*vars_)
        if not isinstance(vars_, (list, tuple)):
            vars_ = (vars_,)
        vars_ = tuple(vars_)
        it += 1
    return vars_ if is_tuple else vars_[0]


def map(f: Callable, xs):  # noqa: A001 - Keras's name
    """Apply ``f`` to each slice of ``xs`` along its leading axis and stack the results
    (``keras.ops.map``).

    Args:
        f: function of one element (tensor or nested structure of tensors).
        xs: tensor or nested structure of tensors with a common leading axis.

    Returns:
        The stacked outputs (nested like ``f``'s output).

    Example:

    >>> ops.map(lambda x: x * 2.0, np.arange(3.0, dtype="float32")).numpy()
    array([0., 2., 4.], dtype=float32)
    """
    _, ys = scan(lambda c, x: (c, f(x)), (), xs)
    return ys


def vectorized_map(function: Callable, elements):
    """``function`` applied to each element of ``elements`` along axis 0, stacked
    (``keras.ops.vectorized_map``); a list/tuple of tensors is sliced together and passed
    as a list.

    Args:
        function: function of one element.
        elements: a tensor, or a list/tuple of tensors with a common leading axis.

    Returns:
        The stacked outputs.

    Example:

    >>> ops.vectorized_map(lambda x: ops.sum(x), np.ones((3, 2), "float32")).numpy()
    array([2., 2., 2.], dtype=float32)
    """
    if isinstance(elements, (list, tuple)):
        els = [_tensor(e) for e in elements]
        n = els[0].shape[0]
        outs = [function([_row(e, i) for e in els]) for i in range(n)]
    else:
        el = _tensor(elements)
        outs = [function(_row(el, i)) for i in range(el.shape[0])]
    flat = [_flatten(o) for o in outs]
    stacked = [stack([fo[j] for fo in flat]) for j in range(len(flat[0]))]
    return _pack(outs[0], stacked) if _is_nested(outs[0]) else stacked[0]


def associative_scan(f: Callable, elems, reverse: bool = False, axis: int = 0):
    """Inclusive prefix scan with an associative ``f`` along ``axis``
    (``keras.ops.associative_scan``): ``out[i] = f(out[i-1], elems[i])``.

    Computed in ``ceil(log2(n))`` calls of ``f`` on whole shifted slices (Hillis-Steele), so
    ``f`` must be associative and act element-wise along ``axis``, as Keras requires.

    Args:
        f: ``f(a, b)`` on tensors (or structures like ``elems``), associative.
        elems: a tensor or nested structure of tensors with a common size along ``axis``.
        reverse: scan from the end.
        axis: the scanned axis.

    Returns:
        The scan, with the structure of ``elems``.

    Example:

    >>> ops.associative_scan(ops.add, np.arange(1.0, 5.0, dtype="float32")).numpy()
    array([ 1.,  3.,  6., 10.], dtype=float32)
    """
    if not callable(f):
        raise TypeError(f"associative_scan: f must be callable, got {f!r}")
    flat = [_tensor(e) for e in _flatten(elems)]
    n = flat[0].shape[axis]
    for e in flat:
        if e.shape[axis] != n:
            raise ValueError("associative_scan: all elems must have the same size along "
                             f"axis {axis}, got shapes {[x.shape for x in flat]}")
    nd = len(flat[0].shape)
    ax = axis % nd
    if reverse:
        flat = [flip(e, axis=ax) for e in flat]

    def cut(e, start, stop):
        idx = [_b.slice(None)] * nd
        idx[ax] = _b.slice(start, stop)
        return getitem(e, tuple(idx))

    def combine(a, b):
        out = f(_pack(elems, a) if _is_nested(elems) else a[0],
                _pack(elems, b) if _is_nested(elems) else b[0])
        return _flatten(out)

    ys = flat
    off = 1
    while off < n:
        new = combine([cut(y, 0, n - off) for y in ys], [cut(y, off, n) for y in ys])
        ys = [concatenate([cut(y, 0, off), c], axis=ax) for y, c in zip(ys, new)]
        off *= 2
    if reverse:
        ys = [flip(y, axis=ax) for y in ys]
    return _pack(elems, ys) if _is_nested(elems) else ys[0]


# ---- custom gradients and forward mode -----------------------------------------------------------

def custom_gradient(f: Callable) -> Callable:
    """Decorator giving ``f`` a hand-written gradient (``keras.ops.custom_gradient``).

    ``f(*args)`` returns ``(output, grad_fn)``; ``grad_fn(upstream)`` (TensorFlow/JAX style;
    ``grad_fn(*args, upstream=...)`` is accepted too) returns the gradient of each tensor
    argument (a tuple for several). The forward runs without recording, so only ``grad_fn``
    defines the derivative.

    Args:
        f: the function to wrap.

    Returns:
        The wrapped function.

    Example:

    >>> @ops.custom_gradient
    ... def log1pexp(x):
    ...     e = ops.exp(x)
    ...     return ops.log(1 + e), lambda up: up * (1 - 1 / (1 + e))
    """
    import functools
    import inspect

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        with _tape.stop_recording():
            out, grad_fn = f(*args, **kwargs)
        flat_in = _flatten(list(args))
        pos = [i for i, a in enumerate(flat_in) if isinstance(a, Tensor)]
        inputs = tuple(flat_in[i] for i in pos)
        outs = _flatten(out)
        try:
            params = inspect.signature(grad_fn).parameters
            kw_upstream = "upstream" in params and params["upstream"].kind in (
                inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) and \
                _b.any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params.values())
        except (TypeError, ValueError):
            kw_upstream = False

        def call_grad(ups):
            up = ups[0] if len(ups) == 1 else ups
            with _tape.stop_recording():
                gs = grad_fn(*args, upstream=up) if kw_upstream else grad_fn(up)
            gs = list(gs) if isinstance(gs, (list, tuple)) else [gs]
            if len(gs) != len(inputs):
                raise ValueError(f"custom_gradient: grad_fn of {f.__name__} returned "
                                 f"{len(gs)} gradients for {len(inputs)} tensor arguments")
            return gs

        def as_array(g, like):
            if g is None:
                return None
            a = data_of(g, "custom_gradient", "gradient")
            return unbroadcast(backend.of(like.data).asarray(a, dtype=like.data.dtype)
                               if backend.of(a) is not backend.of(like.data) else
                               a.astype(like.data.dtype, copy=False), like.shape) \
                if a.shape != like.data.shape else a.astype(like.data.dtype, copy=False)

        if len(outs) == 1:
            o = _tensor(outs[0])

            def backward(g, needs):
                gs = call_grad([Tensor(g)])
                return tuple(as_array(gi, x) for gi, x in zip(gs, inputs))

            res = record(o.data, inputs, backward)
            return res if not _is_nested(out) else _pack(out, [res])
        # several outputs: one shared gradient call, seeded with zeros for unused outputs
        o_t = [_tensor(o) for o in outs]
        joint = _Joint(o_t, inputs, call_grad, as_array)
        results = [record(ot.data, (joint.token_t,), joint.backward_for(j))
                   for j, ot in enumerate(o_t)]
        return _pack(out, results)

    return wrapped


class _Joint:
    """Glue for a multi-output ``custom_gradient``: each output is recorded against a private
    token tensor; the tokens are recorded against the real inputs. The tape reaches the token
    only after all the outputs' gradients are summed into it, so ``grad_fn`` runs once with
    every upstream gradient."""

    def __init__(self, outs, inputs, call_grad, as_array):
        self.outs = outs
        self.inputs = inputs
        self.call_grad = call_grad
        self.as_array = as_array
        xp = backend.of(outs[0].data).xp if outs else np
        # the token carries the concatenated flat upstream gradients
        self.sizes = [int(np.prod(o.shape)) for o in outs]
        self.offsets = np.cumsum([0] + self.sizes)
        self.token_t = record(xp.zeros((int(self.offsets[-1]),), dtype=np.float32), inputs,
                              self._token_backward)
        self._xp = xp

    def backward_for(self, j):
        xp = self._xp
        total = int(self.offsets[-1])
        lo, hi = int(self.offsets[j]), int(self.offsets[j + 1])

        def backward(g, needs):
            full = xp.zeros((total,), dtype=np.float32)
            full[lo:hi] = g.reshape(-1)
            return (full,)

        return backward

    def _token_backward(self, g, needs):
        ups = [Tensor(g[int(self.offsets[j]):int(self.offsets[j + 1])]
                      .reshape(self.outs[j].shape).astype(self.outs[j].data.dtype))
               for j in range(len(self.outs))]
        gs = self.call_grad(ups)
        return tuple(self.as_array(gi, x) for gi, x in zip(gs, self.inputs))


def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
    """Jacobian-vector product of ``fun`` at ``primals`` along ``tangents``
    (``keras.ops.jvp``).

    nnforge's autodiff is reverse-mode, so the product is assembled exactly from one
    reverse pass per output element (a persistent tape): cheap for the small outputs this is
    used on, costly for large ones.

    Args:
        fun: function of the primals; returns a tensor or nested structure (with
            ``has_aux``, a pair ``(output, aux)``).
        primals: a list/tuple of the inputs.
        tangents: a list/tuple of the same structure as ``primals``.
        has_aux: whether ``fun`` returns auxiliary data.

    Returns:
        ``(outputs, tangent_outputs)`` or, with ``has_aux``, ``(outputs, tangent_outputs, aux)``.

    Example:

    >>> y, t = ops.jvp(lambda x: x * x, (np.float32(3.0),), (np.float32(1.0),))
    >>> float(t)
    6.0
    """
    from nnforge.core.tape import GradientTape
    if not isinstance(primals, (list, tuple)) or not isinstance(tangents, (list, tuple)):
        raise TypeError("jvp: primals and tangents must be lists or tuples")
    p_flat = [_tensor(p) for p in _flatten(list(primals))]
    t_flat = [data_of(t, "jvp", "tangents") for t in _flatten(list(tangents))]
    if len(p_flat) != len(t_flat):
        raise ValueError(f"jvp: primals and tangents differ in structure ({len(p_flat)} vs "
                         f"{len(t_flat)} tensors)")
    for p, t in zip(p_flat, t_flat):
        if tuple(p.shape) != tuple(t.shape):
            raise ValueError(f"jvp: a tangent of shape {tuple(t.shape)} does not match its "
                             f"primal of shape {tuple(p.shape)}")
    p_flat = [Tensor(p.data.copy()) for p in p_flat]
    with GradientTape(persistent=True) as tape:
        tape.watch(p_flat)
        res = fun(*_pack(list(primals), p_flat))
    aux = None
    if has_aux:
        res, aux = res
    outs = _flatten(res)
    t_outs = []
    for o in outs:
        od = data_of(o, "jvp", "output")
        xp = backend.of(od).xp
        tout = np.zeros(od.shape, dtype=np.float64)
        if isinstance(o, Tensor) and o.node is not None and od.dtype.kind == "f":
            for k in range(od.size):
                seed = xp.zeros(od.size, dtype=od.dtype)
                seed[k] = 1
                gs = tape.gradient(o, p_flat, output_gradients=seed.reshape(od.shape))
                acc = 0.0
                for g, t in zip(gs, t_flat):
                    if g is not None:
                        acc += float(np.sum(backend.to_numpy(g.data).astype(np.float64)
                                            * backend.to_numpy(t).astype(np.float64)))
                tout.reshape(-1)[k] = acc
        t_outs.append(Tensor(xp.asarray(tout.astype(od.dtype if od.dtype.kind == "f"
                                                    else np.float32))))
    out_struct = res
    outs_t = [_tensor(o) for o in outs]
    packed_out = _pack(out_struct, outs_t) if _is_nested(out_struct) else outs_t[0]
    packed_t = _pack(out_struct, t_outs) if _is_nested(out_struct) else t_outs[0]
    return (packed_out, packed_t, aux) if has_aux else (packed_out, packed_t)


# ---- scatter and slices --------------------------------------------------------------------------

def _nd_indices(indices, fn):
    idx = data_of(indices, fn, "indices")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{fn}: indices must be integers, got dtype {idx.dtype}")
    if idx.ndim == 0:
        raise ValueError(f"{fn}: indices must be at least 1-D, got a scalar")
    return idx


def scatter(indices, values, shape) -> Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (``keras.ops.scatter``,
    as ``tf.scatter_nd``: duplicate indices sum).

    Args:
        indices: ``(..., k)`` integer indices into the first ``k`` axes of ``shape``.
        values: ``indices.shape[:-1] + shape[k:]`` values.
        shape: the output shape.

    Returns:
        A Tensor of ``shape``.

    Example:

    >>> ops.scatter([[0], [2]], np.array([1.0, 2.0], "float32"), (4,)).numpy()
    array([1., 0., 2., 0.], dtype=float32)
    """
    idx = _nd_indices(indices, "scatter")
    v = data_of(values, "scatter", "values")
    idx, v = same_backend(idx, v)
    xp = backend.of(v).xp
    shape = tuple(int(s) for s in shape)
    k = idx.shape[-1]
    flat_idx = idx.reshape(-1, k)
    vs = v.reshape((flat_idx.shape[0],) + shape[k:])
    out = xp.zeros(shape, dtype=v.dtype)
    tup = tuple(flat_idx[:, j] for j in range(k))
    _ufunc_at(xp, "add", out, tup, vs)

    def backward(g, needs):
        return (g[tup].reshape(v.shape),)

    return record(out, (values,), backward)


def scatter_update(inputs, indices, updates, reduction: Optional[str] = None) -> Tensor:
    """``inputs`` with ``inputs[indices] = updates`` (``keras.ops.scatter_update``, as
    ``tf.tensor_scatter_nd_update``), or combined by ``reduction``.

    Args:
        inputs: the tensor to update.
        indices: ``(num_updates, k)`` integer indices into the first ``k`` axes.
        updates: ``(num_updates,) + inputs.shape[k:]`` values.
        reduction: None (replace), ``"add"``, ``"max"``, ``"min"`` or ``"mul"``.

    Returns:
        A new Tensor of the shape of ``inputs``.

    Example:

    >>> ops.scatter_update(np.zeros(3), [[1]], [5.0]).numpy()
    array([0., 5., 0.])
    """
    if reduction is not None:
        reduction = reduction.lower()
        if reduction not in ("add", "max", "min", "mul"):
            raise ValueError(f"scatter_update: invalid reduction {reduction!r}; expected None, "
                             "'add', 'max', 'min' or 'mul'")
    a = data_of(inputs, "scatter_update", "inputs")
    idx = _nd_indices(indices, "scatter_update")
    u = data_of(updates, "scatter_update", "updates")
    a, idx, u = same_backend(a, idx, u)
    xp = backend.of(a).xp
    k = idx.shape[-1]
    flat_idx = idx.reshape(-1, k)
    tup = tuple(flat_idx[:, j] for j in range(k))
    us = u.reshape((flat_idx.shape[0],) + tuple(a.shape[k:])).astype(a.dtype)
    out = a.copy()
    if reduction is None:
        out[tup] = us
    elif reduction == "add":
        _ufunc_at(xp, "add", out, tup, us)
    elif reduction == "max":
        _ufunc_at(xp, "maximum", out, tup, us)
    elif reduction == "min":
        _ufunc_at(xp, "minimum", out, tup, us)
    else:
        _ufunc_at(xp, "multiply", out, tup, us)

    def backward(g, needs):
        gi = gu = None
        if reduction in (None, "add"):
            if needs[0]:
                gi = g.copy()
                if reduction is None:
                    gi[tup] = 0
            if needs[2]:
                gu = g[tup].reshape(u.shape)
        elif reduction in ("max", "min"):
            # the gradient goes to whichever of input/update holds the result (ties: input)
            took_in = (out == a)
            if needs[0]:
                gi = g * took_in
            if needs[2]:
                hit = (out[tup] == us) & ~took_in[tup]
                gu = (g[tup] * hit).reshape(u.shape)
        else:  # mul: out = a * prod(updates at the index)
            if needs[0]:
                prod = xp.ones_like(a)
                _ufunc_at(xp, "multiply", prod, tup, us)
                gi = g * prod
            if needs[2]:
                others = out[tup] / xp.where(us == 0, 1, us)
                gu = (g[tup] * others).reshape(u.shape)
        return gi, None, gu

    return record(out, (inputs, indices, updates), backward)


def _starts(start_indices, fn):
    s = start_indices.data if isinstance(start_indices, Tensor) else start_indices
    return [int(v) for v in np.asarray(backend.to_numpy(s) if backend.is_array(s) else s)
            .reshape(-1)]


def slice(inputs, start_indices, shape) -> Tensor:  # noqa: A001 - Keras's name
    """The block of ``inputs`` starting at ``start_indices`` with size ``shape``
    (``keras.ops.slice``).

    Args:
        inputs: the tensor.
        start_indices: one start per axis.
        shape: one size per axis.

    Returns:
        A Tensor of ``shape``.

    Example:

    >>> ops.slice(np.arange(6.0).reshape(2, 3), (0, 1), (2, 2)).numpy()
    array([[1., 2.],
           [4., 5.]])
    """
    st = _starts(start_indices, "slice")
    sz = [int(v) for v in shape]
    a = data_of(inputs, "slice", "inputs")
    if len(st) != len(sz) or len(st) != a.ndim:
        raise ValueError(f"slice: start_indices {st} and shape {sz} must have one entry per axis "
                         f"of inputs with shape {tuple(a.shape)}")
    for d, (s0, n) in enumerate(zip(st, sz)):
        if s0 < 0 or s0 + n > a.shape[d]:
            raise ValueError(f"slice: the block {st} + {sz} exceeds inputs of shape "
                             f"{tuple(a.shape)} on axis {d}")
    return getitem(inputs, tuple(_b.slice(s0, s0 + n) for s0, n in zip(st, sz)))


def slice_update(inputs, start_indices, updates) -> Tensor:
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``
    (``keras.ops.slice_update``).

    Args:
        inputs: the tensor.
        start_indices: one start per axis.
        updates: the new block (same rank as ``inputs``).

    Returns:
        A new Tensor of the shape of ``inputs``.

    Example:

    >>> ops.slice_update(np.zeros(4), (1,), np.ones(2)).numpy()
    array([0., 1., 1., 0.])
    """
    st = _starts(start_indices, "slice_update")
    a = data_of(inputs, "slice_update", "inputs")
    u = data_of(updates, "slice_update", "updates")
    a, u = same_backend(a, u)
    if len(st) != a.ndim or u.ndim != a.ndim:
        raise ValueError(f"slice_update: start_indices {st} and updates of shape "
                         f"{tuple(u.shape)} must have the rank of inputs {tuple(a.shape)}")
    for d, s0 in enumerate(st):
        if s0 < 0 or s0 + u.shape[d] > a.shape[d]:
            raise ValueError(f"slice_update: updates of shape {tuple(u.shape)} at {st} exceed "
                             f"inputs of shape {tuple(a.shape)} on axis {d}")
    region = tuple(_b.slice(s0, s0 + n) for s0, n in zip(st, u.shape))
    out = a.copy()
    out[region] = u.astype(a.dtype)

    def backward(g, needs):
        gi = None
        if needs[0]:
            gi = g.copy()
            gi[region] = 0
        return gi, (g[region] if needs[1] else None)

    return record(out, (inputs, updates), backward)


# ---- segment reductions --------------------------------------------------------------------------

def _segments(fn, data, segment_ids, num_segments, sorted_):
    d = data_of(data, fn, "data")
    ids = data_of(segment_ids, fn, "segment_ids")
    d, ids = same_backend(d, ids)
    if ids.ndim != 1:
        raise ValueError(f"{fn}: segment_ids must be a 1-D vector, got shape {tuple(ids.shape)}")
    if d.ndim == 0 or ids.shape[0] != d.shape[0]:
        raise ValueError(f"{fn}: segment_ids and data must have the same leading dimension, got "
                         f"{tuple(ids.shape)} and {tuple(d.shape)}")
    if sorted_ and num_segments is not None:
        raise ValueError(f"{fn}: num_segments cannot be set when sorted is True (as in Keras's "
                         "TensorFlow backend)")
    ids = ids.astype(np.int64)
    n = int(num_segments) if num_segments is not None else \
        (int(backend.to_numpy(ids.max())) + 1 if ids.size else 0)
    keep = (ids >= 0) & (ids < n)
    return d, ids, n, keep


def segment_sum(data, segment_ids, num_segments: Optional[int] = None,
                sorted: bool = False) -> Tensor:  # noqa: A002 - Keras's argument name
    """Sum of the rows of ``data`` per segment (``keras.ops.segment_sum``); negative ids are
    dropped, empty segments give 0.

    Args:
        data: ``(n, ...)`` values.
        segment_ids: ``(n,)`` integer segment of each row.
        num_segments: number of segments (default ``max(segment_ids) + 1``).
        sorted: whether ``segment_ids`` is sorted (then ``num_segments`` must be None).

    Returns:
        A ``(num_segments, ...)`` Tensor.

    Example:

    >>> ops.segment_sum(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 1])).numpy()
    array([3., 3.])
    """
    d, ids, n, keep = _segments("segment_sum", data, segment_ids, num_segments, sorted)
    xp = backend.of(d).xp
    out = xp.zeros((n,) + tuple(d.shape[1:]), dtype=d.dtype)
    _ufunc_at(xp, "add", out, ids[keep], d[keep])

    def backward(g, needs):
        gd = xp.zeros(d.shape, dtype=g.dtype)
        gd[keep] = g[ids[keep]]
        return gd, None

    return record(out, (data, segment_ids), backward)


def segment_prod(data, segment_ids, num_segments: Optional[int] = None,
                 sorted: bool = False) -> Tensor:  # noqa: A002
    """Product of the rows of ``data`` per segment (``keras.ops.segment_prod``); empty
    segments give 1.

    Args:
        data: ``(n, ...)`` values.
        segment_ids: ``(n,)`` integer segment of each row.
        num_segments: number of segments (default ``max(segment_ids) + 1``).
        sorted: whether ``segment_ids`` is sorted.

    Returns:
        A ``(num_segments, ...)`` Tensor.

    Example:

    >>> ops.segment_prod(np.array([2.0, 3.0, 4.0]), np.array([0, 0, 1])).numpy()
    array([6., 4.])
    """
    d, ids, n, keep = _segments("segment_prod", data, segment_ids, num_segments, sorted)
    xp = backend.of(d).xp
    out = xp.ones((n,) + tuple(d.shape[1:]), dtype=d.dtype)
    _ufunc_at(xp, "multiply", out, ids[keep], d[keep])

    def backward(g, needs):
        # d prod / d x_i = product of the others in the segment (exact with zeros too)
        dk = d[keep]
        ik = ids[keep]
        zero = dk == 0
        nz = xp.zeros(out.shape, dtype=np.int64)
        _ufunc_at(xp, "add", nz, ik, zero.astype(np.int64))
        prod_nz = xp.ones(out.shape, dtype=d.dtype)
        _ufunc_at(xp, "multiply", prod_nz, ik, xp.where(zero, 1, dk))
        others = xp.where(zero, xp.where(nz[ik] == 1, prod_nz[ik], 0),
                          xp.where(nz[ik] == 0, prod_nz[ik] / xp.where(zero, 1, dk), 0))
        gd = xp.zeros(d.shape, dtype=g.dtype)
        gd[keep] = g[ik] * others
        return gd, None

    return record(out, (data, segment_ids), backward)


def _segment_extreme(fn, data, segment_ids, num_segments, sorted_, is_max):
    d, ids, n, keep = _segments(fn, data, segment_ids, num_segments, sorted_)
    xp = backend.of(d).xp
    if d.dtype.kind == "f":
        fill = np.finfo(d.dtype).min if is_max else np.finfo(d.dtype).max
    else:
        fill = np.iinfo(d.dtype).min if is_max else np.iinfo(d.dtype).max
    out = xp.full((n,) + tuple(d.shape[1:]), fill, dtype=d.dtype)
    _ufunc_at(xp, "maximum" if is_max else "minimum", out, ids[keep], d[keep])
    if sorted_:
        # tf.math.segment_max/min: empty segments give 0
        cnt = xp.zeros((n,), dtype=np.int64)
        _ufunc_at(xp, "add", cnt, ids[keep], 1)
        out[cnt == 0] = 0

    def backward(g, needs):
        # as TensorFlow: the gradient is shared equally by the elements equal to the extreme
        ik = ids[keep]
        hit = (d[keep] == out[ik]).astype(g.dtype)
        cnt = xp.zeros(out.shape, dtype=g.dtype)
        _ufunc_at(xp, "add", cnt, ik, hit)
        gd = xp.zeros(d.shape, dtype=g.dtype)
        gd[keep] = hit * g[ik] / xp.maximum(cnt[ik], 1)
        return gd, None

    return record(out, (data, segment_ids), backward)


def segment_max(data, segment_ids, num_segments: Optional[int] = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Maximum of the rows of ``data`` per segment (``keras.ops.segment_max``); empty segments
    give the dtype's lowest value (0 with ``sorted=True``, as TensorFlow does).

    Args:
        data: ``(n, ...)`` values.
        segment_ids: ``(n,)`` integer segment of each row.
        num_segments: number of segments (default ``max(segment_ids) + 1``).
        sorted: whether ``segment_ids`` is sorted.

    Returns:
        A ``(num_segments, ...)`` Tensor.

    Example:

    >>> ops.segment_max(np.array([1.0, 5.0, 3.0]), np.array([0, 0, 1])).numpy()
    array([5., 3.])
    """
    return _segment_extreme("segment_max", data, segment_ids, num_segments, sorted, True)


def segment_min(data, segment_ids, num_segments: Optional[int] = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Minimum of the rows of ``data`` per segment (``keras.ops.segment_min``); empty segments
    give the dtype's largest value (0 with ``sorted=True``).

    Args:
        data: ``(n, ...)`` values.
        segment_ids: ``(n,)`` integer segment of each row.
        num_segments: number of segments (default ``max(segment_ids) + 1``).
        sorted: whether ``segment_ids`` is sorted.

    Returns:
        A ``(num_segments, ...)`` Tensor.

    Example:

    >>> ops.segment_min(np.array([1.0, 5.0, 3.0]), np.array([0, 0, 1])).numpy()
    array([1., 3.])
    """
    return _segment_extreme("segment_min", data, segment_ids, num_segments, sorted, False)


# ---- utilities -----------------------------------------------------------------------------------

def _limits(dt: np.dtype):
    if dt == np.bool_:
        return 0, 1
    if dt.kind in "iu":
        return np.iinfo(dt).min, np.iinfo(dt).max
    return np.finfo(dt).min, np.finfo(dt).max


def saturate_cast(x, dtype: str) -> Tensor:
    """Cast ``x`` to ``dtype``, clipping values to the target's range first
    (``keras.ops.saturate_cast``).

    Args:
        x: input tensor.
        dtype: the target dtype.

    Returns:
        A Tensor of ``dtype``.

    Example:

    >>> ops.saturate_cast([-1.0, 300.0], "uint8").numpy()
    array([  0, 255], dtype=uint8)
    """
    a = data_of(x, "saturate_cast", "x")
    out_dt = np.dtype(dtype)
    in_dt = a.dtype
    in_min, in_max = _limits(in_dt)
    out_min, out_max = _limits(out_dt)
    # the limits in the input dtype, nudged inside the output range where rounding pushed
    # them out (compared exactly, as Python numbers: float32(2**31 - 1) is 2**31)
    lo = np.array(_b.max(in_min, out_min)).astype(in_dt)
    if lo.item() < out_min:
        lo = np.nextafter(lo, 0, dtype=in_dt)
    hi = np.array(_b.min(in_max, out_max)).astype(in_dt)
    if hi.item() > out_max:
        hi = np.nextafter(hi, 0, dtype=in_dt)
    xp = backend.of(a).xp
    c = xp.clip(a, lo, hi)
    y = c.astype(out_dt)
    if out_dt.kind != "f" or in_dt.kind != "f":
        return Tensor(y)
    return record(y, (x,), lambda g, n: ((g * ((a >= lo) & (a <= hi))).astype(in_dt),))


def is_tensor(x) -> bool:
    """Whether ``x`` is a backend tensor, an nnforge Tensor or Variable
    (``keras.ops.is_tensor``; NumPy arrays, Python numbers and symbolic KerasTensors are not,
    as with the TensorFlow backend).

    Args:
        x: anything.

    Returns:
        bool.

    Example:

    >>> ops.is_tensor(ops.ones((2,))), ops.is_tensor(np.ones(2))
    (True, False)
    """
    return isinstance(x, Tensor)


def dtype(x) -> str:
    """The dtype of ``x`` as a standardized string (``keras.ops.dtype``).

    Args:
        x: a tensor, array or Python scalar (floats give ``"float32"``, ints ``"int32"``).

    Returns:
        The dtype name, e.g. ``"float32"``.

    Example:

    >>> ops.dtype(ops.ones((2,)))
    'float32'
    """
    if isinstance(x, (Tensor, KerasTensor)):
        return str(x.dtype)
    if isinstance(x, (bool, int, float)):
        return strong(x)
    if backend.is_array(x):
        return str(x.dtype)
    return str(data_of(x, "dtype", "x").dtype)


def get_item(x, key) -> Tensor:
    """``x[key]`` (``keras.ops.get_item``), differentiable.

    Args:
        x: the tensor.
        key: an index, slice, tuple or integer array.

    Returns:
        A Tensor.

    Example:

    >>> ops.get_item(np.arange(4.0), 2).numpy()
    array(2.)
    """
    return getitem(x, key)


def select(condlist, choicelist, default=0) -> Tensor:
    """For each element, the entry of the first ``choicelist`` tensor whose condition holds,
    else ``default`` (``keras.ops.select``, as ``numpy.select``); differentiable in the choices
    and the default.

    Args:
        condlist: a list of boolean tensors.
        choicelist: a list of tensors, as many as conditions.
        default: the value where no condition holds.

    Returns:
        A Tensor of the broadcast shape.

    Example:

    >>> x = np.arange(4.0)
    >>> ops.select([x < 1, x > 2], [x, x ** 2], 42.0).numpy()
    array([ 0., 42., 42.,  9.])
    """
    if not isinstance(condlist, (list, tuple)) or not isinstance(choicelist, (list, tuple)):
        raise ValueError("select: condlist and choicelist must be lists")
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist has {len(condlist)} entries but choicelist has "
                         f"{len(choicelist)}")
    if not condlist:
        raise ValueError("select: condlist must not be empty")
    out = default
    for c, v in zip(reversed(condlist), reversed(choicelist)):
        cd = data_of(c, "select", "condlist")
        out = where(cd.astype(bool), v, out)
    return _tensor(out)


def unique(x, sorted: bool = True, return_index: bool = False,  # noqa: A002
           return_inverse: bool = False, return_counts: bool = False, axis: Optional[int] = None,
           size: Optional[int] = None, fill_value=None):
    """The unique elements of ``x`` (``keras.ops.unique``), sorted, or in order of first
    occurrence with ``sorted=False``.

    Args:
        x: input tensor.
        sorted: sort the unique values (lexicographically for sub-arrays along ``axis``).
        return_index: also return the first index of each unique value.
        return_inverse: also return, for each element, the index of its unique value.
        return_counts: also return the number of occurrences.
        axis: treat slices along this axis as the elements (None flattens).
        size: fixed output length: truncate, or pad with ``fill_value`` (counts with 0,
            indices with 1, as Keras's TensorFlow backend).
        fill_value: padding value (default 0).

    Returns:
        The unique values, or a tuple with the requested extras (int32).

    Example:

    >>> ops.unique(np.array([3, 1, 2, 1])).numpy()
    array([1, 2, 3])
    """
    a = data_of(x, "unique", "x")
    xp = backend.of(a).xp
    an = backend.to_numpy(a)
    flatten = axis is None
    if flatten:
        an = an.reshape(-1)
        ax = 0
    else:
        ax = axis % an.ndim
    vals, first, inv, counts = np.unique(an, return_index=True, return_inverse=True,
                                         return_counts=True, axis=None if flatten else ax)
    inv = inv.reshape(-1)
    if not sorted:
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        vals = np.take(vals, order, axis=ax)
        first, counts, inv = first[order], counts[order], rank[inv]
    if size is not None:
        m = vals.shape[ax]
        take = np.arange(_b.min(m, size))
        vals = np.take(vals, take, axis=ax)
        first, counts = first[take], counts[take]
        pad = _b.max(0, size - m)
        if pad:
            pw = [(0, 0)] * vals.ndim
            pw[ax] = (0, pad)
            vals = np.pad(vals, pw, constant_values=np.array(fill_value or 0).astype(vals.dtype))
            first = np.pad(first, (0, pad), constant_values=1)
            counts = np.pad(counts, (0, pad), constant_values=0)
    if flatten:
        inv = inv.reshape(np.shape(backend.to_numpy(a)))
    res = [Tensor(xp.asarray(vals))]
    if return_index:
        res.append(Tensor(xp.asarray(first.astype(np.int32))))
    if return_inverse:
        res.append(Tensor(xp.asarray(inv.astype(np.int32))))
    if return_counts:
        res.append(Tensor(xp.asarray(counts.astype(np.int32))))
    return tuple(res) if len(res) > 1 else res[0]


def cdist(x, y) -> Tensor:
    """Pairwise Euclidean distances between the rows of ``x`` and ``y`` (``keras.ops.cdist``).

    Args:
        x: ``(..., m, d)`` tensor.
        y: ``(..., n, d)`` tensor.

    Returns:
        A ``(..., m, n)`` Tensor.

    Example:

    >>> ops.cdist(np.array([[0.0, 0.0], [3.0, 4.0]], "float32"),
    ...           np.array([[0.0, 0.0]], "float32")).numpy()
    array([[0.],
           [5.]], dtype=float32)
    """
    xt, yt = _tensor(x), _tensor(y)
    if len(xt.shape) < 2 or len(yt.shape) < 2:
        raise ValueError(f"cdist: inputs must have rank >= 2, got shapes {xt.shape} and "
                         f"{yt.shape}")
    if xt.shape[-1] != yt.shape[-1]:
        raise ValueError(f"cdist: the last dimensions must match, got shapes {xt.shape} and "
                         f"{yt.shape}")
    diff = subtract(expand_dims(xt, -2), expand_dims(yt, -3))
    return sqrt(sum(square(diff), axis=-1))
