"""``keras.ops.rearrange`` (einops-style axis rearrangement) and ``keras.ops.vectorize``: both
are compositions of differentiable ops (reshape/transpose; getitem/stack)."""
from __future__ import annotations

import importlib
import itertools
import re
from typing import Callable, Optional

import numpy as np

from nnforge.core.tensor import Tensor

from ._npcommon import as_tensor

_mm = importlib.import_module("nnforge.ops.math")


def _groups(side: str, pattern: str):
    """``"b (h w) c"`` -> ``[["b"], ["h", "w"], ["c"]]``."""
    groups, cur = [], None
    for tok in re.findall(r"\(|\)|[A-Za-z_]\w*|\S", side):
        if tok == "(":
            if cur is not None:
                raise ValueError(f"rearrange: nested parentheses in pattern {pattern!r}")
            cur = []
        elif tok == ")":
            if cur is None:
                raise ValueError(f"rearrange: unbalanced ')' in pattern {pattern!r}")
            groups.append(cur)
            cur = None
        elif re.fullmatch(r"[A-Za-z_]\w*", tok):
            if cur is not None:
                cur.append(tok)
            else:
                groups.append([tok])
        else:
            raise ValueError(f"rearrange: unsupported token {tok!r} in pattern {pattern!r} "
                             "(axis names, parentheses and '->' only)")
    if cur is not None:
        raise ValueError(f"rearrange: unbalanced '(' in pattern {pattern!r}")
    return groups


def rearrange(tensor, pattern: str, **axes_lengths) -> Tensor:
    """Rearrange the axes of ``tensor`` einops-style (``keras.ops.rearrange``): split grouped
    input axes, permute, and merge groups of output axes.

    Args:
        tensor: input tensor.
        pattern: e.g. ``"b h w c -> b (h w) c"`` or ``"b (h1 h) w c -> (b h1) h w c"``.
        **axes_lengths: sizes of axes split out of a group (one per group may be inferred).

    Returns:
        A Tensor.

    Example:

    >>> ops.rearrange(np.zeros((2, 4, 6, 3)), "b (h1 h) w c -> (b h1) h w c", h1=2).shape
    (4, 2, 6, 3)
    """
    tensor = as_tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"rearrange: pattern must contain '->', got {pattern!r}")
    left, right = pattern.split("->", 1)
    gin, gout = _groups(left, pattern), _groups(right, pattern)
    shape = tuple(_mm.shape(tensor))
    if len(gin) != len(shape):
        raise ValueError(f"rearrange: pattern {pattern!r} names {len(gin)} input axes but the "
                         f"tensor has shape {shape}")
    ain = [a for g in gin for a in g]
    aout = [a for g in gout for a in g]
    if len(set(ain)) != len(ain) or sorted(ain) != sorted(aout):
        raise ValueError(f"rearrange: the axes of both sides of {pattern!r} must be the same, "
                         "each named once")
    sizes = {}
    for g, dim in zip(gin, shape):
        unknown = [a for a in g if a not in axes_lengths]
        known = int(np.prod([axes_lengths[a] for a in g if a in axes_lengths]))
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of {unknown} in group {g} of "
                             f"size {dim}; pass them as keyword arguments")
        if unknown:
            if known == 0 or dim % known:
                raise ValueError(f"rearrange: axis of size {dim} cannot be split as {g} with "
                                 f"{axes_lengths}")
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(f"rearrange: group {g} has size {known}, the axis has size {dim}")
        sizes.update({a: int(axes_lengths[a]) for a in g if a in axes_lengths})
    t = tensor
    split = tuple(sizes[a] for a in ain)
    if split != shape:
        t = _mm.reshape(t, split)
    perm = tuple(ain.index(a) for a in aout)
    if perm != tuple(range(len(perm))):
        t = _mm.transpose(t, perm)
    out = tuple(int(np.prod([sizes[a] for a in g])) for g in gout)
    return _mm.reshape(t, out) if tuple(_mm.shape(t)) != out or not isinstance(t, Tensor) else t


def _parse_signature(signature: str):
    m = re.fullmatch(r"\s*(.*?)\s*->\s*(.*?)\s*", signature)
    if not m:
        raise ValueError(f"vectorize: signature must look like '(m,n),(n)->(m)', got "
                         f"{signature!r}")

    def side(s):
        return [tuple(d for d in re.split(r"\s*,\s*", g.strip()) if d)
                for g in re.findall(r"\(([^()]*)\)", s)]

    return side(m.group(1)), side(m.group(2))


def vectorize(pyfunc: Callable, *, excluded: Optional[set] = None,
              signature: Optional[str] = None) -> Callable:
    """Turn ``pyfunc`` into a function mapped over the leading (broadcast) axes of its
    arguments (``keras.ops.vectorize``), as ``numpy.vectorize``.

    Args:
        pyfunc: the function; by default it takes and returns scalar tensors.
        excluded: positions of arguments passed to ``pyfunc`` unchanged.
        signature: generalized ufunc signature, e.g. ``"(m,n),(n)->(m)"``: the core
            (trailing) dimensions each call sees and returns.

    Returns:
        The vectorized function (its results are Tensors; differentiable when ``pyfunc`` is).

    Example:

    >>> f = ops.vectorize(lambda a, b: a + b)
    >>> f([1, 2, 3], 2).numpy()
    array([3, 4, 5], dtype=int32)
    """
    if not callable(pyfunc):
        raise ValueError(f"vectorize: pyfunc must be callable, got {pyfunc!r}")
    excluded = set(excluded or ())
    in_core, out_core = _parse_signature(signature) if signature else (None, None)

    def wrapped(*args, **kwargs):
        pos = [i for i in range(len(args)) if i not in excluded and args[i] is not None]
        ts = {i: args[i] if isinstance(args[i], Tensor) else _mm.convert_to_tensor(args[i])
              for i in pos}
        cores = in_core if in_core is not None else [()] * len(pos)
        if len(cores) != len(pos):
            raise ValueError(f"vectorize: signature {signature!r} names {len(cores)} inputs, "
                             f"got {len(pos)}")
        dims, loops = {}, []
        for i, core in zip(pos, cores):
            sh = tuple(ts[i].shape)
            if len(sh) < len(core):
                raise ValueError(f"vectorize: argument {i} of shape {sh} has fewer dimensions "
                                 f"than its core dimensions {core}")
            for name, size in zip(core, sh[len(sh) - len(core):]):
                if dims.setdefault(name, size) != size:
                    raise ValueError(f"vectorize: core dimension {name!r} has sizes "
                                     f"{dims[name]} and {size}")
            loops.append(sh[:len(sh) - len(core)])
        loop = np.broadcast_shapes(*loops) if loops else ()
        if not loop:
            return pyfunc(*args, **kwargs)
        results = []
        for idx in itertools.product(*(range(n) for n in loop)):
            call = list(args)
            for i, ls in zip(pos, loops):
                sub = tuple(0 if s == 1 else k for s, k in zip(ls, idx[len(idx) - len(ls):]))
                call[i] = _mm.getitem(ts[i], sub) if sub else ts[i]
            results.append(pyfunc(*call, **kwargs))
        multi = isinstance(results[0], tuple)
        cols = list(zip(*results)) if multi else [results]
        outs = []
        for col in cols:
            st = _mm.stack([c if isinstance(c, Tensor) else _mm.convert_to_tensor(c)
                            for c in col], axis=0)
            outs.append(_mm.reshape(st, tuple(loop) + tuple(st.shape[1:])))
        return tuple(outs) if multi else outs[0]

    return wrapped


__all__ = ["rearrange", "vectorize"]
