"""``MonitorCallback``: shared logic of callbacks that watch one logged quantity."""
from __future__ import annotations

import operator
import re
import warnings

import numpy as np

from .callback import Callback

# Names whose values get better as they grow. Anything ending in "loss", an error or a
# divergence gets better as it shrinks.
_UP_NAMES = re.compile(
    r"(^|_)(acc|accuracy|auc|precision|recall|f1_score|fbeta_score|r2_score|iou|"
    r"true_positives|true_negatives|top_k_categorical_accuracy|"
    r"sparse_top_k_categorical_accuracy)$"
)
_DOWN_NAMES = re.compile(
    r"(loss|error|crossentropy|hinge|divergence|mse|mae|mape|msle|rmse|"
    r"false_positives|false_negatives|logcosh|log_cosh|poisson|huber)$"
)


def _metric_direction(model, metric_name):
    """'up'/'down' from a metric object's ``_direction`` (as Keras), or None."""
    metrics = getattr(model, "metrics", None)
    if not metrics:
        return None
    try:
        stack = list(metrics)
    except TypeError:
        return None
    while stack:
        m = stack.pop()
        nested = getattr(m, "metrics", None)
        if isinstance(nested, (list, tuple)):
            stack.extend(nested)
        if getattr(m, "name", None) == metric_name and hasattr(m, "_direction"):
            return m._direction
    return None


class MonitorCallback(Callback):
    """Base for callbacks that monitor a quantity and decide what counts as an improvement.

    Args:
        monitor: the logged name to watch (``'val_loss'``, ``'accuracy'``, ...).
        mode: ``'min'``, ``'max'`` or ``'auto'`` (inferred from the name: losses and errors
            are minimised, accuracy-like metrics maximised; a metric object's
            ``_direction`` is used when the model exposes it).
        baseline: initial best value, or None.
        min_delta: minimum change that counts as an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _infer_op(self):
        if self.mode == "min":
            return operator.lt
        if self.mode == "max":
            return operator.gt
        name = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
        direction = _metric_direction(self.model, name)
        if direction == "up":
            return operator.gt
        if direction == "down":
            return operator.lt
        if _DOWN_NAMES.search(name):
            return operator.lt
        if _UP_NAMES.search(name):
            return operator.gt
        raise ValueError(
            f"{type(self).__name__} callback received monitor={self.monitor}, but nnforge "
            "isn't able to automatically determine whether that metric should be maximized "
            "or minimized. Pass `mode='max'` in order to monitor based on the highest metric "
            "value, or pass `mode='min'` in order to use the lowest value."
        )

    def _set_monitor_op(self):
        self.monitor_op = self._infer_op()
        if self.monitor_op is operator.lt:
            self.min_delta = -abs(self.min_delta)
        else:
            self.min_delta = abs(self.min_delta)
        if self.best is None:
            self.best = np.inf if self.monitor_op is operator.lt else -np.inf

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
