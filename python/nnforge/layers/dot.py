"""``Dot``: the dot product of two batched tensors along given axes (and ``layers.dot``)."""
from __future__ import annotations

import numpy as np

from nnforge import ops

from .layer import Layer


def _l2_normalize(x, axis: int):
    """Keras's ``ops.normalize(x, axis, order=2)``: ``x * min(rsqrt(sum(x^2)), 1 / 1e-7)``."""
    inv = ops.divide(1.0, ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True)))
    return ops.multiply(x, ops.minimum(inv, np.float32(1e7)))


def batch_dot(x, y, axes=None):
    """Per-sample dot product of ``x`` and ``y`` (rank >= 2) along ``axes`` (Keras's
    ``batch_dot``): a rank-1 result is reshaped to ``(batch, 1)``."""
    xs, ys = tuple(x.shape), tuple(y.shape)
    xn, yn = len(xs), len(ys)
    if xn < 2 or yn < 2:
        raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs with "
                         f"shapes {xs} and {ys}.")
    if xs[0] is not None and ys[0] is not None and xs[0] != ys[0]:
        raise ValueError(f"Cannot do batch_dot on inputs with different batch sizes. Received "
                         f"inputs with shapes {xs} and {ys}.")
    if isinstance(axes, int):
        axes = [axes, axes]
    if axes is None:
        axes = [xn - 1, yn - 1] if yn == 2 else [xn - 1, yn - 2]
    axes = list(axes)
    if axes[0] < 0:
        axes[0] += xn
    if axes[1] < 0:
        axes[1] += yn
    if 0 in axes:
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not batched, "
                         "add a dummy batch dimension to your inputs using "
                         "keras.ops.expand_dims(x, 0)")
    a0, a1 = axes
    if xs[a0] != ys[a1]:
        raise ValueError(f"Cannot do batch_dot on inputs with shapes {xs} and {ys} with "
                         f"axes={axes}. x.shape[{a0}] != y.shape[{a1}] ({xs[a0]} != {ys[a1]}).")
    # move the contracted axes last (x) and first after the batch (y), then one einsum
    letters = "abcdefghijklmnopqrstuvwxyz"
    xl = list(letters[:xn])
    yl = ["a"] + list(letters[xn:xn + yn - 1])
    yl[a1] = xl[a0]
    out = [c for i, c in enumerate(xl) if i != a0] + [c for i, c in enumerate(yl)
                                                        if i not in (0, a1)]
    result = ops.einsum(f"{''.join(xl)},{''.join(yl)}->{''.join(out)}", x, y)
    if len(out) == 1:
        result = ops.expand_dims(result, 1)
    return result


class Dot(Layer):
    """Computes the dot product of the samples of two tensors (``keras.layers.Dot``).

    For inputs of shapes ``(B, 3, 5)`` and ``(B, 10, 3)`` and ``axes=(1, 2)`` the output has
    shape ``(B, 5, 10)``.

    Args:
        axes: an int or a pair of ints, the axis of each input along which the product is
            taken (not the batch axis 0).
        normalize: L2-normalize the samples along the axes first (the output is then the
            cosine similarity).

    Example:

    >>> x = np.arange(10, dtype="float32").reshape(1, 5, 2)
    >>> y = np.arange(10, 20, dtype="float32").reshape(1, 2, 5)
    >>> Dot(axes=(1, 2))([x, y]).numpy()
    array([[[260., 360.],
            [320., 445.]]], dtype=float32)
    """

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes}")
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _axes(self, n1: int, n2: int):
        if isinstance(self.axes, int):
            return [self.axes % n1, self.axes % n2] if self.axes < 0 else [self.axes] * 2
        return [a % n if a < 0 else a for a, n in zip(self.axes, (n1, n2))]

    def build(self, input_shape) -> None:
        if not isinstance(input_shape[0], (tuple, list)) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")
        s1, s2 = input_shape
        axes = self._axes(len(s1), len(s2))
        if s1[axes[0]] != s2[axes[1]]:
            raise ValueError(f"Incompatible input shapes: axis values {s1[axes[0]]} (at axis "
                             f"{axes[0]}) != {s2[axes[1]]} (at axis {axes[1]}). Full input "
                             f"shapes: {tuple(s1)}, {tuple(s2)}")
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received: "
                             f"inputs={inputs}")
        x1, x2 = inputs
        axes = self._axes(len(x1.shape), len(x2.shape))
        if self.normalize:
            x1 = _l2_normalize(x1, axes[0])
            x2 = _l2_normalize(x2, axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")
        s1, s2 = list(input_shape[0]), list(input_shape[1])
        axes = self._axes(len(s1), len(s2))
        s1.pop(axes[0])
        s2.pop(axes[1])
        s2.pop(0)
        out = s1 + s2
        if len(out) == 1:
            out += [1]
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("axes"), list):
            config["axes"] = tuple(config["axes"])
        return super().from_config(config)


def dot(inputs, axes=-1, **kwargs):
    """Functional interface to the ``Dot`` layer (``keras.layers.dot``).

    Args:
        inputs: a list of two input tensors.
        axes: an int or a pair of ints, the axes of the product.
        normalize: L2-normalize the samples first.
        **kwargs: standard layer keyword arguments.

    Returns:
        The dot product of the samples of the inputs.

    Example:

    >>> dot([np.ones((2, 3), "float32"), np.ones((2, 3), "float32")], axes=1).shape
    (2, 1)
    """
    return Dot(axes=axes, **kwargs)(inputs)
