"""``OptimizerMap`` and ``MultiOptimizer``: different optimizers for different variables."""
from __future__ import annotations

import re
from collections.abc import MutableMapping

import numpy as np

from nnforge.saving.keras_saveable import KerasSaveable

from .loss_scale_optimizer import LossScaleOptimizer
from .optimizer import Optimizer


class OptimizerMap(MutableMapping, KerasSaveable):
    """Variable path -> optimizer (``keras.optimizers.OptimizerMap``): a key matches a variable
    path exactly, or as a regular expression (``re.fullmatch``); unmatched variables get
    ``default_optimizer``. Calling the map on a variable returns its optimizer.

    Args:
        default_optimizer: the optimizer of the variables no key matches.
        optimizer_map: a dict of path patterns to optimizers.

    Example:

    >>> opt_map = OptimizerMap(nnforge.optimizers.Adam(1e-3))
    >>> opt_map["encoder/.*"] = nnforge.optimizers.SGD(1e-2)
    >>> opt_map["encoder/dense/kernel"]
    <SGD ...>
    """

    _keras_module = "keras.optimizers"

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("OptimizerMap: default_optimizer must be a Keras Optimizer instance. "
                            f"Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError("OptimizerMap: optimizer_map must be a dictionary. Received: "
                            f"{optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = dict(optimizer_map or {})

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matching) > 1:
            raise ValueError(f"OptimizerMap: multiple optimizers assigned to variable {key}.")
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(f"OptimizerMap: '{key}' already exists in the OptimizerMap with "
                             f"value {self._optimizer_map[key]}. Please make sure to not use "
                             "duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError("OptimizerMap: optimizer must be a Keras Optimizer instance. "
                             f"Received: {optimizer}")
        if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
            raise ValueError(f"OptimizerMap: optimizer cannot be {type(optimizer).__name__}.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        from nnforge.saving.serialization import serialize_keras_object
        return {"default_optimizer": serialize_keras_object(self._default_optimizer),
                "optimizer_map": {k: serialize_keras_object(v)
                                  for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from nnforge.saving.serialization import deserialize_keras_object

        def rebuild(c):
            return deserialize_keras_object(c, custom_objects=custom_objects,
                                            module="keras.optimizers", kind="optimizer")
        return cls(rebuild(config["default_optimizer"]),
                   {k: rebuild(v) for k, v in (config.get("optimizer_map") or {}).items()})


class _NoRate:
    """The learning rate slot of a MultiOptimizer: its rates are the inner optimizers'."""

    def __call__(self):
        return 0.0


class MultiOptimizer(Optimizer):
    """Apply different optimizers to different variables (``keras.optimizers.MultiOptimizer``).

    Each variable's optimizer is ``optimizer_map(variable)``; each inner optimizer steps on its
    own variables. The learning rate is the inner optimizers' (reading or setting it here is an
    error, as in Keras).

    Args:
        optimizer_map: an ``OptimizerMap`` (or a callable variable -> optimizer).
        loss_scale_factor: passed to the inner optimizers (kept for Keras compatibility).
        name: the optimizer's name.

    Example:

    >>> opt_map = nnforge.optimizers.OptimizerMap(nnforge.optimizers.Adam(1e-3),
    ...                                            {".*/bias": nnforge.optimizers.SGD(0.1)})
    >>> model.compile(optimizer=nnforge.optimizers.MultiOptimizer(opt_map), loss="mse")
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, name=name)
        self.__dict__["_learning_rate"] = _NoRate()
        self._optimizer_map = optimizer_map
        self.loss_scale_factor = loss_scale_factor
        self._inner_optimizers = []
        if hasattr(optimizer_map, "values"):
            for opt in optimizer_map.values():
                if opt not in self._inner_optimizers:
                    self._inner_optimizers.append(opt)
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None and default not in self._inner_optimizers:
            self._inner_optimizers.append(default)
        self._var_opt = {}  # id(variable) -> its inner optimizer

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the "
                             "learning rate on the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        if "_learning_rate" in self.__dict__:
            raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the "
                                 "learning rate on the individual sub-optimizers instead.")

    @property
    def optimizers(self):
        """The inner optimizers."""
        return self._inner_optimizers

    def _optimizer_of(self, var):
        opt = self._var_opt.get(id(var))
        if opt is None:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"MultiOptimizer: optimizer for variable {var.path} is not an "
                                 "Optimizer instance.")
            if isinstance(opt, (LossScaleOptimizer, MultiOptimizer)):
                raise ValueError(f"MultiOptimizer: {type(opt).__name__} cannot be used inside "
                                 "a MultiOptimizer.")
            if opt not in self._inner_optimizers:
                self._inner_optimizers.append(opt)
            self._var_opt[id(var)] = opt
        return opt

    def build(self, var_list):
        for v in var_list:
            self._optimizer_of(v)._ensure_slots(v)
        self.built = True

    def _ensure_slots(self, v):
        return self._optimizer_of(v)._ensure_slots(v)

    def _keras_state(self, var_list) -> list:
        """Keras's order: the iteration count, a learning rate of 0, then each inner
        optimizer's state over its own variables."""
        from .optimizer import _StateScalar

        def set_iterations(value):
            self.iterations = int(value)
        state = [_StateScalar(lambda: self.iterations, set_iterations, np.int64),
                 _StateScalar(lambda: 0.0, lambda value: None, np.float32)]
        for v in var_list:
            self._optimizer_of(v)
        for opt in self._inner_optimizers:
            state += opt._keras_state([v for v in var_list if self._var_opt.get(id(v)) is opt])
        return state

    def _keras_child_states(self, var_list) -> list:
        """Keras also writes each inner optimizer's state in ``optimizers/<class in
        snake_case>[_n]``."""
        from nnforge.naming import to_snake_case
        for v in var_list:
            self._optimizer_of(v)
        out, counts = [], {}
        for opt in self._inner_optimizers:
            base = to_snake_case(type(opt).__name__)
            n = counts.get(base, 0)
            counts[base] = n + 1
            mine = [v for v in var_list if self._var_opt.get(id(v)) is opt]
            out.append((f"optimizers/{base if n == 0 else f'{base}_{n}'}",
                        opt._keras_state(mine)))
        return out

    @property
    def variables(self):
        out = []
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    def _apply(self, pairs):
        groups = {}
        for g, v in pairs:
            groups.setdefault(id(self._optimizer_of(v)), []).append((g, v))
        for opt in self._inner_optimizers:
            sub = groups.get(id(opt))
            if sub:
                opt._apply(sub)
        self.__dict__["_iterations"] = self.iterations + 1
        return self.iterations

    def finalize_variable_values(self, var_list):
        for opt in self._inner_optimizers:
            mine = [v for v in var_list if self._var_opt.get(id(v)) is opt]
            if mine:
                opt.finalize_variable_values(mine)

    @property
    def iterations(self):
        return self.__dict__.get("_iterations", 0)

    @iterations.setter
    def iterations(self, value):
        # a restored count also restores the inner optimizers' (they step together)
        for opt in self.__dict__.get("_inner_optimizers", []):
            opt.iterations = value
        self.__dict__["_iterations"] = value

    def get_config(self):
        from nnforge.saving.serialization import serialize_keras_object
        return {"optimizer_map": serialize_keras_object(self._optimizer_map),
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from nnforge.saving.serialization import deserialize_keras_object
        config = dict(config)
        config["optimizer_map"] = deserialize_keras_object(
            config["optimizer_map"], custom_objects=custom_objects, module="keras.optimizers",
            kind="optimizer map")
        return cls(**config)
