"""Linear algebra of ``keras.ops`` / ``keras.ops.linalg`` (cholesky, det, eigh, inv, lstsq, qr,
solve, svd ...), batched over leading axes, with TensorFlow's gradients: inverse, determinant,
solves, Cholesky, symmetric eigen-decomposition, SVD, QR and least squares differentiate."""
from __future__ import annotations

import importlib
import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._dtypes import float_type
from ._npcommon import arr, xp_of
from ._util import same_backend

_mm = importlib.import_module("nnforge.ops.math")


def _sq(x, fn, arg="x"):
    a = arr(x, fn, arg, float_type(x))
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{fn}: argument '{arg}' must be a (batch of) square matrices, got "
                         f"shape {tuple(a.shape)}")
    return a


def _mat(x, fn, arg="x"):
    a = arr(x, fn, arg, float_type(x))
    if a.ndim < 2:
        raise ValueError(f"{fn}: argument '{arg}' must be at least 2-D, got shape "
                         f"{tuple(a.shape)}")
    return a


def _T(a):
    return xp_of(a).swapaxes(a, -1, -2)


def _tril(xp, a, k=0):
    return xp.tril(a, k) if a.ndim == 2 else a * xp.tri(a.shape[-2], a.shape[-1], k, a.dtype)


def _triu(xp, a, k=0):
    return a - _tril(xp, a, k - 1)


