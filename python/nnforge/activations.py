"""Activation functions by name (``keras.activations``)."""
from __future__ import annotations

from typing import Callable, Optional, Union

from nnforge import ops
# The activations that are exactly the op of the same name (the same arguments and defaults)
# are that op itself; keras.activations breadth (issue #17) comes from ops/nn_extra.py.
from nnforge.ops import (celu, elu, exponential, glu, hard_shrink, hard_sigmoid, hard_silu,
                         hard_tanh, leaky_relu, linear, log_sigmoid, log_softmax, mish, relu6,
                         selu, sigmoid, silu, soft_shrink, softmax, softplus, softsign,
                         sparse_plus, sparse_sigmoid, sparsemax, squareplus, tanh, tanh_shrink,
                         threshold)
from nnforge.saving.object_registration import get_registered_name, get_registered_object


def relu(x, negative_slope: float = 0.0, max_value=None, threshold: float = 0.0):
    """Rectified linear unit ``max(x, 0)`` (``keras.activations.relu``), with Keras's
    optional leak below zero and cap.

    Args:
        x: input tensor.
        negative_slope: the slope below zero (0: plain ReLU).
        max_value: the largest output value (None: no cap).
        threshold: Keras's threshold argument; the fast path is taken when it is 0.

    Returns:
        A float32 Tensor of the shape of ``x``.

    Example:

    >>> activations.relu([-1.0, 2.0]).numpy()
    array([0., 2.], dtype=float32)
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    y = ops.leaky_relu(x, negative_slope) if negative_slope else ops.relu(x)
    if max_value is not None:
        y = ops.minimum(y, max_value)
    return y


def gelu(x, approximate: bool = False):
    """Gaussian error linear unit (``keras.activations.gelu``): exact by default, as Keras's
    activation (``ops.gelu`` defaults to the tanh approximation, as ``keras.ops.gelu``).

    Args:
        x: input tensor.
        approximate: use the tanh approximation.

    Returns:
        A float32 Tensor of the shape of ``x``.

    Example:

    >>> activations.gelu([0.0]).numpy()
    array([0.], dtype=float32)
    """
    return ops.gelu(x, approximate)


swish = silu
hard_swish = hard_silu


_ALL = {f.__name__: f for f in (linear, relu, sigmoid, tanh, softmax, log_softmax, elu, selu,
                                gelu, silu, softplus, softsign, leaky_relu, relu6, hard_sigmoid,
                                exponential, celu, glu, hard_shrink, hard_silu, hard_tanh,
                                log_sigmoid, mish, soft_shrink, sparse_plus, sparse_sigmoid,
                                sparsemax, squareplus, tanh_shrink, threshold)}
_ALL["swish"] = silu
_ALL["hard_swish"] = hard_silu


def get(identifier: Union[str, Callable, None]) -> Callable:
    """The activation function for a name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        fn = _ALL.get(identifier.lower())
        if fn is not None:
            return fn
        # a custom function: its registered name ("package>name"), or its plain name, in
        # custom_objects / custom_object_scope / register_keras_serializable
        for name in dict.fromkeys((identifier, identifier.split(">")[-1])):
            fn = get_registered_object(name)
            if fn is not None:
                return fn
        raise ValueError(f"Unknown activation {identifier!r}; known: {sorted(_ALL)}. If it is "
                         "a custom function, register it with "
                         "@nnforge.saving.register_keras_serializable() or pass it in "
                         "custom_objects.")
    if isinstance(identifier, dict) and "config" in identifier:
        return get(identifier["config"].get("name", identifier.get("class_name")))
    raise TypeError(f"Could not interpret activation {identifier!r}")


def serialize(fn: Callable) -> Optional[str]:
    name = getattr(fn, "__name__", None)
    if name in _ALL:
        return name
    if name and name != "<lambda>":
        # a custom function serializes to its registered name, as in Keras 3
        return get_registered_name(fn)
    raise ValueError(f"Cannot serialize activation {fn!r}: give it a name (a def, registered "
                     "with @nnforge.saving.register_keras_serializable())")


def name_of(fn: Callable) -> Optional[str]:
    """The registered name of a built-in activation function, or None for a custom one.

    Args:
        fn: an activation function.

    Returns:
        Its Keras name (``"relu"``, ``"softmax"``, ...) when ``fn`` is nnforge's own function of
        that name, else None.

    Example:

    >>> activations.name_of(activations.relu)
    'relu'
    """
    name = getattr(fn, "__name__", None)
    return name if name in _ALL and _ALL[name] is fn else None


def deserialize(config, custom_objects: Optional[dict] = None) -> Callable:
    """The activation function for a serialized activation (``keras.activations.deserialize``).

    Args:
        config: a name (``"relu"``), a registered custom name, or a Keras 3 serialization
            dict (``{"module": "keras.activations", "class_name": "function",
            "config": "relu", ...}``).
        custom_objects: optional ``{name: function}`` consulted first.

    Returns:
        The activation function.

    Example:

    >>> activations.deserialize("relu") is activations.relu
    True
    """
    name = config
    if isinstance(config, dict):
        name = config.get("config", config.get("class_name"))
        if isinstance(name, dict):
            name = name.get("name")
    if custom_objects and isinstance(name, str):
        for key in (name, name.split(">")[-1]):
            if key in custom_objects:
                return custom_objects[key]
    if not isinstance(name, str):
        raise ValueError(f"Could not interpret serialized activation {config!r}")
    return get(name)
