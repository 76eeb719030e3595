"""Max and average pooling over 1-D and 2-D windows (channels_last), on one base class
``BasePooling(rank)`` as Keras 3's ``keras/src/layers/pooling/base_pooling.py``."""
from __future__ import annotations

from nnforge import ops
from nnforge.utils.argument_validation import (conv_output_length, standardize_data_format,
                                               standardize_padding, standardize_tuple)

from .layer import Layer

_SPATIAL = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


class BasePooling(Layer):
    """Base of the pooling layers: ``pool_size``/``strides`` of ``rank`` ints, ``padding``
    'valid' or 'same', and the op (``ops.max_pool`` or ``ops.average_pool``) in ``_op``.

    Args:
        rank: number of spatial dimensions (1, 2 or 3; 3-D pooling in pooling3d.py).
        pool_size: int or tuple of ``rank`` ints.
        strides: int, tuple of ``rank`` ints, or None (default: pool_size).
        padding: ``"valid"`` or ``"same"``.
        data_format: None or ``"channels_last"``.
    """

    _op = None

    def __init__(self, rank: int, pool_size, strides=None, padding: str = "valid",
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        where = f"{type(self).__name__} '{self.name}'"
        self.rank = rank
        self.pool_size = standardize_tuple(pool_size, rank, "pool_size", where)
        self.strides = standardize_tuple(strides if strides is not None else self.pool_size,
                                         rank, "strides", where)
        self.padding = standardize_padding(padding, where=where)
        self.data_format = standardize_data_format(data_format, where)

    def build(self, input_shape) -> None:
        if len(input_shape) != self.rank + 2:
            dims = ", ".join(("batch",) + _SPATIAL[self.rank] + ("channels",))
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a "
                             f"{self.rank + 2}-D input ({dims}), got shape {tuple(input_shape)}")
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        where = f"{type(self).__name__} '{self.name}'"
        out = tuple(None if input_shape[1 + i] is None else conv_output_length(
            input_shape[1 + i], self.pool_size[i], self.strides[i], 1, self.padding, where,
            dim)[0] for i, dim in enumerate(_SPATIAL[self.rank]))
        return (input_shape[0],) + out + (input_shape[-1],)

    def call(self, inputs):
        if len(inputs.shape) != self.rank + 2:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             f"expected a {self.rank + 2}-D input, received shape "
                             f"{tuple(inputs.shape)}")
        if self.rank == 1:
            y = type(self)._op(ops.expand_dims(inputs, 1), (1,) + self.pool_size,
                               (1,) + self.strides, self.padding)
            return ops.squeeze(y, 1)
        return type(self)._op(inputs, self.pool_size, self.strides, self.padding)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "padding": self.padding,
                       "strides": list(self.strides), "data_format": self.data_format})
        return config


class _Pooling1D(BasePooling):
    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None,
                 **kwargs):
        super().__init__(1, pool_size, strides, padding, data_format, **kwargs)


class _Pooling2D(BasePooling):
    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", data_format=None,
                 **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling1D):
    """Max over windows of ``pool_size`` steps of a (batch, steps, channels) input.

    Example:

    >>> nnforge.layers.MaxPooling1D(2)(np.ones((1, 6, 3), "float32")).shape
    (1, 3, 3)
    """

    _op = staticmethod(ops.max_pool)


class AveragePooling1D(_Pooling1D):
    """Mean over windows of ``pool_size`` steps of a (batch, steps, channels) input.

    Example:

    >>> nnforge.layers.AveragePooling1D(2)(np.ones((1, 6, 3), "float32")).shape
    (1, 3, 3)
    """

    _op = staticmethod(ops.average_pool)


class MaxPooling2D(_Pooling2D):
    """Max pooling over 2-D windows (channels_last); ``pool_size`` (default (2, 2)),
    ``strides`` (default: pool_size) and ``padding`` as ``BasePooling``. Padding never wins with
    'same'.

    Example:

    >>> nnforge.layers.MaxPooling2D()(np.ones((1, 4, 4, 3), "float32")).shape
    (1, 2, 2, 3)
    """

    _op = staticmethod(ops.max_pool)


class AveragePooling2D(_Pooling2D):
    """Average pooling over 2-D windows (channels_last); arguments as ``MaxPooling2D``. With
    'same', each output averages the real (unpadded) elements of its window only, as TensorFlow
    does.

    Example:

    >>> nnforge.layers.AveragePooling2D()(np.ones((1, 4, 4, 3), "float32")).shape
    (1, 2, 2, 3)
    """

    _op = staticmethod(ops.average_pool)


MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D