def inv(x) -> Tensor:
    """Inverse of a (batch of) square matrix (``keras.ops.inv``).

    Args:
        x: tensor of shape (..., n, n).

    Returns:
        A Tensor of the same shape.

    Example:

    >>> ops.inv([[2.0, 0.0], [0.0, 4.0]]).numpy()
    array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    a = _sq(x, "inv")
    xp = xp_of(a)
    y = xp.linalg.inv(a.astype(np.float32) if a.dtype == np.float16 else a).astype(a.dtype)
    return record(y, (x,), lambda g, n: (-(_T(y) @ g @ _T(y)),))


def det(x) -> Tensor:
    """Determinant of a (batch of) square matrix (``keras.ops.det``).

    Args:
        x: tensor of shape (..., n, n).

    Returns:
        A Tensor of shape (...).

    Example:

    >>> ops.det([[2.0, 1.0], [1.0, 3.0]]).numpy()
    array(5., dtype=float32)
    """
    a = _sq(x, "det")
    xp = xp_of(a)
    y = xp.linalg.det(a).astype(a.dtype)
    return record(y, (x,), lambda g, n: ((g * y)[..., None, None] * _T(xp.linalg.inv(a)),))


def slogdet(x):
    """Sign and log of the absolute determinant (``keras.ops.slogdet``).

    Args:
        x: tensor of shape (..., n, n).

    Returns:
        A tuple ``(sign, logabsdet)`` of Tensors of shape (...).

    Example:

    >>> [t.numpy() for t in ops.slogdet([[2.0, 0.0], [0.0, -3.0]])]
    [array(-1., dtype=float32), array(1.7917595, dtype=float32)]
    """
    a = _sq(x, "slogdet")
    xp = xp_of(a)
    s, ld = xp.linalg.slogdet(a)
    ld = ld.astype(a.dtype)
    return (Tensor(s.astype(a.dtype)),
            record(ld, (x,), lambda g, n: (g[..., None, None] * _T(xp.linalg.inv(a)),)))


def logdet(x) -> Tensor:
    """Log-determinant of a (batch of) Hermitian positive definite matrix (``keras.ops.logdet``).

    Args:
        x: tensor of shape (..., n, n).

    Returns:
        A Tensor of shape (...).

    Example:

    >>> ops.logdet([[2.0, 0.0], [0.0, 3.0]]).numpy()
    array(1.7917595, dtype=float32)
    """
    return slogdet(x)[1]


def _solve_b(a, b, fn):
    vec = b.ndim == a.ndim - 1
    bb = b[..., None] if vec else b
    if bb.shape[-2] != a.shape[-1]:
        raise ValueError(f"{fn}: a has shape {tuple(a.shape)} but b has shape {tuple(b.shape)}")
    return bb, vec


def solve(a, b) -> Tensor:
    """Solve ``a @ x = b`` (``keras.ops.solve``).

    Args:
        a: tensor of shape (..., n, n).
        b: tensor of shape (..., n, k) or (..., n).

    Returns:
        The solution ``x`` of ``b``'s shape.

    Example:

    >>> ops.solve([[2.0, 0.0], [0.0, 4.0]], [[2.0], [2.0]]).numpy()
    array([[1. ],
           [0.5]], dtype=float32)
    """
    return _solve("solve", a, b, None)


def solve_triangular(a, b, lower: bool = False) -> Tensor:
    """Solve ``a @ x = b`` for triangular ``a`` (``keras.ops.solve_triangular``); only the
    ``lower`` (or upper) triangle of ``a`` is read.

    Args:
        a: tensor of shape (..., n, n).
        b: tensor of shape (..., n, k) or (..., n).
        lower: whether ``a`` is lower triangular (default upper).

    Returns:
        The solution ``x`` of ``b``'s shape.

    Example:

    >>> ops.solve_triangular([[2.0, 0.0], [1.0, 1.0]], [[2.0], [3.0]], lower=True).numpy()
    array([[1.],
           [2.]], dtype=float32)
    """
    return _solve("solve_triangular", a, b, lower)


def _solve(fn, x1, x2, lower):
    from ._dtypes import result_type
    dt = result_type(x1, x2, float)
    a = _sq(x1, fn, "a").astype(dt)
    b = arr(x2, fn, "b", dt)
    a, b = same_backend(a, b)
    xp = xp_of(a)
    if lower is not None:
        a = _tril(xp, a) if lower else _triu(xp, a)
    bb, vec = _solve_b(a, b, fn)
    y = xp.linalg.solve(a, bb)

    def backward(g, needs):
        gg = g[..., None] if vec else g
        gb = xp.linalg.solve(_T(a), gg)
        ga = None
        if needs[0]:
            ga = -(gb @ _T(y))
            if lower is not None:
                ga = _tril(xp, ga) if lower else _triu(xp, ga)
            ga = _sum_to(xp, ga, x1_shape)
        if needs[1]:
            gb = gb[..., 0] if vec else gb
            gb = _sum_to(xp, gb, b.shape)
        return ga, gb if needs[1] else None

    x1_shape = a.shape
    return record(y[..., 0] if vec else y, (x1, x2), backward)


def _sum_to(xp, g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def cholesky(x, upper: bool = False) -> Tensor:
    """Cholesky factor of a (batch of) symmetric positive definite matrix
    (``keras.ops.cholesky``).

    Args:
        x: tensor of shape (..., n, n).
        upper: return the upper factor ``U`` (``x = U^T U``) instead of the lower ``L``.

    Returns:
        A Tensor of the same shape.

    Example:

    >>> ops.cholesky([[4.0, 2.0], [2.0, 2.0]]).numpy()
    array([[2., 0.],
           [1., 1.]], dtype=float32)
    """
    a = _sq(x, "cholesky")
    xp = xp_of(a)
    try:
        low = xp.linalg.cholesky(a)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"cholesky: x of shape {tuple(a.shape)} is not positive definite: "
                         f"{e}") from None

    def backward(g, needs):
        gl = _T(g) if upper else g
        p = _T(low) @ gl
        p = _tril(xp, p) - 0.5 * xp.eye(p.shape[-1], dtype=p.dtype) * p
        linv = xp.linalg.inv(low)
        s = _T(linv) @ p @ linv
        return (0.5 * (s + _T(s)),)

    return record(_T(low).copy() if upper else low, (x,), backward)


def cholesky_inverse(x, upper: bool = False) -> Tensor:
    """Inverse of ``A`` from its Cholesky factor (``keras.ops.cholesky_inverse``).

    Args:
        x: the factor, lower ``L`` (``A = L L^T``) or upper ``U`` (``A = U^T U``).
        upper: whether ``x`` is the upper factor.

    Returns:
        ``A^-1``, a Tensor of ``x``'s shape.

    Example:

    >>> ops.cholesky_inverse([[2.0, 0.0], [1.0, 1.0]]).numpy()
    array([[ 0.5, -0.5],
           [-0.5,  1. ]], dtype=float32)
    """
    a = _sq(x, "cholesky_inverse")
    eye = xp_of(a).broadcast_to(xp_of(a).eye(a.shape[-1], dtype=a.dtype), a.shape)
    m = solve_triangular(x, eye, lower=not upper)
    from .numpy_array import swapaxes
    mt = swapaxes(m, -1, -2)
    from .numpy_array import _matmul
    return _matmul(mt, m, mt.data, m.data) if not upper else _matmul(m, mt, m.data, mt.data)


def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of a (batch of) symmetric matrix
    (``keras.ops.eigh``); only the lower triangle is read.

    Args:
        x: tensor of shape (..., n, n).

    Returns:
        A tuple ``(w, v)``: eigenvalues (..., n) and eigenvectors as columns (..., n, n).

    Example:

    >>> ops.eigh([[2.0, 0.0], [0.0, 1.0]])[0].numpy()
    array([1., 2.], dtype=float32)
    """
    a = _sq(x, "eigh")
    xp = xp_of(a)
    w, v = xp.linalg.eigh(a)
    w = w.astype(a.dtype)
    v = v.astype(a.dtype)
    n = a.shape[-1]

    def grad(gw, gv):
        inner = xp.zeros(a.shape, a.dtype)
        if gv is not None:
            diffs = w[..., None, :] - w[..., :, None]
            f = xp.where(xp.eye(n, dtype=bool), 0.0, 1.0 / xp.where(diffs == 0, 1.0, diffs))
            inner = inner + f * (_T(v) @ gv)
        if gw is not None:
            inner = inner + xp.eye(n, dtype=a.dtype) * gw[..., None, :]
        s = v @ inner @ _T(v)
        s = _tril(xp, s + _T(s))
        return s - 0.5 * xp.eye(n, dtype=a.dtype) * s

    return _two_outputs(x, w, v, grad)


