"""One ONNX converter per nnforge layer class.

A converter ``fn(g, layer, node)`` reads the node's input tensors from the ``OnnxGraph`` ``g``
(``g.value(tensor, layout)``), adds ONNX nodes, and registers the node's output tensors
(``g.set_value``). Weights are written in ONNX's layouts: Conv kernels (out, in, *k), recurrent
weights per ONNX gate order (LSTM i, o, f, c; GRU z, r, h).
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional

import numpy as np

from nnforge import activations, layers
from nnforge.layers.global_pooling import _GlobalPooling1D, _GlobalPooling2D
from nnforge.layers.pooling import _Pooling1D, _Pooling2D

from .onnx_graph import CHANNELS_FIRST, KERAS, OnnxGraph

Converter = Callable[[OnnxGraph, object, object], None]
CONVERTERS: Dict[type, Converter] = {}


class UnsupportedLayerError(ValueError):
    """A layer (or a setting of a layer) that the ONNX exporter cannot write."""


def converter(*classes):
    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return register


def find_converter(layer) -> Optional[Converter]:
    for cls in type(layer).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    return None


def _np(weight) -> np.ndarray:
    return np.asarray(weight.numpy(), dtype=np.float32)


def _unsupported(layer, why: str):
    raise UnsupportedLayerError(f"ONNX export: layer '{layer.name}' ({type(layer).__name__}): "
                                f"{why}")


# -- activations -------------------------------------------------------------------------------

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def activation_name(layer, fn) -> str:
    name = activations.name_of(fn)
    if name is None:
        _unsupported(layer, f"custom activation {getattr(fn, '__name__', fn)!r} cannot be "
                            "exported; use a built-in activation name")
    return name


def apply_activation(g: OnnxGraph, x: str, name: str, base: str, rank: int,
                     layout: str = KERAS) -> str:
    """``name``'s activation on ``x`` (element-wise ones in any layout; softmax on the Keras
    last axis, which is axis 1 when ``layout`` is channels-first)."""
    if name == "linear":
        return x
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus",
              "softsign": "Softsign", "exponential": "Exp"}
    if name in simple:
        return g.node(simple[name], [x], base)
    if name in ("softmax", "log_softmax"):
        axis = 1 if layout == CHANNELS_FIRST and rank >= 3 else -1
        return g.node("Softmax" if name == "softmax" else "LogSoftmax", [x], base, axis=axis)
    if name == "elu":
        return g.node("Elu", [x], base, alpha=1.0)
    if name == "selu":
        return g.node("Selu", [x], base, alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
    if name == "leaky_relu":
        return g.node("LeakyRelu", [x], base, alpha=0.2)
    if name == "relu6":
        return g.node("Clip", [x, g.scalar(0.0), g.scalar(6.0)], base)
    if name == "hard_sigmoid":
        return g.node("HardSigmoid", [x], base, alpha=1.0 / 6.0, beta=0.5)
    if name in ("silu", "swish"):
        return g.node("Mul", [x, g.node("Sigmoid", [x], base)], base)
    if name == "gelu":  # Keras's default: exact, 0.5 x (1 + erf(x / sqrt(2)))
        erf = g.node("Erf", [g.node("Mul", [x, g.scalar(1 / math.sqrt(2))], base)], base)
        half_x = g.node("Mul", [x, g.scalar(0.5)], base)
        return g.node("Mul", [half_x, g.node("Add", [erf, g.scalar(1.0)], base)], base)
    raise UnsupportedLayerError(f"ONNX export: activation {name!r} is not supported")


def _finish(g, layer, node, y: str, layout: str) -> None:
    """Apply the layer's ``activation`` (if any) and register the node's output."""
    fn = getattr(layer, "activation", None)
    out = node.output_tensors[0]
    if fn is not None:
        y = apply_activation(g, y, activation_name(layer, fn), layer.name, len(out.shape),
                             layout)
    g.set_value(out, y, layout)


# -- core --------------------------------------------------------------------------------------

@converter(layers.Dense)
def _dense(g, layer, node):
    x = g.value(node.input_tensors[0])
    y = g.node("MatMul", [x, g.const(_np(layer.kernel), f"{layer.name}_kernel")], layer.name)
    if layer.use_bias:
        y = g.node("Add", [y, g.const(_np(layer.bias), f"{layer.name}_bias")], layer.name)
    _finish(g, layer, node, y, KERAS)


@converter(layers.Activation)
def _activation(g, layer, node):
    t = node.input_tensors[0]
    layout = g.preferred_layout([t])
    _finish(g, layer, node, g.value(t, layout), layout)


def _identity(g, layer, node):
    for src, dst in zip(node.input_tensors, node.output_tensors):
        g.alias(dst, src)


IDENTITY_CLASS_NAMES = {
    # Inference-time identities (Keras returns the input unchanged when training is False).
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "Masking",
}


@converter(layers.Flatten)
def _flatten(g, layer, node):
    x = g.value(node.input_tensors[0], KERAS)  # Keras flattens in NHWC order
    g.set_value(node.output_tensors[0], g.node("Flatten", [x], layer.name, axis=1))


@converter(layers.Reshape)
def _reshape(g, layer, node):
    x = g.value(node.input_tensors[0], KERAS)
    shape = g.int64s([0] + [int(d) for d in layer.target_shape], f"{layer.name}_shape")
    g.set_value(node.output_tensors[0], g.node("Reshape", [x, shape], layer.name))


@converter(layers.Permute)
def _permute(g, layer, node):
    x = g.value(node.input_tensors[0], KERAS)
    g.set_value(node.output_tensors[0],
                g.transpose(x, [0] + [int(d) for d in layer.dims], layer.name))


@converter(layers.RepeatVector)
def _repeat_vector(g, layer, node):
    x = g.unsqueeze(g.value(node.input_tensors[0]), [1], layer.name)
    y = g.node("Tile", [x, g.int64s([1, layer.n, 1], f"{layer.name}_reps")], layer.name)
    g.set_value(node.output_tensors[0], y)


@converter(layers.Rescaling)
def _rescaling(g, layer, node):
    x = g.value(node.input_tensors[0])
    if node.input_tensors[0].dtype != "float32":
        x = g.node("Cast", [x], layer.name, to=1)
    y = g.node("Mul", [x, g.const(np.asarray(layer.scale, np.float32), "scale")], layer.name)
    y = g.node("Add", [y, g.const(np.asarray(layer.offset, np.float32), "offset")], layer.name)
    g.set_value(node.output_tensors[0], y)


# -- convolution and pooling (channels-first inside) -------------------------------------------

def _conv_padding(layer, kernel: List[int], dilation: List[int]) -> dict:
    if layer.padding == "same":
        return {"auto_pad": "SAME_UPPER"}
    if layer.padding == "causal":
        return {"pads": [dilation[0] * (kernel[0] - 1), 0]}
    return {"pads": [0] * (2 * len(kernel))}


@converter(layers.Conv2D, layers.Conv1D)
def _conv(g, layer, node):
    if getattr(layer, "groups", 1) != 1:
        _unsupported(layer, "groups != 1")
    x = g.value(node.input_tensors[0], CHANNELS_FIRST)
    kernel = _np(layer.kernel)  # (*k, in, out)
    rank = kernel.ndim - 2
    w = np.transpose(kernel, (rank + 1, rank) + tuple(range(rank)))  # (out, in, *k)

    def tup(v):
        return [int(a) for a in (v if isinstance(v, (tuple, list)) else (v,))]
    ks, strides, dil = list(w.shape[2:]), tup(layer.strides), tup(layer.dilation_rate)
    inputs = [x, g.const(w, f"{layer.name}_kernel")]
    if layer.use_bias:
        inputs.append(g.const(_np(layer.bias), f"{layer.name}_bias"))
    y = g.node("Conv", inputs, layer.name, kernel_shape=ks, strides=strides, dilations=dil,
               **_conv_padding(layer, ks, dil))
    _finish(g, layer, node, y, CHANNELS_FIRST)


def _depthwise_node(g, layer, x: str, kernel: np.ndarray, bias: Optional[np.ndarray]) -> str:
    """Keras's depthwise kernel (kh, kw, C, mult) as a grouped ONNX Conv: output channel
    c * mult + m reads input channel c with kernel[:, :, c, m]."""
    kh, kw, c, mult = kernel.shape
    w = np.transpose(kernel, (2, 3, 0, 1)).reshape(c * mult, 1, kh, kw)
    ks, strides, dil = [kh, kw], [int(s) for s in layer.strides], \
        [int(d) for d in layer.dilation_rate]
    inputs = [x, g.const(w, f"{layer.name}_depthwise_kernel")]
    if bias is not None:
        inputs.append(g.const(bias, f"{layer.name}_bias"))
    return g.node("Conv", inputs, layer.name, kernel_shape=ks, strides=strides, dilations=dil,
                  group=int(c), **_conv_padding(layer, ks, dil))


@converter(layers.DepthwiseConv2D)
def _depthwise_conv(g, layer, node):
    x = g.value(node.input_tensors[0], CHANNELS_FIRST)
    y = _depthwise_node(g, layer, x, _np(layer.kernel),
                        _np(layer.bias) if layer.use_bias else None)
    _finish(g, layer, node, y, CHANNELS_FIRST)


@converter(layers.SeparableConv2D)
def _separable_conv(g, layer, node):
    x = g.value(node.input_tensors[0], CHANNELS_FIRST)
    y = _depthwise_node(g, layer, x, _np(layer.depthwise_kernel), None)
    pw = np.transpose(_np(layer.pointwise_kernel), (3, 2, 0, 1))  # (filters, C*mult, 1, 1)
    inputs = [y, g.const(pw, f"{layer.name}_pointwise_kernel")]
    if layer.use_bias:
        inputs.append(g.const(_np(layer.bias), f"{layer.name}_bias"))
    y = g.node("Conv", inputs, layer.name, kernel_shape=[1, 1])
    _finish(g, layer, node, y, CHANNELS_FIRST)


@converter(_Pooling2D, _Pooling1D)
def _pool(g, layer, node):
    x = g.value(node.input_tensors[0], CHANNELS_FIRST)
    pool = [int(p) for p in (layer.pool_size if isinstance(layer.pool_size, (tuple, list))
                             else (layer.pool_size,))]
    strides = [int(s) for s in (layer.strides if isinstance(layer.strides, (tuple, list))
                                else (layer.strides,))]
    op = "MaxPool" if isinstance(layer, (layers.MaxPooling2D, layers.MaxPooling1D)) \
        else "AveragePool"
    pad = {"auto_pad": "SAME_UPPER"} if str(layer.padding).lower() == "same" else \
        {"pads": [0] * (2 * len(pool))}
    y = g.node(op, [x], layer.name, kernel_shape=pool, strides=strides, **pad)
    g.set_value(node.output_tensors[0], y, CHANNELS_FIRST)


@converter(_GlobalPooling2D, _GlobalPooling1D)
def _global_pool(g, layer, node):
    t = node.input_tensors[0]
    rank = len(t.shape)
    op = "ReduceMax" if "Max" in type(layer).__name__ else "ReduceMean"
    if not layer.keepdims and g.has(t, CHANNELS_FIRST):
        # (N, C, *spatial) -> (N, C): the same tensor as the Keras layout's result.
        y = g.reduce(op, g.value(t, CHANNELS_FIRST), list(range(2, rank)), False, layer.name)
    else:
        y = g.reduce(op, g.value(t, KERAS), list(range(1, rank - 1)), layer.keepdims,
                     layer.name)
    g.set_value(node.output_tensors[0], y)


@converter(layers.ZeroPadding2D)
def _zero_padding(g, layer, node):
    (t, b), (l, r) = layer.padding
    x = g.value(node.input_tensors[0], CHANNELS_FIRST)
    pads = g.int64s([0, 0, t, l, 0, 0, b, r], f"{layer.name}_pads")
    g.set_value(node.output_tensors[0], g.node("Pad", [x, pads], layer.name), CHANNELS_FIRST)


@converter(layers.Cropping2D)
def _cropping(g, layer, node):
    (t, b), (l, r) = layer.cropping
    x = g.value(node.input_tensors[0], KERAS)
    _, h, w, _ = node.input_tensors[0].shape
    y = g.node("Slice", [x, g.int64s([t, l], "starts"), g.int64s([h - b, w - r], "ends"),
                         g.int64s([1, 2], "axes")], layer.name)
    g.set_value(node.output_tensors[0], y)


@converter(layers.UpSampling2D)
def _upsampling(g, layer, node):
    if layer.interpolation != "nearest":
        _unsupported(layer, f"interpolation {layer.interpolation!r} (only 'nearest')")
    x = g.value(node.input_tensors[0], CHANNELS_FIRST)
    scales = g.const(np.asarray([1, 1, *layer.size], np.float32), f"{layer.name}_scales")
    y = g.node("Resize", [x, "", scales], layer.name, mode="nearest",
               nearest_mode="floor", coordinate_transformation_mode="asymmetric")
    g.set_value(node.output_tensors[0], y, CHANNELS_FIRST)


# -- normalization -----------------------------------------------------------------------------

@converter(layers.BatchNormalization)
def _batch_norm(g, layer, node):
    t = node.input_tensors[0]
    rank = len(t.shape)
    ax = layer.axis % rank
    c = t.shape[ax]
    gamma = _np(layer.gamma) if layer.gamma is not None else np.ones(c, np.float32)
    beta = _np(layer.beta) if layer.beta is not None else np.zeros(c, np.float32)
    mean, var = _np(layer.moving_mean), _np(layer.moving_variance)
    if ax == 1 or (ax == rank - 1 and rank >= 3):
        layout = KERAS if ax == 1 else CHANNELS_FIRST
        x = g.value(t, layout)
        y = g.node("BatchNormalization", [
            x, g.const(gamma, f"{layer.name}_gamma"), g.const(beta, f"{layer.name}_beta"),
            g.const(mean, f"{layer.name}_mean"), g.const(var, f"{layer.name}_var")],
            layer.name, epsilon=float(layer.epsilon))
        g.set_value(node.output_tensors[0], y, layout)
        return
    # Another axis: (x - mean) / sqrt(var + eps) * gamma + beta with broadcast constants.
    bshape = [1] * rank
    bshape[ax] = -1
    x = g.value(t, KERAS)
    y = g.node("Sub", [x, g.const(mean.reshape(bshape), f"{layer.name}_mean")], layer.name)
    y = g.node("Div", [y, g.const(np.sqrt(var + np.float32(layer.epsilon)).reshape(bshape),
                                  f"{layer.name}_std")], layer.name)
    y = g.node("Mul", [y, g.const(gamma.reshape(bshape), f"{layer.name}_gamma")], layer.name)
    y = g.node("Add", [y, g.const(beta.reshape(bshape), f"{layer.name}_beta")], layer.name)
    g.set_value(node.output_tensors[0], y)


# -- activation layers -------------------------------------------------------------------------

def _elementwise(convert):
    """A converter for an element-wise layer, which runs in whichever layout its input
    already has: ``convert(g, layer, x)`` adds the layer's nodes on ``x`` and returns the
    output's name."""
    def convert_layer(g, layer, node):
        t = node.input_tensors[0]
        layout = g.preferred_layout([t])
        g.set_value(node.output_tensors[0], convert(g, layer, g.value(t, layout)), layout)
    return convert_layer


