"""2-D max and average pooling layers."""
from __future__ import annotations

from nnforge import ops
from nnforge.ops._util import normalize_tuple

from .conv2d import conv_output_dim
from .layer import Layer


class _Pooling2D(Layer):
    _op = None

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        fn = f"{type(self).__name__} '{self.name}'"
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size", fn)
        self.strides = normalize_tuple(strides if strides is not None else self.pool_size, 2,
                                       "strides", fn)
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"{fn}: padding must be 'valid' or 'same', got {padding!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{fn}: only data_format='channels_last' is supported")
        self.padding = padding
        self.data_format = "channels_last"

    def build(self, input_shape) -> None:
        if len(input_shape) != 4:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a 4-D input "
                             f"(batch, height, width, channels), got shape {tuple(input_shape)}")
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        if len(inputs.shape) != 4:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             f"expected a 4-D input, received shape {tuple(inputs.shape)}")
        return type(self)._op(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        fn = f"{type(self).__name__} '{self.name}'"
        h = conv_output_dim(input_shape[1], self.pool_size[0], self.strides[0], 1, self.padding,
                            fn, "height")
        w = conv_output_dim(input_shape[2], self.pool_size[1], self.strides[1], 1, self.padding,
                            fn, "width")
        return (input_shape[0], h, w, input_shape[3])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "padding": self.padding,
                       "strides": list(self.strides), "data_format": self.data_format})
        return config


class MaxPooling2D(_Pooling2D):
    """Max pooling over 2-D windows (channels_last). Padding never wins with 'same'.

    Args:
        pool_size: int or tuple of 2 ints (default (2, 2)).
        strides: int, tuple of 2 ints, or None (default: pool_size).
        padding: "valid" or "same".
    """

    _op = staticmethod(ops.max_pool)


class AveragePooling2D(_Pooling2D):
    """Average pooling over 2-D windows (channels_last). With 'same', each output averages the
    real (unpadded) elements of its window only, as TensorFlow does.

    Args:
        pool_size: int or tuple of 2 ints (default (2, 2)).
        strides: int, tuple of 2 ints, or None (default: pool_size).
        padding: "valid" or "same".
    """

    _op = staticmethod(ops.average_pool)


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
