"""The 1-D and 3-D reshaping layers: ``UpSampling1D``/``UpSampling3D`` (nearest-neighbour
repetition), ``ZeroPadding1D``/``ZeroPadding3D`` and ``Cropping1D``/``Cropping3D``
(channels_last), as Keras 3's ``keras/src/layers/reshaping``. The 2-D ones are in
reshaping.py."""
from __future__ import annotations

from typing import Tuple

from nnforge import ops
from nnforge.utils.argument_validation import standardize_data_format, standardize_tuple

from .layer import Layer
from .reshaping import _PairsLayer, crop, cropped_shape, padded_shape

_ORDINAL = ("1st", "2nd", "3rd")


def _pairs3(value, name: str, where: str) -> Tuple[Tuple[int, int], ...]:
    """An int, 3 ints (symmetric) or 3 pairs as ((before, after),) * 3, all >= 0."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{where}: '{name}' cannot be negative, got {value}")
        return ((value, value),) * 3
    if not hasattr(value, "__len__") or len(value) != 3:
        raise ValueError(f"{where}: '{name}' must be an int, a tuple of 3 ints or a tuple of 3 "
                         f"pairs of ints, got {value!r}")
    return tuple(standardize_tuple(v, 2, f"{_ORDINAL[i]} entry of {name}", where,
                                   allow_zero=True) for i, v in enumerate(value))


def _check_rank(layer, shape, rank: int, dims: str) -> None:
    if len(shape) != rank:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': expected a {rank}-D input "
                         f"{dims}, got shape {tuple(shape)}")


_D3 = "(batch, depth, height, width, channels)"
_D1 = "(batch, steps, channels)"


class UpSampling1D(Layer):
    """Repeats each step ``size`` times (``keras.layers.UpSampling1D``):
    (batch, steps, channels) -> (batch, steps * size, channels).

    Args:
        size: the repetition factor (int >= 1, default 2).

    Example:

    >>> nnforge.layers.UpSampling1D(3)(np.ones((1, 4, 2), "float32")).shape
    (1, 12, 2)
    """

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.size = standardize_tuple(size, 1, "size", f"UpSampling1D '{self.name}'")[0]

    def compute_output_shape(self, s):
        _check_rank(self, s, 3, _D1)
        return (s[0], None if s[1] is None else s[1] * self.size, s[2])

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        return ops.repeat(inputs, self.size, axis=1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["size"] = self.size
        return config


class UpSampling3D(Layer):
    """Repeats the depth, rows and columns of a 5-D input (``keras.layers.UpSampling3D``).

    Args:
        size: int or 3 ints (default (2, 2, 2)): factors for depth, height, width.
        data_format: None or ``"channels_last"``.

    Example:

    >>> nnforge.layers.UpSampling3D(2)(np.ones((1, 2, 3, 4, 2), "float32")).shape
    (1, 4, 6, 8, 2)
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        where = f"UpSampling3D '{self.name}'"
        self.data_format = standardize_data_format(data_format, where)
        self.size = standardize_tuple(size, 3, "size", where)

    def compute_output_shape(self, s):
        _check_rank(self, s, 5, _D3)
        return (s[0],) + tuple(None if s[1 + i] is None else s[1 + i] * self.size[i]
                               for i in range(3)) + (s[4],)

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        y = inputs
        for i in range(3):
            if self.size[i] != 1:
                y = ops.repeat(y, self.size[i], axis=1 + i)
        return y

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"size": list(self.size), "data_format": self.data_format})
        return config


class ZeroPadding1D(Layer):
    """Pads the steps of a (batch, steps, channels) input with zeros
    (``keras.layers.ZeroPadding1D``).

    Args:
        padding: int (both ends) or (left, right) (default 1).
        data_format: None or ``"channels_last"``.

    Example:

    >>> nnforge.layers.ZeroPadding1D((1, 2))(np.ones((1, 4, 2), "float32")).shape
    (1, 7, 2)
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        where = f"ZeroPadding1D '{self.name}'"
        self.padding = standardize_tuple(padding, 2, "padding", where, allow_zero=True)
        self.data_format = standardize_data_format(data_format, where)

    def compute_output_shape(self, s):
        _check_rank(self, s, 3, _D1)
        return padded_shape(s, (self.padding,))

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        return ops.pad(inputs, ((0, 0), self.padding, (0, 0)))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"padding": list(self.padding), "data_format": self.data_format})
        return config


class ZeroPadding3D(_PairsLayer):
    """Pads depth, rows and columns of a 5-D input with zeros (``keras.layers.ZeroPadding3D``).

    Args:
        padding: int, 3 ints (symmetric per axis) or 3 (before, after) pairs
            (default ((1, 1), (1, 1), (1, 1))).
        data_format: None or ``"channels_last"``.

    Example:

    >>> nnforge.layers.ZeroPadding3D(1)(np.ones((1, 2, 3, 4, 2), "float32")).shape
    (1, 4, 5, 6, 2)
    """

    _PAIRS = "padding"

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        where = f"ZeroPadding3D '{self.name}'"
        self.data_format = standardize_data_format(data_format, where)
        self.padding = _pairs3(padding, "padding", where)

    def compute_output_shape(self, s):
        _check_rank(self, s, 5, _D3)
        return padded_shape(s, self.padding)

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        return ops.pad(inputs, ((0, 0),) + self.padding + ((0, 0),))


class Cropping1D(Layer):
    """Crops the steps of a (batch, steps, channels) input (``keras.layers.Cropping1D``).

    Args:
        cropping: int (both ends) or (start, end) (default (1, 1)).

    Example:

    >>> nnforge.layers.Cropping1D((1, 2))(np.ones((1, 6, 2), "float32")).shape
    (1, 3, 2)
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = standardize_tuple(cropping, 2, "cropping", f"Cropping1D '{self.name}'",
                                          allow_zero=True)

    def compute_output_shape(self, s):
        _check_rank(self, s, 3, _D1)
        return cropped_shape(self, s, (self.cropping,))

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        return crop(inputs, (self.cropping,))

    def get_config(self) -> dict:
        config = super().get_config()
        config["cropping"] = list(self.cropping)
        return config


class Cropping3D(_PairsLayer):
    """Crops depth, rows and columns of a 5-D input (``keras.layers.Cropping3D``).

    Args:
        cropping: int, 3 ints (symmetric per axis) or 3 (start, end) pairs
            (default ((1, 1), (1, 1), (1, 1))).
        data_format: None or ``"channels_last"``.

    Example:

    >>> nnforge.layers.Cropping3D(1)(np.ones((1, 4, 5, 6, 2), "float32")).shape
    (1, 2, 3, 4, 2)
    """

    _PAIRS = "cropping"

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        where = f"Cropping3D '{self.name}'"
        self.data_format = standardize_data_format(data_format, where)
        self.cropping = _pairs3(cropping, "cropping", where)

    def compute_output_shape(self, s):
        _check_rank(self, s, 5, _D3)
        return cropped_shape(self, s, self.cropping)

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        return crop(inputs, self.cropping)
