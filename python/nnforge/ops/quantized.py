"""int8 ops (W8A8): abs-max quantization, and the int8 matmul/convolution that quantized
``Dense``/``Conv1D``/``Conv2D`` layers run (Keras 3's ``quantize("int8")`` semantics).

Scales are multipliers, as in Keras: ``q = clip(round(x * scale), -127, 127)`` with
``scale = 127 / max|x|``, and ``x ~ q / scale``. Weights are quantized once, per output channel
(``abs_max_quantize``); activations are quantized per row at run time by the backend kernel, or
with one fixed per-tensor scale (``inputs_scale``) found by static calibration.

The int8 GEMM itself is the backend's (``int8_pack_weights``, ``int8_dense``, ``int8_conv2d``,
``quantize_rows_int8``). Gradients flow to the inputs (through the dequantized kernel, as Keras's
custom gradient does) and to the bias; the int8 kernel and its scale are constants.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from nnforge import backend
from nnforge.core.tape import gradient_buffer, record
from nnforge.core.tensor import Tensor
from nnforge.utils.argument_validation import (conv_output_length, standardize_padding,
                                               standardize_tuple)

from ._util import data_of, float_data
from .nn import _FUSED_CODES, fused_activation, softmax

EPSILON = 1e-7  # Keras's backend.epsilon(), added to max|x| by its AbsMaxQuantizer


def abs_max_quantize(x, axis, value_range: Tuple[int, int] = (-127, 127),
                     epsilon: float = EPSILON):
    """Symmetric abs-max quantization of an array (``keras.quantizers.abs_max_quantize``).

    ``scale = value_range[1] / (max|x| + epsilon)`` over ``axis`` (kept, as Keras keeps it),
    ``q = clip(round(x * scale), *value_range)`` as int8. Computed in float32 exactly as Keras's
    NumPy path computes it, so the int8 values and scales match Keras's bit for bit.

    Args:
        x: float array (NumPy or CuPy, or a Tensor/Variable).
        axis: int or tuple of ints: the axes reduced for one scale.
        value_range: the (min, max) int range (default (-127, 127)).
        epsilon: added to the abs-max (avoids a division by zero for all-zero slices).

    Returns:
        ``(q, scale)``: int8 array shaped like ``x`` and float32 scale with ``axis`` kept as 1.

    Example:

    >>> q, s = abs_max_quantize(np.array([[0.5, -1.0]], "float32"), axis=-1)
    >>> q
    array([[  63, -127]], dtype=int8)
    """
    a = float_data(x, "abs_max_quantize", "x")
    xp = backend.of(a).xp
    scale = xp.divide(np.float32(value_range[1]),
                      xp.add(xp.max(xp.abs(a), axis=axis, keepdims=True), np.float32(epsilon)))
    scale = scale.astype(np.float32)
    q = xp.clip(xp.round(xp.multiply(a, scale)), value_range[0], value_range[1]).astype(np.int8)
    return q, scale


def dequantize(q, scale, dtype="float32"):
    """``q / scale`` as float32 (an int8 array and its broadcastable multiplier scale)."""
    qd = data_of(q, "dequantize", "q")
    sd = float_data(scale, "dequantize", "scale", like=qd)
    return (qd.astype(np.float32) / sd).astype(dtype)


def pack_weights(kernel_q):
    """The backend's packed form of an int8 ``(K, N)`` kernel for ``int8_dense``/``int8_conv``
    (opaque; rebuilt from the int8 kernel, never saved)."""
    k = data_of(kernel_q, "pack_weights", "kernel_q")
    if k.dtype != np.int8 or k.ndim != 2:
        raise ValueError(f"pack_weights: expected a 2-D int8 kernel, got dtype {k.dtype} and "
                         f"shape {tuple(k.shape)}")
    be = backend.of(k)
    if not hasattr(be, "int8_pack_weights"):  # a backend without int8 kernels (the GPU)
        return be.asarray(k, dtype=np.float32)
    return be.int8_pack_weights(be.xp.ascontiguousarray(k))


# ---- the same arithmetic with array ops, for a backend that has no int8 kernels (CuPy) -------
def _emulated_scales(xp, x2, x_scale):
    """Per-row multipliers 127 / max|row| (1 for an all-zero row), or the static ``x_scale``."""
    if x_scale is not None:
        return xp.full((x2.shape[0],), x_scale, dtype=np.float32)
    m = xp.abs(x2).max(axis=1) if x2.shape[1] else xp.zeros((x2.shape[0],), np.float32)
    return xp.where(m > 0, np.float32(127) / xp.where(m > 0, m, 1), 1).astype(np.float32)


def _emulated_product(be, q, packed_f32, s, w_scale, bias, activation: str):
    """``act(q @ kernel / (s[row] * w_scale) + bias)`` with q holding integer values in float32."""
    y = be.matmul(q, packed_f32)
    y *= (np.float32(1) / (s[:, None] * w_scale[None, :])).astype(np.float32)
    if bias is not None:
        y += bias
    code = _FUSED_CODES[activation]
    return be.activation(y, code) if code else y


def emulated_int8_dense(be, x2, packed_f32, w_scale, bias, activation: str, x_scale=None):
    """W8A8 dense with float GEMMs: the inputs are quantized per row (or by ``x_scale``) to
    integer values held in float32, multiplied with the int8 kernel held in float32 (exact
    integer products; sums exact up to K = 1040), then rescaled, biased and activated."""
    xp = be.xp
    s = _emulated_scales(xp, x2, x_scale)
    q = xp.clip(xp.rint(x2 * s[:, None]), -127, 127).astype(np.float32)
    return _emulated_product(be, q, packed_f32, s, w_scale, bias, activation)


def emulated_int8_conv2d(be, x, packed_f32, w_scale, bias, kernel_size, strides, pads,
                         out_hw, dilation_rate, activation: str, x_scale=None):
    """int8 convolution with float GEMMs, as the backends' ``int8_conv2d``: each image quantized
    with its own scale (or ``x_scale``), im2col of the integer values, then as
    ``emulated_int8_dense`` with each patch row rescaled by its image's scale."""
    xp = be.xp
    flat = x.reshape(x.shape[0], -1)
    s = _emulated_scales(xp, flat, x_scale)
    q = xp.clip(xp.rint(flat * s[:, None]), -127, 127).astype(np.float32).reshape(x.shape)
    cols = be.im2col(q, kernel_size, strides, dilation_rate, pads, out_hw)
    rows = xp.repeat(s, out_hw[0] * out_hw[1])
    y = _emulated_product(be, cols, packed_f32, rows, w_scale, bias, activation)
    return y.reshape(x.shape[0], out_hw[0], out_hw[1], -1)


