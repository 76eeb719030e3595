"""``keras.quantizers``: the abs-max quantizer and the int8 quantization config that
``Layer.quantize``/``Model.quantize`` take (Keras 3's names, arguments and configs). nnforge
quantizes to int8 only (``Int8QuantizationConfig``)."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from nnforge.core.tensor import Tensor

_EPSILON = 1e-7


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8",
                     epsilon: float = _EPSILON, to_numpy: bool = False):
    """Quantize ``inputs`` with the absolute-maximum scheme (``keras.quantizers.abs_max_quantize``).

    ``scale = value_range[1] / (max|inputs| over axis + epsilon)`` (a multiplier, axis kept),
    ``q = clip(round(inputs * scale), *value_range)``.

    Args:
        inputs: float tensor or array.
        axis: int or tuple: the axes reduced for one scale.
        value_range: the (min, max) of the quantized integers.
        dtype: the quantized dtype (``"int8"``).
        epsilon: added to the maximum (no division by zero).
        to_numpy: return NumPy arrays instead of Tensors (computed the same way).

    Returns:
        ``(quantized, scale)``.

    Example:

    >>> q, scale = keras.quantizers.abs_max_quantize(np.array([[0.5, -1.0]]), axis=-1)
    """
    from nnforge.ops import quantized as qops
    q, scale = qops.abs_max_quantize(inputs, axis, tuple(value_range), epsilon)
    q = q.astype(dtype)
    if to_numpy:
        from nnforge import backend
        return backend.to_numpy(q), backend.to_numpy(scale)
    return Tensor(q), Tensor(scale)


class Quantizer:
    """Base class of quantizers (``keras.quantizers.Quantizer``)."""

    def __init__(self, output_dtype: str = "int8"):
        self.output_dtype = output_dtype

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must implement get_config")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class AbsMaxQuantizer(Quantizer):
    """Symmetric abs-max quantizer (``keras.quantizers.AbsMaxQuantizer``).

    Args:
        axis: default axis or axes reduced for one scale (None: -1 at call time).
        value_range: the (min, max) of the quantized integers (within [-128, 127] for int8).
        epsilon: added to the abs-max.
        output_dtype: ``"int8"``.
    """

    def __init__(self, axis=None, value_range=(-127, 127), epsilon: float = _EPSILON,
                 output_dtype: str = "int8"):
        super().__init__(output_dtype=output_dtype)
        self.axis = (axis,) if isinstance(axis, int) else (tuple(axis) if axis is not None
                                                            else None)
        self.value_range = tuple(value_range)
        self.epsilon = epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError("Quantizer with output_dtype='int8' requires value_range to be "
                             f"within the interval [-128, 127]. Received: "
                             f"value_range={value_range}")

    def __call__(self, x, axis=None, to_numpy: bool = False):
        axis = axis if axis is not None else (self.axis if self.axis is not None else -1)
        return abs_max_quantize(x, axis, self.value_range, self.output_dtype, self.epsilon,
                                to_numpy)

    def get_config(self) -> dict:
        config = {"value_range": list(self.value_range), "epsilon": self.epsilon,
                  "output_dtype": self.output_dtype}
        if self.axis is not None:
            config["axis"] = list(self.axis)
        return config


class QuantizationConfig:
    """Base of quantization configs (``keras.quantizers.QuantizationConfig``): a weight
    quantizer and an activation quantizer (None: the mode's default / no activation
    quantization)."""

    def __init__(self, weight_quantizer: Optional[Quantizer] = None,
                 activation_quantizer: Optional[Quantizer] = None):
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self) -> str:
        raise NotImplementedError("Subclasses must implement this property. Do not "
                                  "instantiate QuantizationConfig directly.")

    def get_config(self) -> dict:
        return {"weight_quantizer": serialize(self.weight_quantizer),
                "activation_quantizer": serialize(self.activation_quantizer)}

    @classmethod
    def from_config(cls, config: dict):
        return cls(weight_quantizer=deserialize(config.get("weight_quantizer")),
                   activation_quantizer=deserialize(config.get("activation_quantizer")))


class Int8QuantizationConfig(QuantizationConfig):
    """int8 quantization config (``keras.quantizers.Int8QuantizationConfig``).

    Args:
        weight_quantizer: None (per-output-channel abs-max) or an int8 ``AbsMaxQuantizer``.
        activation_quantizer: ``"default"`` (per-row ``AbsMaxQuantizer()``: W8A8), or None
            (weight-only int8: the inputs stay float).

    Example:

    >>> model.quantize(config=keras.quantizers.Int8QuantizationConfig(
    ...     activation_quantizer=None))  # weight-only int8
    """

    def __init__(self, weight_quantizer: Optional[Quantizer] = None,
                 activation_quantizer="default"):
        if activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if self.weight_quantizer is not None and self.weight_quantizer.output_dtype != "int8":
            raise ValueError("Int8QuantizationConfig requires a weight_quantizer with "
                             "output_dtype='int8'. Received: "
                             f"output_dtype={self.weight_quantizer.output_dtype}")

    @property
    def mode(self) -> str:
        return "int8"


ALL_OBJECTS = {c.__name__: c for c in (Quantizer, AbsMaxQuantizer, QuantizationConfig,
                                        Int8QuantizationConfig)}


def serialize(obj) -> Optional[dict]:
    """Keras's serialized form of a quantizer or config (None stays None)."""
    if obj is None:
        return None
    return {"module": "keras.quantizers", "class_name": type(obj).__name__,
            "config": obj.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A quantizer or quantization config from ``serialize``'s output."""
    if config is None:
        return None
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = (custom_objects or {}).get(name) or ALL_OBJECTS.get(name)
    if cls is None:
        raise ValueError(f"Could not interpret quantizer identifier: {config!r} (nnforge has "
                         f"{sorted(ALL_OBJECTS)})")
    inner = {k: v for k, v in (config.get("config") or {}).items()}
    if cls is AbsMaxQuantizer and "value_range" in inner:
        inner["value_range"] = tuple(inner["value_range"])
    return cls.from_config(inner)


def get(identifier, **kwargs):
    """A quantizer from an object, a config dict or a class name."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret quantizer identifier: {identifier}")
        return cls(**kwargs)
    return identifier


__all__: Sequence[str] = ("AbsMaxQuantizer", "Int8QuantizationConfig", "QuantizationConfig",
                          "Quantizer", "abs_max_quantize", "deserialize", "get", "serialize")
