"""Convolution and pooling of any rank (1-D, 2-D, 3-D) on top of the 2-D kernels, and the
depthwise, separable and adaptive-pooling ops (``keras.ops.depthwise_conv``,
``separable_conv``, ``adaptive_average_pool``, ``adaptive_max_pool``).

How each rank reaches the 2-D im2col + GEMM kernels:

- 1-D: a height-1 2-D problem (``expand_dims`` / ``squeeze``).
- 3-D convolution: one 2-D convolution per kernel depth index ``kd``: the input's depth slices
  ``kd*dilation + od*stride`` (for every output depth ``od``) are folded into the batch, convolved
  with ``kernel[kd]`` over height and width, and the ``kd`` partial results summed.
- 3-D transposed convolution: per ``kd``, a 2-D transposed convolution of every depth slice with
  ``kernel[kd]``, its results spread ``stride`` apart in depth and shifted by ``kd*dilation``; the
  'full' result is then cropped (or zero-extended) per axis to Keras's output length
  (``utils.argument_validation.conv_transpose_output_length``, which handles output_padding).
- 3-D pooling: max and average over a box are separable: a 2-D pooling over (height, width) of
  every depth slice, then a (pool_depth, 1) 2-D pooling over (depth, height*width). 'same'
  average pooling stays an average of the real elements (the counts multiply).

All of it is built from differentiable ops, so gradients come from the tape (and the 2-D
kernels' own backward passes); NumPy and CuPy arrays both work.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.utils.argument_validation import (conv_output_length,
                                               conv_transpose_output_length,
                                               standardize_data_format, standardize_padding,
                                               standardize_tuple)

from ._util import float_data

_SPATIAL = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _shape(x) -> Tuple:
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return tuple(np.shape(x))


def _slice(x, idx: tuple):
    """``x[idx]`` for a tuple of slices (basic indexing: no element taken twice), whose gradient
    is written into zeros with one assignment (ops.getitem's scatter-add handles any index and
    is slower)."""
    from ._util import data_of
    a = data_of(x, "slice", "x")
    y = a[idx]
    xp = backend.of(a).xp

    def backward(g, needs):
        out = xp.zeros(a.shape, dtype=g.dtype)
        out[idx] = g
        return (out,)

    return record(y, (x,), backward)


def _rank(fn: str, xshape, wshape=None, kernel_extra: int = 2) -> int:
    """The spatial rank from the input (and kernel) shapes; 1, 2 or 3."""
    rank = len(xshape) - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{fn}: expected a 3-D, 4-D or 5-D channels_last input (batch, "
                         f"spatial..., channels), got shape {xshape}")
    if wshape is not None and len(wshape) != rank + kernel_extra:
        raise ValueError(f"{fn}: a {len(xshape)}-D input needs a {rank + kernel_extra}-D "
                         f"kernel, got input shape {xshape} and kernel shape {wshape}")
    return rank


def _activate(y, activation):
    from .nn import _FUSED_CODES, _kernel_activation, fused_activation, softmax
    fused, after = fused_activation(activation)
    if after is not None:
        return after(y)
    if fused == "softmax":
        return softmax(y)
    if fused is None or fused == "linear":
        return y
    if fused in _FUSED_CODES:
        return _kernel_activation(fused, y)
    raise ValueError(f"conv: unknown activation {activation!r}")


# ---- convolution ---------------------------------------------------------------------------------

def conv3d(inputs, kernel, strides=1, padding: str = "valid", dilation_rate=1, bias=None,
           activation=None):
    """3-D convolution (NDHWC input, (kd, kh, kw, in, out) kernel), the rank-3 case of
    ``ops.conv``: a sum over ``kd`` of 2-D convolutions of the matching depth slices.

    Args:
        inputs: ``(batch, depth, height, width, in)`` input.
        kernel: ``(kd, kh, kw, in, out)`` filters.
        strides, dilation_rate: int or 3 ints.
        padding: ``"valid"`` or ``"same"``.
        bias: optional ``(out,)`` bias.
        activation: None, a name or a callable.

    Returns:
        The ``(batch, out_depth, out_height, out_width, out)`` Tensor.

    Example:

    >>> conv3d(np.ones((1, 4, 4, 4, 2)), np.ones((3, 3, 3, 2, 5))).shape
    (1, 2, 2, 2, 5)
    """
    from .math import add, pad, reshape
    from .nn import conv
    xs, ws = _shape(inputs), _shape(kernel)
    if len(xs) != 5 or len(ws) != 5:
        raise ValueError(f"conv: expected a 5-D NDHWC input and a 5-D kernel, got input shape "
                         f"{xs} and kernel shape {ws}")
    if xs[4] != ws[3]:
        raise ValueError(f"conv: the input has {xs[4]} channels but the kernel expects {ws[3]} "
                         f"(input shape {xs}, kernel shape {ws})")
    padding = standardize_padding(padding, where="conv")
    s = standardize_tuple(strides, 3, "strides", "conv")
    d = standardize_tuple(dilation_rate, 3, "dilation_rate", "conv")
    n, depth, h, w, c = xs
    kd = ws[0]
    od, front = conv_output_length(depth, kd, s[0], d[0], padding, "conv", "depth")
    for i, dim in ((1, "height"), (2, "width")):
        conv_output_length(xs[1 + i], ws[i], s[i], d[i], padding, "conv", dim)
    need = (od - 1) * s[0] + (kd - 1) * d[0] + 1
    back = max(need - depth - front, 0)
    x = inputs
    if front or back:
        x = pad(x, ((0, 0), (front, back), (0, 0), (0, 0), (0, 0)))
    total = None
    for k in range(kd):
        start = k * d[0]
        sl = _slice(x, (slice(None), slice(start, start + (od - 1) * s[0] + 1, s[0])))
        y = conv(reshape(sl, (n * od, h, w, c)), _slice(kernel, (k,)), s[1:], padding,
                 dilation_rate=d[1:], bias=bias if k == 0 else None)
        total = y if total is None else add(total, y)
    _, oh, ow, f = _shape(total)
    return _activate(reshape(total, (n, od, oh, ow, f)), activation)


def _full_transpose2d(inputs, kernel, s, d):
    """The whole (uncropped) 2-D transposed convolution: (N, H, W, Cin) with (kh, kw, Cout, Cin)
    -> (N, (H-1)*sh + eff_h, (W-1)*sw + eff_w, Cout), the input gradient of a 'valid' conv."""
    w = float_data(kernel, "conv_transpose", "kernel")
    x = float_data(inputs, "conv_transpose", "inputs", like=w)
    be = backend.of(w)
    n, hh, ww, _ = x.shape
    out = tuple((size - 1) * s[i] + (w.shape[i] - 1) * d[i] + 1
                for i, size in enumerate((hh, ww)))
    y = be.conv2d_grad_input(x, w, (n, out[0], out[1], w.shape[2]), s, d, (0, 0))

    def backward(g, needs):
        g = be.asarray(g)
        gx = be.conv2d(g, w, None, s, d, (0, 0), (hh, ww), 0) if needs[0] else None
        gw = be.conv2d_grad_filter(g, x, w.shape, s, d, (0, 0), False)[0] if needs[1] else None
        return gx, gw

    return record(y, (inputs, kernel), backward)


def _spread(z, axis: int, stride: int, length: int):
    """Place the entries of ``z`` along ``axis`` ``stride`` apart (zeros between), keeping the
    first ``length`` positions."""
    from .math import expand_dims, pad, reshape
    if stride == 1:
        return z
    shape = _shape(z)
    widths = [(0, 0)] * (len(shape) + 1)
    widths[axis + 1] = (0, stride - 1)
    z = pad(expand_dims(z, axis + 1), tuple(widths))
    z = reshape(z, shape[:axis] + (shape[axis] * stride,) + shape[axis + 1:])
    return _slice(z, (slice(None),) * axis + (slice(0, length),))


def conv_transpose_nd(inputs, kernel, strides=1, padding: str = "valid", output_padding=None,
                      data_format=None, dilation_rate=1):
    """Transposed convolution of rank 1, 2 or 3 with Keras 3's output lengths (the general case
    of ``ops.conv_transpose``: any ``output_padding``). Kernel ``(k..., out, in)``.

    Args:
        inputs: ``(batch, spatial..., in)`` input.
        kernel: ``(k..., out, in)`` filters.
        strides, dilation_rate: int or one int per spatial dimension.
        padding: ``"valid"`` or ``"same"``.
        output_padding: None or int / one int per spatial dimension (each < its stride).
        data_format: None or ``"channels_last"``.

    Returns:
        The ``(batch, out_spatial..., out)`` Tensor.

    Example:

    >>> conv_transpose_nd(np.ones((1, 3, 2)), np.ones((3, 4, 2)), 2, "same").shape
    (1, 6, 4)
    """
    from .math import add, expand_dims, pad, reshape, squeeze
    fn = "conv_transpose"
    standardize_data_format(data_format, fn)
    xs, ws = _shape(inputs), _shape(kernel)
    rank = _rank(fn, xs, ws)
    if xs[-1] != ws[-1]:
        raise ValueError(f"{fn}: the input has {xs[-1]} channels but the (k..., out, in) kernel "
                         f"expects {ws[-1]} (input shape {xs}, kernel shape {ws})")
    padding = standardize_padding(padding, where=fn)
    s = standardize_tuple(strides, rank, "strides", fn)
    d = standardize_tuple(dilation_rate, rank, "dilation_rate", fn)
    op = (None,) * rank if output_padding is None else standardize_tuple(
        output_padding, rank, "output_padding", fn, allow_zero=True)
    geometry = [conv_transpose_output_length(xs[1 + i], ws[i], s[i], d[i], padding, op[i], fn,
                                             _SPATIAL[rank][i]) for i in range(rank)]
    if rank == 1:
        full = squeeze(_full_transpose2d(expand_dims(inputs, 1), expand_dims(kernel, 0),
                                         (1, s[0]), (1, d[0])), 1)
    elif rank == 2:
        full = _full_transpose2d(inputs, kernel, s, d)
    else:
        n, depth, h, w, cin = xs
        length = (depth - 1) * s[0] + (ws[0] - 1) * d[0] + 1
        x2 = reshape(inputs, (n * depth, h, w, cin))
        full = None
        for k in range(ws[0]):
            z = _full_transpose2d(x2, _slice(kernel, (k,)), s[1:], d[1:])
            _, fh, fw, cout = _shape(z)
            z = _spread(reshape(z, (n, depth, fh, fw, cout)), 1, s[0], (depth - 1) * s[0] + 1)
            before = k * d[0]
            z = pad(z, ((0, 0), (before, length - before - ((depth - 1) * s[0] + 1)), (0, 0),
                        (0, 0), (0, 0)))
            full = z if full is None else add(full, z)
    y = full
    for i, (length, offset) in enumerate(geometry):
        have = _shape(y)[1 + i]
        take = min(length, have - offset)
        if offset or take < have:
            y = _slice(y, (slice(None),) * (1 + i) + (slice(offset, offset + take),))
        if take < length:
            widths = [(0, 0)] * (rank + 2)
            widths[1 + i] = (0, length - take)
            y = pad(y, tuple(widths))
    return y


def transpose_needs_general(kernel_shape, strides, padding, output_padding,
                            dilation_rate) -> bool:
    """Whether ``ops.conv_transpose`` must take the general path (``conv_transpose_nd``) rather
    than the fused 2-D kernel: another rank, an output_padding, or a 'valid' window shorter than
    its stride (Keras then pads the output to input * stride)."""
    if len(kernel_shape) != 4 or output_padding is not None:
        return True
    s = standardize_tuple(strides, 2, "strides", "conv_transpose")
    d = standardize_tuple(dilation_rate, 2, "dilation_rate", "conv_transpose")
    return str(padding).lower() == "valid" and any(
        (kernel_shape[i] - 1) * d[i] + 1 < s[i] for i in range(2))


# ---- pooling -------------------------------------------------------------------------------------

def pool_nd(kind: str, inputs, pool_size, strides=None, padding: str = "valid",
            data_format=None):
    """Max (``kind="max"``) or average pooling of rank 1 or 3 through the 2-D pooling ops (the
    rank-1 and rank-3 cases of ``ops.max_pool`` / ``ops.average_pool``).

    Args:
        kind: ``"max"`` or ``"average"``.
        inputs: ``(batch, steps, channels)`` or ``(batch, depth, height, width, channels)``.
        pool_size: int or one int per spatial dimension.
        strides: int, one int per spatial dimension, or None (pool_size).
        padding: ``"valid"`` or ``"same"``.
        data_format: None or ``"channels_last"``.

    Returns:
        The pooled Tensor.

    Example:

    >>> pool_nd("max", np.ones((1, 4, 4, 4, 2)), 2).shape
    (1, 2, 2, 2, 2)
    """
    from .math import expand_dims, reshape, squeeze
    from .nn import average_pool, max_pool
    fn = f"{kind}_pool"
    op = max_pool if kind == "max" else average_pool
    standardize_data_format(data_format, fn)
    xs = _shape(inputs)
    rank = _rank(fn, xs)
    p = standardize_tuple(pool_size, rank, "pool_size", fn)
    s = standardize_tuple(strides if strides is not None else p, rank, "strides", fn)
    padding = standardize_padding(padding, where=fn)
    if rank == 2:
        return op(inputs, p, s, padding)
    if rank == 1:
        return squeeze(op(expand_dims(inputs, 1), (1,) + p, (1,) + s, padding), 1)
    n, depth, h, w, c = xs
    conv_output_length(depth, p[0], s[0], 1, padding, fn, "depth")
    y = op(reshape(inputs, (n * depth, h, w, c)), p[1:], s[1:], padding)
    _, oh, ow, _ = _shape(y)
    y = op(reshape(y, (n, depth, oh * ow, c)), (p[0], 1), (s[0], 1), padding)
    return reshape(y, (n, _shape(y)[1], oh, ow, c))


# ---- depthwise and separable convolution ---------------------------------------------------------

def depthwise_conv(inputs, kernel, strides=1, padding: str = "valid", data_format=None,
                   dilation_rate=1):
    """Depthwise convolution (``keras.ops.depthwise_conv``): each input channel convolved with
    its own ``M`` filters; kernel ``(k..., C, M)``; output channel ``c*M + m``. 1-D and 2-D.

    Args:
        inputs: ``(batch, steps, C)`` or ``(batch, height, width, C)`` input.
        kernel: ``(k, C, M)`` or ``(kh, kw, C, M)`` filters.
        strides, dilation_rate: int or one int per spatial dimension.
        padding: ``"valid"`` or ``"same"``.
        data_format: None or ``"channels_last"``.

    Returns:
        The ``(batch, out_spatial..., C*M)`` Tensor.

    Example:

    >>> ops.depthwise_conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2))).shape
    (1, 3, 3, 6)
    """
    from .math import expand_dims, squeeze
    fn = "depthwise_conv"
    standardize_data_format(data_format, fn)
    xs, ws = _shape(inputs), _shape(kernel)
    rank = _rank(fn, xs, ws)
    if rank == 3:
        raise ValueError(f"{fn}: 1-D and 2-D inputs only (as Keras), got shape {xs}")
    if xs[-1] != ws[-2]:
        raise ValueError(f"{fn}: the input has {xs[-1]} channels but the kernel (k..., C, M) "
                         f"expects {ws[-2]} (input shape {xs}, kernel shape {ws})")
    padding = standardize_padding(padding, where=fn)
    s = standardize_tuple(strides, rank, "strides", fn)
    d = standardize_tuple(dilation_rate, rank, "dilation_rate", fn)
    if rank == 1:
        y = depthwise_conv(expand_dims(inputs, 1), expand_dims(kernel, 0), (1,) + s, padding,
                           None, (1,) + d)
        return squeeze(y, 1)
    return _depthwise2d(inputs, kernel, s, d, padding)


def _depthwise2d(inputs, kernel, s, d, padding: str):
    """The 2-D depthwise convolution as one recorded op: a sum over the kernel's taps of the
    (strided, dilated) shifted input times that tap's (C, M) weights; the backward pass adds each
    tap's share into the input gradient and reduces it into the tap's weight gradient. Memory
    stays O(output): no (kh*kw)-fold patch matrix."""
    fn = "depthwise_conv"
    w = float_data(kernel, fn, "kernel")
    x = float_data(inputs, fn, "inputs", like=w)
    xp = backend.of(w).xp
    n, hh, ww, c = x.shape
    kh, kw, _, m = w.shape
    oh, pt = conv_output_length(hh, kh, s[0], d[0], padding, fn, "height")
    ow, pl = conv_output_length(ww, kw, s[1], d[1], padding, fn, "width")
    pb = max((oh - 1) * s[0] + (kh - 1) * d[0] + 1 - hh - pt, 0)
    pr = max((ow - 1) * s[1] + (kw - 1) * d[1] + 1 - ww - pl, 0)
    padded = (pt, pb, pl, pr) != (0, 0, 0, 0)
    xpad = xp.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0))) if padded else x

    def tap(i: int, j: int):
        return (slice(None), slice(i * d[0], i * d[0] + (oh - 1) * s[0] + 1, s[0]),
                slice(j * d[1], j * d[1] + (ow - 1) * s[1] + 1, s[1]))

    y = xp.zeros((n, oh, ow, c, m), np.float32)
    for i in range(kh):
        for j in range(kw):
            y += xpad[tap(i, j)][..., None] * w[i, j]
    y = y.reshape(n, oh, ow, c * m)

    def backward(g, needs):
        g5 = xp.asarray(g, dtype=np.float32).reshape(n, oh, ow, c, m)
        gx = gw = None
        if needs[0]:
            gpad = xp.zeros(xpad.shape, np.float32)
            for i in range(kh):
                for j in range(kw):
                    gpad[tap(i, j)] += (g5 * w[i, j]).sum(axis=-1)
            gx = gpad[:, pt:pt + hh, pl:pl + ww] if padded else gpad
        if needs[1]:
            gw = xp.empty(w.shape, np.float32)
            for i in range(kh):
                for j in range(kw):
                    gw[i, j] = (xpad[tap(i, j)][..., None] * g5).sum(axis=(0, 1, 2))
        return gx, gw

    return record(y, (inputs, kernel), backward)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1,
                   padding: str = "valid", data_format=None, dilation_rate=1):
    """Separable convolution (``keras.ops.separable_conv``): ``depthwise_conv`` then a
    pointwise (size-1) convolution. 1-D and 2-D.

    Args:
        inputs: ``(batch, spatial..., C)`` input.
        depthwise_kernel: ``(k..., C, M)`` filters.
        pointwise_kernel: ``(1..., C*M, out)`` filters.
        strides, dilation_rate: of the depthwise step, int or one int per spatial dimension.
        padding: ``"valid"`` or ``"same"``.
        data_format: None or ``"channels_last"``.

    Returns:
        The ``(batch, out_spatial..., out)`` Tensor.

    Example:

    >>> ops.separable_conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2)),
    ...                    np.ones((1, 1, 6, 4))).shape
    (1, 3, 3, 4)
    """
    from .nn import conv
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    ps = _shape(pointwise_kernel)
    if len(ps) != len(_shape(inputs)) or any(k != 1 for k in ps[:-2]):
        raise ValueError(f"separable_conv: the pointwise kernel must be (1..., C*M, out) with "
                         f"one spatial 1 per input dimension, got {ps}")
    return conv(y, pointwise_kernel, 1, "valid")


# ---- adaptive pooling ----------------------------------------------------------------------------

def _adaptive_windows(size: int, out: int):
    """PyTorch's (and Keras's) bins: [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _move_last(y, axis: int, rank: int):
    from .math import transpose
    perm = [a for a in range(rank + 2) if a != axis] + [axis]
    inv = [int(a) for a in np.argsort(perm)]
    return transpose(y, perm), inv


def _adaptive_pool(kind: str, inputs, output_size, data_format=None):
    from .math import getitem, max as max_, transpose, where
    from .nn import matmul
    fn = f"adaptive_{kind}_pool"
    standardize_data_format(data_format, fn)
    xs = _shape(inputs)
    rank = _rank(fn, xs)
    out = standardize_tuple(output_size, rank, "output_size", fn)
    x = float_data(inputs, fn, "inputs")
    be = backend.of(x)
    y = inputs
    for i in range(rank):
        axis = 1 + i
        size, o = xs[axis], out[i]
        starts, ends = _adaptive_windows(size, o)
        if kind == "average":
            m = np.zeros((size, o), np.float32)
            for j in range(o):
                m[starts[j]:ends[j], j] = 1.0 / (ends[j] - starts[j])
            moved, inv = _move_last(y, axis, rank)
            y = transpose(matmul(moved, be.asarray(m)), inv)
        else:
            width = int((ends - starts).max())
            idx = np.minimum(starts[:, None] + np.arange(width)[None, :], size - 1)
            valid = (starts[:, None] + np.arange(width)[None, :]) < ends[:, None]
            # (..., out, width, ...): the window axis right after the pooled one
            g = getitem(y, (slice(None),) * axis + (be.asarray(idx, dtype=np.int64),))
            shape = [1] * (rank + 3)
            shape[axis], shape[axis + 1] = o, width
            mask = be.asarray(valid.reshape(shape), dtype=bool)
            g = where(mask, g, be.asarray(np.float32(-np.inf)))
            y = max_(g, axis=axis + 1)
    return y


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Adaptive average pooling (``keras.ops.adaptive_average_pool``): the mean over the bins
    ``[floor(i*L/out), ceil((i+1)*L/out))`` of each spatial axis, for 1-D, 2-D and 3-D inputs.

    Args:
        inputs: ``(batch, spatial..., channels)`` input.
        output_size: int or one int per spatial dimension.
        data_format: None or ``"channels_last"``.

    Returns:
        The ``(batch, output_size..., channels)`` Tensor.

    Example:

    >>> ops.adaptive_average_pool(np.arange(5.0).reshape(1, 5, 1), 2).numpy()[0, :, 0]
    array([1. , 3. ], dtype=float32)
    """
    return _adaptive_pool("average", inputs, output_size, data_format)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Adaptive max pooling (``keras.ops.adaptive_max_pool``): the max over the bins
    ``[floor(i*L/out), ceil((i+1)*L/out))`` of each spatial axis, for 1-D, 2-D and 3-D inputs.

    Args:
        inputs: ``(batch, spatial..., channels)`` input.
        output_size: int or one int per spatial dimension.
        data_format: None or ``"channels_last"``.

    Returns:
        The ``(batch, output_size..., channels)`` Tensor.

    Example:

    >>> ops.adaptive_max_pool(np.arange(5.0).reshape(1, 5, 1), 2).numpy()[0, :, 0]
    array([2., 4.], dtype=float32)
    """
    return _adaptive_pool("max", inputs, output_size, data_format)