def quantize_rows(x):
    """Per-row abs-max int8 quantization of a ``(M, K)`` float array (the backend's kernel):
    returns ``(q int8 (M, K), scale float32 (M,))``."""
    a = float_data(x, "quantize_rows", "x")
    if a.ndim != 2:
        raise ValueError(f"quantize_rows: expected a 2-D array, got shape {tuple(a.shape)}")
    return backend.of(a).quantize_rows_int8(a)


def _split_activation(activation):
    fused, after = fused_activation(activation)
    return fused, after


def _check_scale(inputs_scale, fn):
    if inputs_scale is None:
        return None
    s = float(inputs_scale)
    if not np.isfinite(s) or s <= 0:
        raise ValueError(f"{fn}: inputs_scale must be a positive finite float, got {inputs_scale}")
    return s


def int8_dense(x, kernel_q, packed, kernel_scale, bias=None, activation=None,
               inputs_scale: Optional[float] = None) -> Tensor:
    """``activation(dequant(quant(x) @ kernel_q) + bias)``: the int8 ``Dense`` forward pass.

    The inputs are quantized per row (dynamic, Keras's int8 mode) or with the fixed
    per-tensor ``inputs_scale`` (static calibration); the int32 products are rescaled by
    ``1 / (x_scale * kernel_scale)``, then bias and a linear/relu/sigmoid/tanh activation are
    applied in the same pass (softmax right after, any other activation after that).

    Args:
        x: float input ``(..., K)``.
        kernel_q: int8 kernel ``(K, N)`` (used for the gradient).
        packed: ``pack_weights(kernel_q)``.
        kernel_scale: float32 ``(N,)`` per-output-channel multiplier.
        bias: optional float32 ``(N,)``.
        activation: None, a name or a callable (as ``ops.dense``).
        inputs_scale: None (per-row dynamic scales) or one float multiplier.

    Returns:
        A float32 Tensor ``(..., N)``; gradients reach ``x`` and ``bias``.
    """
    fused, after = _split_activation(activation)
    if after is not None:
        return after(int8_dense(x, kernel_q, packed, kernel_scale, bias, None, inputs_scale))
    kq = data_of(kernel_q, "int8_dense", "kernel_q")
    be = backend.of(kq)
    xd = float_data(x, "int8_dense", "inputs", like=kq)
    k_in, units = kq.shape
    if xd.ndim < 1 or xd.shape[-1] != k_in:
        raise ValueError(f"int8_dense: the last axis of the input has size "
                         f"{xd.shape[-1] if xd.ndim else None} but the kernel expects {k_in} "
                         f"(input shape {tuple(xd.shape)}, kernel shape {tuple(kq.shape)})")
    ws = float_data(kernel_scale, "int8_dense", "kernel_scale", like=kq)
    b = float_data(bias, "int8_dense", "bias", like=kq) if bias is not None else None
    xs = _check_scale(inputs_scale, "int8_dense")
    lead = xd.shape[:-1]
    x2 = xd.reshape(-1, k_in)
    softmax_out = fused == "softmax"
    act = "linear" if softmax_out else fused
    if hasattr(be, "int8_dense"):
        y2 = be.int8_dense(x2, packed, ws, b, act, x_scale=xs)
    else:
        y2 = emulated_int8_dense(be, be.xp.ascontiguousarray(x2), packed, ws, b, act, xs)
    code = _FUSED_CODES[act]

    def backward(g, needs):
        g2 = be.asarray(g).reshape(-1, units)
        dz = be.activation_grad(y2, g2, code) if code else g2
        gx = gb = None
        if needs[0]:
            w = (kq.astype(np.float32) / ws).astype(np.float32)
            gx = be.matmul(dz, w, trans_b=True).reshape(xd.shape)
        if b is not None and needs[1]:
            gb = be.bias_grad(dz, units, out=gradient_buffer(bias, b.shape, b.dtype, be))
        return (gx, gb) if b is not None else (gx,)

    z = record(y2.reshape(lead + (units,)), (x, bias) if b is not None else (x,), backward)
    if softmax_out:
        out = softmax(z)
        out._keras_logits = z
        return out
    return z


