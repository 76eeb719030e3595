"""Magnitude pruning with the TensorFlow Model Optimization Toolkit's names
(``tfmot.sparsity.keras``): ``prune_low_magnitude``, ``PolynomialDecay``, ``ConstantSparsity``,
``UpdatePruningStep`` and ``strip_pruning``.

Unlike tfmot, layers are not wrapped: ``prune_low_magnitude`` returns a copy of the model whose
prunable layers (``Dense``, ``Conv1D``, ``Conv2D``, ``DepthwiseConv2D``, ``Embedding``) carry a
pruning state (a schedule, a step and a 0/1 mask per weight), so the model keeps its layer names
and saves as a plain ``.keras`` file that Keras loads. During ``fit``, the ``UpdatePruningStep``
callback advances the step, recomputes each mask where the schedule says (the smallest
magnitudes of the kernel go to zero) and applies the masks after every batch.

Example:

>>> from nnforge import compression
>>> pruned = compression.prune_low_magnitude(model, pruning_schedule=compression.PolynomialDecay(
...     initial_sparsity=0.0, final_sparsity=0.8, begin_step=0, end_step=1000))
>>> pruned.compile(...); pruned.fit(x, y, callbacks=[compression.UpdatePruningStep()])
>>> final = compression.strip_pruning(pruned)
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from nnforge import backend
from nnforge.callbacks.callback import Callback
from nnforge.layers.layer import Layer
from nnforge.models.cloning import clone_model
from nnforge.models.quantize import leaf_layers
from nnforge.optimizers.schedules import StepSchedule

# layer class -> the weights tfmot prunes (its kernels, never biases)
_PRUNABLE = {"Dense": ("kernel",), "Conv1D": ("kernel",), "Conv2D": ("kernel",),
             "DepthwiseConv2D": ("kernel",), "Embedding": ("embeddings",)}


class PruningSchedule(StepSchedule):
    """Base of the pruning schedules: ``schedule(step) -> (should_prune, sparsity)``."""

    def __call__(self, step: int) -> Tuple[bool, float]:
        raise NotImplementedError

    def _should_prune(self, step: int, begin_step: int, end_step: int, frequency: int) -> bool:
        is_in_range = step >= begin_step and (end_step == -1 or step <= end_step)
        return is_in_range and (step - begin_step) % frequency == 0

    @staticmethod
    def _validate(begin_step, end_step, frequency, sparsities, name):
        if begin_step < 0:
            raise ValueError(f"{name}: begin_step should be >= 0, got {begin_step}")
        if end_step != -1 and end_step < begin_step:
            raise ValueError(f"{name}: end_step ({end_step}) should be >= begin_step "
                             f"({begin_step}), or -1")
        if frequency <= 0:
            raise ValueError(f"{name}: frequency should be > 0, got {frequency}")
        for label, s in sparsities:
            if not 0.0 <= s < 1.0:
                raise ValueError(f"{name}: {label} must be in the range [0, 1), got {s}")


class ConstantSparsity(PruningSchedule):
    """Prune to ``target_sparsity`` every ``frequency`` steps from ``begin_step`` to
    ``end_step`` (-1: to the end of training). tfmot's ``ConstantSparsity``.

    Args:
        target_sparsity: the fraction of each pruned weight set to zero, in [0, 1).
        begin_step: the first step that prunes.
        end_step: the last step that prunes (-1: no end).
        frequency: prune every ``frequency`` steps.
    """

    def __init__(self, target_sparsity: float, begin_step: int, end_step: int = -1,
                 frequency: int = 100):
        self._validate(begin_step, end_step, frequency,
                       [("target_sparsity", target_sparsity)], "ConstantSparsity")
        self.target_sparsity = float(target_sparsity)
        self.begin_step, self.end_step, self.frequency = int(begin_step), int(end_step), \
            int(frequency)

    def __call__(self, step: int) -> Tuple[bool, float]:
        return (self._should_prune(step, self.begin_step, self.end_step, self.frequency),
                self.target_sparsity)

    def get_config(self) -> dict:
        return {"class_name": "ConstantSparsity",
                "config": {"target_sparsity": self.target_sparsity,
                           "begin_step": self.begin_step, "end_step": self.end_step,
                           "frequency": self.frequency}}


class PolynomialDecay(PruningSchedule):
    """Sparsity rising from ``initial_sparsity`` to ``final_sparsity`` between ``begin_step``
    and ``end_step`` along ``final + (initial - final) * (1 - p) ** power``, p the fraction of
    the way; tfmot's ``PolynomialDecay``.

    Args:
        initial_sparsity: sparsity at ``begin_step``, in [0, 1).
        final_sparsity: sparsity from ``end_step`` on, in [0, 1).
        begin_step, end_step: where the ramp starts and ends (end_step > begin_step).
        power: the polynomial's exponent (3: prune fast first, slowly at the end).
        frequency: prune every ``frequency`` steps.
    """

    def __init__(self, initial_sparsity: float, final_sparsity: float, begin_step: int,
                 end_step: int, power: float = 3, frequency: int = 100):
        self._validate(begin_step, end_step, frequency,
                       [("initial_sparsity", initial_sparsity),
                        ("final_sparsity", final_sparsity)], "PolynomialDecay")
        if end_step == -1 or end_step <= begin_step:
            raise ValueError(f"PolynomialDecay: end_step ({end_step}) must be greater than "
                             f"begin_step ({begin_step})")
        self.initial_sparsity, self.final_sparsity = float(initial_sparsity), \
            float(final_sparsity)
        self.begin_step, self.end_step = int(begin_step), int(end_step)
        self.power, self.frequency = float(power), int(frequency)

    def __call__(self, step: int) -> Tuple[bool, float]:
        p = min(1.0, max(0.0, (step - self.begin_step) / (self.end_step - self.begin_step)))
        sparsity = self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * \
            (1.0 - p) ** self.power
        return self._should_prune(step, self.begin_step, self.end_step, self.frequency), \
            sparsity

    def get_config(self) -> dict:
        return {"class_name": "PolynomialDecay",
                "config": {"initial_sparsity": self.initial_sparsity,
                           "final_sparsity": self.final_sparsity, "begin_step": self.begin_step,
                           "end_step": self.end_step, "power": self.power,
                           "frequency": self.frequency}}


class PruningState:
    """A layer's pruning: its schedule, its step, and one 0/1 mask per pruned weight."""

    def __init__(self, layer: Layer, schedule: PruningSchedule):
        self.schedule = schedule
        self.step = -1
        self.weights = [getattr(layer, name) for name in _PRUNABLE[_prunable_class(layer)]]
        self.masks = [backend.of(w.data).xp.ones(w.shape, dtype=w.data.dtype)
                      for w in self.weights]

    def update_masks(self, sparsity: float) -> None:
        """Zero the ``sparsity`` fraction of smallest magnitudes of each weight."""
        for i, w in enumerate(self.weights):
            xp = backend.of(w.data).xp
            mag = xp.abs(w.data).reshape(-1)
            k = int(round(sparsity * mag.size))
            mask = xp.ones(mag.shape, dtype=w.data.dtype)
            if k > 0:
                order = xp.argsort(mag, kind="stable")
                mask[order[:k]] = 0
            self.masks[i] = mask.reshape(w.shape)

    def apply_masks(self) -> None:
        for w, m in zip(self.weights, self.masks):
            w.data *= m

    def sparsity(self) -> Tuple[int, int]:
        """(zeros, size) over the pruned weights."""
        zeros = sum(int((backend.to_numpy(w.data) == 0).sum()) for w in self.weights)
        return zeros, sum(int(np.prod(w.shape)) for w in self.weights)


