"""The initializer, regularizer and constraint of a layer's weights, kept in one place.

Keras names them after the weight: a layer with a ``kernel`` and a ``bias`` takes the arguments
``kernel_initializer``, ``bias_initializer``, ``kernel_regularizer``, ... keeps them under the same
attribute names and writes them under the same config keys (the initializers first, then the
regularizers, then the constraints). These helpers resolve, use and serialize those three options
for any set of weights, so that each layer states only which weights it has."""
from __future__ import annotations

from nnforge import constraints, initializers, regularizers

# (option, the module that resolves and serializes it), in Keras's config order
_OPTIONS = (("initializer", initializers), ("regularizer", regularizers),
            ("constraint", constraints))


def set_weight_options(layer, prefix: str = "", **weights) -> None:
    """Resolves each weight's initializer, regularizer and constraint and keeps them on ``layer``
    as ``<prefix><weight>_initializer``, ``..._regularizer`` and ``..._constraint``.

    Args:
        layer: the layer that owns the weights.
        prefix: prepended to the attribute names: ``""`` for Keras's public attributes, ``"_"``
            for a layer that keeps them private (``MultiHeadAttention``).
        **weights: weight name -> ``(initializer, regularizer, constraint)`` identifiers (a
            name, a config dict, an instance or None, as ``initializers.get`` and the others
            accept).

    Returns:
        None.

    Example:

    >>> set_weight_options(layer, kernel=("glorot_uniform", None, None),
    ...                    bias=("zeros", None, None))
    >>> layer.kernel_initializer
    <nnforge.initializers.GlorotUniform ...>
    """
    for weight, values in weights.items():
        for (option, module), value in zip(_OPTIONS, values):
            setattr(layer, f"{prefix}{weight}_{option}", module.get(value))


def add_weight_from_options(layer, weight: str, shape, name=None, initializer=None):
    """``layer.add_weight`` with the initializer, regularizer and constraint kept for
    ``weight`` by ``set_weight_options``.

    Args:
        layer: the layer that owns the weight.
        weight: the name its options are kept under (``"kernel"``, ``"recurrent"``, ...).
        shape: the weight's shape.
        name: the variable's name (default: ``weight``).
        initializer: overrides the kept initializer (e.g. one derived from it).

    Returns:
        The new variable.

    Example:

    >>> layer.kernel = add_weight_from_options(layer, "kernel", (3, 4))
    """
    return layer.add_weight(
        shape=shape, name=name or weight,
        initializer=getattr(layer, f"{weight}_initializer") if initializer is None
        else initializer,
        regularizer=getattr(layer, f"{weight}_regularizer"),
        constraint=getattr(layer, f"{weight}_constraint"))


def weight_options_config(layer, *weights, prefix: str = "") -> dict:
    """The config entries of the weights' options: every weight's initializer, then every
    regularizer, then every constraint (Keras's order), serialized.

    Args:
        layer: the layer that keeps the options.
        *weights: the weight names, in config order.
        prefix: as ``set_weight_options``.

    Returns:
        A dict ``{"<weight>_initializer": ..., ..., "<weight>_constraint": ...}``.

    Example:

    >>> sorted(weight_options_config(layer, "kernel"))
    ['kernel_constraint', 'kernel_initializer', 'kernel_regularizer']
    """
    return {f"{weight}_{option}": module.serialize(getattr(layer, f"{prefix}{weight}_{option}"))
            for option, module in _OPTIONS for weight in weights}
