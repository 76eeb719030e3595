"""The tuners: ``RandomSearch`` and ``GridSearch`` (no dependency), ``BayesianOptimization``
and ``Hyperband`` (Optuna's TPE sampler and Hyperband pruner)."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional

from .engines import NativeEngine, OptunaEngine, import_optuna, make_pruner
from .tuner import Tuner


class RandomSearch(Tuner):
    """Random search (keras-tuner's ``RandomSearch``).

    Args:
        hypermodel, objective, max_trials, hyperparameters, directory, project_name, overwrite,
            ...: see ``Tuner``.
        seed: seeds the draws (the same trial id draws the same values in every run).
        pruner: None (no dependency: every trial trains all its epochs), ``"median"``,
            ``"hyperband"`` or an ``optuna.pruners`` object: the trials then run in an Optuna
            study (random sampler) that prunes them on their per-epoch objective.

    Example::

        tuner = RandomSearch(build_model, objective="val_accuracy", max_trials=10,
                             directory="runs", project_name="mnist")
        tuner.search(x, y, epochs=5, validation_split=0.1)
        model = tuner.get_best_models(1)[0]
    """

    def __init__(self, hypermodel=None, objective=None, max_trials: Optional[int] = 10,
                 seed: Optional[int] = None, hyperparameters=None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, pruner=None, **kwargs):
        self.seed = seed
        self._pruner = make_pruner(pruner, "RandomSearch")
        super().__init__(hypermodel, objective, max_trials, hyperparameters, tune_new_entries,
                         allow_new_entries, **kwargs)

    def _make_engine(self):
        if self._pruner is None:
            return NativeEngine(self.hyperparameters.space, "random", self.seed)
        optuna = import_optuna("RandomSearch with a pruner")
        return OptunaEngine(self._project.journal_file, self.hyperparameters.space,
                            optuna.samplers.RandomSampler(seed=self.seed), self._pruner,
                            self.objective.direction)


class GridSearch(Tuner):
    """Every combination of the hyperparameters' values (keras-tuner's ``GridSearch``), first
    declared changing slowest; needs no dependency.

    ``Int``/``Choice``/``Boolean`` walk all their values, a ``Float`` with a step its steps and
    one without a step 10 evenly spaced points. ``max_trials=None`` (the default) walks the
    whole grid.
    """

    def __init__(self, hypermodel=None, objective=None, max_trials: Optional[int] = None,
                 seed: Optional[int] = None, hyperparameters=None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, **kwargs):
        self.seed = seed
        super().__init__(hypermodel, objective, max_trials, hyperparameters, tune_new_entries,
                         allow_new_entries, **kwargs)

    def _make_engine(self):
        return NativeEngine(self.hyperparameters.space, "grid", self.seed)


class BayesianOptimization(Tuner):
    """Model-based search: Optuna's TPE sampler (a Bayesian optimizer over a tree-structured
    density model, which handles conditional and categorical hyperparameters; keras-tuner uses
    a Gaussian process). Needs Optuna (``pip install "nnforge[tune]"``).

    Args:
        num_initial_points: random trials before the model is used (default: 3 per tuned
            hyperparameter, at least 2, as keras-tuner's default).
        seed: seeds the sampler.
        pruner: None, ``"median"``, ``"hyperband"`` or an ``optuna.pruners`` object.
        Others: see ``Tuner``.
    """

    def __init__(self, hypermodel=None, objective=None, max_trials: Optional[int] = 10,
                 num_initial_points: Optional[int] = None, seed: Optional[int] = None,
                 hyperparameters=None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, pruner=None, **kwargs):
        import_optuna("BayesianOptimization")
        self.seed = seed
        self.num_initial_points = num_initial_points
        self._pruner = make_pruner(pruner, "BayesianOptimization")
        super().__init__(hypermodel, objective, max_trials, hyperparameters, tune_new_entries,
                         allow_new_entries, **kwargs)

    def _make_engine(self):
        optuna = import_optuna("BayesianOptimization")
        n = self.num_initial_points
        if n is None:
            n = max(2, 3 * sum(hp.kind != "Fixed" for hp in self.hyperparameters.space))
        sampler = optuna.samplers.TPESampler(n_startup_trials=n, seed=self.seed)
        return OptunaEngine(self._project.journal_file, self.hyperparameters.space, sampler,
                            self._pruner, self.objective.direction)


def hyperband_trials(max_epochs: int, factor: int, iterations: int) -> int:
    """How many configurations keras-tuner's Hyperband starts: per iteration, bracket ``s``
    (``s_max`` down to 0) starts ``ceil((s_max + 1) / (s + 1) * factor ** s)``."""
    s_max = int(math.floor(math.log(max_epochs, factor) + 1e-9))
    per_iteration = sum(int(math.ceil((s_max + 1) / (s + 1) * factor ** s))
                        for s in range(s_max + 1))
    return per_iteration * iterations


class Hyperband(Tuner):
    """Hyperband (keras-tuner's ``Hyperband``): random configurations trained up to
    ``max_epochs`` epochs, stopped early by Optuna's ``HyperbandPruner`` (successive halving
    over several brackets). Needs Optuna.

    Args:
        max_epochs: epochs of a trial that is never pruned (replaces ``fit``'s ``epochs``).
        factor: the reduction factor between rungs.
        hyperband_iterations: how many times the set of brackets is run.
        max_trials: trials in total; default: as many configurations as keras-tuner's
            Hyperband would start (``hyperband_trials``).
        seed: seeds the sampler. Others: see ``Tuner``.
    """

    def __init__(self, hypermodel=None, objective=None, max_epochs: int = 100, factor: int = 3,
                 hyperband_iterations: int = 1, seed: Optional[int] = None,
                 hyperparameters=None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_trials: Optional[int] = None, **kwargs):
        optuna = import_optuna("Hyperband")
        if int(max_epochs) < 1 or int(factor) < 2:
            raise ValueError(f"Hyperband: max_epochs must be >= 1 and factor >= 2, got "
                             f"max_epochs={max_epochs}, factor={factor}")
        self.max_epochs, self.factor = int(max_epochs), int(factor)
        self.hyperband_iterations = int(hyperband_iterations)
        self.seed = seed
        self._pruner = optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=self.max_epochs, reduction_factor=self.factor)
        if max_trials is None:
            max_trials = hyperband_trials(self.max_epochs, self.factor,
                                          self.hyperband_iterations)
        super().__init__(hypermodel, objective, max_trials, hyperparameters, tune_new_entries,
                         allow_new_entries, **kwargs)

    def _make_engine(self):
        optuna = import_optuna("Hyperband")
        return OptunaEngine(self._project.journal_file, self.hyperparameters.space,
                            optuna.samplers.RandomSampler(seed=self.seed), self._pruner,
                            self.objective.direction)

    def _fit_epochs(self, fit_kwargs: Dict[str, Any]) -> Dict[str, Any]:
        fit_kwargs["epochs"] = self.max_epochs
        return fit_kwargs
