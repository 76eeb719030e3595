"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate."""
from __future__ import annotations

from typing import List

import numpy as np

from nnforge import ops

from .layer import Layer


def _broadcast(shapes: List[tuple], name: str) -> tuple:
    ndim = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(None,) * 0 + (1,) * (ndim - len(s)) + tuple(s) for s in shapes]):
        known = {d for d in dims if d not in (None, 1)}
        if len(known) > 1:
            raise ValueError(f"Layer '{name}': inputs with shapes {shapes} cannot be merged "
                             f"element-wise")
        out.append(known.pop() if known else (None if None in dims else 1))
    return tuple(out)


class _Merge(Layer):
    _min_inputs = 2

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < self._min_inputs:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) must be called on a "
                             f"list of at least {self._min_inputs} inputs, got "
                             f"{type(inputs).__name__}")

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, list) or len(input_shape) < self._min_inputs:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) must be called on a "
                             f"list of at least {self._min_inputs} inputs")
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return _broadcast([tuple(s) for s in input_shape], self.name)

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def call(self, inputs):
        self._check(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return self._finish(out, len(inputs))

    def _finish(self, out, n):
        return out


class Add(_Merge):
    """Sum of a list of inputs of the same shape."""

    def _merge(self, a, b):
        return ops.add(a, b)


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def call(self, inputs):
        self._check(inputs)
        if len(inputs) != 2:
            raise ValueError(f"Layer '{self.name}' (Subtract) takes exactly 2 inputs, got "
                             f"{len(inputs)}")
        return ops.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    """Element-wise product of a list of inputs."""

    def _merge(self, a, b):
        return ops.multiply(a, b)


class Average(_Merge):
    """Element-wise mean of a list of inputs."""

    def _merge(self, a, b):
        return ops.add(a, b)

    def _finish(self, out, n):
        return ops.multiply(out, 1.0 / n)


class Maximum(_Merge):
    """Element-wise maximum of a list of inputs."""

    def _merge(self, a, b):
        return ops.maximum(a, b)


class Minimum(_Merge):
    """Element-wise minimum of a list of inputs."""

    def _merge(self, a, b):
        return ops.minimum(a, b)


class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis`` (default -1)."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        ndim = len(shapes[0])
        if any(len(s) != ndim for s in shapes):
            raise ValueError(f"Layer '{self.name}' (Concatenate): inputs must have the same rank, "
                             f"got shapes {shapes}")
        ax = self.axis % ndim
        out = list(shapes[0])
        for i in range(ndim):
            if i == ax:
                dims = [s[i] for s in shapes]
                out[i] = None if any(d is None for d in dims) else int(sum(dims))
            else:
                known = {s[i] for s in shapes if s[i] is not None}
                if len(known) > 1:
                    raise ValueError(f"Layer '{self.name}' (Concatenate): shapes {shapes} differ "
                                     f"outside the concatenation axis {self.axis}")
                out[i] = known.pop() if known else None
        return tuple(out)

    def call(self, inputs):
        self._check(inputs)
        return ops.concatenate(list(inputs), axis=self.axis)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def average(inputs, **kwargs):
    """``keras.layers.average``: the functional form of ``Average``.

    Example:

    >>> outputs = nnforge.layers.average([y1, y2, y3])
    """
    return Average(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``keras.layers.multiply``: the functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``keras.layers.subtract``: the functional form of ``Subtract``."""
    return Subtract(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``keras.layers.maximum``: the functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``keras.layers.minimum``: the functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)
