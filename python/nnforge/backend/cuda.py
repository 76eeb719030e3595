"""CUDA implementation of the backend array functions: CuPy arrays in, CuPy arrays out.

The same functions, signatures and return conventions as ``nnforge.backend.cpu``; each allocates
its outputs with CuPy (which owns all memory) and calls one ``nnforge._cuda`` kernel with the
arrays' device pointers, on CuPy's current stream and device. Shapes, dtypes, contiguity and
devices are checked here, in Python, before any pointer reaches the extension (which can check
sizes but not what a pointer addresses); mistakes raise ``ValueError`` naming the function, the
argument and the shapes.

Importing this module raises ImportError without CuPy (``nnforge.backend`` guards the import).
Without ``nnforge._cuda`` or without a device it imports, and ``is_available()`` is False.

GEMM precision (``set_matmul_precision``): ``'fp32'`` (default; CUDA cores, matches the CPU within
1e-4), ``'tf32'`` or ``'bf16'`` (tensor cores via mma.sync on compute capability >= 8.0; FP32
accumulation; FP32 on older devices). It applies to matmul, gemm_ and the convolutions.
"""
from __future__ import annotations

import threading
from typing import Optional, Sequence, Tuple

import numpy as np
import cupy  # noqa: F401  (ImportError here means: no CuPy, so no CUDA backend)

try:
    from nnforge import _cuda
except ImportError:  # built without nvcc: the CPU backend is used
    _cuda = None

xp = cupy
name = "cuda"

ACT_CODES = {"linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3}

_PRECISIONS = ("fp32", "tf32", "bf16")
_precision = "fp32"

# Scratch the convolutions may use for im2col rows (whole images, at least one).
_WORKSPACE_LIMIT = 256 << 20

_tls = threading.local()


def is_available() -> bool:
    """True when CuPy imports, ``nnforge._cuda`` was built, and a CUDA device is present."""
    if _cuda is None:
        return False
    try:
        return _cuda.device_count() > 0 and cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device, or a broken CuPy install
        return False


def set_matmul_precision(precision: str) -> None:
    """``'fp32'`` (default), ``'tf32'`` or ``'bf16'``: the arithmetic of GEMMs and convolutions."""
    global _precision
    if precision not in _PRECISIONS:
        raise ValueError(f"set_matmul_precision: precision must be one of {_PRECISIONS}, "
                         f"got {precision!r}")
    _precision = precision


def get_matmul_precision() -> str:
    return _precision


# ---- plumbing ----------------------------------------------------------------------------------

def _stream() -> int:
    """CuPy's current stream, after making CuPy's current device the extension's too."""
    if _cuda is None:
        raise RuntimeError("nnforge._cuda is not built (no CUDA compiler when nnforge was "
                           "installed); use the CPU backend")
    dev = cupy.cuda.runtime.getDevice()
    if getattr(_tls, "device", None) != dev:
        _cuda.set_device(dev)
        _tls.device = dev
    return cupy.cuda.get_current_stream().ptr


def _shape(a) -> str:
    return str(tuple(a.shape))


def _arr(fn: str, arg: str, a, shape=None, ndim: Optional[int] = None, dtype=np.float32) -> int:
    """Device pointer of CuPy array ``a`` after checking type, dtype, contiguity, device, shape."""
    if not isinstance(a, cupy.ndarray):
        raise ValueError(f"{fn}: argument '{arg}' must be a CuPy array, got {type(a).__name__}")
    if a.dtype != dtype:
        raise ValueError(f"{fn}: argument '{arg}' must have dtype {np.dtype(dtype).name}, "
                         f"got {a.dtype.name} with shape {_shape(a)}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{fn}: argument '{arg}' must be C-contiguous, got shape {_shape(a)} "
                         f"with strides {a.strides}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{fn}: argument '{arg}' must be {ndim}-D, got shape {_shape(a)}")
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise ValueError(f"{fn}: argument '{arg}' must have shape {tuple(shape)}, "
                         f"got {_shape(a)}")
    if a.size and a.device.id != cupy.cuda.runtime.getDevice():
        raise ValueError(f"{fn}: argument '{arg}' lives on device {a.device.id}, but the "
                         f"current device is {cupy.cuda.runtime.getDevice()}")
    return a.data.ptr if a.size else 0


def _opt(fn: str, arg: str, a, shape=None, dtype=np.float32) -> int:
    return 0 if a is None else _arr(fn, arg, a, shape=shape, dtype=dtype)


def _same(fn: str, na: str, a, nb: str, b) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{fn}: arguments '{na}' {_shape(a)} and '{nb}' {_shape(b)} must have "
                         f"the same shape")


