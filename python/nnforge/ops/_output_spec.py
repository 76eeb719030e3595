"""Output shape and dtype of an op called on KerasTensors, without running it on their data
(Keras 3's ``Operation.compute_output_spec``): shape rules for the common op families
(element-wise, broadcasting, reductions, joins, reshapes, matmul), and for the others a run on a
small well-conditioned stand-in (see ``stand_in_spec``)."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from nnforge.core.tensor import KerasTensor

from ._dtypes import result_type

Shape = Tuple[Optional[int], ...]

_BINARY = {"add", "subtract", "multiply", "divide", "true_divide", "power", "maximum",
           "minimum", "arctan2", "mod", "floor_divide", "hypot", "copysign", "heaviside",
           "logaddexp", "nextafter"}
_FLOAT_BINARY = {"divide", "true_divide", "arctan2", "hypot", "logaddexp"}
_COMPARE = {"equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
            "logical_and", "logical_or", "logical_xor", "isclose"}
_UNARY_SAME = {"abs", "absolute", "negative", "square", "relu", "relu6", "sign", "positive",
               "conj", "conjugate", "real", "leaky_relu", "stop_gradient"}
_UNARY_FLOAT = {"sqrt", "rsqrt", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sin",
                "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh",
                "arccosh", "arctanh", "sigmoid", "hard_sigmoid", "softplus", "softsign", "silu",
                "swish", "hard_silu", "hard_swish", "gelu", "elu", "selu", "celu", "glu",
                "mish", "erf", "erfinv", "log_sigmoid", "reciprocal", "softmax", "log_softmax",
                "sparse_plus", "sparsemax", "squareplus", "tanh_shrink", "hard_tanh",
                "soft_shrink", "hard_shrink", "threshold", "sinc", "floor", "ceil", "trunc",
                "round", "deg2rad", "rad2deg", "exponential", "linear", "nan_to_num"}
_UNARY_BOOL = {"logical_not", "isnan", "isinf", "isfinite", "signbit"}
_REDUCE_SAME = {"sum", "max", "min", "amax", "amin", "prod"}
_REDUCE_FLOAT = {"mean", "std", "var", "logsumexp", "median"}
_REDUCE_BOOL = {"all", "any"}
_REDUCE_INT = {"argmax", "argmin"}


def _dtype(x: Any) -> Any:
    return x.dtype if isinstance(x, KerasTensor) else x


def _shape(x: Any) -> Shape:
    if isinstance(x, KerasTensor):
        return tuple(x.shape)
    return tuple(np.shape(getattr(x, "data", x)))


def _floatish(dt: str) -> str:
    return dt if ("float" in dt or "complex" in dt) else "float32"


def broadcast_shapes(*shapes: Shape, op: str = "op") -> Shape:
    """NumPy broadcasting of shapes that may hold None (unknown) dimensions."""
    nd = max(len(s) for s in shapes)
    out = []
    for i in range(nd):
        dims = [s[i - nd + len(s)] for s in shapes if i - nd + len(s) >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"ops.{op}: shapes {list(shapes)} cannot be broadcast together")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _axes(axis: Any, nd: int) -> Optional[Tuple[int, ...]]:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(int(a) % nd if nd else 0 for a in axes)


def _reduce(shape: Shape, axis: Any, keepdims: bool) -> Shape:
    axes = _axes(axis, len(shape))
    if axes is None:
        return tuple(1 for _ in shape) if keepdims else ()
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _concat(shapes: Sequence[Shape], axis: int, op: str) -> Shape:
    nd = len(shapes[0])
    if any(len(s) != nd for s in shapes):
        raise ValueError(f"ops.{op}: inputs must have the same rank, got shapes {list(shapes)}")
    axis = int(axis) % nd
    out = []
    for i in range(nd):
        dims = [s[i] for s in shapes]
        if i == axis:
            out.append(None if any(d is None for d in dims) else sum(dims))
        else:
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(f"ops.{op}: shapes {list(shapes)} differ outside axis {axis}")
            out.append(known.pop() if known else None)
    return tuple(out)


def _reshape(shape: Shape, newshape: Any, op: str) -> Shape:
    new = [newshape] if isinstance(newshape, (int, np.integer)) else list(newshape)
    new = [None if d is None else int(d) for d in new]
    if new.count(-1) > 1:
        raise ValueError(f"ops.{op}: more than one -1 in newshape {newshape}")
    if -1 in new:
        if None in shape or None in new:
            new[new.index(-1)] = None
        else:
            total = int(np.prod(shape))
            rest = int(np.prod([d for d in new if d != -1]))
            if rest == 0 or total % rest:
                raise ValueError(f"ops.{op}: cannot reshape {shape} into {tuple(newshape)}")
            new[new.index(-1)] = total // rest
    elif None not in shape and None not in new and int(np.prod(shape)) != int(np.prod(new)):
        raise ValueError(f"ops.{op}: cannot reshape {shape} into {tuple(newshape)}")
    return tuple(new)


def _matmul(a: Shape, b: Shape, op: str) -> Shape:
    if not a or not b:
        raise ValueError(f"ops.{op}: inputs must have rank >= 1, got shapes {a} and {b}")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] is not None and b2[-2] is not None and a2[-1] != b2[-2]:
        raise ValueError(f"ops.{op}: inner dimensions differ, shapes {a} and {b}")
    batch = broadcast_shapes(a2[:-2], b2[:-2], op=op)
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def rule_spec(name: str, bound: Dict[str, Any]) -> Optional[Tuple[Shape, str]]:
    """``(shape, dtype)`` of ``ops.<name>`` called with the arguments ``bound`` (by parameter
    name), from the op's shape rule; None when the op has no rule here."""
    vals = list(bound.values())
    if name in ("concatenate", "stack"):
        return join_spec(name, bound)
    if name in _BINARY or name in _COMPARE:
        x1, x2 = vals[0], vals[1]
        shape = broadcast_shapes(_shape(x1), _shape(x2), op=name)
        if name in _COMPARE:
            return shape, "bool"
        dt = result_type(_dtype(x1), _dtype(x2))
        return shape, (_floatish(dt) if name in _FLOAT_BINARY else dt)
    if name in ("where", "clip"):
        args = [v for v in vals[:3] if v is not None]
        shape = broadcast_shapes(*[_shape(v) for v in args], op=name)
        parts = args[1:] if name == "where" else args[:1]
        return shape, result_type(*[_dtype(v) for v in parts]) if parts else "float32"
    x = vals[0] if vals else None
    if not isinstance(x, KerasTensor):
        return None
    shape, dt = tuple(x.shape), x.dtype
    if name in _UNARY_SAME:
        return shape, dt
    if name in _UNARY_FLOAT:
        return shape, _floatish(dt)
    if name in _UNARY_BOOL:
        return shape, "bool"
    if name == "cast":
        dt = bound["dtype"]
        return shape, dt if isinstance(dt, str) and dt == "bfloat16" else np.dtype(dt).name
    if name in _REDUCE_SAME | _REDUCE_FLOAT | _REDUCE_BOOL | _REDUCE_INT:
        out = _reduce(shape, bound.get("axis"), bool(bound.get("keepdims", False)))
        if name in _REDUCE_FLOAT:
            return out, _floatish(dt)
        if name in _REDUCE_BOOL:
            return out, "bool"
        if name in _REDUCE_INT:
            return out, "int32"
        return out, ("int32" if dt == "bool" else dt)
    if name == "reshape":
        return _reshape(shape, vals[1], name), dt
    if name == "transpose":
        axes = bound.get("axes")
        axes = tuple(reversed(range(len(shape)))) if axes is None else _axes(axes, len(shape))
        return tuple(shape[a] for a in axes), dt
    if name == "expand_dims":
        axes = _axes(bound.get("axis"), len(shape) + len(_axes(bound.get("axis"), 1) or ()))
        out = list(shape)
        for a in sorted(axes):
            out.insert(a, 1)
        return tuple(out), dt
    if name == "squeeze":
        axes = _axes(bound.get("axis"), len(shape))
        if axes is None:
            return tuple(d for d in shape if d != 1), dt
        for a in axes:
            if shape[a] not in (1, None):
                raise ValueError(f"ops.squeeze: axis {a} of shape {shape} is not 1")
        return tuple(d for i, d in enumerate(shape) if i not in axes), dt
    if name in ("matmul",):
        return _matmul(shape, _shape(vals[1]), name), result_type(dt, _dtype(vals[1]))
    return None


