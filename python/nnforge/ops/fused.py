"""Fusions of consecutive ops (not Keras API: Sequential models use them, see
``models/inference_fusion.py``).

Each fused op returns exactly what its ops return one after the other: the same values, bit for
bit, the same errors. It falls back to those ops where it does not apply (an activation it does
not fuse, a backend without the kernel).
"""
from __future__ import annotations

from nnforge.core.tape import gradient_buffer, is_recording, record
from nnforge.core.tensor import Tensor
from nnforge.utils.argument_validation import (conv_output_length, standardize_padding,
                                               standardize_tuple)

from ._util import float_data
from .nn import _FUSED_CODES, _be, conv, fused_activation, max_pool


def conv_max_pool(inputs, kernel, strides=1, padding: str = "valid", dilation_rate=1, bias=None,
                  activation=None, pool_size=2, pool_strides=None,
                  pool_padding: str = "valid") -> Tensor:
    """``max_pool(conv(inputs, kernel, ...), pool_size, ...)`` for 2-D NHWC inputs.

    For inference the convolution's output is pooled while it is still in the cache: it is never
    written to memory whole. While a GradientTape records (linear or relu activation), the pair
    is one tape node whose backward needs neither the convolution's output nor a separate
    activation gradient: a window's winner is positive exactly when the pooled value is, so
    relu's derivative is applied to the pooled gradient (a quarter of the elements for 2x2
    windows) before the pooling's backward. The gradients are those of the two ops (the same
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
    pad_mode = standardize_padding(padding, where="conv")
    s = standardize_tuple(strides, 2, "strides", "conv")
    d = standardize_tuple(dilation_rate, 2, "dilation_rate", "conv")
    oh, pt = conv_output_length(x.shape[1], w.shape[0], s[0], d[0], pad_mode, "conv", "height")
    ow, pl = conv_output_length(x.shape[2], w.shape[1], s[1], d[1], pad_mode, "conv", "width")
    p = standardize_tuple(pool_size, 2, "pool_size", "max_pool")
    ps = standardize_tuple(pool_strides if pool_strides is not None else p, 2, "strides",
                           "max_pool")
    pool_mode = standardize_padding(pool_padding, where="max_pool")
    if min(oh, ow) < 1:
        return unfused()
    ph, ppt = conv_output_length(oh, p[0], ps[0], 1, pool_mode, "max_pool", "height")
    pw, ppl = conv_output_length(ow, p[1], ps[1], 1, pool_mode, "max_pool", "width")
    if min(ph, pw) < 1:
        return unfused()
    b = float_data(bias, "conv", "bias", like=w) if bias is not None else None
    code = _FUSED_CODES[fused]
    if not recording:
        y = be.conv2d_max_pool(x, w, b, s, d, (pt, pl), (oh, ow), code, p, ps, (ppt, ppl),
                               (ph, pw))
        return unfused() if y is None else Tensor(y)
    y = be.conv2d(x, w, b, s, d, (pt, pl), (oh, ow), code)
    out, arg = be.max_pool2d(y, p, ps, (ppt, ppl), (ph, pw), True)
    xshape, wshape, yshape = x.shape, w.shape, y.shape
    del y  # the backward needs the pooled output and the argmax only

    def backward(g, needs):
        g = be.asarray(g)
        if code:  # relu: its derivative at every window's winner is (pooled value > 0)
            g = be.activation_grad(out, g, code)
        dz = be.max_pool2d_grad(g, arg, yshape, p, ps, (ppt, ppl))
        gx = be.conv2d_grad_input(dz, w, xshape, s, d, (pt, pl)) if needs[0] else None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            gw, gb = be.conv2d_grad_filter(
                x, dz, wshape, s, d, (pt, pl), b is not None,
                out=gradient_buffer(kernel, w.shape, w.dtype, be) if needs[1] else None,
                out_bias=(gradient_buffer(bias, b.shape, b.dtype, be)
                          if b is not None and needs[2] else None))
        return (gx, gw, gb) if b is not None else (gx, gw)

    return record(out, (inputs, kernel, bias) if b is not None else (inputs, kernel), backward)
