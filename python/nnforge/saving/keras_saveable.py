"""``KerasSaveable``: the base of every class that saving writes by name (layers, models, losses,
metrics, optimizers, schedules, initializers, regularizers, constraints).

Each family's base class sets ``_keras_module`` (the Keras module that holds the family, e.g.
``"keras.layers"``); every subclass defined inside nnforge registers itself under that module
when Python creates it, so ``saving`` finds classes by name without importing their families."""
from __future__ import annotations

from typing import Tuple

from .object_registration import register_builtin


class KerasSaveable:
    """Base of the classes saving writes by name (Keras 3's ``KerasSaveable``).

    Class attributes:
        _keras_module: the Keras module of the family, written as a config's ``module``.
        _keras_aliases: other class names this class is found under (e.g. ``Functional``).

    Example:

    >>> class Constant(KerasSaveable):   # inside nnforge: registered as keras.initializers>...
    ...     _keras_module = "keras.initializers"
    """

    _keras_module: str = ""
    _keras_aliases: Tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        register_builtin(cls)

    def _keras_class_and_module(self) -> Tuple[str, str]:
        """(class name, module) written for this object; an instance may override it (a
        functional ``Model`` is written as Keras's ``Functional``)."""
        return type(self).__name__, type(self)._keras_module
