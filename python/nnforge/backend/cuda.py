"""CUDA implementation of the backend array functions: CuPy arrays in, CuPy arrays out.

The same functions, signatures and return conventions as ``nnforge.backend.cpu``; each allocates
its outputs (and any scratch workspace) with CuPy, which owns all memory, and calls one
``nnforge._cuda`` kernel with the arrays themselves on CuPy's current stream and device. The
extension reads each array's ``__cuda_array_interface__`` and validates dtype, shape, contiguity
and device in C++ (``cuda/bind/check.h``), so mistakes raise ``ValueError``/``TypeError`` naming
the function and the argument, as ``nnforge._cpu`` does for NumPy arrays.

Importing this module raises ImportError without CuPy (``nnforge.backend`` guards the import).
Without ``nnforge._cuda`` or without a device it imports, and ``is_available()`` is False; with
a GPU that is present but unusable (a driver too old for the CUDA runtime nnforge._cuda links,
or a compute capability this build has no code for) it is False too and says why, loudly.

GEMM precision (``set_matmul_precision``): ``'fp32'`` (default; CUDA cores, matches the CPU within
1e-4), ``'tf32'`` or ``'bf16'`` (tensor cores via mma.sync on compute capability >= 8.0; FP32
accumulation; FP32 on older devices). It applies to matmul, gemm_ and the convolutions.
"""
from __future__ import annotations

import os
import threading
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np
import cupy  # noqa: F401  (ImportError here means: no CuPy, so no CUDA backend)

try:
    from nnforge import _cuda
except ImportError:  # built without nvcc: the CPU backend is used
    _cuda = None

xp = cupy
name = "cuda"

_PRECISIONS = ("fp32", "tf32", "bf16")
_precision = "fp32"

# Scratch the convolutions may use for im2col rows (whole images, at least one).
_WORKSPACE_LIMIT = 256 << 20

_tls = threading.local()


def _version(v: int) -> str:
    return f"{v // 1000}.{(v % 1000) // 10}"


def _gpus_seen_elsewhere() -> int:
    """GPUs that CuPy's own runtime or the kernel driver report (nnforge._cuda may see none)."""
    try:
        n = int(cupy.cuda.runtime.getDeviceCount())
        if n > 0:
            return n
    except Exception:
        pass
    try:
        return len(os.listdir("/proc/driver/nvidia/gpus"))
    except OSError:
        return 0


def unusable_reason() -> Optional[str]:
    """Why a GPU that is present cannot be used, or None (it can, or there is no GPU at all).

    Returns:
        A sentence naming the cause and the fix: a driver older than the CUDA runtime that
        ``nnforge._cuda`` links statically (the runtime then reports no device at all), or a
        device whose compute capability is below the oldest this build has code for.

    Example:
        >>> from nnforge.backend import cuda
        >>> cuda.unusable_reason() is None  # usable GPU, or none
        True
    """
    if _cuda is None:
        return None
    if _cuda.device_count() == 0:
        seen = _gpus_seen_elsewhere()
        if seen == 0:
            return None
        drv, rt = _cuda.driver_version(), _cuda.runtime_version()
        return (f"{seen} NVIDIA GPU(s) present, but nnforge._cuda sees none: the driver supports "
                f"CUDA {_version(drv) if drv else 'nothing (not loaded)'} and nnforge._cuda links "
                f"the CUDA {_version(rt)} runtime statically; install a driver for CUDA "
                f"{_version(rt)} or newer")
    dev = int(cupy.cuda.runtime.getDevice())
    cc, low = _cuda.compute_capability(dev), _cuda.min_compute_capability()
    if tuple(cc) < tuple(low):
        return (f"device {dev} has compute capability {cc[0]}.{cc[1]}, but this nnforge._cuda "
                f"has code for {low[0]}.{low[1]} and newer only (CMAKE_CUDA_ARCHITECTURES)")
    return None