@converter(layers.ReLU)
@_elementwise
def _relu_layer(g, layer, x):
    if layer.threshold:
        thr = g.scalar(layer.threshold)
        neg = g.node("Mul", [g.node("Sub", [x, thr], layer.name),
                             g.scalar(layer.negative_slope)], layer.name)
        y = g.node("Where", [g.node("Greater", [x, thr], layer.name), x, neg], layer.name)
    elif layer.negative_slope:
        y = g.node("LeakyRelu", [x], layer.name, alpha=float(layer.negative_slope))
    else:
        y = g.node("Relu", [x], layer.name)
    if layer.max_value is not None:
        y = g.node("Min", [y, g.scalar(layer.max_value)], layer.name)
    return y


@converter(layers.LeakyReLU)
@_elementwise
def _leaky_relu_layer(g, layer, x):
    return g.node("LeakyRelu", [x], layer.name, alpha=float(layer.negative_slope))


@converter(layers.ELU)
@_elementwise
def _elu_layer(g, layer, x):
    return g.node("Elu", [x], layer.name, alpha=float(layer.alpha))


@converter(layers.Softmax)
def _softmax_layer(g, layer, node):
    axis = layer.axis
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            _unsupported(layer, f"softmax over several axes {axis}")
        axis = axis[0]
    y = g.node("Softmax", [g.value(node.input_tensors[0])], layer.name, axis=int(axis))
    g.set_value(node.output_tensors[0], y)


