"""Layer fusion for Sequential models.

A ``Conv2D`` directly followed by a ``MaxPooling2D``, called on concrete arrays, runs as one op
(``ops.fused.conv_max_pool``). For inference it is one kernel: the convolution's output is
pooled while it is in the cache and never written to memory whole. In training (linear or relu
activation) it is one tape node whose backward skips the separate activation gradient and keeps
no convolution output. The outputs are bitwise what the two layers return one after the other,
and so are the gradients (a first layer's bias gradient is summed in another order); any pair
or call outside the cases below runs layer by layer, as before.
"""
from __future__ import annotations

from typing import Optional

from nnforge.core.tensor import KerasTensor
from nnforge.layers.conv2d import Conv2D
from nnforge.layers.layer import Layer, _input_mask
from nnforge.layers.pooling import MaxPooling2D
from nnforge.ops.fused import conv_max_pool


def _plain(layer: Layer, cls) -> bool:
    """``layer`` is exactly ``cls`` (no subclass overriding ``call``) with no ``call`` of its own
    (explain/ and quantization calibration observe a layer by setting one on the instance),
    built, float32, without an activity regularizer or an input spec of its own."""
    return (type(layer) is cls and "call" not in layer.__dict__ and layer.built and
            layer.activity_regularizer is None and
            layer.__dict__.get("input_spec") is None and
            layer.dtype == "float32")


def fusable_conv_pool(conv: Layer, pool: Layer) -> bool:
    """Whether the pair (``conv``, ``pool``) may run as one fused inference kernel."""
    return (_plain(conv, Conv2D) and _plain(pool, MaxPooling2D) and conv.groups == 1 and
            conv.quantization_mode is None and conv.padding in ("valid", "same") and
            conv.data_format == "channels_last" and pool.data_format == "channels_last")


def conv_pool_call(conv: Conv2D, pool: MaxPooling2D, x) -> Optional[object]:
    """``pool(conv(x))`` through the fused op, or None where the layers must run one by one
    (a symbolic or masked input)."""
    if isinstance(x, KerasTensor) or _input_mask(x) is not None:
        return None
    conv._check_call_input(x, conv.kernel.shape[-2])
    return conv_max_pool(x, conv.kernel, conv.strides, conv.padding, conv.dilation_rate,
                         conv.bias, conv.activation, pool.pool_size, pool.strides, pool.padding)
