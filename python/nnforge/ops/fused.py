"""Fusions of consecutive ops (not Keras API: Sequential models use them, see
``models/inference_fusion.py``).

Each fused op returns exactly what its ops return one after the other: the same values, bit for
bit, the same errors. It falls back to those ops where it does not apply (an activation it does
not fuse, a backend without the kernel).
"""
from __future__ import annotations

import numpy as np

from nnforge.core.tape import is_recording, record
from nnforge.core.tensor import Tensor

from ._util import float_data
from .nn import (_FUSED_CODES, _be, _conv2d_geometry, _conv2d_grads, _pool_geometry, conv,
                 fused_activation, max_pool)


def conv_max_pool(inputs, kernel, strides=1, padding: str = "valid", dilation_rate=1, bias=None,
                  activation=None, pool_size=2, pool_strides=None,
                  pool_padding: str = "valid") -> Tensor:
    """``max_pool(conv(inputs, kernel, ...), pool_size, ...)`` for 2-D NHWC inputs.

    The convolution's output is pooled while it is still in the cache: it is never written to
    memory whole. While a GradientTape records (linear or relu activation), the pooling's
    winners are kept too, and the pair is one tape node whose backward needs neither the convolution's output nor a separate
    activation gradient: a window's winner is positive exactly when the pooled value is, so
    relu's derivative is applied to the pooled gradient (a quarter of the elements for 2x2
    windows) inside the pooling's backward kernel. The gradients are those of the two ops (the same
    values; the bias gradient of a first layer is summed in another order).

    Args:
        inputs: ``(batch, height, width, in)`` input.
        kernel: ``(kh, kw, in, out)`` kernel.
        strides, padding, dilation_rate, bias, activation: as ``ops.conv``.
        pool_size, pool_strides, pool_padding: as ``ops.max_pool``'s ``pool_size``,
            ``strides`` and ``padding``.

    Returns:
        The pooled ``(batch, pooled_height, pooled_width, out)`` Tensor.

    Example:

    >>> y = conv_max_pool(np.ones((2, 6, 6, 3)), np.ones((3, 3, 3, 8)), activation="relu")
    >>> y.shape
    (2, 2, 2, 8)
    """
    def unfused():
        return max_pool(conv(inputs, kernel, strides, padding, None, dilation_rate, bias,
                             activation), pool_size, pool_strides, pool_padding)

    fused, after = fused_activation(activation)
    recording = is_recording()
    if after is not None or fused not in _FUSED_CODES or (
            recording and fused not in ("linear", "relu")):
        return unfused()
    w = float_data(kernel, "conv", "kernel")
    x = float_data(inputs, "conv", "inputs", like=w)
    be = _be(w)
    if x.ndim != 4 or w.ndim != 4 or x.shape[3] != w.shape[2] or \
            not hasattr(be, "conv2d_max_pool"):
        return unfused()  # the ops' own errors, or the backend's unfused kernels
    s, d, pad, (oh, ow) = _conv2d_geometry(x.shape, w.shape, strides, padding, dilation_rate)
    if min(oh, ow) < 1:
        return unfused()
    p, ps, ppad, (ph, pw) = _pool_geometry("max_pool", (oh, ow), pool_size, pool_strides,
                                           pool_padding)
    if min(ph, pw) < 1:
        return unfused()
    b = float_data(bias, "conv", "bias", like=w) if bias is not None else None
    code = _FUSED_CODES[fused]
    if not recording:
        y = be.conv2d_max_pool(x, w, b, s, d, pad, (oh, ow), code, p, ps, ppad, (ph, pw))
        return unfused() if y is None else Tensor(y)
    yshape = (x.shape[0], oh, ow, w.shape[3])
    pair = be.conv2d_max_pool(x, w, b, s, d, pad, (oh, ow), code, p, ps, ppad, (ph, pw),
                              need_argmax=True) if p[0] * p[1] <= 256 else None
    if pair is None:  # the kernel declined: the two kernels, the convolution's output dropped
        pair = be.max_pool2d(be.conv2d(x, w, b, s, d, pad, (oh, ow), code), p, ps, ppad,
                             (ph, pw), True)
    out, arg = pair  # the backward needs the pooled output and the argmax only

    def backward(g, needs):
        g = be.asarray(g)
        if code and arg.dtype == np.uint8:
            # relu: its derivative at every window's winner is (pooled value > 0), applied
            # inside the pooling's backward
            dz = be.max_pool2d_grad(g, arg, yshape, p, ps, ppad, relu_y=out)
        else:
            if code:
                g = be.activation_grad(out, g, code)
            dz = be.max_pool2d_grad(g, arg, yshape, p, ps, ppad)
        return _conv2d_grads(be, dz, needs, x, w, b, kernel, bias, s, d, pad)

    return record(out, (inputs, kernel, bias) if b is not None else (inputs, kernel), backward)