def is_available() -> bool:
    """True when CuPy imports, ``nnforge._cuda`` was built, and a usable CUDA device is present.

    A GPU that is present but unusable gives False with a ``RuntimeWarning`` saying why.
    """
    if _cuda is None:
        return False
    try:
        reason = unusable_reason()
        if reason is not None:
            warnings.warn(f"nnforge: not using the GPU: {reason}", RuntimeWarning, stacklevel=2)
            return False
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


def _scratch(nbytes: int):
    """A workspace from CuPy's pool (an out-of-memory there is retried after CuPy frees its
    cache); None when nothing is needed. Freed back to the pool when the caller drops it: later
    work on the same stream is ordered after the kernels that used it."""
    return cupy.empty((nbytes,), dtype=cupy.uint8) if nbytes else None


def _conv_workspace(x_shape, w_shape, strides, dilation, pad, out_hw, bias_rows: int = 0):
    nbytes = _cuda.conv2d_workspace_bytes(tuple(x_shape), tuple(w_shape), strides, dilation,
                                          pad, out_hw, _WORKSPACE_LIMIT)
    if bias_rows:
        nbytes = max(nbytes, _cuda.bias_grad_workspace_bytes(bias_rows, int(w_shape[3])))
    return _scratch(nbytes)


# ---- arrays ------------------------------------------------------------------------------------

def empty(shape, dtype=np.float32):
    return cupy.empty(shape, dtype=dtype)


def zeros(shape, dtype=np.float32):
    return cupy.zeros(shape, dtype=dtype)


def asarray(x, dtype=np.float32):
    """A C-contiguous CuPy array of ``dtype`` on the current device (no copy when it is one)."""
    return cupy.asarray(x, dtype=dtype, order="C")  # 0-d stays 0-d


def to_numpy(x) -> np.ndarray:
    return cupy.asnumpy(x)


def synchronize() -> None:
    cupy.cuda.get_current_stream().synchronize()


# ---- GEMM --------------------------------------------------------------------------------------

def matmul(a, b, trans_a: bool = False, trans_b: bool = False, bias=None, act: int = 0,
           out=None):
    """``act(op(a) @ op(b) + bias)`` for 2-D a, b. Returns the (M, N) result."""
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    if out is None:
        out = cupy.empty((m, n), dtype=cupy.float32)
    if bias is None and act == 0:
        _cuda.sgemm(a, b, out, trans_a, trans_b, 1.0, 0.0, _precision, _stream())
    else:
        _cuda.sgemm_bias_act(a, b, bias, out, trans_a, trans_b, act, _precision, _stream())
    return out


def gemm_(a, b, c, trans_a: bool = False, trans_b: bool = False, alpha: float = 1.0,
          beta: float = 0.0) -> None:
    """In place: ``c = alpha * op(a) @ op(b) + beta * c``."""
    _cuda.sgemm(a, b, c, trans_a, trans_b, float(alpha), float(beta), _precision, _stream())


# ---- activations, softmax, bias ----------------------------------------------------------------

def activation(x, act: int):
    y = cupy.empty_like(x)
    _cuda.activation_forward(x, y, act, _stream())
    return y


def activation_(x, act: int):
    """In place."""
    _cuda.activation_forward(x, x, act, _stream())
    return x


def activation_grad(y, dy, act: int):
    dx = cupy.empty_like(dy)
    _cuda.activation_backward(y, dy, dx, act, _stream())
    return dx


def softmax(x):
    """Softmax over the last axis."""
    y = cupy.empty_like(x)
    cols = x.shape[-1] if x.ndim else 1
    _cuda.softmax_forward(x.reshape(-1, cols), y.reshape(-1, cols), _stream())
    return y


def softmax_grad(y, dy):
    dx = cupy.empty_like(dy)
    cols = y.shape[-1]
    _cuda.softmax_backward(y.reshape(-1, cols), dy.reshape(-1, cols), dx.reshape(-1, cols),
                           _stream())
    return dx


