"""Neural-network ops backed by our kernels: matmul, dense, activations, softmax, convolution,
pooling, cross-entropy losses and dropout. Each op computes its forward with one backend call and
records a backward made of backend calls."""
from __future__ import annotations

from typing import Callable, Optional, Tuple

import numpy as np

from nnforge import backend
from nnforge.core.tape import gradient_buffer, is_recording, record
from nnforge.core.tensor import Tensor

from nnforge.utils.argument_validation import (conv_output_length, standardize_data_format,
                                               standardize_padding, standardize_tuple)

from ._util import data_of, erf_host, float_data, same_backend

# The activations our GEMM/convolution kernels apply in their output pass, by kernel code.
_FUSED_CODES = {"linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3}
# Modules whose functions of these names are exactly the fused activations (with their defaults).
_ACTIVATION_MODULES = ("nnforge.activations", "nnforge.ops.nn")


def fused_activation(activation) -> Tuple[Optional[str], Optional[Callable]]:
    """How ``dense``/``conv`` apply ``activation``: (name fused into the kernel, or None;
    callable applied after the kernel, or None).

    Args:
        activation: None, a name (``"relu"``), or a callable (``nnforge.activations.relu``,
            ``nnforge.ops.relu`` or any function of one tensor).

    Returns:
        ``("relu", None)`` for an activation the kernels fuse (linear, relu, sigmoid, tanh;
        ``"softmax"`` too, which ``dense`` computes right after its kernel),
        ``(None, fn)`` for any other callable.

    Example:

    >>> fused_activation("relu")
    ('relu', None)
    >>> fused_activation(nnforge.activations.gelu)[0] is None
    True
    """
    if activation is None:
        return "linear", None
    if isinstance(activation, str):
        name = activation.lower()
        if name in _FUSED_CODES or name == "softmax":
            return name, None
        raise ValueError(f"fused activation must be one of {sorted(_FUSED_CODES)} or 'softmax', "
                         f"got {activation!r}; pass a callable for any other activation")
    if not callable(activation):
        raise TypeError(f"activation must be None, a name or a callable, got {activation!r}")
    name = getattr(activation, "__name__", None)
    if getattr(activation, "__module__", None) in _ACTIVATION_MODULES and (
            name in _FUSED_CODES or name == "softmax"):
        return name, None
    return None, activation


def _be(a):
    return backend.of(a)


# Geometry of convolutions and poolings (standardized strides, pads, output size), by the
# shapes and the arguments as given: it depends on nothing else, so a training step validates
# and computes it once per layer. Only valid arguments are stored (errors are raised anew).
_GEOMETRY: dict = {}
_GEOMETRY_MAX = 1024
_F32 = np.dtype(np.float32)


def _remember(key, geometry) -> None:
    if len(_GEOMETRY) >= _GEOMETRY_MAX:
        _GEOMETRY.clear()
    try:
        _GEOMETRY[key] = geometry
    except TypeError:  # an unhashable argument (a list)
        pass


def _host_f32(t):
    """The array behind ``t`` when it is already a float32 C-contiguous NumPy array (what
    ``float_data`` would return unchanged), else None."""
    a = t.data if isinstance(t, Tensor) else t
    if type(a) is np.ndarray and a.dtype is _F32 and a.flags.c_contiguous:
        return a
    return None


# ---- matmul and dense ----------------------------------------------------------------------------

def matmul(x1, x2) -> Tensor:
    """Matrix product (``keras.ops.matmul``); 2-D float32 products run on our sgemm.

    Args:
        x1: left operand (at least 1-D).
        x2: right operand (at least 1-D).

    Returns:
        The matrix product as a Tensor.

    Example:

    >>> ops.matmul(np.ones((2, 3)), np.ones((3, 4))).shape
    (2, 4)
    """
    a = data_of(x1, "matmul", "x1")
    b = data_of(x2, "matmul", "x2")
    a, b = same_backend(a, b)
    if a.ndim == 2 and b.ndim == 2:
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"matmul: inner dimensions differ: x1 has shape {tuple(a.shape)}, "
                             f"x2 has shape {tuple(b.shape)}")
        be = _be(a)
        a = be.asarray(a)
        b = be.asarray(b)
        y = be.matmul(a, b)

        def backward(g, needs):
            g = be.asarray(g)
            return (be.matmul(g, b, trans_b=True) if needs[0] else None,
                    be.matmul(a, g, trans_a=True) if needs[1] else None)

        return record(y, (x1, x2), backward)
    xp = _be(a).xp
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: arguments must be at least 1-D")
    y = xp.matmul(a, b)

    def backward_nd(g, needs):
        from ._util import unbroadcast
        ga = gb = None
        if needs[0]:
            if b.ndim == 1:
                ga = g[..., None] * b
            else:
                gg = g[..., None, :] if a.ndim == 1 else g
                ga = xp.matmul(gg, xp.swapaxes(b, -1, -2))
                ga = ga[..., 0, :] if a.ndim == 1 else ga
            ga = unbroadcast(ga, a.shape)
        if needs[1]:
            if a.ndim == 1:
                gb = a[:, None] * (g[..., None, :] if b.ndim > 1 else g)
            else:
                gg = g[..., None] if b.ndim == 1 else g
                gb = xp.matmul(xp.swapaxes(a, -1, -2), gg)
                gb = gb[..., 0] if b.ndim == 1 else gb
            gb = unbroadcast(gb, b.shape)
        return ga, gb

    return record(y, (x1, x2), backward_nd)