@converter(layers.PReLU)
def _prelu_layer(g, layer, node):
    x = g.value(node.input_tensors[0], KERAS)
    y = g.node("PRelu", [x, g.const(_np(layer.alpha), f"{layer.name}_alpha")], layer.name)
    g.set_value(node.output_tensors[0], y)


# -- merging -----------------------------------------------------------------------------------

_MERGE_OPS = {layers.Add: "Sum", layers.Average: "Mean", layers.Maximum: "Max",
              layers.Minimum: "Min"}


@converter(layers.Add, layers.Average, layers.Maximum, layers.Minimum, layers.Multiply,
           layers.Subtract)
def _merge(g, layer, node):
    ts = node.input_tensors
    layout = g.preferred_layout(ts)
    xs = [g.value(t, layout) for t in ts]
    if isinstance(layer, layers.Subtract):
        y = g.node("Sub", xs, layer.name)
    elif isinstance(layer, layers.Multiply):
        y = xs[0]
        for other in xs[1:]:
            y = g.node("Mul", [y, other], layer.name)
    else:
        y = g.node(next(op for cls, op in _MERGE_OPS.items() if isinstance(layer, cls)), xs,
                   layer.name)
    g.set_value(node.output_tensors[0], y, layout)


@converter(layers.Concatenate)
def _concatenate(g, layer, node):
    ts = node.input_tensors
    rank = len(ts[0].shape)
    ax = layer.axis % rank
    layout = g.preferred_layout(ts)
    if layout == CHANNELS_FIRST:
        ax = 1 if ax == rank - 1 else (0 if ax == 0 else ax + 1)
    y = g.node("Concat", [g.value(t, layout) for t in ts], layer.name, axis=ax)
    g.set_value(node.output_tensors[0], y, layout)


