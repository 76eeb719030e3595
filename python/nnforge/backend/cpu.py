"""CPU implementation of the backend array functions: NumPy arrays in, NumPy arrays out.

Every function here takes float32, C-contiguous NumPy arrays that the caller (``nnforge.ops``)
has already converted, allocates the outputs with NumPy and calls one ``nnforge._cpu`` kernel.
``nnforge.backend.cuda`` implements the same functions, with the same signatures, for CuPy arrays.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from nnforge import _cpu

xp = np
name = "cpu"

def empty(shape, dtype=np.float32):
    return np.empty(shape, dtype=dtype)


def zeros(shape, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


def asarray(x, dtype=np.float32):
    """A C-contiguous array of ``dtype`` (no copy when it already is one); 0-d stays 0-d
    (``np.ascontiguousarray`` would make it 1-d)."""
    return np.asarray(x, dtype=dtype, order="C")


def to_numpy(x) -> np.ndarray:
    return np.asarray(x)


# ---- GEMM -------------------------------------------------------------------------------------

def matmul(a, b, trans_a: bool = False, trans_b: bool = False, bias=None, act: int = 0,
           out=None):
    """``act(op(a) @ op(b) + bias)`` for 2-D a, b. Returns the (M, N) result."""
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    if out is None:
        out = np.empty((m, n), dtype=np.float32)
    if bias is None and act == 0:
        _cpu.sgemm(a, b, out, trans_a, trans_b, 1.0, 0.0)
    else:
        _cpu.sgemm_bias_act(a, b, bias, out, trans_a, trans_b, act)
    return out


def gemm_(a, b, c, trans_a: bool = False, trans_b: bool = False, alpha: float = 1.0,
          beta: float = 0.0) -> None:
    """In place: ``c = alpha * op(a) @ op(b) + beta * c``."""
    _cpu.sgemm(a, b, c, trans_a, trans_b, float(alpha), float(beta))


# ---- activations, softmax, bias ---------------------------------------------------------------

def activation(x, act: int):
    y = np.empty_like(x)
    _cpu.activation_forward(x, y, act)
    return y


def activation_grad(y, dy, act: int):
    dx = np.empty_like(dy)
    _cpu.activation_backward(y, dy, dx, act)
    return dx


def softmax(x):
    """Softmax over the last axis."""
    y = np.empty_like(x)
    cols = x.shape[-1] if x.ndim else 1
    _cpu.softmax_forward(x.reshape(-1, cols), y.reshape(-1, cols))
    return y


def softmax_grad(y, dy):
    dx = np.empty_like(dy)
    cols = y.shape[-1]
    _cpu.softmax_backward(y.reshape(-1, cols), dy.reshape(-1, cols), dx.reshape(-1, cols))
    return dx


def bias_add_(y, bias) -> None:
    """In place: ``y[..., c] += bias[c]``."""
    _cpu.bias_add(y.reshape(-1, bias.shape[0]), bias)


def bias_grad(dy, units: int, out=None):
    db = np.empty((units,), dtype=np.float32) if out is None else out
    _cpu.bias_grad(dy.reshape(-1, units), db)
    return db


# ---- convolution -----------------------------------------------------------------------------

def conv2d(x, w, bias, strides: Tuple[int, int], dilation: Tuple[int, int],
           pad: Tuple[int, int], out_hw: Tuple[int, int], act: int = 0):
    y = np.empty((x.shape[0], out_hw[0], out_hw[1], w.shape[3]), dtype=np.float32)
    _cpu.conv2d_forward(x, w, bias, y, act, strides, dilation, pad)
    return y


def conv2d_max_pool(x, w, bias, strides, dilation, pad, conv_hw, act: int, pool, pool_strides,
                    pool_pad, out_hw, need_argmax: bool = False):
    """max_pool2d(act(conv2d(x, w) + bias)) in one kernel (bitwise the two calls), or None where
    the kernel declines (an image's convolution output too large to stay in cache, or too small
    to be worth it). With need_argmax, ``(y, argmax)``: max_pool2d's uint8 winners, for
    max_pool2d_grad (windows of at most 256 elements)."""
    y = np.empty((x.shape[0], out_hw[0], out_hw[1], w.shape[3]), dtype=np.float32)
    arg = np.empty(y.shape, dtype=np.uint8) if need_argmax else None
    if _cpu.conv2d_max_pool_forward(x, w, bias, y, act, strides, dilation, pad, conv_hw, pool,
                                    pool_strides, pool_pad, arg):
        return (y, arg) if need_argmax else y
    return None


def conv2d_grad_input(dy, w, x_shape: Sequence[int], strides, dilation, pad):
    dx = np.empty(tuple(x_shape), dtype=np.float32)
    _cpu.conv2d_backward_input(dy, w, dx, strides, dilation, pad)
    return dx


def conv2d_grad_filter(x, dy, w_shape: Sequence[int], strides, dilation, pad,
                       with_bias: bool, out=None, out_bias=None, y=None, act: int = 0):
    """Filter (and bias) gradients; with ``act`` != 0 and ``y`` the forward's activated output,
    of ``act'(y) * dy`` (the activation's gradient fused into the kernel)."""
    dw = np.empty(tuple(w_shape), dtype=np.float32) if out is None else out
    db = None
    if with_bias:
        db = np.empty((w_shape[3],), dtype=np.float32) if out_bias is None else out_bias
    _cpu.conv2d_backward_filter(x, dy, dw, db, strides, dilation, pad, y if act else None, act)
    return dw, db


def im2col(x, kernel, strides, dilation, pad, out_hw):
    n, _, _, c = x.shape
    cols = np.empty((n * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * c), dtype=np.float32)
    _cpu.im2col(x, cols, kernel, strides, dilation, pad, out_hw)
    return cols


def col2im(cols, x_shape, kernel, strides, dilation, pad, out_hw):
    dx = np.empty(tuple(x_shape), dtype=np.float32)
    _cpu.col2im(cols, dx, kernel, strides, dilation, pad, out_hw)
    return dx


# ---- pooling ---------------------------------------------------------------------------------

def max_pool2d(x, pool, strides, pad, out_hw, need_argmax: bool):
    """y and, if need_argmax, the winners for max_pool2d_grad: uint8 indices inside each window
    (a quarter of int32's memory traffic) when the window has at most 256 elements, else int32
    indices inside the image."""
    n, _, _, c = x.shape
    y = np.empty((n, out_hw[0], out_hw[1], c), dtype=np.float32)
    arg_dtype = np.uint8 if pool[0] * pool[1] <= 256 else np.int32
    argmax = np.empty(y.shape, dtype=arg_dtype) if need_argmax else None
    _cpu.max_pool2d_forward(x, y, argmax, pool, strides, pad)
    return y, argmax


def max_pool2d_grad(dy, argmax, x_shape, pool=None, strides=None, pad=None, relu_y=None):
    """dx from dy and the forward's argmax; with the forward's geometry (required for a uint8
    argmax) each dx element is written once, gathered from the windows that hold it. relu_y
    (uint8 argmax only): the pooled output of a relu layer, whose gradient is folded in (dy
    counts only where relu_y > 0)."""
    dx = np.empty(tuple(x_shape), dtype=np.float32)
    _cpu.max_pool2d_backward(dy, argmax, dx, pool, strides, pad, relu_y)
    return dx


def avg_pool2d(x, pool, strides, pad, out_hw):
    n, _, _, c = x.shape
    y = np.empty((n, out_hw[0], out_hw[1], c), dtype=np.float32)
    _cpu.avg_pool2d_forward(x, y, pool, strides, pad)
    return y


def avg_pool2d_grad(dy, x_shape, pool, strides, pad):
    dx = np.empty(tuple(x_shape), dtype=np.float32)
    _cpu.avg_pool2d_backward(dy, dx, pool, strides, pad)
    return dx


# ---- losses (per-sample losses and, optionally, scale * d loss_i / d y_pred) ------------------

def _loss_buffers(y_pred, want_grad: bool):
    losses = np.empty((y_pred.shape[0],), dtype=np.float32)
    grad = np.empty_like(y_pred) if want_grad else None
    return losses, grad


def categorical_crossentropy(y_true, y_pred, from_logits: bool, want_grad: bool, scale: float):
    losses, grad = _loss_buffers(y_pred, want_grad)
    _cpu.categorical_crossentropy(y_true, y_pred, losses, grad, from_logits, scale)
    return losses, grad


def sparse_categorical_crossentropy(labels, y_pred, from_logits: bool, want_grad: bool,
                                    scale: float):
    losses, grad = _loss_buffers(y_pred, want_grad)
    _cpu.sparse_categorical_crossentropy(labels, y_pred, losses, grad, from_logits, scale)
    return losses, grad


def binary_crossentropy(y_true, y_pred, from_logits: bool, want_grad: bool, scale: float):
    losses, grad = _loss_buffers(y_pred, want_grad)
    _cpu.binary_crossentropy(y_true, y_pred, losses, grad, from_logits, scale)
    return losses, grad


def mean_squared_error(y_true, y_pred, want_grad: bool, scale: float):
    losses, grad = _loss_buffers(y_pred, want_grad)
    _cpu.mean_squared_error(y_true, y_pred, losses, grad, scale)
    return losses, grad


# ---- optimizer updates (in place) ------------------------------------------------------------

def sgd_update_(p, g, velocity, lr: float, momentum: float, nesterov: bool) -> None:
    _cpu.sgd_update(p, g, velocity, lr, momentum, nesterov)


def adam_update_(p, g, m, v, vhat, lr: float, beta1: float, beta2: float, epsilon: float,
                 t: int) -> None:
    _cpu.adam_update(p, g, m, v, vhat, lr, beta1, beta2, epsilon, t)


def adam_update_multi_(ps, gs, ms, vs, vhats, lr: float, beta1: float, beta2: float,
                       epsilon: float, t: int) -> None:
    """``adam_update_`` of every entry of the lists (``vhats``: a list or None), in one call."""
    _cpu.adam_update_multi(ps, gs, ms, vs, vhats, lr, beta1, beta2, epsilon, t)


# ---- recurrent sequences (one kernel call per sequence) and the embedding gradient -------------

RNN_CELLS = {"lstm": 0, "gru": 1}


def rnn_sequence(cell: str, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                 go_backwards: bool, zero_output_for_mask: bool, reset_after: bool = True,
                 want_sequence: bool = False) -> dict:
    """Whole-sequence LSTM/GRU forward (``nnforge._cpu.rnn_forward``).

    Returns a dict of NumPy arrays: ``gates`` (N, T, G*H), ``aux`` (GRU, (N, T, H)),
    ``h_all`` / ``c_all`` (the states after every step, in processing order), ``y_seq`` (the
    output sequence: ``h_all`` itself without a mask; None unless ``want_sequence``) and
    ``y_last`` (N, H). Everything the backward needs is in it."""
    n, t, _ = x.shape
    h = recurrent_kernel.shape[0]
    g = recurrent_kernel.shape[1]
    code = RNN_CELLS[cell]
    out = {
        "gates": np.empty((n, t, g), np.float32),
        "aux": np.empty((n, t, h), np.float32) if code == 1 else None,
        "h_all": np.empty((n, t, h), np.float32),
        "c_all": np.empty((n, t, h), np.float32) if code == 0 else None,
        "y_last": np.empty((n, h), np.float32),
    }
    y_seq = np.empty((n, t, h), np.float32) if want_sequence and mask is not None else None
    _cpu.rnn_forward(code, reset_after, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                     go_backwards, zero_output_for_mask, out["gates"], out["aux"], out["h_all"],
                     out["c_all"], y_seq, out["y_last"])
    out["y_seq"] = (out["h_all"] if y_seq is None else y_seq) if want_sequence else None
    return out


def rnn_infer(cell: str, x, kernel, recurrent_kernel, bias, h0, c0, mask, go_backwards: bool,
              zero_output_for_mask: bool, reset_after: bool = True,
              want_sequence: bool = False) -> dict:
    """Whole-sequence LSTM/GRU forward for inference (``nnforge._cpu.rnn_infer``): nothing is
    kept for a backward. Returns a dict of NumPy arrays: ``y_seq`` ((N, T, H), None unless
    ``want_sequence``), ``y_last`` (N, H) and the final states ``h_last`` / ``c_last`` (LSTM)."""
    n, t, _ = x.shape
    h = recurrent_kernel.shape[0]
    lstm = RNN_CELLS[cell] == 0
    out = {"y_seq": np.empty((n, t, h), np.float32) if want_sequence else None,
           "y_last": np.empty((n, h), np.float32), "h_last": np.empty((n, h), np.float32),
           "c_last": np.empty((n, h), np.float32) if lstm else None}
    _cpu.rnn_infer(RNN_CELLS[cell], reset_after, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                   go_backwards, zero_output_for_mask, out["y_seq"], out["y_last"],
                   out["h_last"], out["c_last"])
    return out


def rnn_sequence_grad(cell: str, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                      go_backwards: bool, zero_output_for_mask: bool, reset_after: bool,
                      saved: dict, dy_seq, dy_last, dh_T, dc_T, want_dx: bool = True,
                      want_dh0: bool = False, out_kernel=None, out_recurrent=None,
                      out_bias=None) -> tuple:
    """Backward through time of ``rnn_sequence``: (dx, dkernel, drecurrent_kernel, dbias, dh0,
    dc0), None where not wanted (or without a bias / initial state)."""
    code = RNN_CELLS[cell]
    n, t, _ = x.shape
    h = recurrent_kernel.shape[0]
    dx = np.empty(x.shape, np.float32) if want_dx else None
    dk = np.empty(kernel.shape, np.float32) if out_kernel is None else out_kernel
    du = np.empty(recurrent_kernel.shape, np.float32) if out_recurrent is None else out_recurrent
    db = None
    if bias is not None:
        db = np.empty(bias.shape, np.float32) if out_bias is None else out_bias
    dh0 = np.empty((n, h), np.float32) if want_dh0 else None
    dc0 = np.empty((n, h), np.float32) if want_dh0 and code == 0 else None
    _cpu.rnn_backward(code, reset_after, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                      go_backwards, zero_output_for_mask, saved["gates"], saved["aux"],
                      saved["h_all"], saved["c_all"], dy_seq, dy_last, dh_T, dc_T, dx, dk, du, db,
                      dh0, dc0)
    return dx, dk, du, db, dh0, dc0


def embedding_gather(table, ids):
    """Rows of ``table`` (rows, dim) at int64 ``ids`` (any shape, each in [0, rows)), shaped
    ``ids.shape + (dim,)``: ``table[ids]`` as one copy kernel (no NumPy fancy-index pass)."""
    dim = table.shape[1]
    out = np.empty(tuple(ids.shape) + (dim,), np.float32)
    _cpu.embedding_gather(np.ascontiguousarray(ids, dtype=np.int64).reshape(-1),
                          np.ascontiguousarray(table, dtype=np.float32), out.reshape(-1, dim))
    return out


def embedding_grad(ids, dy, rows: int, out=None):
    """Gradient of a row gather: (rows, dim) zeros with ``dy[i]`` added into row ``ids[i]``
    (repeated ids accumulate). ids: int64 (n,); dy: float32 (n, dim)."""
    dim = dy.shape[-1]
    dt = np.empty((rows, dim), np.float32) if out is None else out
    _cpu.embedding_backward(np.ascontiguousarray(ids, dtype=np.int64).reshape(-1),
                            np.ascontiguousarray(dy, dtype=np.float32).reshape(-1, dim), dt)
    return dt


# ---- int8 quantized inference (backend/quantized.py) ----------------------------------------
from .quantized import (Int8PackedWeights, int8_conv2d, int8_dense,  # noqa: E402,F401
                        int8_matmul_int32, int8_pack_weights, quantize_rows_int8)
