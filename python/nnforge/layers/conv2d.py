"""2-D convolution layer."""
from __future__ import annotations

from nnforge import activations, constraints, initializers, ops, regularizers
from nnforge.ops._util import conv_geometry, normalize_tuple

from .layer import Layer


def conv_output_dim(size, k, s, d, padding, fn, dim):
    if size is None:
        return None
    return conv_geometry(size, k, s, d, padding, fn, dim)[0]


class Conv2D(Layer):
    """2-D convolution layer (channels_last: input ``(batch, height, width, channels)``).

    Computed as im2col + our sgemm, with bias and relu/sigmoid/tanh fused into the GEMM output.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 2 ints.
        strides: int or tuple of 2 ints (default 1).
        padding: ``"valid"`` or ``"same"`` (TensorFlow's: the extra row/column of padding goes
            at the bottom/right).
        dilation_rate: int or tuple of 2 ints (default 1).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as Dense.

    Output shape: ``(batch, new_height, new_width, filters)``.
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format=None, dilation_rate=(1, 1), groups: int = 1, activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        fn = f"Conv2D '{self.name}'"
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{fn}: filters must be a positive integer, got {filters!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{fn}: only data_format='channels_last' is supported, "
                             f"got {data_format!r}")
        if groups != 1:
            raise ValueError(f"{fn}: groups != 1 is not supported yet, got {groups}")
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"{fn}: padding must be 'valid' or 'same', got {padding!r}")
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", fn)
        self.strides = normalize_tuple(strides, 2, "strides", fn)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", fn)
        self.padding = padding
        self.data_format = "channels_last"
        self.groups = 1
        self.activation = activations.get(activation)
        self._act_name = activations.name_of(self.activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape) -> None:
        if len(input_shape) != 4:
            raise ValueError(f"Conv2D '{self.name}': expected a 4-D input (batch, height, width, "
                             f"channels), got shape {tuple(input_shape)}")
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"Conv2D '{self.name}': the channel dimension of the input must be "
                             f"known, got shape {tuple(input_shape)}")
        self.compute_output_shape(input_shape)  # validates kernel vs input size
        self.kernel = self.add_weight(shape=self.kernel_size + (channels, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.built = True

    def call(self, inputs):
        shape = tuple(inputs.shape)
        if len(shape) != 4 or shape[-1] != self.kernel.shape[2]:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected a 4-D "
                f"input with {self.kernel.shape[2]} channels (axis -1), but received input with "
                f"shape {shape}")
        fused = self._act_name if self._act_name in ("linear", "relu", "sigmoid", "tanh") else None
        y = ops.conv(inputs, self.kernel, self.strides, self.padding,
                     dilation_rate=self.dilation_rate, bias=self.bias, activation=fused)
        if fused is None:
            y = self.activation(y)
        return y

    def compute_output_shape(self, input_shape):
        fn = f"Conv2D '{self.name}'"
        h = conv_output_dim(input_shape[1], self.kernel_size[0], self.strides[0],
                            self.dilation_rate[0], self.padding, fn, "height")
        w = conv_output_dim(input_shape[2], self.kernel_size[1], self.strides[1],
                            self.dilation_rate[1], self.padding, fn, "width")
        return (input_shape[0], h, w, self.filters)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": list(self.kernel_size),
            "strides": list(self.strides), "padding": self.padding,
            "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
            "groups": self.groups, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config