def join_spec(name: str, bound: Dict[str, Any]) -> Optional[Tuple[Shape, str]]:
    """``concatenate``/``stack`` of a list of tensors."""
    xs = list(bound.values())[0]
    if not isinstance(xs, (list, tuple)) or not xs:
        return None
    shapes = [_shape(t) for t in xs]
    dt = result_type(*[_dtype(t) for t in xs])
    axis = bound.get("axis", 0)
    if name == "concatenate":
        return _concat(shapes, axis, name), dt
    nd = len(shapes[0])
    if any(len(s) != nd for s in shapes):
        raise ValueError(f"ops.stack: inputs must have the same rank, got shapes {shapes}")
    base = tuple(None if any(s[i] is None for s in shapes) else shapes[0][i] for i in range(nd))
    axis = int(axis) % (nd + 1)
    return base[:axis] + (len(xs),) + base[axis:], dt


def _stand_in(t: KerasTensor, size: int):
    """A well-conditioned array for ``t``: unknown dimensions set to ``size``, floats 0.1
    everywhere plus ``n`` on the diagonal of square trailing matrices (symmetric positive
    definite, so inv/solve/cholesky/log/sqrt all succeed), ints 1, bools True."""
    shape = tuple(size if d is None else d for d in t.shape)
    dt = np.dtype(t.dtype)
    if dt.kind == "b":
        return np.ones(shape, dtype=bool)
    if dt.kind in "iu":
        return np.ones(shape, dtype=dt)
    a = np.full(shape, 0.1, dtype=dt)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        a = a + shape[-1] * np.eye(shape[-1], dtype=dt)
    return a


