"""``einsum``: Einstein summation with its gradient, on the array module of the operands.

The forward is ``xp.einsum`` (NumPy's or CuPy's, contracting through BLAS where it can); the
gradient of each operand is another einsum of the output's gradient with the other operands,
expanded back over labels that only that operand has (broadcast), repeated labels (diagonals)
and size-1 dimensions that were broadcast."""
from __future__ import annotations

import string
from typing import List, Tuple

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
    xp = backend.of(arrays[0]).xp
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
    y = xp.einsum(eq, *full, optimize=len(full) > 1)
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
            gi = xp.einsum(",".join(ins) + "->" + uniq, *ops_, optimize=len(ops_) > 1)
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
