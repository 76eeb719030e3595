"""Dynamic loss scaling (``keras.optimizers.LossScaleOptimizer``)."""
from __future__ import annotations

import numpy as np

from nnforge import backend
from nnforge.core.tensor import Tensor, Variable

from .optimizer import Optimizer


class LossScaleOptimizer(Optimizer):
    """An optimizer wrapper that scales the loss and unscales the gradients
    (``keras.optimizers.LossScaleOptimizer``), for float16 training.

    ``fit`` multiplies the loss by ``scale_loss``; ``apply`` divides the gradients by the current
    scale and, when they are all finite, applies them with the inner optimizer (doubling the
    scale after ``dynamic_growth_steps`` finite steps in a row); otherwise it skips the step and
    halves the scale.

    Args:
        inner_optimizer: the ``Optimizer`` that applies the unscaled gradients.
        initial_scale: the starting scale (2**15).
        dynamic_growth_steps: finite steps between doublings (2000).
        name: the optimizer's name.

    Example:

    >>> opt = nnforge.optimizers.LossScaleOptimizer(nnforge.optimizers.SGD(0.01))
    >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, "
                             "simply set `loss_scale_factor` directly on the `inner_optimizer`.")
        defaults = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                    "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                    "ema_overwrite_frequency": None, "loss_scale_factor": None,
                    "gradient_accumulation_steps": None}
        for arg, default in defaults.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set "
                                 f"`{arg}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError("LossScaleOptimizer: inner_optimizer must be an Optimizer, got "
                            f"{type(inner_optimizer).__name__}")
        self.__dict__["inner_optimizer"] = inner_optimizer
        super().__init__(learning_rate=0.0, name=name)
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.step_counter = Variable(np.zeros((), np.int64), trainable=False,
                                     name="step_counter")
        self.dynamic_scale = Variable(np.asarray(initial_scale, np.float32), trainable=False,
                                      name="dynamic_scale")
        self.step_counter.data = self.step_counter.data.reshape(())
        self.dynamic_scale.data = self.dynamic_scale.data.reshape(())
        self._lso_ready = True

    # learning rate and iteration count are the inner optimizer's
    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if self.__dict__.get("_lso_ready"):
            self.inner_optimizer.learning_rate = value
        else:  # the base __init__'s placeholder
            self.__dict__["_learning_rate"] = 0.0

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        if self.__dict__.get("_lso_ready"):
            self.inner_optimizer.iterations = value

    @property
    def variables(self):
        return [self.step_counter, self.dynamic_scale] + list(self.inner_optimizer.variables)

    def _ensure_slots(self, v):
        return self.inner_optimizer._ensure_slots(v)

    def _keras_state(self, var_list) -> list:
        """Keras's order: this wrapper's own iteration count and learning rate (never stepped:
        0), ``step_counter``, ``dynamic_scale``, then the inner optimizer's state."""
        from .optimizer import _StateScalar
        own = [_StateScalar(lambda: 0, lambda value: None, np.int64),
               _StateScalar(lambda: 0.0, lambda value: None, np.float32),
               self.step_counter, self.dynamic_scale]
        return own + self.inner_optimizer._keras_state(var_list)

    def _keras_child_states(self, var_list) -> list:
        """Keras also writes the inner optimizer's state in its own group."""
        return [("inner_optimizer", self.inner_optimizer._keras_state(var_list))]

    def build(self, var_list):
        self.inner_optimizer.build(var_list)
        self.built = True

    def scale_loss(self, loss):
        """``loss`` times the current scale (what ``fit`` differentiates).

        Args:
            loss: a scalar loss Tensor.

        Returns:
            The scaled loss.
        """
        from nnforge import ops
        return ops.multiply(loss, float(self.dynamic_scale.data))

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        finite = all(bool(backend.of(d).xp.isfinite(d).all()) for d in (
            (g.data if isinstance(g, Tensor) else g) for g in grads if g is not None))
        if not finite:
            self.step_counter.data[...] = 0
            self.dynamic_scale.data[...] = self.dynamic_scale.data * np.float32(0.5)
            return self.iterations
        scale = np.float32(float(self.dynamic_scale.data))
        unscaled = [None if g is None else (g.data if isinstance(g, Tensor) else g) / scale
                    for g in grads]
        self.inner_optimizer.apply(unscaled, trainable_variables)
        if int(self.step_counter.data) == self.dynamic_growth_steps - 1:
            self.step_counter.data[...] = 0
            self.dynamic_scale.data[...] = self.dynamic_scale.data * np.float32(2.0)
        else:
            self.step_counter.data[...] = self.step_counter.data + 1
        return self.iterations

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        from nnforge.saving.serialization import serialize_keras_object
        return {"name": self.name,
                "inner_optimizer": serialize_keras_object(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from nnforge.saving.serialization import deserialize_keras_object
        config = dict(config)
        inner = deserialize_keras_object(config.pop("inner_optimizer"),
                                         custom_objects=custom_objects,
                                         module="keras.optimizers", kind="optimizer")
        return cls(inner, **config)