def int8_conv(inputs, kernel_q, packed, kernel_scale, strides=1, padding: str = "valid",
              dilation_rate=1, bias=None, activation=None,
              inputs_scale: Optional[float] = None) -> Tensor:
    """The int8 convolution of quantized ``Conv2D``/``Conv1D`` layers (channels_last).

    The input patches are quantized (per row, or with the fixed ``inputs_scale``) and
    multiplied with the int8 kernel in int32; bias and a linear/relu/sigmoid/tanh activation
    are fused (others run after). A 1-D convolution runs as a 2-D one of height 1.

    Args:
        inputs: ``(batch, height, width, in)`` or ``(batch, steps, in)`` float input.
        kernel_q: int8 kernel ``(kh, kw, in, out)`` or ``(k, in, out)``.
        packed: ``pack_weights(kernel_q.reshape(-1, out))``.
        kernel_scale: float32 ``(out,)``.
        strides, padding ("valid"/"same"), dilation_rate: as ``ops.conv``.
        bias: optional float32 ``(out,)``.
        activation: None, a name or a callable.
        inputs_scale: None (dynamic) or one float multiplier (static calibration).

    Returns:
        A float32 Tensor; gradients reach ``inputs`` and ``bias``.
    """
    fused, after = _split_activation(activation)
    if after is not None:
        return after(int8_conv(inputs, kernel_q, packed, kernel_scale, strides, padding,
                               dilation_rate, bias, None, inputs_scale))
    if fused == "softmax":
        return softmax(int8_conv(inputs, kernel_q, packed, kernel_scale, strides, padding,
                                 dilation_rate, bias, None, inputs_scale))
    kq = data_of(kernel_q, "int8_conv", "kernel_q")
    be = backend.of(kq)
    xd = float_data(inputs, "int8_conv", "inputs", like=kq)
    one_d = kq.ndim == 3
    if one_d:  # (batch, steps, in) * (k, in, out) as height-1 images
        kq = kq[None]
        xd = xd[:, None]
        strides = (1,) + standardize_tuple(strides, 1, "strides", "int8_conv")
        dilation_rate = (1,) + standardize_tuple(dilation_rate, 1, "dilation_rate", "int8_conv")
    if xd.ndim != 4 or kq.ndim != 4 or xd.shape[3] != kq.shape[2]:
        raise ValueError(f"int8_conv: expected a {'3' if one_d else '4'}-D input whose channels "
                         f"match the kernel, got input shape {tuple(data_of(inputs).shape)} and "
                         f"kernel shape {tuple(data_of(kernel_q).shape)}")
    padding = standardize_padding(padding, where="int8_conv")
    s = standardize_tuple(strides, 2, "strides", "int8_conv")
    d = standardize_tuple(dilation_rate, 2, "dilation_rate", "int8_conv")
    kh, kw, cin, cout = kq.shape
    oh, pt = conv_output_length(xd.shape[1], kh, s[0], d[0], padding, "int8_conv", "height")
    ow, pl = conv_output_length(xd.shape[2], kw, s[1], d[1], padding, "int8_conv", "width")
    ws = float_data(kernel_scale, "int8_conv", "kernel_scale", like=kq)
    b = float_data(bias, "int8_conv", "bias", like=kq) if bias is not None else None
    xs = _check_scale(inputs_scale, "int8_conv")
    xd = be.xp.ascontiguousarray(xd)
    if hasattr(be, "int8_conv2d"):
        y = be.int8_conv2d(xd, packed, ws, b, (kh, kw), s, padding, d, fused, x_scale=xs)
    else:
        y = emulated_int8_conv2d(be, xd, packed, ws, b, (kh, kw), s, (pt, pl), (oh, ow), d,
                                 fused, xs)
    code = _FUSED_CODES[fused]
    xshape = xd.shape

    def backward(g, needs):
        dz = be.asarray(g).reshape(y.shape)
        if code:
            dz = be.activation_grad(y, dz, code)
        gx = gb = None
        if needs[0]:
            w = be.xp.ascontiguousarray((kq.astype(np.float32) / ws).astype(np.float32))
            gx = be.conv2d_grad_input(dz, w, xshape, s, d, (pt, pl))
            if one_d:
                gx = gx.reshape(xshape[:1] + xshape[2:])
        if b is not None and needs[1]:
            gb = be.bias_grad(dz, cout, out=gradient_buffer(bias, b.shape, b.dtype, be))
        return (gx, gb) if b is not None else (gx,)

    out = y[:, 0] if one_d else y
    return record(out, (inputs, bias) if b is not None else (inputs,), backward)


def int8_take_rows(table_q, row_scale, ids) -> Tensor:
    """Rows of an int8 embedding table, dequantized: ``table_q[ids] / row_scale[ids, None]``
    (Keras's int8 ``Embedding``; no gradient: the table is constant)."""
    t = data_of(table_q, "int8_take_rows", "table_q")
    be = backend.of(t)
    sc = float_data(row_scale, "int8_take_rows", "row_scale", like=t)
    i = data_of(ids, "int8_take_rows", "ids")
    if backend.of(i) is not be:
        i = be.asarray(backend.to_numpy(i), dtype=i.dtype)
    if i.dtype.kind == "f":
        if not bool(be.xp.all(i == be.xp.floor(i))):
            raise ValueError("int8_take_rows: ids must be integers")
    i = i.astype(np.int64)
    if i.size and (int(i.min()) < 0 or int(i.max()) >= t.shape[0]):
        raise ValueError(f"int8_take_rows: ids must be in [0, {t.shape[0]}), got values in "
                         f"[{int(i.min())}, {int(i.max())}]")
    return Tensor((t[i].astype(np.float32) / sc[i][..., None]).astype(np.float32))
