"""``BaseConv(rank)``: what every convolution layer shares (Keras 3's
``keras/src/layers/convolutional/base_conv.py``): argument checks, the kernel and bias weights,
the output shape, the call through ``ops.conv`` (which decides which activations its kernels
fuse) and the config."""
from __future__ import annotations

from typing import Optional, Tuple

from nnforge import activations, ops, regularizers
from nnforge.utils.argument_validation import (conv_output_length, standardize_data_format,
                                               standardize_padding, standardize_tuple)

from ._weight_options import add_weight_from_options, set_weight_options, weight_options_config
from .layer import Layer
from .quantized import Int8Quantizable

_SPATIAL = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


class BaseConv(Int8Quantizable, Layer):
    """Base of the N-D convolution layers (channels_last).

    Args:
        rank: number of spatial dimensions (1 for Conv1D, 2 for Conv2D, 3 for Conv3D, and
            their variants).
        filters: number of output channels (None for DepthwiseConv2D, whose output channels
            follow from the input's).
        kernel_size: int or tuple of ``rank`` ints.
        strides: int or tuple of ``rank`` ints (default 1).
        padding: ``"valid"``, ``"same"`` (TensorFlow's: the extra pad at the end), or, for
            rank 1, ``"causal"``.
        data_format: None or ``"channels_last"``.
        dilation_rate: int or tuple of ``rank`` ints (default 1).
        groups: split the input channels into this many groups, each convolved with
            ``filters // groups`` filters (kernel ``(k..., channels // groups, filters)``);
            ``groups == channels`` is a depthwise convolution, run as one.
        activation: name or callable; ``ops.conv`` fuses linear/relu/sigmoid/tanh into its
            kernel and applies any other after it.
        use_bias: add a bias of ``filters`` values.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: as ``Dense``.
        lora_rank: refused (LoRA is not implemented); None only.

    Example:

    >>> class Conv2D(BaseConv):
    ...     def __init__(self, filters, kernel_size, **kwargs):
    ...         super().__init__(2, filters, kernel_size, **kwargs)
    """

    # whether a rank-1 layer of this class accepts padding="causal" (the depthwise, separable
    # and transposed variants do not)
    _allows_causal = True

    def __init__(self, rank: int, filters: Optional[int], kernel_size, strides=1,
                 padding: str = "valid", data_format=None, dilation_rate=1, groups: int = 1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        where = f"{type(self).__name__} '{self.name}'"
        if filters is not None and (not isinstance(filters, int) or isinstance(filters, bool)
                                    or filters <= 0):
            raise ValueError(f"{where}: filters must be a positive integer, got {filters!r}")
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{where}: groups must be a positive integer, got {groups!r}")
        if filters is not None and filters % groups:
            raise ValueError(f"{where}: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={groups}, filters={filters}")
        if lora_rank is not None:
            raise ValueError(f"{where}: lora_rank={lora_rank!r} is not supported by nnforge "
                             "(LoRA is not implemented); leave it None")
        self.rank = rank
        self.filters = filters
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size", where)
        self.strides = standardize_tuple(strides, rank, "strides", where)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate", where)
        self.padding = standardize_padding(padding, allow_causal=rank == 1 and self._allows_causal,
                                           where=where)
        self.data_format = standardize_data_format(data_format, where)
        self.groups = groups
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
                           bias=(bias_initializer, bias_regularizer, bias_constraint))

    # -- shapes --------------------------------------------------------------------------------
    def _check_input_shape(self, input_shape) -> None:
        if len(input_shape) != self.rank + 2 or input_shape[-1] is None:
            dims = ", ".join(("batch",) + _SPATIAL[self.rank] + ("channels",))
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a "
                             f"{self.rank + 2}-D input ({dims}) with known channels, got shape "
                             f"{tuple(input_shape)}")

    def _spatial_output(self, input_shape) -> Tuple:
        """Output sizes of the spatial dimensions (None where the input's is None)."""
        where = f"{type(self).__name__} '{self.name}'"
        out = []
        for i, dim in enumerate(_SPATIAL[self.rank]):
            size = input_shape[1 + i]
            if size is None:
                out.append(None)
                continue
            padding = self.padding
            if padding == "causal":
                size, padding = size + (self.kernel_size[i] - 1) * self.dilation_rate[i], "valid"
            out.append(conv_output_length(size, self.kernel_size[i], self.strides[i],
                                          self.dilation_rate[i], padding, where, dim)[0])
        return tuple(out)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._spatial_output(input_shape) + (self.filters,)

    # -- weights -------------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        self._check_input_shape(input_shape)
        self.compute_output_shape(input_shape)  # validates the kernel against the input size
        if input_shape[-1] % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': the number of input channels "
                             f"must be evenly divisible by the number of groups. Received "
                             f"groups={self.groups}, but the input has {input_shape[-1]} "
                             f"channels (full input shape is {tuple(input_shape)})")
        self.kernel = add_weight_from_options(
            self, "kernel", self.kernel_size + (input_shape[-1] // self.groups, self.filters))
        self.bias = self._add_bias(self.filters)
        self._maybe_int8_build()
        self.built = True

    def _add_bias(self, n: int):
        return add_weight_from_options(self, "bias", (n,)) if self.use_bias else None

    # -- call ----------------------------------------------------------------------------------
    def _check_call_input(self, inputs, channels: int) -> None:
        shape = tuple(inputs.shape)
        if len(shape) != self.rank + 2 or shape[-1] != channels:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected a "
                f"{self.rank + 2}-D input with {channels} channels (axis -1), but received "
                f"input with shape {shape}")

    def _causal_pad(self, x):
        """Left-pad the steps of a 'causal' 1-D input; returns (input, padding for ops)."""
        if self.padding != "causal":
            return x, self.padding
        left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
        return ops.pad(x, ((0, 0), (left, 0), (0, 0))), "valid"

    def call(self, inputs):
        self._check_call_input(inputs, self.kernel.shape[-2] * self.groups)
        x, padding = self._causal_pad(inputs)
        if self.quantization_mode == "int8":
            return self._int8_call(x, padding)
        if self.groups > 1:
            return self._bias_and_activation(self._grouped_conv(x, padding))
        return ops.conv(x, self.kernel, self.strides, padding, dilation_rate=self.dilation_rate,
                        bias=self.bias, activation=self.activation)

    def _grouped_conv(self, x, padding):
        """Grouped convolution: one depthwise convolution when every group holds one channel
        (kernel (k..., 1, C*M) read as (k..., C, M)), else one convolution per group."""
        g = self.groups
        per_group = self.filters // g
        if self.kernel.shape[-2] == 1 and self.rank <= 2:
            kernel = ops.reshape(self.kernel, self.kernel_size + (g, per_group))
            return ops.depthwise_conv(x, kernel, self.strides, padding,
                                      dilation_rate=self.dilation_rate)
        xs = ops.split(x, g, axis=-1)
        outs = [ops.conv(xs[i], self.kernel[..., i * per_group:(i + 1) * per_group],
                         self.strides, padding, dilation_rate=self.dilation_rate)
                for i in range(g)]
        return ops.concatenate(outs, axis=-1)

    def _int8_call(self, x, padding):
        """int8 convolution (kernel int8 per output channel, inputs quantized per image or
        with the calibrated ``int8_inputs_scale``)."""
        from nnforge.ops import quantized as qops
        if not self.int8_activations:
            return ops.conv(x, self._int8_dequantized(), self.strides, padding,
                            dilation_rate=self.dilation_rate, bias=self.bias,
                            activation=self.activation)
        return qops.int8_conv(x, self.kernel, self._int8_packed(), self.kernel_scale,
                              self.strides, padding, self.dilation_rate, self.bias,
                              self.activation, getattr(self, "int8_inputs_scale", None))

    def _bias_and_activation(self, y):
        """Bias then activation, for the variants whose ops do not fuse them."""
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return self.activation(y)

    # -- config --------------------------------------------------------------------------------
    def _weight_config(self) -> dict:
        """Initializer/regularizer/constraint entries of the kernel(s) (variants rename them)."""
        return weight_options_config(self, "kernel")

    def get_config(self) -> dict:
        config = super().get_config()
        if self.filters is not None:
            config["filters"] = self.filters
        config.update({
            "kernel_size": list(self.kernel_size), "strides": list(self.strides),
            "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate), "groups": self.groups,
            "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            **weight_options_config(self, "bias")})
        config.update(self._weight_config())
        return config