def bias_add_(y, bias) -> None:
    """In place: ``y[..., c] += bias[c]``."""
    _cuda.bias_add(y.reshape(-1, bias.shape[0]), bias, _stream())


def bias_grad(dy, units: int, out=None):
    db = cupy.empty((units,), dtype=cupy.float32) if out is None else out
    dy2 = dy.reshape(-1, units)
    ws = _scratch(_cuda.bias_grad_workspace_bytes(dy2.shape[0], units))
    _cuda.bias_grad(dy2, db, ws, _stream())
    return db


# ---- convolution -------------------------------------------------------------------------------

def conv2d(x, w, bias, strides: Tuple[int, int], dilation: Tuple[int, int],
           pad: Tuple[int, int], out_hw: Tuple[int, int], act: int = 0):
    y = cupy.empty((x.shape[0], out_hw[0], out_hw[1], w.shape[3]), dtype=cupy.float32)
    ws = _conv_workspace(x.shape, w.shape, strides, dilation, pad, out_hw)
    _cuda.conv2d_forward(x, w, bias, y, act, strides, dilation, pad, _precision, ws, _stream())
    return y


def conv2d_grad_input(dy, w, x_shape: Sequence[int], strides, dilation, pad):
    dx = cupy.empty(tuple(x_shape), dtype=cupy.float32)
    ws = _conv_workspace(x_shape, w.shape, strides, dilation, pad, dy.shape[1:3])
    _cuda.conv2d_backward_input(dy, w, dx, strides, dilation, pad, _precision, ws, _stream())
    return dx


def conv2d_grad_filter(x, dy, w_shape: Sequence[int], strides, dilation, pad,
                       with_bias: bool, out=None, out_bias=None, y=None, act: int = 0):
    """Filter (and bias) gradients; with ``act`` != 0 and ``y`` the forward's activated output,
    of ``act'(y) * dy`` (a separate activation_backward pass here; the CPU fuses it)."""
    if act:
        dy = activation_grad(y, dy, act)
    dw = cupy.empty(tuple(w_shape), dtype=cupy.float32) if out is None else out
    db = None
    if with_bias:
        db = cupy.empty((w_shape[3],), dtype=cupy.float32) if out_bias is None else out_bias
    rows = dy.shape[0] * dy.shape[1] * dy.shape[2] if with_bias else 0
    ws = _conv_workspace(x.shape, w_shape, strides, dilation, pad, dy.shape[1:3], rows)
    _cuda.conv2d_backward_filter(x, dy, dw, db, strides, dilation, pad, _precision, ws,
                                 _stream())
    return dw, db


def im2col(x, kernel, strides, dilation, pad, out_hw):
    n, _, _, c = x.shape
    cols = cupy.empty((n * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * c), dtype=cupy.float32)
    _cuda.im2col(x, cols, kernel, strides, dilation, pad, out_hw, _stream())
    return cols


def col2im(cols, x_shape, kernel, strides, dilation, pad, out_hw):
    dx = cupy.empty(tuple(x_shape), dtype=cupy.float32)
    _cuda.col2im(cols, dx, kernel, strides, dilation, pad, out_hw, _stream())
    return dx


# ---- pooling -----------------------------------------------------------------------------------

def max_pool2d(x, pool, strides, pad, out_hw, need_argmax: bool):
    n, _, _, c = x.shape
    y = cupy.empty((n, out_hw[0], out_hw[1], c), dtype=cupy.float32)
    argmax = cupy.empty(y.shape, dtype=cupy.int32) if need_argmax else None
    _cuda.max_pool2d_forward(x, y, argmax, pool, strides, pad, _stream())
    return y, argmax


def max_pool2d_grad(dy, argmax, x_shape, pool=None, strides=None, pad=None):
    """dx from dy and the forward's argmax. The GPU kernel gathers over the windows, so the
    forward's geometry (pool, strides, pad) is required here."""
    dx = cupy.empty(tuple(x_shape), dtype=cupy.float32)
    _cuda.max_pool2d_backward(dy, argmax, dx, pool, strides, pad, _stream())
    return dx


