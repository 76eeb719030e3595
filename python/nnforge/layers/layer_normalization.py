"""Per-example normalization layers: ``LayerNormalization``, ``RMSNormalization``,
``GroupNormalization`` and ``UnitNormalization`` (Keras's names, defaults and configs)."""
from __future__ import annotations

import numpy as np

from nnforge import ops

from ._weight_options import add_weight_from_options, set_weight_options, weight_options_config
from .layer import Layer


def _check_axes(layer, axis, input_shape) -> None:
    axes = [axis] if isinstance(axis, int) else axis
    for a in axes:
        if a >= len(input_shape) or a < -len(input_shape):
            raise ValueError(f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. "
                             f"Received: axis={layer.axis}")


def _normalized_shape(layer, input_shape) -> tuple:
    """Checks ``layer.axis`` against ``input_shape``, stores it as a sorted list of axes and
    returns the shape of those axes (the shape of a per-feature weight)."""
    _check_axes(layer, layer.axis, input_shape)
    if isinstance(layer.axis, (list, tuple)):
        layer.axis = sorted(layer.axis)
        return tuple(input_shape[d] for d in layer.axis)
    shape = (input_shape[layer.axis],)
    layer.axis = [layer.axis]
    return shape


def add_gamma_beta(layer, shape) -> None:
    """Adds a normalization layer's learned scale ``gamma`` (when ``layer.scale``) and offset
    ``beta`` (when ``layer.center``) of ``shape``, with the options ``set_weight_options`` kept
    for them; the one not learned is None.

    Args:
        layer: a layer with ``scale``, ``center`` and the options of ``gamma`` and ``beta``.
        shape: the weights' shape.

    Returns:
        None (sets ``layer.gamma`` and ``layer.beta``).

    Example:

    >>> add_gamma_beta(self, (input_shape[-1],))   # in build()
    """
    layer.gamma = add_weight_from_options(layer, "gamma", shape) if layer.scale else None
    layer.beta = add_weight_from_options(layer, "beta", shape) if layer.center else None


class _AxisNormalization(Layer):
    """Base of the layers that normalize each example over ``axis``: the output has the
    input's shape, once ``axis`` is checked against it."""

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        return tuple(input_shape)