def _pair(fn: str, arg: str, v) -> Tuple[int, int]:
    try:
        a, b = (int(t) for t in v)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: argument '{arg}' must be a pair of ints, got {v!r}") from None
    return a, b


def _x4(fn: str, arg: str, x) -> Tuple[int, int, int, int]:
    if x.ndim != 4:
        raise ValueError(f"{fn}: argument '{arg}' must be 4-D (N, H, W, C), got {_shape(x)}")
    return tuple(int(d) for d in x.shape)  # type: ignore[return-value]


def _shape4(fn: str, arg: str, s) -> Tuple[int, int, int, int]:
    s = tuple(int(d) for d in s)
    if len(s) != 4:
        raise ValueError(f"{fn}: argument '{arg}' must have 4 dimensions, got {s}")
    return s  # type: ignore[return-value]


def _workspace(x_shape, w_shape, strides, dilation, pad, out_hw):
    nbytes = _cuda.conv2d_workspace_bytes(x_shape, w_shape, strides, dilation, pad, out_hw,
                                          _WORKSPACE_LIMIT)
    if nbytes == 0:
        return None, 0, 0
    ws = cupy.empty((nbytes,), dtype=cupy.uint8)
    return ws, ws.data.ptr, nbytes


# ---- arrays ------------------------------------------------------------------------------------

def empty(shape, dtype=np.float32):
    return cupy.empty(shape, dtype=dtype)


def zeros(shape, dtype=np.float32):
    return cupy.zeros(shape, dtype=dtype)


def asarray(x, dtype=np.float32):
    """A C-contiguous CuPy array of ``dtype`` on the current device (no copy when it is one)."""
    return cupy.ascontiguousarray(cupy.asarray(x, dtype=dtype))


def to_numpy(x) -> np.ndarray:
    return cupy.asnumpy(x)


def synchronize() -> None:
    cupy.cuda.get_current_stream().synchronize()


# ---- GEMM --------------------------------------------------------------------------------------

def _gemm_dims(fn, a, b, trans_a, trans_b):
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{fn}: 'a' and 'b' must be 2-D, got {_shape(a)} and {_shape(b)}")
    m, k = (a.shape[1], a.shape[0]) if trans_a else (a.shape[0], a.shape[1])
    kb, n = (b.shape[1], b.shape[0]) if trans_b else (b.shape[0], b.shape[1])
    if k != kb:
        raise ValueError(f"{fn}: inner dimensions differ: op(a) is ({m}, {k}) from a "
                         f"{_shape(a)} (trans_a={trans_a}), op(b) is ({kb}, {n}) from b "
                         f"{_shape(b)} (trans_b={trans_b})")
    return int(m), int(n), int(k)


def matmul(a, b, trans_a: bool = False, trans_b: bool = False, bias=None, act: int = 0,
           out=None):
    """``act(op(a) @ op(b) + bias)`` for 2-D a, b. Returns the (M, N) result."""
    fn = "matmul"
    m, n, k = _gemm_dims(fn, a, b, trans_a, trans_b)
    pa, pb = _arr(fn, "a", a), _arr(fn, "b", b)
    if out is None:
        out = cupy.empty((m, n), dtype=cupy.float32)
    pc = _arr(fn, "out", out, shape=(m, n))
    s = _stream()
    lda, ldb = max(int(a.shape[1]), 1), max(int(b.shape[1]), 1)
    if bias is None and act == 0:
        _cuda.sgemm(pa, pb, pc, m, n, k, bool(trans_a), bool(trans_b), 1.0, 0.0, lda, ldb,
                    max(n, 1), s, _precision)
    else:
        pbias = _opt(fn, "bias", bias, shape=(n,))
        _cuda.sgemm_bias_act(pa, pb, pbias, pc, m, n, k, bool(trans_a), bool(trans_b), int(act),
                             lda, ldb, max(n, 1), s, _precision)
    return out