# -- text and sequences ------------------------------------------------------------------------

@converter(layers.Embedding)
def _embedding(g, layer, node):
    if layer.mask_zero:
        _unsupported(layer, "mask_zero=True: masks are not exported (the consumers of the mask "
                            "would compute over padded steps)")
    t = node.input_tensors[0]
    x = g.value(t)
    if not t.dtype.startswith("int"):
        x = g.node("Cast", [x], layer.name, to=7)  # int64
    y = g.node("Gather", [g.const(_np(layer.embeddings), f"{layer.name}_embeddings"), x],
               layer.name, axis=0)
    g.set_value(node.output_tensors[0], y)


_RNN_ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}


def _rnn_activation(layer, fn) -> str:
    name = activation_name(layer, fn)
    if name not in _RNN_ACTIVATIONS:
        _unsupported(layer, f"recurrent activation {name!r} (ONNX RNN ops take sigmoid, tanh, "
                            "relu)")
    return _RNN_ACTIVATIONS[name]


def _reorder_gates(w: np.ndarray, order: List[int], units: int) -> np.ndarray:
    """Reorder the gate blocks of the last axis (each ``units`` wide)."""
    return np.concatenate([w[..., i * units:(i + 1) * units] for i in order], axis=-1)


def rnn_outputs(g, layer, x: str):
    """ONNX LSTM/GRU/RNN node for ``layer`` on ``x`` (batch, steps, features); returns
    ``(output, states)`` as Keras returns them (``states``: [h] or [h, c], each (batch, u))."""
    cell = layer.cell
    u = int(cell.units)
    if layer.go_backwards:
        # Keras runs the reversed sequence and returns its outputs in that order.
        x = g.node("Slice", [x, g.int64s([-1], "starts"), g.int64s([-(2 ** 63)], "ends"),
                             g.int64s([1], "axes"), g.int64s([-1], "steps")], layer.name)
    x = g.transpose(x, [1, 0, 2], layer.name)  # ONNX: (steps, batch, features)
    kernel, recurrent = _np(cell.kernel), _np(cell.recurrent_kernel)
    bias = _np(cell.bias) if cell.bias is not None else None
    if isinstance(layer, layers.LSTM):
        op, order, n_states = "LSTM", [0, 3, 1, 2], 2  # Keras i, f, c, o -> ONNX i, o, f, c
        acts = [_rnn_activation(layer, cell.recurrent_activation),
                _rnn_activation(layer, cell.activation), _rnn_activation(layer, cell.activation)]
        wb = bias if bias is not None else np.zeros(4 * u, np.float32)
        rb = np.zeros_like(wb)
        extra = {}
    elif isinstance(layer, layers.GRU):
        op, order, n_states = "GRU", [0, 1, 2], 1  # z, r, h in both
        acts = [_rnn_activation(layer, cell.recurrent_activation),
                _rnn_activation(layer, cell.activation)]
        wb, rb = (bias[0], bias[1]) if bias is not None else (np.zeros(3 * u, np.float32),) * 2
        extra = {"linear_before_reset": 1}
    elif isinstance(layer, layers.SimpleRNN):
        op, order, n_states = "RNN", [0], 1
        acts = [_rnn_activation(layer, cell.activation)]
        wb = bias if bias is not None else np.zeros(u, np.float32)
        rb = np.zeros_like(wb)
        extra = {}
    else:
        _unsupported(layer, "only LSTM, GRU and SimpleRNN recurrent layers are exported")
    w = _reorder_gates(kernel, order, u).T[None]      # (1, gates*u, features)
    r = _reorder_gates(recurrent, order, u).T[None]   # (1, gates*u, u)
    b = np.concatenate([_reorder_gates(wb, order, u), _reorder_gates(rb, order, u)])[None]
    names = [g.unique(f"{layer.name}_{s}") for s in ("Y", "Y_h", "Y_c")[:1 + n_states]]
    g.node(op, [x, g.const(w, f"{layer.name}_W"), g.const(r, f"{layer.name}_R"),
                g.const(b, f"{layer.name}_B")], layer.name, output_names=names,
           hidden_size=u, activations=acts, **extra)
    states = [g.squeeze(name, [0], layer.name) for name in names[1:]]  # (batch, u) each
    if layer.return_sequences:
        y = g.squeeze(names[0], [1], layer.name)             # (steps, batch, u)
        return g.transpose(y, [1, 0, 2], layer.name), states  # (batch, steps, u)
    return states[0], states