class _CenterScaleNormalization(_AxisNormalization):
    """Base of ``LayerNormalization`` and ``GroupNormalization``: ``epsilon``, and a learned
    offset ``beta`` (``center``) and scale ``gamma`` (``scale``) with their initializers,
    regularizers and constraints (weights added by ``add_gamma_beta``)."""

    def __init__(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                 beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                 **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        set_weight_options(self, beta=(beta_initializer, beta_regularizer, beta_constraint),
                           gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))

    def _center_scale_config(self) -> dict:
        return {"epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **weight_options_config(self, "beta", "gamma")}


class LayerNormalization(_CenterScaleNormalization):
    """Layer normalization (Ba et al., 2016), ``keras.layers.LayerNormalization``: each
    example is normalized over ``axis`` to zero mean and unit variance, then scaled by
    ``gamma`` and shifted by ``beta``.

    Args:
        axis: int or list of ints, the axis or axes to normalize (default -1).
        epsilon: added to the variance (1e-3).
        center: add the learned offset ``beta``.
        scale: multiply by the learned scale ``gamma``.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: for the two weights.

    Example:

    >>> LayerNormalization()(np.array([[1.0, 2.0, 3.0]], "float32")).numpy()
    array([[-1.2238272,  0.       ,  1.2238274]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        if kwargs.pop("rms_scaling", False):
            raise ValueError("LayerNormalization: rms_scaling=True is deprecated in Keras (it "
                             "scales by the variance); use keras.layers.RMSNormalization")
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', "
                            f"but received: {axis!r}")
        self.rms_scaling = False

    def build(self, input_shape) -> None:
        shape = _normalized_shape(self, input_shape)
        if any(d is None for d in shape):
            raise ValueError(f"LayerNormalization '{self.name}': the normalized axes of the "
                             f"input must be known, got shape {tuple(input_shape)}")
        add_gamma_beta(self, shape)
        self.built = True

    def call(self, inputs):
        return ops.layer_normalization(inputs, self.gamma, self.beta, self.axis, self.epsilon)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axis": self.axis, **self._center_scale_config(),
                       "rms_scaling": self.rms_scaling})
        return config


class RMSNormalization(_AxisNormalization):
    """Root-mean-square normalization (Zhang and Sennrich, 2019),
    ``keras.layers.RMSNormalization``: ``x * rsqrt(mean(square(x), axis) + epsilon) * scale``
    with a learned ``scale``.

    Args:
        axis: int or list of ints to normalize over (default -1).
        epsilon: added to the mean square (1e-6).

    Example:

    >>> RMSNormalization()(np.array([[3.0, 4.0]], "float32")).shape
    (1, 2)
    """

    def __init__(self, axis=-1, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape) -> None:
        shape = _normalized_shape(self, input_shape)
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def call(self, x):
        return ops.rms_normalization(x, scale=self.scale, axis=self.axis, epsilon=self.epsilon)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config


class GroupNormalization(_CenterScaleNormalization):
    """Group normalization (Wu and He, 2018), ``keras.layers.GroupNormalization``: the channels
    (``axis``) are split into ``groups``; each example is normalized over each group's channels
    and all the other non-batch axes, then scaled by ``gamma`` and shifted by ``beta`` per
    channel. ``groups=-1`` is instance normalization; ``groups=1`` normalizes like
    ``LayerNormalization`` over all the non-batch axes.

    Args:
        groups: number of groups (default 32), dividing the channels; -1 for one per channel.
        axis: the channels axis (default -1).
        epsilon: added to the variance (1e-3).
        center, scale, beta_initializer, gamma_initializer, beta_regularizer,
        gamma_regularizer, beta_constraint, gamma_constraint: as ``LayerNormalization``.

    Example:

    >>> GroupNormalization(groups=2)(np.random.rand(2, 5, 4).astype("float32")).shape
    (2, 5, 4)
    """

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError("Received an invalid value for argument `groups`, expected a "
                             "positive integer (or `-1` for instance normalization). "
                             f"Received: groups={groups}")
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)
        self.groups = groups
        self.axis = axis

    def build(self, input_shape) -> None:
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension "
                             f"but the layer received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number "
                             f"of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the "
                             f"number of channels ({dim}).")
        self._ndim = len(input_shape)
        add_gamma_beta(self, (dim,))
        self.built = True

    def call(self, inputs):
        shape = tuple(inputs.shape)
        if len(shape) != self._ndim:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                             f"expected ndim={self._ndim}, found ndim={len(shape)}. Full shape "
                             f"received: {shape}")
        ax = self.axis % len(shape)
        group_shape = list(shape)
        group_shape[ax] = shape[ax] // self.groups
        group_shape.insert(ax, self.groups)
        x = ops.reshape(inputs, tuple(group_shape))
        axes = [i for i in range(1, len(group_shape)) if i != ax]
        bshape = [1] * len(group_shape)
        bshape[ax], bshape[ax + 1] = self.groups, shape[ax] // self.groups
        gamma = None if self.gamma is None else ops.reshape(self.gamma, tuple(bshape))
        beta = None if self.beta is None else ops.reshape(self.beta, tuple(bshape))
        y = ops.layer_normalization(x, gamma, beta, axis=axes, epsilon=self.epsilon)
        return ops.reshape(y, shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"groups": self.groups, "axis": self.axis, **self._center_scale_config()})
        return config


class UnitNormalization(Layer):
    """Normalizes each example to unit L2 norm over ``axis``
    (``keras.layers.UnitNormalization``): ``x * min(rsqrt(sum(x^2)), 1e12)``.

    Args:
        axis: int or list of ints to normalize over (default -1).

    Example:

    >>> UnitNormalization()(np.array([[3.0, 4.0]], "float32")).numpy()
    array([[0.6, 0.8]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError("Invalid value for `axis` argument: expected an int or a list/tuple "
                            f"of ints. Received: axis={axis}")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        x = ops.convert_to_tensor(inputs)
        inv = ops.divide(1.0, ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True)))
        return ops.multiply(x, ops.minimum(inv, np.float32(1e12)))

    def compute_output_shape(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for a in axes:
            if a >= len(input_shape) or a < -len(input_shape):
                raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                                 f"{tuple(input_shape)}.")
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config