def gemm_(a, b, c, trans_a: bool = False, trans_b: bool = False, alpha: float = 1.0,
          beta: float = 0.0) -> None:
    """In place: ``c = alpha * op(a) @ op(b) + beta * c``."""
    fn = "gemm_"
    m, n, k = _gemm_dims(fn, a, b, trans_a, trans_b)
    pa, pb = _arr(fn, "a", a), _arr(fn, "b", b)
    pc = _arr(fn, "c", c, shape=(m, n))
    _cuda.sgemm(pa, pb, pc, m, n, k, bool(trans_a), bool(trans_b), float(alpha), float(beta),
                max(int(a.shape[1]), 1), max(int(b.shape[1]), 1), max(n, 1), _stream(),
                _precision)


# ---- activations, softmax, bias ----------------------------------------------------------------

def activation(x, act: int):
    px = _arr("activation", "x", x)
    y = cupy.empty_like(x)
    _cuda.activation_forward(px, _arr("activation", "y", y), int(x.size), int(act), _stream())
    return y


def activation_(x, act: int):
    """In place."""
    px = _arr("activation_", "x", x)
    _cuda.activation_forward(px, px, int(x.size), int(act), _stream())
    return x


def activation_grad(y, dy, act: int):
    fn = "activation_grad"
    py_, pdy = _arr(fn, "y", y), _arr(fn, "dy", dy)
    _same(fn, "y", y, "dy", dy)
    dx = cupy.empty_like(dy)
    _cuda.activation_backward(py_, pdy, _arr(fn, "dx", dx), int(dy.size), int(act), _stream())
    return dx