def stand_in_spec(fn: Callable, args: Any, kwargs: Any, map_structure: Callable):
    """Shapes and dtypes of ``fn``'s outputs for an op with no shape rule: the op runs twice on
    small stand-ins (``_stand_in``) with the unknown dimensions set to 2 and 3; an output
    dimension that differs between the runs is unknown (None)."""
    from nnforge.core.tape import stop_recording

    def concrete(size):
        def conv(t):
            return _stand_in(t, size) if isinstance(t, KerasTensor) else t
        return map_structure(conv, args), map_structure(conv, kwargs)

    with stop_recording():
        a1, k1 = concrete(2)
        first = fn(*a1, **k1)
        a2, k2 = concrete(3)
        second = fn(*a2, **k2)
    s1 = map_structure(lambda t: tuple(np.shape(getattr(t, "data", t))), first)
    s2 = map_structure(lambda t: tuple(np.shape(getattr(t, "data", t))), second)
    dtypes = map_structure(lambda t: str(np.dtype(getattr(t, "dtype", "float32")).name), first)
    return _merge(s1, s2), dtypes


def _merge(a, b):
    if isinstance(a, tuple) and all(isinstance(d, int) for d in a):
        return tuple(None if x != y else x for x, y in zip(a, b))
    if isinstance(a, (list, tuple)):
        return [_merge(x, y) for x, y in zip(a, b)]
    if isinstance(a, dict):
        return {k: _merge(a[k], b[k]) for k in a}
    return a
