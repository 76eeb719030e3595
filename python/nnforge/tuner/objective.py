"""The quantity a search optimizes: ``Objective(name, direction)`` or a metric name whose direction
is inferred as keras-tuner infers it."""
from __future__ import annotations

from typing import Optional, Union

# Metric names keras-tuner maximizes (its _MAX_METRICS classes and _MAX_METRIC_FNS functions).
_MAX_NAMES = {
    "accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "true_positives",
    "true_negatives", "precision", "recall", "auc", "sensitivity_at_specificity",
    "specificity_at_sensitivity", "f1_score", "fbeta_score", "r2_score",
}
# Names keras-tuner minimizes: losses and the error metrics of keras.metrics / keras.losses.
_MIN_NAMES = {
    "loss", "crossentropy", "ce", "mse", "mae", "mape", "msle", "mean_squared_error",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "root_mean_squared_error", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_crossentropy", "kl_divergence", "kld", "poisson", "hinge", "squared_hinge",
    "categorical_hinge", "logcosh", "log_cosh", "huber", "cosine_similarity",
    "false_positives", "false_negatives",
}


def infer_direction(name: str) -> Optional[str]:
    """``"min"``/``"max"`` for a metric name (``val_`` and ``weighted_`` prefixes stripped), or
    None when it cannot be told, as keras-tuner's ``infer_metric_direction``."""
    base = name
    if base.startswith("val_"):
        base = base[len("val_"):]
    if base.startswith("weighted_"):
        base = base[len("weighted_"):]
    if base in _MAX_NAMES:
        return "max"
    if base in _MIN_NAMES:
        return "min"
    return None


class Objective:
    """The metric a search optimizes and whether lower or higher is better.

    Args:
        name: a key of the epoch logs of ``fit`` (``"val_accuracy"``, ``"val_loss"``, ...).
        direction: ``"min"`` or ``"max"``.

    Example::

        tuner = RandomSearch(build_model, objective=Objective("val_auc", "max"), max_trials=5)
    """

    def __init__(self, name: str, direction: str):
        if direction not in ("min", "max"):
            raise ValueError(f"Objective {name!r}: direction must be 'min' or 'max', got "
                             f"{direction!r}")
        self.name = name
        self.direction = direction

    def better_than(self, a: float, b: float) -> bool:
        """Whether value ``a`` is strictly better than ``b``."""
        return a > b if self.direction == "max" else a < b

    def get_config(self) -> dict:
        return {"name": self.name, "direction": self.direction}

    def __eq__(self, other) -> bool:
        return isinstance(other, Objective) and self.get_config() == other.get_config()

    def __repr__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'


def create_objective(objective: Union[None, str, Objective]) -> Objective:
    """An ``Objective`` from what a tuner was given (None means ``"val_loss"``)."""
    if objective is None:
        objective = "val_loss"
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        direction = infer_direction(objective)
        if direction is None:
            raise ValueError(
                f'Could not infer optimization direction ("min" or "max") for unknown metric '
                f'"{objective}". Please specify the objective as an Objective, for example '
                f'nnforge.tuner.Objective("{objective}", direction="min").')
        return Objective(objective, direction)
    raise ValueError(f"objective must be a metric name or an Objective, got "
                     f"{type(objective).__name__}: {objective!r}")
