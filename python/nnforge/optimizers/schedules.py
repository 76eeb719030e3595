"""Learning-rate schedules (``keras.optimizers.schedules``): ``schedule(step) -> float``."""
from __future__ import annotations

import math
from typing import Sequence

from nnforge.saving.keras_saveable import KerasSaveable
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object


class StepSchedule:
    """Base of the schedules of a training step: ``schedule(step)`` gives the value at that
    step, and the ``get_config`` dict rebuilds the schedule through ``from_config``. The
    learning-rate schedules here and the pruning schedules of ``nnforge.compression`` derive
    from it.

    Example:

    >>> class Halving(StepSchedule):
    ...     def __init__(self, start):
    ...         self.start = start
    ...     def __call__(self, step):
    ...         return self.start / 2 ** step
    ...     def get_config(self):
    ...         return {"start": self.start}
    >>> Halving.from_config(Halving(1.0).get_config())(2)
    0.25
    """

    def __call__(self, step: int):
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict):
        """The schedule of a ``get_config`` dict."""
        return cls(**config)


class LearningRateSchedule(StepSchedule, KerasSaveable):
    """Base class: ``schedule(step)`` returns the learning rate at that optimizer step."""

    _keras_module = "keras.optimizers.schedules"

    def __call__(self, step: int) -> float:
        raise NotImplementedError


class _StepDecay(LearningRateSchedule):
    """Base of the schedules that decay ``initial_learning_rate`` by ``decay_rate`` over each
    ``decay_steps`` steps (whole periods only with ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool, name: str):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def _periods(self, step):
        """The decay periods elapsed at ``step`` (floored if staircase)."""
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored if staircase)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"ExponentialDecay: decay_steps must be > 0, got {decay_steps}")
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._periods(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``."""

    def __init__(self, boundaries: Sequence[int], values: Sequence[float],
                 name: str = "PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError("PiecewiseConstantDecay: values must have one more element than "
                             f"boundaries, got {len(values)} and {len(boundaries)}")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate / (1 + self.decay_rate * self._periods(step))


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup, as Keras 3."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target=None, warmup_steps: int = 0):
        self.initial_learning_rate, self.decay_steps, self.alpha = (initial_learning_rate,
                                                                    decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def __call__(self, step):
        if self.warmup_target is not None and step < self.warmup_steps:
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) \
                * step / self.warmup_steps
        start = self.warmup_target if self.warmup_target is not None else self.initial_learning_rate
        s = min(step - self.warmup_steps, self.decay_steps)
        cos = 0.5 * (1 + math.cos(math.pi * s / self.decay_steps))
        return start * ((1 - self.alpha) * cos + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_CLASSES = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay,
                                    CosineDecay)}


def serialize(s: LearningRateSchedule) -> dict:
    """The serialized form of a schedule (through the registry)."""
    return serialize_keras_object(s)


def deserialize(config: dict) -> LearningRateSchedule:
    """A schedule from its serialized form."""
    return deserialize_keras_object(config, module="keras.optimizers.schedules",
                                    kind="learning-rate schedule")