@converter(layers.LSTM, layers.GRU, layers.SimpleRNN)
def _recurrent(g, layer, node):
    if len(node.input_tensors) > 1:
        _unsupported(layer, "initial_state is not exported")
    out, states = rnn_outputs(g, layer, g.value(node.input_tensors[0], KERAS))
    outs = node.output_tensors
    g.set_value(outs[0], out)
    if layer.return_state:
        for tensor, state in zip(outs[1:], states):
            g.set_value(tensor, state)


@converter(layers.Bidirectional)
def _bidirectional(g, layer, node):
    if len(node.input_tensors) > 1 or getattr(layer.forward_layer, "return_state", False):
        _unsupported(layer, "initial_state and return_state are not exported")
    x = g.value(node.input_tensors[0], KERAS)
    fwd, _ = rnn_outputs(g, layer.forward_layer, x)
    bwd, _ = rnn_outputs(g, layer.backward_layer, x)
    if layer.return_sequences:  # the backward outputs back in time order, as Keras
        bwd = g.node("Slice", [bwd, g.int64s([-1], "starts"), g.int64s([-(2 ** 63)], "ends"),
                               g.int64s([1], "axes"), g.int64s([-1], "steps")], layer.name)
    mode = layer.merge_mode
    if mode is None:
        g.set_value(node.output_tensors[0], fwd)
        g.set_value(node.output_tensors[1], bwd)
        return
    if mode == "concat":
        y = g.node("Concat", [fwd, bwd], layer.name, axis=-1)
    elif mode == "sum":
        y = g.node("Add", [fwd, bwd], layer.name)
    elif mode == "mul":
        y = g.node("Mul", [fwd, bwd], layer.name)
    else:  # "ave"
        y = g.node("Mul", [g.node("Add", [fwd, bwd], layer.name), g.scalar(0.5)], layer.name)
    g.set_value(node.output_tensors[0], y)