def _prunable_class(layer) -> str:
    for c in type(layer).__mro__:
        if c.__name__ in _PRUNABLE and c.__module__.startswith("nnforge.layers."):
            return c.__name__
    return ""


def prunable_layers(model) -> List[Layer]:
    """The layers of ``model`` that ``prune_low_magnitude`` prunes."""
    return [layer for layer in leaf_layers(model) if _prunable_class(layer)]


def prune_low_magnitude(to_prune, pruning_schedule: PruningSchedule = None,
                        block_size=(1, 1), block_pooling_type: str = "AVG",
                        pruning_policy=None, sparsity_m_by_n=None, **kwargs):
    """Set a model (or one layer) up for magnitude pruning during training (tfmot's
    ``prune_low_magnitude``).

    Args:
        to_prune: a built ``Sequential``/functional model (copied, weights included: the
            original is untouched) or one layer (set up in place).
        pruning_schedule: a ``PolynomialDecay`` or ``ConstantSparsity`` (default:
            ``ConstantSparsity(0.5, 0)``).
        block_size, block_pooling_type, pruning_policy, sparsity_m_by_n: tfmot's; only
            their defaults ((1, 1), "AVG", None, None) are supported.

    Returns:
        The model (or layer) to compile and ``fit`` with ``UpdatePruningStep()``.

    Example:

    >>> pruned = prune_low_magnitude(model, ConstantSparsity(0.8, begin_step=0))
    """
    if kwargs:
        raise ValueError(f"prune_low_magnitude: unknown arguments {sorted(kwargs)}")
    if tuple(block_size) != (1, 1) or block_pooling_type != "AVG" or \
            pruning_policy is not None or sparsity_m_by_n is not None:
        raise ValueError("prune_low_magnitude: only block_size=(1, 1), block_pooling_type="
                         "'AVG', pruning_policy=None and sparsity_m_by_n=None are supported")
    schedule = pruning_schedule if pruning_schedule is not None else ConstantSparsity(0.5, 0)
    if not isinstance(schedule, PruningSchedule):
        raise TypeError(f"prune_low_magnitude: pruning_schedule must be a PruningSchedule "
                        f"(PolynomialDecay, ConstantSparsity), got {schedule!r}")
    if hasattr(to_prune, "layers") and hasattr(to_prune, "fit"):
        if not to_prune.built:
            raise ValueError(f"prune_low_magnitude: model '{to_prune.name}' is not built yet")
        model = clone_model(to_prune)
        model.set_weights(to_prune.get_weights())
        for layer in prunable_layers(model):
            if getattr(layer, "quantization_mode", None) is None:
                layer._pruning = PruningState(layer, schedule)
        return model
    if not isinstance(to_prune, Layer) or not _prunable_class(to_prune):
        raise ValueError(f"prune_low_magnitude: cannot prune {to_prune!r}: pass a model or one "
                         f"of the layers {sorted(_PRUNABLE)}")
    if not to_prune.built:
        raise ValueError(f"prune_low_magnitude: layer '{to_prune.name}' is not built yet")
    to_prune._pruning = PruningState(to_prune, schedule)
    return to_prune


