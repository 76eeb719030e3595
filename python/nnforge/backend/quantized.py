"""int8 quantized inference on the CPU: quantization, weight packing, int8 GEMM and convolution.

Re-exported by ``nnforge.backend.cpu`` (``backend.cpu.int8_dense`` etc.); ``nnforge.backend.cuda``
has the same functions for CuPy arrays.

Conventions (Keras 3's ``quantizers.abs_max_quantize``): a scale is a *multiplier*,

    scale = 127 / (max|x| + epsilon)      (float32 arithmetic, epsilon = 1e-7 as keras.backend)
    q     = clip(round(x * scale), -127, 127)    (round half to even; int8)
    x    ~= q / scale

per row for activations (dynamic), per output channel (column of the (K, N) kernel) for weights.
An int8 layer computes ``act(float32(xq @ wq) / (x_scale[row] * w_scale[col]) + bias)``, in that
order, as Keras's ``Dense._int8_call`` does.

Convolution (Keras has no int8 convolution; this is our definition): dynamic quantization gives
each input image x[n] (a "row" of the batch, as for Dense) its own scale 127 / (max|x[n]| + 1e-7);
with a static ``x_scale`` every image uses that one scale. The quantized image is then unrolled
into the rows of the im2col matrix (one row per output pixel (n, oh, ow): the (kh, kw, cin) window,
zero padding = 0), so the image is quantized once, not once per patch, and the patches are copied
as bytes; each row's product is rescaled by its image's scale. The kernel
(kh, kw, cin, cout) is quantized per output channel over its (kh*kw*cin) rows, i.e. as the
(kh*kw*cin, cout) matrix that ``int8_pack_weights`` takes. Conv1D is a convolution with a height
of 1. DepthwiseConv2D has no int8 kernel here: the Python side runs it as float on dequantized
weights.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np

from nnforge import _cpu

EPSILON = np.float32(1e-7)  # keras.backend.epsilon(), the epsilon of abs_max_quantize
_ACTS = {"linear": 0, None: 0, "relu": 1, "sigmoid": 2, "tanh": 3}

_NATIVE = hasattr(_cpu, "qgemm_s8")  # compiled int8 kernels present (else the NumPy fallback)


def _act_code(fn: str, activation) -> int:
    if activation not in _ACTS:
        raise ValueError(f"{fn}: argument 'activation' must be one of 'linear', 'relu', "
                         f"'sigmoid', 'tanh' (or None), got {activation!r}")
    return _ACTS[activation]


class Int8PackedWeights:
    """An int8 (K, N) kernel prepared for ``int8_matmul_int32`` / ``int8_dense`` / ``int8_conv2d``.

    Attributes:
        K, N: the kernel's shape.
        wq: the int8 (K, N) kernel itself (what saving stores; the packing is rebuilt from it).
        packed: int8 array (ceil(N/16), ceil(K/4), 16, 4): column panels of 16, each k-group of 4
            consecutive k for one column stored together (the operand layout of vpdpbusd).
            Padding (k >= K or column >= N) is zero.
        comp: int32 (ceil(N/16)*16,): -128 * (column sums of wq), the correction of the +128
            shift that makes the activations unsigned for vpdpbusd (0 for padded columns).

    ``nnforge.backend.cuda.int8_pack_weights`` returns the same class with ``packed`` and ``comp``
    in device memory (CuPy arrays); each backend refuses the other's packing.
    """

    __slots__ = ("K", "N", "wq", "packed", "comp")

    def __init__(self, wq: np.ndarray):
        wq = np.asarray(wq)
        if wq.dtype != np.int8 or wq.ndim != 2:
            raise ValueError(f"int8_pack_weights: argument 'wq' must be a 2-D int8 array, got "
                             f"dtype {wq.dtype} with shape {wq.shape}")
        self.K, self.N = int(wq.shape[0]), int(wq.shape[1])
        self.wq = np.ascontiguousarray(wq)
        K4, N16 = -(-self.K // 4) * 4, -(-self.N // 16) * 16
        pad = np.zeros((K4, N16), dtype=np.int8)
        pad[:self.K, :self.N] = self.wq
        # (K4, N16) -> (N16/16, K4/4, 16, 4): [panel, kgroup, column, k in group]
        self.packed = np.ascontiguousarray(
            pad.reshape(K4 // 4, 4, N16 // 16, 16).transpose(2, 0, 3, 1))
        comp = np.zeros((N16,), dtype=np.int32)
        comp[:self.N] = -128 * self.wq.astype(np.int32).sum(axis=0)
        self.comp = comp

    def __repr__(self) -> str:
        return f"Int8PackedWeights(K={self.K}, N={self.N})"


def int8_pack_weights(wq) -> Int8PackedWeights:
    """Pack an int8 (K, N) kernel for the int8 GEMM (cheap; rebuilt from ``wq`` after loading).

    Example:
    >>> kernel = np.random.randn(8, 4).astype("float32")             # (K, N)
    >>> wq_t, w_scale = quantize_rows_int8(np.ascontiguousarray(kernel.T))  # per output column
    >>> packed = int8_pack_weights(np.ascontiguousarray(wq_t.T))     # int8 (K, N)
    >>> y = int8_dense(np.ones((2, 8), "float32"), packed, w_scale)  # ~ ones @ kernel
    """
    return Int8PackedWeights(wq)


def _check_2d_f32(fn: str, name: str, x) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 2:
        raise ValueError(f"{fn}: argument '{name}' must be a 2-D float32 numpy array, got "
                         f"{getattr(x, 'dtype', type(x).__name__)} with shape "
                         f"{getattr(x, 'shape', None)}")
    return np.ascontiguousarray(x)


def _check_packed(fn: str, packed) -> Int8PackedWeights:
    if not isinstance(packed, Int8PackedWeights):
        raise ValueError(f"{fn}: argument 'packed' must come from int8_pack_weights, got "
                         f"{type(packed).__name__}")
    return packed


def _check_vec(fn: str, name: str, v, n: int, optional: bool = False) -> Optional[np.ndarray]:
    if v is None and optional:
        return None
    if not isinstance(v, np.ndarray) or v.dtype != np.float32 or v.shape != (n,):
        raise ValueError(f"{fn}: argument '{name}' must be a float32 array of shape ({n},), got "
                         f"{getattr(v, 'dtype', type(v).__name__)} with shape "
                         f"{getattr(v, 'shape', None)}")
    return np.ascontiguousarray(v)


def _check_scale(fn: str, name: str, s) -> Optional[float]:
    if s is None:
        return None
    s = float(s)
    if not np.isfinite(s) or s <= 0.0:
        raise ValueError(f"{fn}: argument '{name}' must be a finite float > 0 or None, got {s}")
    return s


# ---- NumPy reference implementation (used when the compiled kernels are absent) ----------------

def _np_quantize_rows(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    m, k = x.shape
    amax = np.max(np.abs(x), axis=1) if k else np.zeros((m,), np.float32)
    scale = (np.float32(127.0) / (amax.astype(np.float32) + EPSILON)).astype(np.float32)
    q = np.clip(np.round(x * scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def _np_epilogue(acc: np.ndarray, xs: np.ndarray, w_scale: np.ndarray, bias, act: int,
                 out_scale: Optional[float]) -> np.ndarray:
    y = acc.astype(np.float32) / (xs[:, None] * w_scale[None, :])
    if bias is not None:
        y = y + bias[None, :]
    if act:
        y = np.ascontiguousarray(y, dtype=np.float32)
        _cpu.activation_forward(y, y, act)
    if out_scale is not None:
        return np.clip(np.round(y * np.float32(out_scale)), -127, 127).astype(np.int8)
    return y.astype(np.float32, copy=False)


# ---- public backend functions -----------------------------------------------------------------

def quantize_rows_int8(x) -> Tuple[np.ndarray, np.ndarray]:
    """Dynamic per-row int8 quantization of a float32 (M, K) matrix.

    Returns:
        (q, scale): q int8 (M, K) = clip(round(x * scale[:, None]), -127, 127) and scale float32
        (M,) = 127 / (max|row| + 1e-7); dequantize with q / scale[:, None].
    """
    x = _check_2d_f32("quantize_rows_int8", "x", x)
    if _NATIVE:
        q = np.empty(x.shape, dtype=np.int8)
        scale = np.empty((x.shape[0],), dtype=np.float32)
        _cpu.quantize_rows_s8(x, q, scale)
        return q, scale
    return _np_quantize_rows(x)


def int8_matmul_int32(xq, packed) -> np.ndarray:
    """The exact int32 product ``xq @ wq`` of int8 (M, K) activations and packed weights."""
    fn = "int8_matmul_int32"
    packed = _check_packed(fn, packed)
    if not isinstance(xq, np.ndarray) or xq.dtype != np.int8 or xq.ndim != 2:
        raise ValueError(f"{fn}: argument 'xq' must be a 2-D int8 numpy array, got "
                         f"{getattr(xq, 'dtype', type(xq).__name__)} with shape "
                         f"{getattr(xq, 'shape', None)}")
    if xq.shape[1] != packed.K:
        raise ValueError(f"{fn}: argument 'xq' has {xq.shape[1]} columns but the packed weights "
                         f"have K = {packed.K} rows: xq {xq.shape}, weights ({packed.K}, "
                         f"{packed.N})")
    xq = np.ascontiguousarray(xq)
    out = np.empty((xq.shape[0], packed.N), dtype=np.int32)
    if _NATIVE:
        _cpu.qgemm_s8(xq, packed.packed, packed.comp, packed.N, out)
        return out
    out[...] = xq.astype(np.int32) @ packed.wq.astype(np.int32)
    return out


def _dense_arguments(x, packed, w_scale, bias, activation, x_scale, out_scale, check_x,
                     check_packed, check_vec):
    """The argument checks of ``int8_dense``, for this module and its GPU twin (with the
    device's own 2-D float32, packed-weights and vector checks). Returns (x, packed, w_scale,
    bias, activation code, x_scale, out_scale)."""
    fn = "int8_dense"
    x = check_x(fn, "x", x)
    packed = check_packed(fn, packed)
    if x.shape[1] != packed.K:
        raise ValueError(f"{fn}: argument 'x' has {x.shape[1]} columns but the packed weights "
                         f"have K = {packed.K} rows: x {x.shape}, weights ({packed.K}, "
                         f"{packed.N})")
    return (x, packed, check_vec(fn, "w_scale", w_scale, packed.N),
            check_vec(fn, "bias", bias, packed.N, optional=True), _act_code(fn, activation),
            _check_scale(fn, "x_scale", x_scale), _check_scale(fn, "out_scale", out_scale))


def int8_dense(x, packed, w_scale, bias=None, activation: Union[str, None] = "linear",
               x_scale: Optional[float] = None, out_scale: Optional[float] = None) -> np.ndarray:
    """int8 Dense: ``act(float32(q(x) @ wq) / (x_scale_row * w_scale) + bias)``.

    Args:
        x: float32 (M, K) inputs.
        packed: ``int8_pack_weights(wq)`` of the int8 (K, N) kernel.
        w_scale: float32 (N,) per-output-channel kernel scales (multipliers).
        bias: float32 (N,) or None.
        activation: "linear" (or None), "relu", "sigmoid" or "tanh", fused into the epilogue.
        x_scale: None: each row of x is quantized with its own scale 127/(max|row|+1e-7) inside
            the call; a float: one static scale (from calibration) for every row.
        out_scale: None: float32 output; a float: the output requantized to int8 with that
            static scale (clip(round(y * out_scale), -127, 127)) for a next int8 layer.

    Returns:
        float32 (M, N), or int8 (M, N) when ``out_scale`` is given.
    """
    x, packed, w_scale, bias, act, x_scale, out_scale = _dense_arguments(
        x, packed, w_scale, bias, activation, x_scale, out_scale, _check_2d_f32, _check_packed,
        _check_vec)
    M = x.shape[0]
    if _NATIVE:
        out = np.empty((M, packed.N), dtype=np.int8 if out_scale is not None else np.float32)
        _cpu.qdense_s8(x, packed.packed, packed.comp, packed.N, w_scale, bias, act,
                       x_scale, out_scale, out)
        return out
    if x_scale is None:
        xq, xs = _np_quantize_rows(x)
    else:
        xq = np.clip(np.round(x * np.float32(x_scale)), -127, 127).astype(np.int8)
        xs = np.full((M,), x_scale, dtype=np.float32)
    acc = xq.astype(np.int32) @ packed.wq.astype(np.int32)
    return _np_epilogue(acc, xs, w_scale, bias, act, out_scale)


def _conv_geometry(fn: str, x_shape, K: int, kernel_size, strides, padding, dilation_rate):
    def pair(name, v):
        t = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
        if len(t) != 2 or not all(isinstance(i, (int, np.integer)) and i >= 1 for i in t):
            raise ValueError(f"{fn}: argument '{name}' must be an int >= 1 or a pair of them, "
                             f"got {v!r}")
        return int(t[0]), int(t[1])

    kh, kw = pair("kernel_size", kernel_size)
    sh, sw = pair("strides", strides)
    dh, dw = pair("dilation_rate", dilation_rate)
    if padding not in ("valid", "same"):
        raise ValueError(f"{fn}: argument 'padding' must be 'valid' or 'same', got {padding!r}")
    _, H, W, C = x_shape
    if kh * kw * C != K:
        raise ValueError(f"{fn}: the packed weights have K = {K} rows but kernel_size "
                         f"{(kh, kw)} x {C} input channels of x {tuple(x_shape)} need "
                         f"{kh * kw * C}")
    pads, outs = [], []
    for size, k, s, d in ((H, kh, sh, dh), (W, kw, sw, dw)):
        ek = (k - 1) * d + 1
        if padding == "valid":
            o = (size - ek) // s + 1 if size >= ek else 0
            p = 0
        else:
            o = -(-size // s)
            p = max((o - 1) * s + ek - size, 0) // 2
        pads.append(p)
        outs.append(o)
    if outs[0] < 1 or outs[1] < 1:
        raise ValueError(f"{fn}: kernel_size {(kh, kw)} with dilation_rate {(dh, dw)} is larger "
                         f"than the input x {tuple(x_shape)} with padding 'valid'")
    return (kh, kw), (sh, sw), (dh, dw), tuple(pads), tuple(outs)


def _conv_arguments(x, packed, w_scale, bias, kernel_size, strides, padding, dilation_rate,
                    activation, x_scale, xp, xp_name: str, check_packed, check_vec):
    """The argument checks of ``int8_conv2d``, for this module and its GPU twin (``xp``: numpy
    or cupy, with the device's own packed-weights and vector checks). Returns (x contiguous,
    packed, w_scale, bias, activation code, x_scale, (kernel, strides, dilation, pad, out_hw))."""
    fn = "int8_conv2d"
    if not isinstance(x, xp.ndarray) or x.dtype != np.float32 or x.ndim != 4:
        raise ValueError(f"{fn}: argument 'x' must be a 4-D float32 NHWC {xp_name} array, got "
                         f"{getattr(x, 'dtype', type(x).__name__)} with shape "
                         f"{getattr(x, 'shape', None)}")
    x = xp.ascontiguousarray(x)
    packed = check_packed(fn, packed)
    geometry = _conv_geometry(fn, x.shape, packed.K, kernel_size, strides, padding,
                              dilation_rate)
    w_scale = check_vec(fn, "w_scale", w_scale, packed.N)
    bias = check_vec(fn, "bias", bias, packed.N, optional=True)
    return (x, packed, w_scale, bias, _act_code(fn, activation),
            _check_scale(fn, "x_scale", x_scale), geometry)


def int8_conv2d(x, packed, w_scale, bias=None, kernel_size=(1, 1), strides=(1, 1),
                padding: str = "valid", dilation_rate=(1, 1),
                activation: Union[str, None] = "linear",
                x_scale: Optional[float] = None) -> np.ndarray:
    """int8 Conv2D (NHWC): int8 im2col + the int8 GEMM with the fused float epilogue.

    Args:
        x: float32 (N, H, W, Cin).
        packed: ``int8_pack_weights`` of the int8 kernel reshaped to (kh*kw*Cin, Cout).
        w_scale: float32 (Cout,); bias: float32 (Cout,) or None.
        kernel_size, strides, dilation_rate: ints or pairs; padding "valid" or "same"
            (TensorFlow's: the odd extra row/column at the bottom/right).
        activation: as ``int8_dense``.
        x_scale: None: one dynamic scale per image x[n] (see the module docstring); a float:
            a static per-tensor scale.

    Returns:
        float32 (N, OH, OW, Cout).
    """
    x, packed, w_scale, bias, act, x_scale, (kernel, strides, dilation, pad, out_hw) = \
        _conv_arguments(x, packed, w_scale, bias, kernel_size, strides, padding, dilation_rate,
                        activation, x_scale, np, "numpy", _check_packed, _check_vec)
    n = x.shape[0]
    if _NATIVE:
        y = np.empty((n, out_hw[0], out_hw[1], packed.N), dtype=np.float32)
        _cpu.qconv2d_s8(x, packed.packed, packed.comp, packed.N, w_scale, bias, act,
                        x_scale, kernel, strides, dilation, pad, y)
        return y
    xq, xs = quantize_images_int8(x, x_scale)
    cols = np.empty((n * out_hw[0] * out_hw[1], packed.K), dtype=np.float32)
    if cols.size:  # the integer values in float32 (exact), unrolled; zero padding is q = 0
        _cpu.im2col(xq.astype(np.float32), cols, kernel, strides, dilation, pad, out_hw)
    acc = cols.astype(np.int32) @ packed.wq.astype(np.int32)
    y = _np_epilogue(acc, np.repeat(xs, out_hw[0] * out_hw[1]), w_scale, bias, act, None)
    return y.reshape(n, out_hw[0], out_hw[1], packed.N)


def quantize_images_int8(x, x_scale: Optional[float] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Quantize a batch of images (or any (N, ...) batch) as ``int8_conv2d`` does its input.

    Args:
        x: float32 array of shape (N, ...).
        x_scale: None: each x[n] gets its own scale 127 / (max|x[n]| + 1e-7); a float: that one
            static scale for every x[n].

    Returns:
        ``(q, scale)``: int8 q of x's shape, float32 scale (N,), with
        q = clip(round(x[n] * scale[n]), -127, 127).

    Example:

    >>> q, s = quantize_images_int8(np.ones((2, 3, 3, 1), "float32"))
    >>> int(q.max()), s.shape
    (127, (2,))
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    flat = x.reshape(x.shape[0], -1)
    if x_scale is None:
        q, s = quantize_rows_int8(flat)
    else:
        q = np.clip(np.round(flat * np.float32(x_scale)), -127, 127).astype(np.int8)
        s = np.full((x.shape[0],), x_scale, dtype=np.float32)
    return q.reshape(x.shape), s


__all__ = ["Int8PackedWeights", "int8_pack_weights", "quantize_rows_int8", "quantize_images_int8",
           "int8_matmul_int32", "int8_dense", "int8_conv2d"]