def _two_outputs(x, y1, y2, grad, y3=None):
    """Outputs sharing one gradient function ``grad(g1, g2[, g3])``: each output's backward
    passes its own cotangent (the others None); the tape sums the contributions."""
    outs = (y1, y2) if y3 is None else (y1, y2, y3)
    res = []
    for i, y in enumerate(outs):
        def backward(g, needs, i=i):
            gs = [None] * len(outs)
            gs[i] = g
            return (grad(*gs),)
        res.append(record(y, (x,), backward))
    return tuple(res)


def eig(x):
    """Eigenvalues and right eigenvectors of a (batch of) square matrix (``keras.ops.eig``).

    Args:
        x: tensor of shape (..., n, n).

    Returns:
        A tuple ``(w, v)`` of complex Tensors (no gradient, as in Keras's TensorFlow backend).

    Example:

    >>> w, v = ops.eig([[2.0, 0.0], [0.0, 1.0]])
    >>> sorted(w.numpy().real.tolist())
    [1.0, 2.0]
    """
    a = _sq(x, "eig")
    be = backend.of(a)
    w, v = np.linalg.eig(backend.to_numpy(a))
    cdt = np.complex128 if a.dtype == np.float64 else np.complex64
    return Tensor(be.xp.asarray(w.astype(cdt))), Tensor(be.xp.asarray(v.astype(cdt)))


def svd(x, full_matrices: bool = True, compute_uv: bool = True):
    """Singular value decomposition ``x = u @ diag(s) @ vh`` (``keras.ops.svd``).

    Args:
        x: tensor of shape (..., m, n).
        full_matrices: return square ``u`` (m, m) and ``vh`` (n, n) instead of the thin ones.
        compute_uv: return ``(u, s, vh)``; False returns only ``s``.

    Returns:
        ``(u, s, vh)`` or ``s`` (descending singular values).

    Example:

    >>> ops.svd([[3.0, 0.0], [0.0, 4.0]], compute_uv=False).numpy()
    array([4., 3.], dtype=float32)
    """
    a = _mat(x, "svd")
    xp = xp_of(a)
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    u, s, vh = u.astype(a.dtype), s.astype(a.dtype), vh.astype(a.dtype)
    k = s.shape[-1]
    ut, vt = u[..., :, :k], _T(vh[..., :k, :])  # thin factors

    def grad(gu, gs, gvh):
        if full_matrices and a.shape[-1] != a.shape[-2] and (gu is not None or gvh is not None):
            raise NotImplementedError(
                f"svd: the gradient through u/vh of a non-square input (shape {tuple(a.shape)}) "
                "is not defined with full_matrices=True (as in TensorFlow); use "
                "full_matrices=False")
        sm = s[..., None, :]
        out = xp.zeros(a.shape, a.dtype)
        inner = xp.zeros(a.shape[:-2] + (k, k), a.dtype)
        if gs is not None:
            inner = inner + xp.eye(k, dtype=a.dtype) * gs[..., None, :]
        if gu is not None or gvh is not None:
            d = sm * sm - _T(sm * sm)
            f = xp.where(xp.eye(k, dtype=bool), 0.0, 1.0 / xp.where(d == 0, 1.0, d))
            sinv = 1.0 / xp.where(s == 0, 1.0, s)
            if gu is not None:
                gut = gu[..., :, :k]
                j = _T(ut) @ gut
                inner = inner + (f * (j - _T(j))) * sm
                m = a.shape[-2]
                proj = xp.eye(m, dtype=a.dtype) - ut @ _T(ut)
                out = out + proj @ gut * sinv[..., None, :] @ _T(vt)
            if gvh is not None:
                gvt = _T(gvh[..., :k, :])
                j = _T(vt) @ gvt
                inner = inner + _T(sm) * (f * (j - _T(j)))
                n = a.shape[-1]
                proj = xp.eye(n, dtype=a.dtype) - vt @ _T(vt)
                out = out + ut * sinv[..., None, :] @ _T(gvt) @ proj
        return out + ut @ inner @ _T(vt)

    if not compute_uv:
        return record(s, (x,), lambda g, n: (grad(None, g, None),))
    return _two_outputs(x, u, s, grad, vh)


