"""Where a trial's hyperparameters come from, and who decides to prune it.

``NativeEngine`` (random draws or a grid walk, no dependency) and ``OptunaEngine`` (an Optuna
study driven through ask/tell, with per-epoch reports to its pruner) share one interface. The
tuner calls ``new_trial`` while it holds the project's file lock, so trial claims never race:
the native engine numbers trials from the files on disk, and the Optuna engine's study lives in
a ``JournalStorage`` that several processes may write at once.

Why a journal file and not SQLite: Optuna recommends ``JournalFileBackend`` for several processes
on one machine or a shared (NFS) folder without a database server; SQLite locks the whole
database per write and answers concurrent writers with "database is locked" errors.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from .hyperparameters import Boolean, Choice, Fixed, Float, HyperParameter, Int

_TRIES = 100  # draws before a random search decides its space holds nothing new


def values_key(values: Dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=repr)


def sample_space(space: List[HyperParameter], draw: Callable[[HyperParameter], Any]
                 ) -> Dict[str, Any]:
    """One value per active hyperparameter, in declaration order (parents before children)."""
    values: Dict[str, Any] = {}
    for hp in space:
        if hp.name not in values and hp.is_active(values):
            values[hp.name] = draw(hp)
    return values


def grid(space: List[HyperParameter], i: int = 0, values: Optional[Dict[str, Any]] = None
         ) -> Iterator[Dict[str, Any]]:
    """Every combination of the active hyperparameters' grid values; the first declared one
    changes slowest, the last fastest (as keras-tuner's GridSearch)."""
    values = {} if values is None else values
    if i == len(space):
        yield dict(values)
        return
    hp = space[i]
    if hp.name in values or not hp.is_active(values):
        yield from grid(space, i + 1, values)
        return
    for v in hp.grid_values():
        values[hp.name] = v
        yield from grid(space, i + 1, values)
        del values[hp.name]


def _seen(trials: List[dict]) -> set:
    return {values_key(t["hyperparameters"]) for t in trials}


class NativeEngine:
    """Random draws (``mode="random"``) or a grid walk (``mode="grid"``) without any library.

    Random draws come from ``numpy.random.default_rng([seed, trial_id, attempt])``: with a seed
    the same trial id gets the same draw in every run; draws equal to an earlier trial's are
    rejected (up to 100 attempts, then the space counts as exhausted, as in keras-tuner).
    """

    prunes = False

    def __init__(self, space: List[HyperParameter], mode: str, seed: Optional[int]):
        if mode not in ("random", "grid"):
            raise ValueError(f"NativeEngine: mode must be 'random' or 'grid', got {mode!r}")
        self.space, self.mode = space, mode
        self.seed = int(np.random.SeedSequence().entropy % (2 ** 32)) if seed is None else seed

    def new_trial(self, trials: List[dict], values: Optional[Dict[str, Any]] = None
                  ) -> Optional[Tuple[int, Dict[str, Any], Any]]:
        trial_id = max((t["trial_id"] for t in trials), default=-1) + 1
        if values is not None:
            return trial_id, dict(values), None
        seen = _seen(trials)
        if self.mode == "grid":
            for v in grid(self.space):
                if values_key(v) not in seen:
                    return trial_id, v, None
            return None
        for attempt in range(_TRIES):
            rng = np.random.default_rng([self.seed, trial_id, attempt])
            v = sample_space(self.space, lambda hp: hp.sample(rng))
            if values_key(v) not in seen:
                return trial_id, v, None
        return None

    def report(self, handle, step: int, value: float) -> bool:
        return False

    def finish(self, handle, status: str, score: Optional[float]) -> None:
        pass

    def interrupted(self, trial: dict) -> None:
        pass


def import_optuna(what: str):
    try:
        import optuna
    except ImportError as e:
        raise ImportError(f"{what} needs Optuna: pip install optuna (or pip install "
                          f"\"nnforge[tune]\")") from e
    return optuna


def _suggest(trial, hp: HyperParameter) -> Any:
    """``hp``'s value for an Optuna trial, through the matching ``suggest_*``."""
    if isinstance(hp, Fixed):
        return hp.value
    if isinstance(hp, Boolean):
        return trial.suggest_categorical(hp.name, [False, True])
    if isinstance(hp, Choice):
        return trial.suggest_categorical(hp.name, hp.values)
    if isinstance(hp, (Int, Float)) and hp.sampling == "log" and hp.step is not None:
        # keras-tuner's multiplicative steps have no Optuna distribution: a categorical of them.
        return trial.suggest_categorical(hp.name, hp.grid_values())
    if isinstance(hp, Int):
        step = hp.step or 1
        high = hp.min_value + (hp.max_value - hp.min_value) // step * step
        if hp.sampling == "log":
            return trial.suggest_int(hp.name, hp.min_value, hp.max_value, log=True)
        return trial.suggest_int(hp.name, hp.min_value, high, step=step)
    if isinstance(hp, Float):
        if hp.step is not None:
            high = hp.grid_values()[-1]
            return trial.suggest_float(hp.name, hp.min_value, high, step=hp.step)
        return trial.suggest_float(hp.name, hp.min_value, hp.max_value,
                                   log=hp.sampling == "log")
    raise TypeError(f"no Optuna distribution for {type(hp).__name__} {hp.name!r}")


def make_pruner(pruner, what: str):
    """An Optuna pruner from None, ``"median"``, ``"hyperband"`` or an Optuna pruner object."""
    if pruner is None:
        return None
    optuna = import_optuna(f"{what}(pruner={pruner!r})")
    if isinstance(pruner, str):
        if pruner == "median":
            return optuna.pruners.MedianPruner()
        if pruner == "hyperband":
            return optuna.pruners.HyperbandPruner()
        raise ValueError(f"{what}: pruner must be None, 'median', 'hyperband' or an "
                         f"optuna.pruners.BasePruner, got {pruner!r}")
    if not isinstance(pruner, optuna.pruners.BasePruner):
        raise ValueError(f"{what}: pruner must be None, 'median', 'hyperband' or an "
                         f"optuna.pruners.BasePruner, got {type(pruner).__name__}")
    return pruner


class OptunaEngine:
    """An Optuna study in ``study.journal`` driven by ask/tell.

    Args:
        journal_file: the ``JournalFileBackend`` file (created on first use).
        space: the search space; values come from ``trial.suggest_*`` in declaration order, so
            a conditional hyperparameter is suggested only when it is active.
        sampler, pruner: Optuna objects (pruner may be None: no pruning).
        direction: ``"min"`` or ``"max"``.
    """

    def __init__(self, journal_file: str, space: List[HyperParameter], sampler, pruner,
                 direction: str, study_name: str = "nnforge"):
        optuna = import_optuna("this tuner")
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self.space = space
        self.prunes = pruner is not None
        storage = JournalStorage(JournalFileBackend(
            journal_file, lock_obj=JournalFileOpenLock(journal_file)))
        self.study = optuna.create_study(
            storage=storage, sampler=sampler, pruner=pruner, study_name=study_name,
            direction="maximize" if direction == "max" else "minimize", load_if_exists=True)

    def new_trial(self, trials: List[dict], values: Optional[Dict[str, Any]] = None
                  ) -> Optional[Tuple[int, Dict[str, Any], Any]]:
        TrialState = self._optuna.trial.TrialState
        # Claims are made under the project lock and a claim writes its trial file before it
        # lets go: a RUNNING Optuna trial without a file lost its process before that write.
        known = {t["trial_id"] for t in trials}
        for ft in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if ft.number not in known:
                self.study.tell(ft.number, state=TrialState.FAIL, skip_if_finished=True)
        if values is not None:
            tuned = {hp.name for hp in self.space if not isinstance(hp, Fixed)}
            self.study.enqueue_trial({k: v for k, v in values.items() if k in tuned})
            trial = self.study.ask()
            return trial.number, sample_space(self.space, lambda hp: _suggest(trial, hp)), trial
        seen = _seen(trials)
        for _ in range(_TRIES):
            trial = self.study.ask()
            v = sample_space(self.space, lambda hp: _suggest(trial, hp))
            if values_key(v) not in seen:
                return trial.number, v, trial
            # A seeded sampler repeats its draws after a restart: refuse the repeat.
            self.study.tell(trial, state=TrialState.FAIL)
        return None

    def report(self, trial, step: int, value: float) -> bool:
        trial.report(value, step)
        return self.prunes and trial.should_prune()

    def finish(self, trial, status: str, score: Optional[float]) -> None:
        TrialState = self._optuna.trial.TrialState
        if status == "COMPLETED" and score is not None and np.isfinite(score):
            self.study.tell(trial, score)
        elif status == "PRUNED":
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.study.tell(trial, state=TrialState.FAIL)

    def interrupted(self, trial: dict) -> None:
        self.study.tell(trial["trial_id"], state=self._optuna.trial.TrialState.FAIL,
                        skip_if_finished=True)


__all__ = ["NativeEngine", "OptunaEngine", "grid", "import_optuna", "make_pruner",
           "sample_space", "values_key"]