def dense(x, kernel, bias=None, activation=None) -> Tensor:
    """``activation(x @ kernel + bias)`` over the last axis of ``x`` (what ``Dense`` computes).

    The bias and a linear/relu/sigmoid/tanh activation are fused into the GEMM's output pass;
    softmax runs right after it and keeps the logits on the result (``_keras_logits``) so that
    a cross-entropy loss on it can use the stable fused-logits path, as Keras does; any other
    activation is applied to the GEMM's output (``fused_activation`` decides which).

    Args:
        x: input of shape ``(..., in)``.
        kernel: ``(in, units)`` weights.
        bias: optional ``(units,)`` bias.
        activation: None, an activation name, or a callable (see ``fused_activation``).

    Returns:
        A tensor of shape ``(..., units)``, recorded for gradients.

    Example:

    >>> y = nnforge.ops.dense(np.ones((2, 3)), np.ones((3, 4)), activation="relu")
    >>> y.shape
    (2, 4)
    """
    fused, after = fused_activation(activation)
    if after is not None:
        return after(dense(x, kernel, bias))
    # The hot path: float32 C-contiguous NumPy operands are used as they are (what float_data
    # would return), without the conversions' checks.
    k = _host_f32(kernel)
    xd = _host_f32(x) if k is not None else None
    b = _host_f32(bias) if xd is not None and bias is not None else None
    if xd is None or (b is None and bias is not None) or xd.ndim == 0:
        k = float_data(kernel, "dense", "kernel")
        xd = data_of(x, "dense", "inputs")
        _dense_check(xd, k)
        xd = float_data(xd, "dense", "inputs", like=k)
        b = float_data(bias, "dense", "bias", like=k) if bias is not None else None
    else:
        _dense_check(xd, k)
    be = _be(k)
    lead = xd.shape[:-1]
    x2 = xd.reshape(-1, k.shape[0])
    softmax_out = fused == "softmax"
    code = 0 if softmax_out else _FUSED_CODES[fused]
    y2 = be.matmul(x2, k, bias=b, act=code)
    units = k.shape[1]

    def backward(g, needs):
        g2 = be.asarray(g).reshape(-1, units)
        dz = be.activation_grad(y2, g2, code) if code else g2
        gx = be.matmul(dz, k, trans_b=True).reshape(xd.shape) if needs[0] else None
        gk = gb = None
        if needs[1]:
            gk = be.matmul(x2, dz, trans_a=True,
                           out=gradient_buffer(kernel, k.shape, k.dtype, be))
        if b is not None and needs[2]:
            gb = be.bias_grad(dz, units, out=gradient_buffer(bias, b.shape, b.dtype, be))
        return gx, gk, gb

    inputs = (x, kernel, bias) if bias is not None else (x, kernel)
    bw = backward if bias is not None else (lambda g, needs: backward(g, needs + (False,))[:2])
    z = record(y2.reshape(lead + (units,)), inputs, bw)
    if softmax_out:
        out = softmax(z)
        out._keras_logits = z
        return out
    return z


def _dense_check(xd, k) -> None:
    if xd.shape[-1] != k.shape[0]:
        raise ValueError(f"dense: the last axis of the input has size {xd.shape[-1]} but the "
                         f"kernel expects {k.shape[0]} (input shape {tuple(xd.shape)}, kernel "
                         f"shape {tuple(k.shape)})")


# ---- activations ---------------------------------------------------------------------------------

def _kernel_activation(name: str, x) -> Tensor:
    code = _FUSED_CODES[name]
    a = float_data(x, name, "x")
    be = _be(a)
    y = be.activation(a, code)
    return record(y, (x,), lambda g, n: (be.activation_grad(y, be.asarray(g), code),))


def relu(x) -> Tensor:
    """Rectified linear unit ``max(x, 0)`` (``keras.ops.relu``), on our fused kernel.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.relu([-1.0, 2.0]).numpy()
    array([0., 2.], dtype=float32)
    """
    return _kernel_activation("relu", x)