def _rows_cols(x) -> Tuple[int, int]:
    cols = int(x.shape[-1]) if x.ndim else 1
    return (int(x.size) // cols if cols else 0), cols


def softmax(x):
    """Softmax over the last axis."""
    px = _arr("softmax", "x", x)
    y = cupy.empty_like(x)
    rows, cols = _rows_cols(x)
    _cuda.softmax_forward(px, _arr("softmax", "y", y), rows, cols, _stream())
    return y


def softmax_grad(y, dy):
    fn = "softmax_grad"
    py_, pdy = _arr(fn, "y", y), _arr(fn, "dy", dy)
    _same(fn, "y", y, "dy", dy)
    dx = cupy.empty_like(dy)
    rows, cols = _rows_cols(y)
    _cuda.softmax_backward(py_, pdy, _arr(fn, "dx", dx), rows, cols, _stream())
    return dx


def bias_add_(y, bias) -> None:
    """In place: ``y[..., c] += bias[c]``."""
    fn = "bias_add_"
    pb = _arr(fn, "bias", bias, ndim=1)
    cols = int(bias.shape[0])
    if y.ndim == 0 or int(y.shape[-1]) != cols:
        raise ValueError(f"{fn}: the last axis of 'y' {_shape(y)} must match 'bias' "
                         f"{_shape(bias)}")
    _cuda.bias_add(_arr(fn, "y", y), pb, int(y.size) // cols if cols else 0, cols, _stream())


def bias_grad(dy, units: int, out=None):
    fn = "bias_grad"
    pdy = _arr(fn, "dy", dy)
    units = int(units)
    if dy.ndim == 0 or int(dy.shape[-1]) != units:
        raise ValueError(f"{fn}: the last axis of 'dy' {_shape(dy)} must be units={units}")
    db = cupy.empty((units,), dtype=cupy.float32) if out is None else out
    _cuda.bias_grad(pdy, _arr(fn, "db", db, shape=(units,)), int(dy.size) // units if units else 0, units,
                    _stream())
    return db


# ---- convolution -------------------------------------------------------------------------------

def conv2d(x, w, bias, strides: Tuple[int, int], dilation: Tuple[int, int],
           pad: Tuple[int, int], out_hw: Tuple[int, int], act: int = 0):
    fn = "conv2d"
    xs = _x4(fn, "x", x)
    px = _arr(fn, "x", x)
    pw = _arr(fn, "w", w, ndim=4)
    ws_ = tuple(int(d) for d in w.shape)
    if ws_[2] != xs[3]:
        raise ValueError(f"{fn}: kernel {_shape(w)} expects {ws_[2]} input channels, x {_shape(x)}"
                         f" has {xs[3]}")
    strides, dilation = _pair(fn, "strides", strides), _pair(fn, "dilation", dilation)
    pad, out_hw = _pair(fn, "pad", pad), _pair(fn, "out_hw", out_hw)
    pbias = _opt(fn, "bias", bias, shape=(ws_[3],))
    y = cupy.empty((xs[0], out_hw[0], out_hw[1], ws_[3]), dtype=cupy.float32)
    s = _stream()
    ws, pws, nws = _workspace(xs, ws_, strides, dilation, pad, out_hw)
    _cuda.conv2d_forward(px, pw, pbias, _arr(fn, "y", y), xs, ws_, int(act), strides, dilation,
                         pad, out_hw, s, _precision, pws, nws)
    del ws  # back to CuPy's pool; later work on the same stream is ordered after the kernels
    return y


def conv2d_grad_input(dy, w, x_shape: Sequence[int], strides, dilation, pad):
    fn = "conv2d_grad_input"
    xs = _shape4(fn, "x_shape", x_shape)
    pw = _arr(fn, "w", w, ndim=4)
    ws_ = tuple(int(d) for d in w.shape)
    pdy = _arr(fn, "dy", dy, ndim=4)
    if int(dy.shape[0]) != xs[0] or int(dy.shape[3]) != ws_[3]:
        raise ValueError(f"{fn}: 'dy' {_shape(dy)} must be (N={xs[0]}, OH, OW, F={ws_[3]}) for "
                         f"x_shape {xs} and kernel {_shape(w)}")
    if ws_[2] != xs[3]:
        raise ValueError(f"{fn}: kernel {_shape(w)} expects {ws_[2]} input channels, x_shape "
                         f"{xs} has {xs[3]}")
    out_hw = (int(dy.shape[1]), int(dy.shape[2]))
    strides, dilation = _pair(fn, "strides", strides), _pair(fn, "dilation", dilation)
    pad = _pair(fn, "pad", pad)
    dx = cupy.empty(xs, dtype=cupy.float32)
    s = _stream()
    ws, pws, nws = _workspace(xs, ws_, strides, dilation, pad, out_hw)
    _cuda.conv2d_backward_input(pdy, pw, _arr(fn, "dx", dx), xs, ws_, strides, dilation, pad,
                                out_hw, s, _precision, pws, nws)
    del ws
    return dx


def conv2d_grad_filter(x, dy, w_shape: Sequence[int], strides, dilation, pad,
                       with_bias: bool, out=None, out_bias=None, y=None, act: int = 0):
    fn = "conv2d_grad_filter"
    if act:  # the CPU backend fuses this into its kernel; here it is a separate pass
        if y is None:
            raise ValueError(f"{fn}: act != 0 needs 'y', the forward's activated output")
        dy = activation_grad(y, dy, act)
    xs = _x4(fn, "x", x)
    px = _arr(fn, "x", x)
    ws_ = _shape4(fn, "w_shape", w_shape)
    pdy = _arr(fn, "dy", dy, ndim=4)
    if int(dy.shape[0]) != xs[0] or int(dy.shape[3]) != ws_[3]:
        raise ValueError(f"{fn}: 'dy' {_shape(dy)} must be (N={xs[0]}, OH, OW, F={ws_[3]}) for "
                         f"x {_shape(x)} and w_shape {ws_}")
    if ws_[2] != xs[3]:
        raise ValueError(f"{fn}: w_shape {ws_} expects {ws_[2]} input channels, x {_shape(x)} "
                         f"has {xs[3]}")
    out_hw = (int(dy.shape[1]), int(dy.shape[2]))
    strides, dilation = _pair(fn, "strides", strides), _pair(fn, "dilation", dilation)
    pad = _pair(fn, "pad", pad)
    dw = cupy.empty(ws_, dtype=cupy.float32) if out is None else out
    db = None
    if with_bias:
        db = cupy.empty((ws_[3],), dtype=cupy.float32) if out_bias is None else out_bias
    s = _stream()
    ws, pws, nws = _workspace(xs, ws_, strides, dilation, pad, out_hw)
    _cuda.conv2d_backward_filter(px, pdy, _arr(fn, "dw", dw, shape=ws_),
                                 _opt(fn, "db", db, shape=(ws_[3],)), xs, ws_,
                                 strides, dilation, pad, out_hw, s, _precision, pws, nws)
    del ws
    return dw, db


def im2col(x, kernel, strides, dilation, pad, out_hw):
    fn = "im2col"
    xs = _x4(fn, "x", x)
    px = _arr(fn, "x", x)
    kernel, strides = _pair(fn, "kernel", kernel), _pair(fn, "strides", strides)
    dilation, pad = _pair(fn, "dilation", dilation), _pair(fn, "pad", pad)
    out_hw = _pair(fn, "out_hw", out_hw)
    n, _, _, c = xs
    cols = cupy.empty((n * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * c), dtype=cupy.float32)
    _cuda.im2col(px, _arr(fn, "cols", cols), xs, kernel, strides, dilation, pad, out_hw,
                 _stream())
    return cols


def col2im(cols, x_shape, kernel, strides, dilation, pad, out_hw):
    fn = "col2im"
    xs = _shape4(fn, "x_shape", x_shape)
    kernel, strides = _pair(fn, "kernel", kernel), _pair(fn, "strides", strides)
    dilation, pad = _pair(fn, "dilation", dilation), _pair(fn, "pad", pad)
    out_hw = _pair(fn, "out_hw", out_hw)
    n, _, _, c = xs
    pcols = _arr(fn, "cols", cols,
                 shape=(n * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * c))
    dx = cupy.empty(xs, dtype=cupy.float32)
    _cuda.col2im(pcols, _arr(fn, "dx", dx), xs, kernel, strides, dilation, pad, out_hw,
                 _stream())
    return dx


# ---- pooling -----------------------------------------------------------------------------------

def max_pool2d(x, pool, strides, pad, out_hw, need_argmax: bool):
    fn = "max_pool2d"
    xs = _x4(fn, "x", x)
    px = _arr(fn, "x", x)
    pool, strides = _pair(fn, "pool", pool), _pair(fn, "strides", strides)
    pad, out_hw = _pair(fn, "pad", pad), _pair(fn, "out_hw", out_hw)
    n, _, _, c = xs
    y = cupy.empty((n, out_hw[0], out_hw[1], c), dtype=cupy.float32)
    argmax = cupy.empty(y.shape, dtype=cupy.int32) if need_argmax else None
    _cuda.max_pool2d_forward(px, _arr(fn, "y", y), _opt(fn, "argmax", argmax, dtype=np.int32),
                             xs, pool, strides, pad, out_hw, _stream())
    return y, argmax


def max_pool2d_grad(dy, argmax, x_shape, pool=None, strides=None, pad=None):
    # The geometry is accepted for the CPU backend's signature; the CUDA kernel scatters.
    fn = "max_pool2d_grad"
    xs = _shape4(fn, "x_shape", x_shape)
    pdy = _arr(fn, "dy", dy, ndim=4)
    pam = _arr(fn, "argmax", argmax, shape=dy.shape, dtype=np.int32)
    if int(dy.shape[0]) != xs[0] or int(dy.shape[3]) != xs[3]:
        raise ValueError(f"{fn}: 'dy' {_shape(dy)} must be (N={xs[0]}, OH, OW, C={xs[3]}) for "
                         f"x_shape {xs}")
    dx = cupy.empty(xs, dtype=cupy.float32)
    _cuda.max_pool2d_backward(pdy, pam, _arr(fn, "dx", dx), xs,
                              (int(dy.shape[1]), int(dy.shape[2])), _stream())
    return dx


def avg_pool2d(x, pool, strides, pad, out_hw):
    fn = "avg_pool2d"
    xs = _x4(fn, "x", x)
    px = _arr(fn, "x", x)
    pool, strides = _pair(fn, "pool", pool), _pair(fn, "strides", strides)
    pad, out_hw = _pair(fn, "pad", pad), _pair(fn, "out_hw", out_hw)
    n, _, _, c = xs
    y = cupy.empty((n, out_hw[0], out_hw[1], c), dtype=cupy.float32)
    _cuda.avg_pool2d_forward(px, _arr(fn, "y", y), xs, pool, strides, pad, out_hw, _stream())
    return y


def avg_pool2d_grad(dy, x_shape, pool, strides, pad):
    fn = "avg_pool2d_grad"
    xs = _shape4(fn, "x_shape", x_shape)
    pdy = _arr(fn, "dy", dy, ndim=4)
    if int(dy.shape[0]) != xs[0] or int(dy.shape[3]) != xs[3]:
        raise ValueError(f"{fn}: 'dy' {_shape(dy)} must be (N={xs[0]}, OH, OW, C={xs[3]}) for "
                         f"x_shape {xs}")
    pool, strides = _pair(fn, "pool", pool), _pair(fn, "strides", strides)
    pad = _pair(fn, "pad", pad)
    dx = cupy.empty(xs, dtype=cupy.float32)
    _cuda.avg_pool2d_backward(pdy, _arr(fn, "dx", dx), xs, pool, strides, pad,
                              (int(dy.shape[1]), int(dy.shape[2])), _stream())
    return dx


# ---- losses (per-sample losses and, optionally, scale * d loss_i / d y_pred) --------------------

def _loss_setup(fn, y_pred, want_grad: bool):
    pp = _arr(fn, "y_pred", y_pred, ndim=2)
    losses = cupy.empty((int(y_pred.shape[0]),), dtype=cupy.float32)
    grad = cupy.empty_like(y_pred) if want_grad else None
    return pp, losses, grad


def categorical_crossentropy(y_true, y_pred, from_logits: bool, want_grad: bool, scale: float):
    fn = "categorical_crossentropy"
    pp, losses, grad = _loss_setup(fn, y_pred, want_grad)
    pt = _arr(fn, "y_true", y_true, shape=y_pred.shape)
    n, c = (int(d) for d in y_pred.shape)
    _cuda.categorical_crossentropy(pt, pp, _arr(fn, "losses", losses), _opt(fn, "grad", grad),
                                   n, c, bool(from_logits), float(scale), _stream())
    return losses, grad


def sparse_categorical_crossentropy(labels, y_pred, from_logits: bool, want_grad: bool,
                                    scale: float):
    fn = "sparse_categorical_crossentropy"
    pp, losses, grad = _loss_setup(fn, y_pred, want_grad)
    n, c = (int(d) for d in y_pred.shape)
    pl = _arr(fn, "labels", labels, shape=(n,), dtype=np.int64)
    if n and bool(((labels < 0) | (labels >= c)).any()):
        lo, hi = int(labels.min()), int(labels.max())
        raise ValueError(f"{fn}: labels must be in [0, {c}) for y_pred {_shape(y_pred)}, got "
                         f"values in [{lo}, {hi}]")
    _cuda.sparse_categorical_crossentropy(pl, pp, _arr(fn, "losses", losses),
                                          _opt(fn, "grad", grad), n, c, bool(from_logits),
                                          float(scale), _stream())
    return losses, grad


def binary_crossentropy(y_true, y_pred, from_logits: bool, want_grad: bool, scale: float):
    fn = "binary_crossentropy"
    pp, losses, grad = _loss_setup(fn, y_pred, want_grad)
    pt = _arr(fn, "y_true", y_true, shape=y_pred.shape)
    n, d = (int(v) for v in y_pred.shape)
    _cuda.binary_crossentropy(pt, pp, _arr(fn, "losses", losses), _opt(fn, "grad", grad), n, d,
                              bool(from_logits), float(scale), _stream())
    return losses, grad


def mean_squared_error(y_true, y_pred, want_grad: bool, scale: float):
    fn = "mean_squared_error"
    pp, losses, grad = _loss_setup(fn, y_pred, want_grad)
    pt = _arr(fn, "y_true", y_true, shape=y_pred.shape)
    n, d = (int(v) for v in y_pred.shape)
    _cuda.mean_squared_error(pt, pp, _arr(fn, "losses", losses), _opt(fn, "grad", grad), n, d,
                             float(scale), _stream())
    return losses, grad


# ---- optimizer updates (in place) --------------------------------------------------------------

def sgd_update_(p, g, velocity, lr: float, momentum: float, nesterov: bool) -> None:
    fn = "sgd_update_"
    pp, pg = _arr(fn, "p", p), _arr(fn, "g", g)
    _same(fn, "p", p, "g", g)
    if momentum != 0.0 and velocity is None:
        raise ValueError(f"{fn}: 'velocity' is required when momentum != 0 (got {momentum})")
    pv = _opt(fn, "velocity", velocity, shape=p.shape)
    _cuda.sgd_update(pp, pg, pv, int(p.size), float(lr), float(momentum), bool(nesterov),
                     _stream())


def adam_update_(p, g, m, v, vhat, lr: float, beta1: float, beta2: float, epsilon: float,
                 t: int) -> None:
    fn = "adam_update_"
    pp, pg = _arr(fn, "p", p), _arr(fn, "g", g)
    pm = _arr(fn, "m", m, shape=p.shape)
    pv = _arr(fn, "v", v, shape=p.shape)
    _same(fn, "p", p, "g", g)
    pvh = _opt(fn, "vhat", vhat, shape=p.shape)
    _cuda.adam_update(pp, pg, pm, pv, pvh, int(p.size), float(lr), float(beta1), float(beta2),
                      float(epsilon), int(t), _stream())