class _InnerCall:
    """A stand-in ``Node`` for a wrapped layer's call on per-step symbolic tensors."""

    def __init__(self, input_tensors, output_tensors):
        self.input_tensors, self.output_tensors = input_tensors, output_tensors


@converter(layers.TimeDistributed)
def _time_distributed(g, layer, node):
    from nnforge.core.tensor import KerasTensor
    inner = layer.layer
    t_in, t_out = node.input_tensors[0], node.output_tensors[0]
    if any(d is None for d in (*t_in.shape[2:], *t_out.shape[2:])):
        _unsupported(layer, "per-step shapes must be known")
    fn = find_converter(inner)
    if fn is None:
        _unsupported(layer, f"wrapped layer '{inner.name}' ({type(inner).__name__}) is not "
                            "supported")
    x = g.value(t_in, KERAS)
    # (N, T, *f) -> (N*T, *f); the inner layer; (N*T, *g) -> (N, T, *g).
    merged = g.node("Reshape", [x, g.int64s([-1, *t_in.shape[2:]], f"{layer.name}_shape")],
                    layer.name)
    step_in = KerasTensor((None, *t_in.shape[2:]), dtype=t_in.dtype)
    step_out = KerasTensor((None, *t_out.shape[2:]), dtype=t_out.dtype)
    g.set_value(step_in, merged)
    fn(g, inner, _InnerCall([step_in], [step_out]))
    n_t = g.node("Slice", [g.node("Shape", [x], layer.name), g.int64s([0], "starts"),
                           g.int64s([2], "ends")], layer.name)
    shape = g.node("Concat", [n_t, g.int64s(list(t_out.shape[2:]), f"{layer.name}_dims")],
                   layer.name, axis=0)
    y = g.node("Reshape", [g.value(step_out, KERAS), shape], layer.name)
    g.set_value(t_out, y)


def register_identity_layers(classes) -> None:
    """Register inference-time identity layers found among ``classes``."""
    for cls in classes:
        if cls.__name__ in IDENTITY_CLASS_NAMES and cls not in CONVERTERS:
            CONVERTERS[cls] = _identity


register_identity_layers(
    getattr(layers, n) for n in sorted(IDENTITY_CLASS_NAMES) if hasattr(layers, n))