def avg_pool2d(x, pool, strides, pad, out_hw):
    n, _, _, c = x.shape
    y = cupy.empty((n, out_hw[0], out_hw[1], c), dtype=cupy.float32)
    _cuda.avg_pool2d_forward(x, y, pool, strides, pad, _stream())
    return y


def avg_pool2d_grad(dy, x_shape, pool, strides, pad):
    dx = cupy.empty(tuple(x_shape), dtype=cupy.float32)
    _cuda.avg_pool2d_backward(dy, dx, pool, strides, pad, _stream())
    return dx


# ---- losses (per-sample losses and, optionally, scale * d loss_i / d y_pred) --------------------

def _loss_buffers(y_pred, want_grad: bool):
    losses = cupy.empty((y_pred.shape[0],), dtype=cupy.float32)
    grad = cupy.empty_like(y_pred) if want_grad else None
    return losses, grad


def categorical_crossentropy(y_true, y_pred, from_logits: bool, want_grad: bool, scale: float):
    losses, grad = _loss_buffers(y_pred, want_grad)
    _cuda.categorical_crossentropy(y_true, y_pred, losses, grad, from_logits, scale, _stream())
    return losses, grad


def sparse_categorical_crossentropy(labels, y_pred, from_logits: bool, want_grad: bool,
                                    scale: float):
    # The kernel gives NaN for a label outside [0, C); refuse it here, as nnforge._cpu does
    # (one reduction and a copy of two scalars to the host).
    n, c = (y_pred.shape + (0, 0))[:2]
    if y_pred.ndim == 2 and n and getattr(labels, "shape", None) == (n,) and \
            bool(((labels < 0) | (labels >= c)).any()):
        raise ValueError(f"sparse_categorical_crossentropy: labels must be in [0, {c}) for "
                         f"y_pred {tuple(y_pred.shape)}, got values in "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    losses, grad = _loss_buffers(y_pred, want_grad)
    _cuda.sparse_categorical_crossentropy(labels, y_pred, losses, grad, from_logits, scale,
                                          _stream())
    return losses, grad


def binary_crossentropy(y_true, y_pred, from_logits: bool, want_grad: bool, scale: float):
    losses, grad = _loss_buffers(y_pred, want_grad)
    _cuda.binary_crossentropy(y_true, y_pred, losses, grad, from_logits, scale, _stream())
    return losses, grad


def mean_squared_error(y_true, y_pred, want_grad: bool, scale: float):
    losses, grad = _loss_buffers(y_pred, want_grad)
    _cuda.mean_squared_error(y_true, y_pred, losses, grad, scale, _stream())
    return losses, grad


# ---- optimizer updates (in place) --------------------------------------------------------------

def sgd_update_(p, g, velocity, lr: float, momentum: float, nesterov: bool) -> None:
    _cuda.sgd_update(p, g, velocity, lr, momentum, nesterov, _stream())


def adam_update_(p, g, m, v, vhat, lr: float, beta1: float, beta2: float, epsilon: float,
                 t: int) -> None:
    _cuda.adam_update(p, g, m, v, vhat, lr, beta1, beta2, epsilon, t, _stream())


# ---- whole-sequence recurrent layers (as backend.cpu's; nnforge._cuda.rnn_*) -------------------

RNN_CELLS = {"lstm": 0, "gru": 1}


def rnn_sequence(cell: str, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                 go_backwards: bool, zero_output_for_mask: bool, reset_after: bool = True,
                 want_sequence: bool = False) -> dict:
    """Whole-sequence LSTM/GRU forward (``nnforge._cuda.rnn_forward``): the dict of CuPy arrays
    ``backend.cpu.rnn_sequence`` returns (gates, aux, h_all, c_all, y_seq, y_last)."""
    n, t, _ = x.shape
    h = recurrent_kernel.shape[0]
    g = recurrent_kernel.shape[1]
    code = RNN_CELLS[cell]
    out = {
        "gates": cupy.empty((n, t, g), cupy.float32),
        "aux": cupy.empty((n, t, h), cupy.float32) if code == 1 else None,
        "h_all": cupy.empty((n, t, h), cupy.float32),
        "c_all": cupy.empty((n, t, h), cupy.float32) if code == 0 else None,
        "y_last": cupy.empty((n, h), cupy.float32),
    }
    y_seq = cupy.empty((n, t, h), cupy.float32) if want_sequence and mask is not None else None
    ws = _scratch(_cuda.rnn_workspace_bytes(code, reset_after, n, t, h, False, bias is not None))
    _cuda.rnn_forward(code, reset_after, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                      go_backwards, zero_output_for_mask, out["gates"], out["aux"], out["h_all"],
                      out["c_all"], y_seq, out["y_last"], _precision, ws, _stream())
    out["y_seq"] = (out["h_all"] if y_seq is None else y_seq) if want_sequence else None
    return out


def rnn_infer(cell: str, x, kernel, recurrent_kernel, bias, h0, c0, mask, go_backwards: bool,
              zero_output_for_mask: bool, reset_after: bool = True,
              want_sequence: bool = False) -> dict:
    """Inference (``backend.cpu.rnn_infer``'s dict: y_seq, y_last, h_last, c_last): the training
    forward into scratch buffers (the GPU has the memory; one kernel path to keep right)."""
    out = rnn_sequence(cell, x, kernel, recurrent_kernel, bias, h0, c0, mask, go_backwards,
                       zero_output_for_mask, reset_after, want_sequence)
    last = x.shape[1] - 1
    return {"y_seq": out["y_seq"], "y_last": out["y_last"], "h_last": out["h_all"][:, last],
            "c_last": out["c_all"][:, last] if out["c_all"] is not None else None}


def rnn_sequence_grad(cell: str, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                      go_backwards: bool, zero_output_for_mask: bool, reset_after: bool,
                      saved: dict, dy_seq, dy_last, dh_T, dc_T, want_dx: bool = True,
                      want_dh0: bool = False, out_kernel=None, out_recurrent=None,
                      out_bias=None) -> tuple:
    """Backward through time of ``rnn_sequence`` (``nnforge._cuda.rnn_backward``): (dx, dkernel,
    drecurrent_kernel, dbias, dh0, dc0), None where not wanted."""
    code = RNN_CELLS[cell]
    n, t, _ = x.shape
    h = recurrent_kernel.shape[0]
    dx = cupy.empty(x.shape, cupy.float32) if want_dx else None
    dk = cupy.empty(kernel.shape, cupy.float32) if out_kernel is None else out_kernel
    du = (cupy.empty(recurrent_kernel.shape, cupy.float32) if out_recurrent is None
          else out_recurrent)
    db = None
    if bias is not None:
        db = cupy.empty(bias.shape, cupy.float32) if out_bias is None else out_bias
    dh0 = cupy.empty((n, h), cupy.float32) if want_dh0 else None
    dc0 = cupy.empty((n, h), cupy.float32) if want_dh0 and code == 0 else None
    ws = _scratch(_cuda.rnn_workspace_bytes(code, reset_after, n, t, h, True, bias is not None))
    _cuda.rnn_backward(code, reset_after, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                       go_backwards, zero_output_for_mask, saved["gates"], saved["aux"],
                       saved["h_all"], saved["c_all"], dy_seq, dy_last, dh_T, dc_T, dx, dk, du,
                       db, dh0, dc0, _precision, ws, _stream())
    return dx, dk, du, db, dh0, dc0


# ---- int8 quantized inference (backend/quantized_cuda.py) -----------------------------------
from .quantized import Int8PackedWeights  # noqa: E402,F401
from .quantized_cuda import (int8_conv2d, int8_dense, int8_matmul_int32,  # noqa: E402,F401
                             int8_pack_weights, quantize_rows_int8)
