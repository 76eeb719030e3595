"""``einsum``: Einstein summation with its gradient, on the array module of the operands.

The forward is ``xp.einsum`` (NumPy's or CuPy's, contracting through BLAS where it can); the
gradient of each operand is another einsum of the output's gradient with the other operands,
expanded back over labels that only that operand has (broadcast), repeated labels (diagonals)
and size-1 dimensions that were broadcast."""
from __future__ import annotations

import string
from typing import List, Tuple

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._util import data_of, same_backend, unbroadcast

_FREE_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _parse(subscripts: str, shapes) -> Tuple[List[str], str]:
    """Explicit per-operand subscripts and output (ellipses replaced by letters)."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, out = subscripts.split("->")
        explicit = True
    else:
        lhs, out, explicit = subscripts, "", False
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands, got "
                         f"{len(shapes)}")
    used = set(c for c in subscripts if c.isalpha())
    spare = [c for c in _FREE_LETTERS if c not in used]
    ell_rank = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            ell_rank = max(ell_rank, len(shape) - (len(term) - 3))
    ell = "".join(spare[:ell_rank])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            if n < 0:
                raise ValueError(f"einsum: operand of shape {tuple(shape)} has fewer dimensions "
                                 f"than subscripts {term!r}")
            term = term.replace("...", ell[ell_rank - n:])
        if len(term) != len(shape) or not term.isalpha():
            raise ValueError(f"einsum: subscripts {term!r} do not match an operand of shape "
                             f"{tuple(shape)}")
        expanded.append(term)
    if explicit:
        out = out.replace("...", ell)
    else:
        counts = {}
        for term in expanded:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    return expanded, out


def _contract(xp, be, eq: str, *arrays):
    """``xp.einsum(eq, *arrays)``; a two-operand contraction in float32 runs as one (batched)
    GEMM: the labels are sorted into batch, free and contracted groups, the operands are
    transposed to ``(batch, m, k)`` and ``(batch, k, n)``, and a 2-D product runs on our sgemm
    (NumPy's einsum is far slower on these shapes)."""
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    if len(terms) != 2 or any(a.dtype != np.float32 for a in arrays) or \
            any(len(set(t)) != len(t) for t in terms):
        return xp.einsum(eq, *arrays, optimize=len(arrays) > 1)
    (ta, tb), (a, b) = terms, arrays
    # labels in one operand only and not in the output: sum them out first
    for i, (t, other) in enumerate(((ta, tb), (tb, ta))):
        lone = [c for c in t if c not in other and c not in out]
        if lone:
            arr = (a, b)[i].sum(axis=tuple(t.index(c) for c in lone))
            t = "".join(c for c in t if c not in lone)
            if i == 0:
                a, ta = arr, t
            else:
                b, tb = arr, t
    batch = [c for c in ta if c in tb and c in out]
    contract = [c for c in ta if c in tb and c not in out]
    free_a = [c for c in ta if c not in tb]
    free_b = [c for c in tb if c not in ta]
    size = {c: d for t, arr in ((ta, a), (tb, b)) for c, d in zip(t, arr.shape)}

    def prod(labels):
        n = 1
        for c in labels:
            n *= size[c]
        return n

    nb, m, k, n = prod(batch), prod(free_a), prod(contract), prod(free_b)
    a2 = a.transpose([ta.index(c) for c in batch + free_a + contract]).reshape(nb, m, k)
    b2 = b.transpose([tb.index(c) for c in batch + contract + free_b]).reshape(nb, k, n)
    if nb == 1:
        y = be.matmul(be.asarray(a2[0]), be.asarray(b2[0])).reshape(1, m, n)
    else:
        y = xp.matmul(a2, b2)
    cur = batch + free_a + free_b
    y = y.reshape([size[c] for c in cur])
    return y.transpose([cur.index(c) for c in out]) if cur != list(out) else y


def einsum(subscripts: str, *operands, **kwargs) -> Tensor:
    """Evaluates the Einstein summation convention on the operands (``keras.ops.einsum``).

    Args:
        subscripts: the labels of each operand separated by commas, optionally ``->`` and the
            labels of the output (``"...ij,jk->...ik"``); without ``->`` the output holds the
            labels that appear once, in alphabetical order (NumPy's implicit mode).
        *operands: the arrays (Tensors, Variables, NumPy/CuPy arrays).

    Returns:
        A Tensor; differentiable with respect to every floating-point operand.

    Example:

    >>> ops.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4))).shape
    (2, 4)
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {subscripts!r}")
    if not operands:
        raise ValueError("einsum: at least one operand is required")
    arrays = [data_of(x, "einsum", f"operands[{i}]") for i, x in enumerate(operands)]
    arrays = list(same_backend(*arrays))
    be = backend.of(arrays[0])
    xp = be.xp
    terms, out = _parse(subscripts, [a.shape for a in arrays])
    sizes = {}
    for term, a in zip(terms, arrays):
        for c, d in zip(term, a.shape):
            if d != 1:
                if sizes.get(c, 1) not in (1, d):
                    raise ValueError(f"einsum: label '{c}' has sizes {sizes[c]} and {d} in "
                                     f"{subscripts!r} (shapes {[tuple(x.shape) for x in arrays]})")
                sizes[c] = d
            else:
                sizes.setdefault(c, 1)
    # broadcast size-1 dimensions so that every label has one size (gradients sum them back)
    full = [a if all(d == sizes[c] for c, d in zip(t, a.shape)) else
            xp.broadcast_to(a, tuple(sizes[c] for c in t)) for t, a in zip(terms, arrays)]
    dtype = xp.result_type(*[a.dtype for a in arrays])
    full = [a.astype(dtype, copy=False) for a in full]
    eq = ",".join(terms) + "->" + out
    y = _contract(xp, be, eq, *full)
    if y.dtype != dtype:
        y = y.astype(dtype)

    def backward(g, needs):
        grads = []
        for i, (term, a) in enumerate(zip(terms, arrays)):
            if not needs[i] or a.dtype.kind != "f":
                grads.append(None)
                continue
            others = [t for j, t in enumerate(terms) if j != i]
            present = set(out).union(*[set(t) for t in others]) if others else set(out)
            uniq = "".join(dict.fromkeys(c for c in term if c in present))
            ins = [out] + others
            ops_ = [g] + [f for j, f in enumerate(full) if j != i]
            gi = _contract(xp, be, ",".join(ins) + "->" + uniq, *ops_)
            # repeated labels: put the gradient on the diagonal (multiply by identities)
            seen, renamed, eyes = set(), "", []
            spare = iter(c for c in _FREE_LETTERS if c not in eq)
            for c in term:
                if c in seen:
                    n = next(spare)
                    eyes.append((c + n, xp.eye(sizes[c], dtype=gi.dtype)))
                    renamed += n
                else:
                    seen.add(c)
                    renamed += c
            missing = [c for c in dict.fromkeys(term) if c not in uniq]
            cur = uniq
            if missing:  # labels only this operand has: the gradient is constant along them
                gi = xp.broadcast_to(xp.expand_dims(gi, tuple(range(len(missing)))),
                                     tuple(sizes[c] for c in missing) + tuple(gi.shape))
                cur = "".join(missing) + uniq
            if eyes:
                gi = xp.einsum(",".join([cur] + [e for e, _ in eyes]) + "->" + renamed,
                               gi, *[m for _, m in eyes])
            elif cur != term:
                gi = xp.einsum(cur + "->" + term, gi)
            grads.append(unbroadcast(xp.ascontiguousarray(gi).astype(a.dtype, copy=False),
                                     a.shape))
        return tuple(grads)

    return record(y, tuple(operands), backward)
