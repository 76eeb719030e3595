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
    # Config keys Keras 3 writes for features nnforge does not have: dropped by from_config
    # when they hold their inactive default (None), refused otherwise.
    _KERAS_ONLY_KEYS: Tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        register_builtin(cls)

    @classmethod
    def _without_keras_only_keys(cls, config: dict) -> dict:
        """A copy of ``config`` without ``_KERAS_ONLY_KEYS`` that hold None; ValueError naming
        the class, the key and its value for one that holds anything else."""
        config = dict(config)
        for key in cls._KERAS_ONLY_KEYS:
            if key in config:
                if config[key] is not None:
                    raise ValueError(f"{cls.__name__}.from_config: '{key}'={config[key]!r} is not "
                                     "supported by nnforge")
                del config[key]
        return config

    def _keras_class_and_module(self) -> Tuple[str, str]:
        """(class name, module) written for this object; an instance may override it (a
        functional ``Model`` is written as Keras's ``Functional``)."""
        return type(self).__name__, type(self)._keras_module