def sigmoid(x) -> Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))`` (``keras.ops.sigmoid``), on our kernel.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.sigmoid([0.0]).numpy()
    array([0.5], dtype=float32)
    """
    return _kernel_activation("sigmoid", x)


def tanh(x) -> Tensor:
    """Hyperbolic tangent (``keras.ops.tanh``), on our kernel.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.tanh([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return _kernel_activation("tanh", x)


def linear(x) -> Tensor:
    """The identity activation (``keras.activations.linear``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        ``x`` as a Tensor.

    Example:

    >>> ops.linear([1.0, -1.0]).numpy()
    array([ 1., -1.])
    """
    return x if isinstance(x, Tensor) else Tensor(data_of(x, "linear"))


def softmax(x, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (``keras.ops.softmax``), on our kernel for the last axis.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: the axis to normalize (default -1).

    Returns:
        A float32 Tensor summing to 1 along ``axis``.

    Example:

    >>> ops.softmax([[0.0, 0.0]]).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """
    a = _host_f32(x)
    if a is None:
        a = float_data(x, "softmax", "x")
    be = _be(a)
    if a.ndim == 0:
        raise ValueError("softmax: input must be at least 1-D")
    ax = axis % a.ndim
    if ax != a.ndim - 1:
        a_t = be.xp.ascontiguousarray(be.xp.moveaxis(a, ax, -1))
        y_t = be.softmax(a_t)
        y = be.xp.moveaxis(y_t, -1, ax)
        return record(y, (x,), lambda g, n: (be.xp.moveaxis(
            be.softmax_grad(y_t, be.asarray(be.xp.moveaxis(g, ax, -1))), -1, ax),))
    y = be.softmax(a)
    return record(y, (x,), lambda g, n: (be.softmax_grad(y, be.asarray(g)),))


def log_softmax(x, axis: int = -1) -> Tensor:
    """Log of the softmax along ``axis``, computed stably (``keras.ops.log_softmax``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: the axis to normalize (default -1).

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.log_softmax([[0.0, 0.0]]).numpy()
    array([[-0.6931472, -0.6931472]], dtype=float32)
    """
    a = float_data(x, "log_softmax", "x")
    xp = _be(a).xp
    m = a.max(axis=axis, keepdims=True)
    lse = xp.log(xp.exp(a - m).sum(axis=axis, keepdims=True)) + m
    y = a - lse
    return record(y, (x,), lambda g, n: (g - xp.exp(y) * g.sum(axis=axis, keepdims=True),))


def _elementwise(name, x, fwd, grad):
    a = float_data(x, name, "x")
    xp = _be(a).xp
    y = fwd(a, xp)
    return record(y, (x,), lambda g, n: (grad(g, a, y, xp),))


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """``x`` for x >= 0, ``negative_slope * x`` below (``keras.ops.leaky_relu``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        negative_slope: slope for x < 0.

    Returns:
        A Tensor.

    Example:

    >>> ops.leaky_relu([-1.0, 2.0]).numpy()
    array([-0.2,  2. ], dtype=float32)
    """
    s = np.float32(negative_slope)
    return _elementwise("leaky_relu", x, lambda a, xp: xp.where(a > 0, a, a * s),
                        lambda g, a, y, xp: g * xp.where(a > 0, 1, s).astype(g.dtype))


def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)`` (``keras.ops.relu6``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.relu6([-1.0, 8.0]).numpy()
    array([0., 6.], dtype=float32)
    """
    return _elementwise("relu6", x, lambda a, xp: xp.clip(a, 0, 6),
                        lambda g, a, y, xp: g * ((a > 0) & (a < 6)))


def elu(x, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: ``x`` for x > 0, ``alpha * (exp(x) - 1)`` below
    (``keras.ops.elu``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        alpha: scale of the negative part.

    Returns:
        A Tensor.

    Example:

    >>> ops.elu([-1.0, 2.0]).numpy()
    array([-0.63212055,  2.        ], dtype=float32)
    """
    al = np.float32(alpha)
    return _elementwise("elu", x, lambda a, xp: xp.where(a > 0, a, al * xp.expm1(xp.minimum(a, 0))),
                        lambda g, a, y, xp: g * xp.where(a > 0, 1, y + al).astype(g.dtype))


_SELU_A = np.float32(1.6732632423543772)
_SELU_S = np.float32(1.0507009873554805)


def selu(x) -> Tensor:
    """Scaled ELU with Keras's constants (``keras.ops.selu``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.selu([0.0, 1.0]).numpy()
    array([0.      , 1.050701], dtype=float32)
    """
    return _elementwise(
        "selu", x,
        lambda a, xp: _SELU_S * xp.where(a > 0, a, _SELU_A * xp.expm1(xp.minimum(a, 0))),
        lambda g, a, y, xp: g * xp.where(a > 0, _SELU_S, y + _SELU_S * _SELU_A).astype(g.dtype))


def gelu(x, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit (``keras.ops.gelu``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        approximate: use the tanh approximation.

    Returns:
        A Tensor.

    Example:

    >>> ops.gelu([0.0, 1.0]).numpy()
    array([0.      , 0.841192], dtype=float32)
    """
    c = np.float32(np.sqrt(2 / np.pi))
    if approximate:
        def fwd(a, xp):
            return 0.5 * a * (1 + xp.tanh(c * (a + 0.044715 * a ** 3)))

        def grad(g, a, y, xp):
            t = xp.tanh(c * (a + 0.044715 * a ** 3))
            return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * c * (1 + 3 * 0.044715 * a * a))
    else:
        def verf(v):
            return erf_host(v).astype(np.float32)

        def fwd(a, xp):
            return (0.5 * a * (1 + verf(backend.to_numpy(a) / np.sqrt(2)))).astype(np.float32)

        def grad(g, a, y, xp):
            cdf = 0.5 * (1 + verf(backend.to_numpy(a) / np.sqrt(2)))
            pdf = np.exp(-0.5 * backend.to_numpy(a) ** 2) / np.sqrt(2 * np.pi)
            return g * (cdf + a * pdf).astype(np.float32)
    return _elementwise("gelu", x, fwd, grad)


def silu(x) -> Tensor:
    """``x * sigmoid(x)`` (``keras.ops.silu``, also ``swish``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.silu([0.0, 1.0]).numpy()
    array([0.       , 0.7310586], dtype=float32)
    """
    def fwd(a, xp):
        return a / (1 + xp.exp(-a))

    def grad(g, a, y, xp):
        s = 1 / (1 + xp.exp(-a))
        return g * (s + a * s * (1 - s))
    return _elementwise("silu", x, fwd, grad)


swish = silu


def softplus(x) -> Tensor:
    """``log(1 + exp(x))``, computed stably (``keras.ops.softplus``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.softplus([0.0]).numpy()
    array([0.6931472], dtype=float32)
    """
    return _elementwise("softplus", x,
                        lambda a, xp: xp.logaddexp(a, 0).astype(np.float32),
                        lambda g, a, y, xp: g / (1 + xp.exp(-a)))


def softsign(x) -> Tensor:
    """``x / (1 + |x|)`` (``keras.ops.softsign``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.softsign([1.0]).numpy()
    array([0.5], dtype=float32)
    """
    return _elementwise("softsign", x, lambda a, xp: a / (1 + xp.abs(a)),
                        lambda g, a, y, xp: g / (1 + xp.abs(a)) ** 2)


def hard_sigmoid(x) -> Tensor:
    """Piecewise-linear sigmoid ``clip(x / 6 + 0.5, 0, 1)`` (``keras.ops.hard_sigmoid``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.hard_sigmoid([0.0, 6.0]).numpy()
    array([0.5, 1. ], dtype=float32)
    """
    return _elementwise("hard_sigmoid", x, lambda a, xp: xp.clip(a / 6 + 0.5, 0, 1),
                        lambda g, a, y, xp: g * ((a > -3) & (a < 3)) / 6)


def exponential(x) -> Tensor:
    """Elementwise ``exp(x)`` as an activation (``keras.activations.exponential``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.exponential([0.0]).numpy()
    array([1.], dtype=float32)
    """
    return _elementwise("exponential", x, lambda a, xp: xp.exp(a), lambda g, a, y, xp: g * y)


# ---- convolution and pooling -------------------------------------------------------------------

def conv(inputs, kernel, strides=1, padding: str = "valid", data_format=None,
         dilation_rate=1, bias=None, activation=None) -> Tensor:
    """1-D, 2-D or 3-D convolution (``keras.ops.conv``): channels_last input, ``(kh, kw, in, out)``
    kernel (``(k, in, out)`` in 1-D), through im2col + sgemm, with the bias and a
    linear/relu/sigmoid/tanh activation fused into the GEMM's output pass (any other callable
    activation is applied after it). A 1-D convolution runs as a 2-D one of height 1.

    Args:
        inputs: ``(batch, height, width, in)`` input, or ``(batch, steps, in)``.
        kernel: ``(kh, kw, in, out)`` filters, or ``(k, in, out)``.
        strides: int or one int per spatial dimension.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's: the extra row/column at the end).
        data_format: None or ``"channels_last"``.
        dilation_rate: int or one int per spatial dimension.
        bias: optional ``(out,)`` bias (nnforge's fused extension of ``keras.ops.conv``).
        activation: None, a name or a callable (see ``fused_activation``).

    Returns:
        The ``(batch, out_height, out_width, out)`` result, recorded for gradients.

    Example:

    >>> y = nnforge.ops.conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 8)), padding="same")
    >>> y.shape
    (1, 5, 5, 8)
    """
    fused, after = fused_activation(activation)
    if after is not None:
        return after(conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias))
    if fused == "softmax":
        return softmax(conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias))
    w = _host_f32(kernel)
    if w is not None and w.ndim == 4:  # the hot path: geometry cached by shapes and arguments
        x = _host_f32(inputs)
        b = _host_f32(bias) if bias is not None else None
        if x is not None and (b is not None or bias is None):
            try:
                geo = _GEOMETRY.get(("conv", x.shape, w.shape, strides, type(strides), padding,
                                     dilation_rate, type(dilation_rate), data_format))
            except TypeError:  # an unhashable argument (a list): the plain path
                geo = None
            if geo is not None:
                return _conv2d(inputs, kernel, bias, x, w, b, _FUSED_CODES[fused], *geo)
    if np.ndim(kernel) == 5:  # 3-D: a sum of 2-D convolutions (ops/conv_nd.py)
        from .conv_nd import conv3d
        return conv3d(inputs, kernel, strides, padding, dilation_rate, bias, fused)
    if np.ndim(kernel) == 3:  # 1-D: (batch, steps, in) * (k, in, out) as height-1 images
        from .math import expand_dims, squeeze
        s1 = standardize_tuple(strides, 1, "strides", "conv")
        d1 = standardize_tuple(dilation_rate, 1, "dilation_rate", "conv")
        y = conv(expand_dims(inputs, 1), expand_dims(kernel, 0), (1,) + s1, padding,
                 data_format, (1,) + d1, bias, fused)
        return squeeze(y, 1)
    standardize_data_format(data_format, "conv")
    w = float_data(kernel, "conv", "kernel")
    x = float_data(inputs, "conv", "inputs", like=w)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv: expected a 4-D NHWC input and a 4-D kernel, got input shape "
                         f"{tuple(x.shape)} and kernel shape {tuple(w.shape)}")
    if x.shape[3] != w.shape[2]:
        raise ValueError(f"conv: the input has {x.shape[3]} channels but the kernel expects "
                         f"{w.shape[2]} (input shape {tuple(x.shape)}, kernel shape "
                         f"{tuple(w.shape)})")
    geo = _conv2d_geometry(x.shape, w.shape, strides, padding, dilation_rate)
    _remember(("conv", tuple(x.shape), tuple(w.shape), strides, type(strides), padding,
               dilation_rate, type(dilation_rate), data_format), geo)
    b = float_data(bias, "conv", "bias", like=w) if bias is not None else None
    return _conv2d(inputs, kernel, bias, x, w, b, _FUSED_CODES[fused], *geo)


def _conv2d_geometry(x_shape, w_shape, strides, padding, dilation_rate) -> tuple:
    """``conv``'s checked strides, dilation, (top, left) padding and output size for an NHWC
    input of ``x_shape`` and a kernel of ``w_shape``."""
    padding_ = standardize_padding(padding, where="conv")
    s = standardize_tuple(strides, 2, "strides", "conv")
    d = standardize_tuple(dilation_rate, 2, "dilation_rate", "conv")
    oh, pt = conv_output_length(x_shape[1], w_shape[0], s[0], d[0], padding_, "conv", "height")
    ow, pl = conv_output_length(x_shape[2], w_shape[1], s[1], d[1], padding_, "conv", "width")
    return s, d, (pt, pl), (oh, ow)


def _conv2d_grads(be, dz, needs, x, w, b, kernel, bias, s, d, pad, y=None, act: int = 0):
    """The gradients a 2-D convolution's tape node returns, from the gradient ``dz`` of its
    pre-activation output (or of its output, with ``act`` and the output ``y`` fused into the
    filter gradient): ``(gx, gw, gb)``, or ``(gx, gw)`` without a bias; None where not needed."""
    gx = be.conv2d_grad_input(dz, w, x.shape, s, d, pad) if needs[0] else None
    gw = gb = None
    if needs[1] or (len(needs) > 2 and needs[2]):
        gw, gb = be.conv2d_grad_filter(
            x, dz, w.shape, s, d, pad, b is not None,
            out=gradient_buffer(kernel, w.shape, w.dtype, be) if needs[1] else None,
            out_bias=(gradient_buffer(bias, b.shape, b.dtype, be)
                      if b is not None and needs[2] else None),
            y=y, act=act)
    return (gx, gw, gb) if b is not None else (gx, gw)


def _conv2d(inputs, kernel, bias, x, w, b, code, s, d, pad, out_hw) -> Tensor:
    """The 2-D convolution of ``conv`` on validated arrays (``x``, ``w``, ``b``: float32,
    C-contiguous, one backend) and its geometry, recorded against ``inputs``, ``kernel``,
    ``bias``."""
    be = _be(w)
    y = be.conv2d(x, w, b, s, d, pad, out_hw, code)

    def backward(g, needs):
        dz = be.asarray(g)
        # Only filter/bias gradients (a first layer): the activation's gradient is fused into
        # the filter-gradient kernel, and dz is never stored whole.
        fused = bool(code) and not needs[0]
        if code and not fused:
            dz = be.activation_grad(y, dz, code)
        return _conv2d_grads(be, dz, needs, x, w, b, kernel, bias, s, d, pad,
                             y=y if fused else None, act=code if fused else 0)

    return record(y, (inputs, kernel, bias) if b is not None else (inputs, kernel), backward)


def _pool_setup(fn, inputs, pool_size, strides, padding, data_format):
    standardize_data_format(data_format, fn)
    x = float_data(inputs, fn, "inputs")
    if x.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D NHWC input, got shape {tuple(x.shape)}")
    return (x,) + _pool_geometry(fn, x.shape[1:3], pool_size, strides, padding)


def _pool_geometry(fn, hw, pool_size, strides, padding) -> tuple:
    """A 2-D pooling's checked window, strides, (top, left) padding and output size over an
    input of spatial size ``hw``."""
    p = standardize_tuple(pool_size, 2, "pool_size", fn)
    s = standardize_tuple(strides if strides is not None else p, 2, "strides", fn)
    padding = standardize_padding(padding, where=fn)
    oh, pt = conv_output_length(hw[0], p[0], s[0], 1, padding, fn, "height")
    ow, pl = conv_output_length(hw[1], p[1], s[1], 1, padding, fn, "width")
    return p, s, (pt, pl), (oh, ow)


def max_pool(inputs, pool_size, strides=None, padding: str = "valid",
             data_format=None) -> Tensor:
    """Max pooling (``keras.ops.max_pool``) of 2-D NHWC input (1-D and 3-D inputs go through
    ops/conv_nd.py); 'same' padding never wins.

    Args:
        inputs: ``(batch, height, width, channels)`` input.
        pool_size: int or 2 ints: the window.
        strides: int, 2 ints, or None (default: pool_size).
        padding: ``"valid"`` or ``"same"``.
        data_format: None or ``"channels_last"`` (the only layout supported).

    Returns:
        The pooled Tensor.

    Example:

    >>> ops.max_pool(np.ones((1, 4, 4, 2)), 2).shape
    (1, 2, 2, 2)
    """
    x = _host_f32(inputs)
    geo = None
    if x is not None and x.ndim == 4:  # the hot path: geometry cached by shapes and arguments
        try:
            geo = _GEOMETRY.get(("max_pool", x.shape, pool_size, type(pool_size), strides,
                                 type(strides), padding, data_format))
        except TypeError:  # an unhashable argument (a list): the plain path
            pass
    if geo is not None:
        p, s, pad, out = geo
    else:
        if len(getattr(inputs, "shape", np.shape(inputs))) != 4:  # 1-D, 3-D: ops/conv_nd.py
            from .conv_nd import pool_nd
            return pool_nd("max", inputs, pool_size, strides, padding, data_format)
        x, p, s, pad, out = _pool_setup("max_pool", inputs, pool_size, strides, padding,
                                        data_format)
        _remember(("max_pool", tuple(x.shape), pool_size, type(pool_size), strides,
                   type(strides), padding, data_format), (p, s, pad, out))
    be = _be(x)
    y, arg = be.max_pool2d(x, p, s, pad, out, is_recording())
    xshape = x.shape
    return record(y, (inputs,),
                  lambda g, n: (be.max_pool2d_grad(be.asarray(g), arg, xshape, p, s, pad),))


def average_pool(inputs, pool_size, strides=None, padding: str = "valid",
                 data_format=None) -> Tensor:
    """Average pooling (``keras.ops.average_pool``) of 2-D NHWC input (1-D and 3-D inputs go
    through ops/conv_nd.py); 'same' averages real elements only.

    Args:
        inputs: ``(batch, height, width, channels)`` input.
        pool_size: int or 2 ints: the window.
        strides: int, 2 ints, or None (default: pool_size).
        padding: ``"valid"`` or ``"same"``.
        data_format: None or ``"channels_last"`` (the only layout supported).

    Returns:
        The pooled Tensor.

    Example:

    >>> ops.average_pool(np.ones((1, 4, 4, 2)), 2).shape
    (1, 2, 2, 2)
    """
    if len(getattr(inputs, "shape", np.shape(inputs))) != 4:  # 1-D, 3-D: ops/conv_nd.py
        from .conv_nd import pool_nd
        return pool_nd("average", inputs, pool_size, strides, padding, data_format)
    x, p, s, pad, out = _pool_setup("average_pool", inputs, pool_size, strides, padding,
                                    data_format)
    be = _be(x)
    y = be.avg_pool2d(x, p, s, pad, out)
    xshape = x.shape
    return record(y, (inputs,),
                  lambda g, n: (be.avg_pool2d_grad(be.asarray(g), xshape, p, s, pad),))


# ---- losses (per-sample values; reduced by nnforge.losses) ---------------------------------------

def _rows(a, fn, arg):
    if a.ndim == 0:
        raise ValueError(f"{fn}: '{arg}' must be at least 1-D, got a scalar")
    if a.ndim == 1:
        return a.reshape(-1, 1) if arg == "y_pred_binary" else a.reshape(1, -1)
    return a.reshape(-1, a.shape[-1])


def _per_sample(fn, kind, y_true, y_pred, from_logits):
    if (not from_logits and isinstance(y_pred, Tensor) and y_pred._keras_logits is not None
            and kind in ("cce", "scce", "bce_softmax")):
        y_pred = y_pred._keras_logits
        from_logits = True
    p = float_data(y_pred, fn, "y_pred")
    be = _be(p)
    lead = p.shape[:-1] if p.ndim > 1 else ()
    p2 = p.reshape(-1, p.shape[-1]) if p.ndim > 1 else p.reshape(1, -1)
    want = is_recording() and isinstance(y_pred, Tensor) and (y_pred.node is not None or
                                                             _watched(y_pred))
    if kind == "scce":
        t = data_of(y_true, fn, "y_true")
        t = same_backend(t, p)[0]
        if t.dtype.kind == "f":
            if not bool(be.xp.all(t == be.xp.floor(t))):
                raise ValueError(f"{fn}: sparse labels must be integers, got non-integral "
                                 f"values in y_true")
        n_rows = p2.shape[0]
        if t.size != n_rows:
            raise ValueError(f"{fn}: y_true has {t.size} labels but y_pred has {n_rows} rows "
                             f"(y_true shape {tuple(t.shape)}, y_pred shape {tuple(p.shape)})")
        labels = be.asarray(t.reshape(-1), dtype=np.int64)
        losses, grad = be.sparse_categorical_crossentropy(labels, p2, from_logits, want, 1.0)
    else:
        t = float_data(y_true, fn, "y_true", like=p)
        if t.shape != p.shape:
            if t.size == p.size:
                t = t.reshape(p.shape)
            else:
                raise ValueError(f"{fn}: y_true and y_pred must have the same shape, got "
                                 f"{tuple(t.shape)} and {tuple(p.shape)}")
        t2 = t.reshape(p2.shape)
        if kind == "cce":
            losses, grad = be.categorical_crossentropy(t2, p2, from_logits, want, 1.0)
        elif kind == "bce":
            losses, grad = be.binary_crossentropy(t2, p2, from_logits, want, 1.0)
        elif kind == "mse":
            losses, grad = be.mean_squared_error(t2, p2, want, 1.0)
        else:
            raise ValueError(kind)
    losses = losses.reshape(lead)
    pshape = p.shape

    def backward(g, needs):
        gg = be.asarray(g).reshape(-1, 1)
        return (None, (grad * gg).reshape(pshape))

    return record(losses, (y_true, y_pred), backward)


def _watched(t) -> bool:
    from nnforge.core.tape import _tracked
    return _tracked(t)


def categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """Per-sample categorical cross-entropy (``keras.ops.categorical_crossentropy``).

    Args:
        target: one-hot (or soft) labels.
        output: the predictions (probabilities, or logits with ``from_logits=True``).
        from_logits: whether ``output`` holds logits rather than probabilities.
        axis: the class axis (default -1).

    Returns:
        Per-sample losses, a Tensor of shape ``target.shape[:-1]``.

    Example:

    >>> ops.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]]).numpy()
    array([0.6931472], dtype=float32)
    """
    return _per_sample("categorical_crossentropy", "cce", target, output, from_logits)


def sparse_categorical_crossentropy(target, output, from_logits: bool = False,
                                    axis: int = -1) -> Tensor:
    """Per-sample sparse categorical cross-entropy; target holds integer class ids.

    Args:
        target: integer labels.
        output: the predictions (probabilities, or logits with ``from_logits=True``).
        from_logits: whether ``output`` holds logits rather than probabilities.
        axis: the class axis (default -1).

    Returns:
        Per-sample losses.

    Example:

    >>> ops.sparse_categorical_crossentropy([1], [[0.5, 0.5]]).numpy()
    array([0.6931472], dtype=float32)
    """
    return _per_sample("sparse_categorical_crossentropy", "scce", target, output, from_logits)


def binary_crossentropy_mean(target, output, from_logits: bool = False) -> Tensor:
    """Binary cross-entropy averaged over the last axis (what ``keras.losses`` reduces).

    Args:
        target: 0/1 (or soft) labels.
        output: the predictions (probabilities, or logits with ``from_logits=True``).
        from_logits: whether ``output`` holds logits rather than probabilities.

    Returns:
        The mean loss over all elements, a scalar Tensor.

    Example:

    >>> ops.binary_crossentropy_mean([[1.0]], [[0.5]]).numpy()
    array([0.6931472], dtype=float32)
    """
    return _per_sample("binary_crossentropy", "bce", target, output, from_logits)


def mean_squared_error(target, output) -> Tensor:
    """Squared error averaged over the last axis.

    Args:
        target: true values.
        output: the predictions (probabilities, or logits with ``from_logits=True``).

    Returns:
        The mean over all elements of the squared error, a scalar Tensor.

    Example:

    >>> ops.mean_squared_error([[1.0, 2.0]], [[1.0, 4.0]]).numpy()
    array([2.], dtype=float32)
    """
    return _per_sample("mean_squared_error", "mse", target, output, False)


# ---- dropout ------------------------------------------------------------------------------------

def dropout(x, rate: float, rng: np.random.Generator, noise_shape=None) -> Tensor:
    """Inverted dropout: zero each element with probability ``rate`` and scale the rest by 1 / (1 -
    rate). ``rng`` is a NumPy Generator (masks are drawn on the CPU).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        rate: fraction of elements set to zero, in [0, 1).
        rng: a NumPy Generator drawing the mask.
        noise_shape: shape of the mask, broadcast over ``x`` (None: x's shape).

    Returns:
        A Tensor: kept elements scaled by ``1 / (1 - rate)``.

    Example:

    >>> ops.dropout(np.ones((2, 2)), 0.0, np.random.default_rng(0)).numpy()
    array([[1., 1.],
           [1., 1.]], dtype=float32)
    """
    a = float_data(x, "dropout", "x")
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    shape = tuple(a.shape) if noise_shape is None else tuple(
        a.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    keep = (rng.random(shape, dtype=np.float32) >= rate).astype(np.float32)
    keep *= np.float32(1.0 / (1.0 - rate))
    be = _be(a)
    mask = be.asarray(keep)
    y = a * mask
    return record(y, (x,), lambda g, n: (g * mask,))


def embedding_lookup(table, ids) -> Tensor:
    """Rows of ``table`` for integer ``ids`` (any shape); the gradient scatters into the rows.

    Args:
        table: ``(vocabulary, dim)`` embeddings.
        ids: integer indices of any shape.

    Returns:
        A Tensor of shape ``ids.shape + (dim,)``; the gradient scatters into the table.

    Example:

    >>> ops.embedding_lookup(np.eye(3), [2, 0]).numpy()
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    t = float_data(table, "embedding_lookup", "table")
    i = data_of(ids, "embedding_lookup", "ids")
    xp = _be(t).xp
    i = same_backend(i, t)[0]
    if i.dtype.kind == "f":
        if not bool(xp.all(i == xp.floor(i))):
            raise ValueError("embedding_lookup: ids must be integers")
    i = i.astype(np.int64)
    if i.size and (int(i.min()) < 0 or int(i.max()) >= t.shape[0]):
        raise ValueError(f"embedding_lookup: ids must be in [0, {t.shape[0]}), got values in "
                         f"[{int(i.min())}, {int(i.max())}]")
    be = _be(t)
    if t.ndim == 2 and t.dtype == np.float32 and hasattr(be, "embedding_gather"):
        y = be.embedding_gather(t, i)  # one row-copy kernel
    else:
        y = t[i]

    def backward(g, needs):
        if hasattr(be, "embedding_grad"):  # one scatter-add kernel into the rows used
            out = gradient_buffer(table, t.shape, t.dtype, be)
            return (be.embedding_grad(i, be.asarray(g), t.shape[0], out=out), None)
        out = xp.zeros_like(t)
        xp.add.at(out, i.reshape(-1), g.reshape(-1, t.shape[1]))
        return (out, None)

    return record(y, (table, ids), backward)


def conv_transpose(inputs, kernel, strides=1, padding: str = "valid", output_padding=None,
                   data_format=None, dilation_rate=1) -> Tensor:
    """Transposed convolution (``keras.ops.conv_transpose``): the input gradient of a
    convolution (2-D here; 1-D, 3-D and output_padding go through ops/conv_nd.py). NHWC input
    (N, H, W, Cin), kernel (kh, kw, Cout, Cin) as Keras stores it.

    Args:
        inputs: ``(batch, height, width, in)`` input.
        kernel: ``(kh, kw, out, in)`` filters (Keras's layout).
        strides: int or 2 ints.
        padding: ``"valid"`` or ``"same"``.
        output_padding: None, or an int / one int per spatial dimension (each smaller than its
            stride).
        data_format: None or ``"channels_last"`` (the only layout supported).
        dilation_rate: int or 2 ints.

    Returns:
        The ``(batch, out_height, out_width, out)`` Tensor.

    Example:

    >>> ops.conv_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 2)), 2, 'same').shape
    (1, 6, 6, 4)
    """
    from .conv_nd import conv_transpose_nd, transpose_needs_general
    if transpose_needs_general(np.shape(kernel) if not hasattr(kernel, "shape")
                               else tuple(kernel.shape), strides, padding, output_padding,
                               dilation_rate):  # 1-D, 3-D, output_padding: ops/conv_nd.py
        return conv_transpose_nd(inputs, kernel, strides, padding, output_padding, data_format,
                                 dilation_rate)
    standardize_data_format(data_format, "conv_transpose")
    w = float_data(kernel, "conv_transpose", "kernel")
    x = float_data(inputs, "conv_transpose", "inputs", like=w)
    if x.ndim != 4 or w.ndim != 4 or x.shape[3] != w.shape[3]:
        raise ValueError(f"conv_transpose: expected a 4-D NHWC input and a (kh, kw, out, in) "
                         f"kernel with matching channels, got {tuple(x.shape)} and "
                         f"{tuple(w.shape)}")
    padding = standardize_padding(padding, where="conv_transpose")
    s = standardize_tuple(strides, 2, "strides", "conv_transpose")
    d = standardize_tuple(dilation_rate, 2, "dilation_rate", "conv_transpose")
    out_hw, pads = [], []
    for i in range(2):
        eff = (w.shape[i] - 1) * d[i] + 1
        if padding == "valid":
            size = (x.shape[1 + i] - 1) * s[i] + eff
        elif padding == "same":
            size = x.shape[1 + i] * s[i]
        else:
            raise ValueError(f"conv_transpose: padding must be 'valid' or 'same', got {padding!r}")
        o, pad = conv_output_length(size, w.shape[i], s[i], d[i], padding, "conv_transpose", "size")
        if o != x.shape[1 + i]:
            raise ValueError(f"conv_transpose: inconsistent geometry for input {tuple(x.shape)}")
        out_hw.append(size)
        pads.append(pad)
    be = _be(w)
    y_shape = (x.shape[0], out_hw[0], out_hw[1], w.shape[2])
    y = be.conv2d_grad_input(x, w, y_shape, s, d, tuple(pads))
    in_hw = (x.shape[1], x.shape[2])

    def backward(g, needs):
        g = be.asarray(g)
        gx = be.conv2d(g, w, None, s, d, tuple(pads), in_hw, 0) if needs[0] else None
        gw = be.conv2d_grad_filter(g, x, w.shape, s, d, tuple(pads), False)[0] \
            if needs[1] else None
        return gx, gw

    return record(y, (inputs, kernel), backward)


def extract_patches(inputs, size, strides=1, dilation_rate=1, padding: str = "valid") -> Tensor:
    """im2col as an op: (N, H, W, C) -> (N, OH, OW, kh*kw*C) patches, differentiable (col2im).

    Args:
        inputs: ``(batch, height, width, channels)`` input.
        size: int or 2 ints: the patch size.
        strides: int or 2 ints.
        dilation_rate: int or 2 ints.
        padding: ``"valid"`` or ``"same"``.

    Returns:
        A Tensor ``(batch, out_h, out_w, size_h * size_w * channels)``.

    Example:

    >>> ops.extract_patches(np.ones((1, 4, 4, 2)), 2, 2).shape
    (1, 2, 2, 8)
    """
    x = float_data(inputs, "extract_patches", "inputs")
    if x.ndim != 4:
        raise ValueError(f"extract_patches: expected a 4-D NHWC input, got {tuple(x.shape)}")
    k = standardize_tuple(size, 2, "size", "extract_patches")
    s = standardize_tuple(strides, 2, "strides", "extract_patches")
    d = standardize_tuple(dilation_rate, 2, "dilation_rate", "extract_patches")
    padding = standardize_padding(padding, where="extract_patches")
    oh, pt = conv_output_length(x.shape[1], k[0], s[0], d[0], padding, "extract_patches", "height")
    ow, pl = conv_output_length(x.shape[2], k[1], s[1], d[1], padding, "extract_patches", "width")
    be = _be(x)
    cols = be.im2col(x, k, s, d, (pt, pl), (oh, ow))
    xshape = x.shape
    y = cols.reshape(x.shape[0], oh, ow, -1)

    def backward(g, needs):
        g2 = be.asarray(g).reshape(-1, cols.shape[1])
        return (be.col2im(g2, xshape, k, s, d, (pt, pl), (oh, ow)),)

    return record(y, (inputs,), backward)
