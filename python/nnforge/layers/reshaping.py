"""Reshaping layers: Reshape, Permute, RepeatVector, ZeroPadding2D, Cropping2D, UpSampling2D."""
from __future__ import annotations

import numpy as np

from nnforge import ops

from .layer import Layer


def _pairs(value, name, layer):
    if isinstance(value, int):
        return ((value, value), (value, value))
    value = tuple(value)
    if len(value) == 2 and all(isinstance(v, int) for v in value):
        return ((value[0], value[0]), (value[1], value[1]))
    if len(value) == 2 and all(len(tuple(v)) == 2 for v in value):
        return tuple(tuple(int(u) for u in v) for v in value)
    raise ValueError(f"Layer '{layer}': {name} must be an int, a tuple of 2 ints or a tuple of "
                     f"2 tuples of 2 ints, got {value!r}")


def padded_shape(s, pairs) -> tuple:
    """The shape of a channels_last input of shape ``s`` padded on its spatial axes by
    ``pairs``, one (before, after) pair per axis (None sizes stay None).

    Example:

    >>> padded_shape((None, 4, 5, 3), ((1, 1), (0, 2)))
    (None, 6, 7, 3)
    """
    n = len(pairs)
    return ((s[0],) + tuple(None if s[1 + i] is None else s[1 + i] + sum(pairs[i])
                            for i in range(n)) + (s[n + 1],))


def cropped_shape(layer, s, pairs) -> tuple:
    """The shape of a channels_last input of shape ``s`` cropped on its spatial axes by
    ``pairs`` (one (start, end) pair per axis); raises if an axis would be left empty,
    naming ``layer`` and its ``cropping``.

    Example:

    >>> cropped_shape(Cropping2D(1), (None, 4, 5, 3), ((1, 1), (1, 1)))
    (None, 2, 3, 3)
    """
    n = len(pairs)
    out = tuple(None if s[1 + i] is None else s[1 + i] - sum(pairs[i]) for i in range(n))
    if any(d is not None and d <= 0 for d in out):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': cropping {layer.cropping} "
                         f"leaves nothing of an input of shape {tuple(s)}")
    return (s[0],) + out + (s[n + 1],)


def crop(inputs, pairs):
    """``inputs`` (channels_last) cropped on its spatial axes by (start, end) ``pairs``.

    Example:

    >>> crop(np.ones((1, 4, 5, 3), "float32"), ((1, 1), (0, 2))).shape
    (1, 2, 3, 3)
    """
    idx = (slice(None),) + tuple(slice(a, inputs.shape[1 + i] - b)
                                 for i, (a, b) in enumerate(pairs))
    return ops.getitem(inputs, idx)


class _PairsLayer(Layer):
    """A channels_last layer holding one (before, after) pair per spatial axis in its
    attribute ``_PAIRS`` ("padding" or "cropping"), saved as lists with ``data_format``."""

    _PAIRS = ""

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({self._PAIRS: [list(p) for p in getattr(self, self._PAIRS)],
                       "data_format": self.data_format})
        return config


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(
                d < -1 or d == 0 for d in self.target_shape):
            raise ValueError(f"Reshape '{self.name}': target_shape may hold one -1 and otherwise "
                             f"positive sizes, got {target_shape!r}")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        total = int(np.prod(rest))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape:
            if total % known:
                raise ValueError(f"Reshape '{self.name}': cannot reshape {tuple(rest)} into "
                                 f"{self.target_shape}")
            shape = tuple(total // known if d == -1 else d for d in self.target_shape)
        else:
            if total != known:
                raise ValueError(f"Reshape '{self.name}': total size of the new shape "
                                 f"{self.target_shape} ({known}) differs from the input's "
                                 f"{tuple(rest)} ({total})")
            shape = self.target_shape
        return (input_shape[0],) + shape

    def call(self, inputs):
        out = self.compute_output_shape((inputs.shape[0],) + tuple(inputs.shape[1:]))
        return ops.reshape(inputs, (inputs.shape[0],) + tuple(out[1:]))

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of 1..rank-1."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute '{self.name}': dims must be a permutation of 1..{len(dims)}"
                             f", got {dims!r}")

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def get_config(self) -> dict:
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(Layer):
    """Repeats a (batch, features) input n times: (batch, n, features)."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"RepeatVector '{self.name}': n must be a positive int, got {n!r}")
        self.n = n

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector '{self.name}': expected a 2-D input, got "
                             f"{tuple(input_shape)}")
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["n"] = self.n
        return config


class ZeroPadding2D(_PairsLayer):
    """Pads rows and columns of an NHWC input with zeros: ``padding`` is an int, (rows, cols)
    or ((top, bottom), (left, right))."""

    _PAIRS = "padding"

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, "padding", self.name)
        if any(p < 0 for pair in self.padding for p in pair):
            raise ValueError(f"ZeroPadding2D '{self.name}': padding must be non-negative")
        self.data_format = "channels_last"

    def compute_output_shape(self, s):
        return padded_shape(s, self.padding)

    def call(self, inputs):
        if len(inputs.shape) != 4:
            raise ValueError(f"ZeroPadding2D '{self.name}': expected a 4-D input, got "
                             f"{tuple(inputs.shape)}")
        return ops.pad(inputs, ((0, 0),) + self.padding + ((0, 0),))


class Cropping2D(_PairsLayer):
    """Crops rows and columns of an NHWC input: ((top, bottom), (left, right))."""

    _PAIRS = "cropping"

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, "cropping", self.name)
        self.data_format = "channels_last"

    def compute_output_shape(self, s):
        return cropped_shape(self, s, self.cropping)

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        return crop(inputs, self.cropping)


class UpSampling2D(Layer):
    """Repeats rows and columns (nearest neighbour) of an NHWC input by ``size``."""

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = (size, size) if isinstance(size, int) else tuple(int(v) for v in size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"UpSampling2D '{self.name}': size must be positive, got {size!r}")
        if interpolation != "nearest":
            raise ValueError(f"UpSampling2D '{self.name}': only interpolation='nearest' is "
                             f"supported, got {interpolation!r}")
        self.interpolation = interpolation
        self.data_format = "channels_last"

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else s[1] * self.size[0],
                None if s[2] is None else s[2] * self.size[1], s[3])

    def call(self, inputs):
        return ops.repeat(ops.repeat(inputs, self.size[0], axis=1), self.size[1], axis=2)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"size": list(self.size), "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config