def qr(x, mode: str = "reduced"):
    """QR decomposition ``x = q @ r`` (``keras.ops.qr``).

    Args:
        x: tensor of shape (..., m, n).
        mode: ``"reduced"`` (q: (m, k), r: (k, n), k = min(m, n)) or ``"complete"``
            (q: (m, m), r: (m, n)).

    Returns:
        A tuple ``(q, r)`` (differentiable for ``m >= n`` reduced, as in TensorFlow).

    Example:

    >>> q, r = ops.qr([[1.0, 0.0], [0.0, 2.0]])
    >>> abs(r.numpy()).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    a = _mat(x, "qr")
    xp = xp_of(a)
    q, r = xp.linalg.qr(a.astype(np.float32) if a.dtype == np.float16 else a, mode=mode)
    q, r = q.astype(a.dtype), r.astype(a.dtype)
    m, n = a.shape[-2:]
    def grad(gq, gr):
        if not (m >= n and (mode == "reduced" or m == n)):
            raise NotImplementedError(
                f"qr: the gradient is defined for inputs with rows >= columns (and mode="
                f"'reduced' unless square), as in TensorFlow; got shape {tuple(a.shape)}, "
                f"mode={mode!r}")
        gq = xp.zeros_like(q) if gq is None else gq
        gr = xp.zeros_like(r) if gr is None else gr
        mm = r @ _T(gr) - _T(gq) @ q
        copyltu = _tril(xp, mm) + _T(_tril(xp, mm, -1))
        rhs = gq + q @ copyltu
        return _T(xp.linalg.solve(r, _T(rhs)))

    return _two_outputs(x, q, r, grad)


def lstsq(a, b, rcond=None) -> Tensor:
    """Least-squares solution of ``a @ x = b`` (``keras.ops.lstsq``).

    Args:
        a: tensor of shape (m, n).
        b: tensor of shape (m,) or (m, k).
        rcond: cutoff ratio for small singular values (default ``eps * max(m, n)``).

    Returns:
        The solution ``x`` of shape (n,) or (n, k).

    Example:

    >>> ops.lstsq([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], [1.0, 2.0, 3.0]).numpy()
    array([1., 2.], dtype=float32)
    """
    from ._dtypes import result_type
    dt = result_type(a, b, float)
    A = arr(a, "lstsq", "a", dt)
    B = arr(b, "lstsq", "b", dt)
    A, B = same_backend(A, B)
    if A.ndim != 2 or B.ndim not in (1, 2) or A.shape[0] != B.shape[0]:
        raise ValueError(f"lstsq: a must be 2-D and b 1-D or 2-D with the same leading "
                         f"dimension, got shapes {tuple(A.shape)} and {tuple(B.shape)}")
    xp = xp_of(A)
    if rcond is None:
        rcond = np.finfo(dt).eps * max(A.shape)
    y = xp.linalg.lstsq(A, B, rcond=rcond)[0].astype(dt)

    def backward(g, needs):
        vec = B.ndim == 1
        gg = g[:, None] if vec else g
        yy = y[:, None] if vec else y
        bb = B[:, None] if vec else B
        z = xp.linalg.solve(A.T @ A, gg)
        res = bb - A @ yy
        ga = (res @ z.T - (A @ z) @ yy.T) if needs[0] else None
        gb = (A @ z) if needs[1] else None
        if gb is not None and vec:
            gb = gb[:, 0]
        return ga, gb

    return record(y, (a, b), backward)


def pinv(x, rcond=None) -> Tensor:
    """Moore-Penrose pseudo-inverse via the SVD (``keras.ops.pinv``).

    Args:
        x: tensor of shape (..., m, n).
        rcond: singular values below ``rcond * max(s)`` count as zero (default
            ``10 * max(m, n) * eps``, as TensorFlow).

    Returns:
        A Tensor of shape (..., n, m).

    Example:

    >>> ops.pinv([[2.0, 0.0], [0.0, 0.0]]).numpy()
    array([[0.5, 0. ],
           [0. , 0. ]], dtype=float32)
    """
    a = _mat(x, "pinv")
    if rcond is None:
        rcond = 10.0 * max(a.shape[-2:]) * np.finfo(a.dtype).eps
    u, s, vh = svd(x, full_matrices=False)
    cut = rcond * s.data.max(axis=-1, keepdims=True)
    keep = s.data > cut
    sinv = _mm.where(keep, _mm.divide(1.0, _mm.where(keep, s, np.asarray(1.0, a.dtype))),
                     np.asarray(0.0, a.dtype))
    from .numpy_array import _matmul, swapaxes
    vs = _mm.multiply(swapaxes(vh, -1, -2), _mm.expand_dims(sinv, -2))
    ut = swapaxes(u, -1, -2)
    return _matmul(vs, ut, vs.data, ut.data)


def matrix_rank(x, tol=None) -> Tensor:
    """Rank of a (batch of) matrix: the number of singular values above ``tol``
    (``keras.ops.matrix_rank``).

    Args:
        x: tensor of shape (..., m, n).
        tol: threshold (default ``max(s) * max(m, n) * eps``).

    Returns:
        An int32 Tensor of shape (...).

    Example:

    >>> ops.matrix_rank([[1.0, 2.0], [2.0, 4.0]]).numpy()
    array(1, dtype=int32)
    """
    a = _mat(x, "matrix_rank")
    xp = xp_of(a)
    s = xp.linalg.svd(a, compute_uv=False)
    t = s.max(axis=-1, keepdims=True) * max(a.shape[-2:]) * np.finfo(a.dtype).eps \
        if tol is None else tol
    return Tensor(xp.asarray((s > t).sum(axis=-1)).astype(np.int32))


def lu_factor(x):
    """LU factorization with partial pivoting (``keras.ops.lu_factor``).

    Args:
        x: tensor of shape (..., n, n).

    Returns:
        A tuple ``(lu, pivots)``: ``L`` (unit diagonal, below) and ``U`` packed in one matrix
        (differentiable, as TensorFlow's), and the int32 row permutation as Keras's TensorFlow
        backend returns it.

    Example:

    >>> lu, p = ops.lu_factor([[1.0, 2.0], [3.0, 4.0]])
    >>> p.numpy()
    array([1, 0], dtype=int32)
    """
    a = _sq(x, "lu_factor")
    be = backend.of(a)
    m = backend.to_numpy(a).astype(np.float64 if a.dtype == np.float64 else a.dtype).copy()
    batch = m.reshape((-1,) + m.shape[-2:])
    n = m.shape[-1]
    perms = np.tile(np.arange(n), (batch.shape[0], 1))
    for bi in range(batch.shape[0]):
        u = batch[bi]
        p = perms[bi]
        for k in range(n - 1):
            piv = k + int(np.argmax(np.abs(u[k:, k])))
            if piv != k:
                u[[k, piv]] = u[[piv, k]]
                p[[k, piv]] = p[[piv, k]]
            if u[k, k] != 0:
                u[k + 1:, k] /= u[k, k]
                u[k + 1:, k + 1:] -= np.outer(u[k + 1:, k], u[k, k + 1:])
    inv = np.argsort(perms, axis=-1).astype(np.int32)
    packed = batch.reshape(m.shape).astype(a.dtype)

    def backward(g, needs):
        gb = backend.to_numpy(g).reshape(batch.shape)
        out = np.empty_like(gb)
        eye = np.eye(n, dtype=gb.dtype)
        for bi in range(batch.shape[0]):
            low = np.tril(batch[bi], -1) + eye
            up = np.triu(batch[bi])
            phi = np.tril(low.T @ np.tril(gb[bi], -1), -1) + np.triu(np.triu(gb[bi]) @ up.T)
            gp = np.linalg.solve(low.T, np.linalg.solve(up, phi.T).T)  # L^-T phi U^-T
            out[bi][perms[bi]] = gp
        return (be.xp.asarray(out.reshape(m.shape).astype(a.dtype)),)

    return (record(be.xp.asarray(packed), (x,), backward),
            Tensor(be.xp.asarray(inv.reshape(m.shape[:-1]))))


__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "logdet", "lstsq",
           "lu_factor", "matrix_rank", "pinv", "qr", "slogdet", "solve", "solve_triangular",
           "svd"]
