"""int8 quantized inference on the GPU: the CuPy twins of ``backend/quantized.py``.

Re-exported by ``nnforge.backend.cuda``. Same conventions and results as the CPU functions (see
``backend/quantized.py``): Keras's abs_max quantization, ``act(float(xq @ wq) / (x_scale_row *
w_scale) + bias)``; the integer products are exact on both devices. The GPU kernels
(``cuda/qgemm.cu``) use ``__dp4a``; ``int8_conv2d`` quantizes each image once, unrolls the integer
values with the float im2col (``_cuda.im2col``, exact) and runs the int8 GEMM on the patch rows. Packed weights for the GPU hold their arrays in device memory
(``int8_pack_weights`` here); the CPU functions refuse them and vice versa.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import cupy
import numpy as np

from .quantized import Int8PackedWeights, _conv_arguments, _dense_arguments


def _ext():
    from . import cuda as _b  # the module that loaded nnforge._cuda and knows the stream
    return _b


def _check_2d(fn: str, name: str, x, dtype) -> "cupy.ndarray":
    if not isinstance(x, cupy.ndarray) or x.dtype != dtype or x.ndim != 2:
        raise ValueError(f"{fn}: argument '{name}' must be a 2-D {np.dtype(dtype).name} CuPy "
                         f"array, got {getattr(x, 'dtype', type(x).__name__)} with shape "
                         f"{getattr(x, 'shape', None)}")
    return cupy.ascontiguousarray(x)


def _check_packed(fn: str, packed) -> Int8PackedWeights:
    if not isinstance(packed, Int8PackedWeights) or not isinstance(packed.packed, cupy.ndarray):
        raise ValueError(f"{fn}: argument 'packed' must come from the CUDA backend's "
                         f"int8_pack_weights, got {type(packed).__name__}")
    return packed


def _check_vec(fn: str, name: str, v, n: int, optional: bool = False):
    if v is None and optional:
        return None
    if not isinstance(v, cupy.ndarray) or v.dtype != np.float32 or v.shape != (n,):
        raise ValueError(f"{fn}: argument '{name}' must be a float32 CuPy array of shape ({n},), "
                         f"got {getattr(v, 'dtype', type(v).__name__)} with shape "
                         f"{getattr(v, 'shape', None)}")
    return cupy.ascontiguousarray(v)


def int8_pack_weights(wq) -> Int8PackedWeights:
    """Pack an int8 (K, N) kernel (NumPy or CuPy) for the GPU int8 GEMM (arrays on the device)."""
    p = Int8PackedWeights(cupy.asnumpy(wq) if isinstance(wq, cupy.ndarray) else wq)
    p.packed = cupy.asarray(p.packed)
    p.comp = cupy.asarray(p.comp)
    return p


def quantize_rows_int8(x) -> Tuple["cupy.ndarray", "cupy.ndarray"]:
    """Dynamic per-row int8 quantization of a float32 (M, K) CuPy matrix (see the CPU twin)."""
    b = _ext()
    x = _check_2d("quantize_rows_int8", "x", x, np.float32)
    q = cupy.empty(x.shape, dtype=cupy.int8)
    scale = cupy.empty((x.shape[0],), dtype=cupy.float32)
    b._cuda.quantize_rows_s8(x, q, scale, None, b._stream())
    return q, scale


def int8_matmul_int32(xq, packed) -> "cupy.ndarray":
    """The exact int32 product ``xq @ wq`` on the GPU."""
    fn = "int8_matmul_int32"
    b = _ext()
    packed = _check_packed(fn, packed)
    xq = _check_2d(fn, "xq", xq, np.int8)
    if xq.shape[1] != packed.K:
        raise ValueError(f"{fn}: argument 'xq' has {xq.shape[1]} columns but the packed weights "
                         f"have K = {packed.K} rows")
    out = cupy.empty((xq.shape[0], packed.N), dtype=cupy.int32)
    b._cuda.qgemm_s8(xq, packed.packed, packed.N, out, b._stream())
    return out


def int8_dense(x, packed, w_scale, bias=None, activation: Union[str, None] = "linear",
               x_scale: Optional[float] = None, out_scale: Optional[float] = None):
    """int8 Dense on the GPU (see ``backend.quantized.int8_dense``)."""
    b = _ext()
    x, packed, w_scale, bias, act, x_scale, out_scale = _dense_arguments(
        x, packed, w_scale, bias, activation, x_scale, out_scale,
        lambda fn, name, a: _check_2d(fn, name, a, np.float32), _check_packed, _check_vec)
    M = x.shape[0]
    out = cupy.empty((M, packed.N), dtype=cupy.int8 if out_scale is not None else cupy.float32)
    ws = b._scratch(b._cuda.qdense_workspace_bytes(M, packed.K))
    b._cuda.qdense_s8(x, packed.packed, packed.N, w_scale, bias, act, x_scale, out_scale, out, ws,
                      b._stream())
    return out


def int8_conv2d(x, packed, w_scale, bias=None, kernel_size=(1, 1), strides=(1, 1),
                padding: str = "valid", dilation_rate=(1, 1),
                activation: Union[str, None] = "linear", x_scale: Optional[float] = None):
    """int8 Conv2D (NHWC) on the GPU, as the CPU's ``int8_conv2d``: each image quantized once
    (its own scale, or the static ``x_scale``), im2col of the integer values, the exact int32
    product, then ``act(float(acc) / (x_scale[n] * w_scale) + bias)``."""
    b = _ext()
    x, packed, w_scale, bias, act, x_scale, (kernel, strides, dilation, pad, out_hw) = \
        _conv_arguments(x, packed, w_scale, bias, kernel_size, strides, padding, dilation_rate,
                        activation, x_scale, cupy, "CuPy", _check_packed, _check_vec)
    n = x.shape[0]
    flat = x.reshape(n, -1)
    if x_scale is None:
        xq, xs = quantize_rows_int8(flat)
    else:
        xq = cupy.clip(cupy.rint(flat * np.float32(x_scale)), -127, 127).astype(cupy.int8)
        xs = cupy.full((n,), x_scale, dtype=cupy.float32)
    cols = cupy.empty((n * out_hw[0] * out_hw[1], packed.K), dtype=cupy.float32)
    if cols.size:  # integer values in float32 (exact); the zero padding is q = 0
        b._cuda.im2col(xq.astype(cupy.float32).reshape(x.shape), cols, kernel, strides,
                       dilation, pad, out_hw, b._stream())
    acc = int8_matmul_int32(cols.astype(cupy.int8), packed)
    y = acc.astype(cupy.float32) / (cupy.repeat(xs, out_hw[0] * out_hw[1])[:, None]
                                     * w_scale[None, :])
    if bias is not None:
        y += bias[None, :]
    if act:
        b._cuda.activation_forward(y, y, act, b._stream())
    return y.reshape(n, out_hw[0], out_hw[1], packed.N)


__all__ = ["int8_pack_weights", "quantize_rows_int8", "int8_matmul_int32", "int8_dense",
           "int8_conv2d"]