def _states(model) -> List[PruningState]:
    return [layer._pruning for layer in leaf_layers(model)
            if getattr(layer, "_pruning", None) is not None]


class UpdatePruningStep(Callback):
    """Advance the pruning step every batch, update the masks when the schedule prunes, and
    keep the pruned weights at zero (tfmot's ``UpdatePruningStep``; required in ``fit``)."""

    def on_train_begin(self, logs=None):
        self._states = _states(self.model)
        if not self._states:
            raise ValueError("UpdatePruningStep: the model has no pruned layers; make it "
                             "with prune_low_magnitude")

    def on_train_batch_begin(self, batch, logs=None):
        for state in self._states:
            state.step += 1
            prune, sparsity = state.schedule(state.step)
            if prune:
                state.update_masks(sparsity)
            state.apply_masks()

    def on_train_batch_end(self, batch, logs=None):
        for state in self._states:
            state.apply_masks()

    def on_epoch_end(self, epoch, logs=None):
        for state in self._states:
            state.apply_masks()


def get_sparsity(model) -> Dict[str, float]:
    """Fraction of zeros in the pruned weights of each pruned layer, by layer name."""
    out = {}
    for layer in leaf_layers(model):
        state = getattr(layer, "_pruning", None)
        if state is not None:
            zeros, size = state.sparsity()
            out[layer.name] = zeros / size if size else 0.0
    return out


def strip_pruning(model):
    """The model without its pruning state (masks applied for good), ready to save or
    quantize (tfmot's ``strip_pruning``). Works in place and returns the model."""
    for layer in leaf_layers(model) if hasattr(model, "layers") else [model]:
        state = getattr(layer, "_pruning", None)
        if state is not None:
            state.apply_masks()
            del layer._pruning
    return model
