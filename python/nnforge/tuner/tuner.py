"""``Tuner``: the search loop shared by every tuner (keras-tuner's ``Tuner`` API).

One trial: claim it under the project lock (hyperparameters from the engine), build the model,
``fit`` it with a callback that records every epoch's metrics in the trial's file and reports
the objective to the engine's pruner, keep the best epoch's weights, save the model, tell the
engine, and release the model, its optimizer state and cached device memory.
"""
from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import time
import warnings
from typing import Any, Dict, List, Optional, Union

import numpy as np

from nnforge.callbacks import Callback
from nnforge.saving.atomic import atomic_write

from . import project as pj
from ._memory import release_memory
from .hyperparameters import Fixed, HyperParameters, space_difference
from .hypermodel import HyperModel, get_hypermodel
from .objective import Objective, create_objective

_FORMAT = 1


class _ObjectiveMissing(KeyError):
    pass


class _FitProbe:
    """Stands for the model while the search space is discovered, so that a ``HyperModel.fit``
    that declares hyperparameters (a batch size) runs without training anything."""

    def __init__(self, model):
        self._model = model

    def fit(self, *args, **kwargs):
        return None

    def __getattr__(self, name):
        return getattr(self._model, name)


class _TrialCallback(Callback):
    """Records each epoch in the trial file, keeps the best epoch's weights, reports the
    objective to the engine and stops training when the engine prunes the trial."""

    def __init__(self, tuner: "Tuner", trial: dict, handle):
        super().__init__()
        self.tuner, self.trial, self.handle = tuner, trial, handle
        self.best_weights = None
        self.pruned = False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        trial, objective = self.trial, self.tuner.objective
        for k, v in logs.items():
            trial["metrics"].setdefault(k, []).append(float(v))
        if objective.name not in logs:
            raise _ObjectiveMissing(
                f"objective {objective.name!r} is not among the epoch logs "
                f"{sorted(logs)}; pass validation_data or validation_split for a 'val_' "
                "objective, or name another objective")
        value = float(logs[objective.name])
        trial["epochs"] = epoch + 1
        if np.isfinite(value) and (trial["score"] is None
                                   or objective.better_than(value, trial["score"])):
            trial["score"], trial["best_epoch"] = value, epoch
            self.best_weights = self.model.get_weights()
        last = (self.params or {}).get("epochs") == epoch + 1
        if self.tuner._engine.report(self.handle, epoch, value) and not last:
            self.pruned = True  # (a trial that trained all its epochs is complete, not pruned)
            self.model.stop_training = True
        trial["heartbeat"] = time.time()
        self.tuner._project.write_trial(trial)


class Tuner:
    """Base class of the tuners: runs trials of ``hypermodel`` and keeps their state on disk.

    Args:
        hypermodel: a ``HyperModel`` or a function ``build_model(hp)`` returning a compiled model.
        objective: a metric name (direction inferred: ``"val_accuracy"`` is maximized,
            ``"val_loss"`` minimized) or an ``Objective``; default ``"val_loss"``.
        max_trials: trials to finish (completed, pruned or failed) in total, over every run and
            process on this project (``None``: until the engine runs out of new
            hyperparameters).
        hyperparameters: a ``HyperParameters`` whose declarations override (or precede) those of
            the builder.
        tune_new_entries: when False, hyperparameters the builder declares that are not in
            ``hyperparameters`` stay at their defaults.
        allow_new_entries: when False, the builder may not declare hyperparameters that are not
            in ``hyperparameters``.
        directory, project_name: the search lives in ``directory/project_name``
            (default ``./untitled_project``).
        overwrite: delete what is stored there and start over. Otherwise a search resumes: the
            finished trials count towards ``max_trials``, a trial cut off by a killed process runs
            again, and a stored search space that differs from this one raises ``ValueError``.
        max_consecutive_failed_trials: raise after this many trials in a row fail with an error.
        stale_after: seconds without a heartbeat after which a RUNNING trial of a process on
            another host counts as cut off (processes on this host are checked directly); the
            heartbeat beats every epoch, so this must exceed the longest epoch.

    Several processes (shells, MPI ranks, machines sharing the folder) may search one project
    at once: trials are claimed under a file lock, so none runs twice and ``max_trials`` holds
    for all of them together. Within one process, run one search at a time.

    Subclasses set the engine: ``RandomSearch``, ``GridSearch``, ``BayesianOptimization``,
    ``Hyperband``.
    """

    def __init__(self, hypermodel: Union[HyperModel, Any] = None,
                 objective: Union[None, str, Objective] = None, max_trials: Optional[int] = 10,
                 hyperparameters: Optional[HyperParameters] = None,
                 tune_new_entries: bool = True, allow_new_entries: bool = True,
                 directory: Optional[str] = None, project_name: Optional[str] = None,
                 overwrite: bool = False, max_consecutive_failed_trials: int = 3,
                 stale_after: float = 600.0):
        if hypermodel is None:
            raise ValueError(f"{type(self).__name__}: a hypermodel (a HyperModel or a function "
                             "build_model(hp)) is required")
        if max_trials is not None and (not isinstance(max_trials, (int, np.integer))
                                       or max_trials < 1):
            raise ValueError(f"{type(self).__name__}: max_trials must be a positive integer or "
                             f"None, got {max_trials!r}")
        self.hypermodel = get_hypermodel(hypermodel)
        self.objective = create_objective(objective)
        self.max_trials = None if max_trials is None else int(max_trials)
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.stale_after = stale_after
        directory = "." if directory is None else os.fspath(directory)
        project_name = "untitled_project" if project_name is None else project_name
        path = os.path.abspath(os.path.join(directory, project_name))
        if overwrite and os.path.isdir(path):
            shutil.rmtree(path)
        self._project = pj.Project(directory, project_name)
        self.project_dir = self._project.path
        self.hyperparameters = self._discover_space(hyperparameters, tune_new_entries,
                                                    allow_new_entries)
        self._check_stored_state()
        self._engine = self._make_engine()
        self._save_models = importlib.util.find_spec("h5py") is not None
        if not self._save_models:
            warnings.warn("h5py is not installed: the tuner keeps no models on disk "
                          "(pip install h5py to save them and use get_best_models)")

    # -- subclasses ----------------------------------------------------------------------------
    def _make_engine(self):
        raise NotImplementedError(f"{type(self).__name__} must define _make_engine")

    def _fit_epochs(self, fit_kwargs: Dict[str, Any]) -> Dict[str, Any]:
        return fit_kwargs

    # -- the search space ----------------------------------------------------------------------
    def _build(self, hp: HyperParameters):
        from nnforge.backend import clear_session
        clear_session()
        model = self.hypermodel.build(hp)
        if model is None:
            raise ValueError(f"{type(self.hypermodel).__name__}.build(hp) returned None; it must "
                             "return a compiled model")
        return model

    def _probe(self, hp: HyperParameters) -> None:
        """Build, and run an overridden ``HyperModel.fit`` on a model that does not train, to
        see which hyperparameters they declare."""
        model = self._build(hp)
        if type(self.hypermodel).fit is not HyperModel.fit:
            try:
                self.hypermodel.fit(hp, _FitProbe(model), None, None, epochs=0, verbose=0)
            except Exception:  # a fit that needs real results declares nothing more here
                pass

    def _discover_space(self, given: Optional[HyperParameters], tune_new: bool,
                        allow_new: bool) -> HyperParameters:
        """Build once with defaults, then once per value of every condition's parent and of
        every Choice and Boolean (at most 64 builds), so that hyperparameters declared only for
        some value of another are in the space too."""
        space = given.copy() if given is not None else HyperParameters()
        given_names = {h.name for h in space.space}
        space.values = {h.name: h.default for h in space.space if isinstance(h, Fixed)}
        self._probe(space)
        tried = set()
        for _ in range(64):
            todo = [(c["name"], v) for h in space.space for c in h.conditions
                    for v in c["values"]]
            todo += [(h.name, v) for h in space.space if h.kind in ("Choice", "Boolean")
                     for v in h.grid_values()]
            todo = [(n, v) for n, v in todo if (n, repr(v)) not in tried]
            if not todo:
                break
            name, value = todo[0]
            tried.add((name, repr(value)))
            probe = HyperParameters()
            probe.space = space.space  # what the probe declares lands in the space
            probe.values = {name: value}
            self._probe(probe)
        release_memory()
        new = [h for h in space.space if h.name not in given_names]
        if given is not None and new and not allow_new:
            raise ValueError(f"{type(self).__name__}: the model builder declares "
                             f"{sorted({h.name for h in new})}, which are not in "
                             "hyperparameters, and allow_new_entries=False")
        if given is not None and not tune_new:
            space.space = [Fixed(h.name, h.default, h.conditions) if h in new else h
                           for h in space.space]
        space.values = {}
        return space

    def _stored_state(self) -> Dict[str, Any]:
        return {"format": _FORMAT, "tuner": type(self).__name__,
                "objective": self.objective.get_config(),
                "space": self.hyperparameters.get_config()["space"]}

    def _check_stored_state(self) -> None:
        state = self._stored_state()
        with self._project.lock():
            if not os.path.exists(self._project.tuner_file):
                pj.write_json(self._project.tuner_file, state)
                return
            stored = pj.read_json(self._project.tuner_file)
        diffs = []
        if stored.get("tuner") != state["tuner"]:
            diffs.append(f"tuner {stored.get('tuner')!r} -> {state['tuner']!r}")
        if stored.get("objective") != state["objective"]:
            diffs.append(f"objective {stored.get('objective')} -> {state['objective']}")
        diffs += space_difference(stored.get("space", []), state["space"])
        if diffs:
            raise ValueError(
                f"the search stored in {self.project_dir} differs from this one: "
                + "; ".join(diffs) + ". Pass overwrite=True to start a new search there, or "
                "use another project_name.")

    def search_space_summary(self) -> None:
        """Print the hyperparameters of the search space (keras-tuner's layout)."""
        print("Search space summary")
        print(f"Default search space size: {len(self.hyperparameters.space)}")
        for hp in self.hyperparameters.space:
            config = {k: v for k, v in hp.get_config().items() if k != "name"}
            print(f"{hp.name} ({hp.kind})")
            print(config)

    # -- the search ----------------------------------------------------------------------------
    def search(self, *fit_args, **fit_kwargs) -> None:
        """Run trials until ``max_trials`` trials are finished (over all runs and processes).

        Takes ``fit``'s arguments (``x, y, epochs=..., validation_data=...`` or
        ``validation_split=..., callbacks=..., batch_size=...``); ``verbose`` (default 1)
        prints one line per trial, and is passed on to ``fit`` only when given.
        """
        verbose = fit_kwargs.get("verbose", 1)
        fit_kwargs.setdefault("verbose", 0)
        user_callbacks = list(fit_kwargs.pop("callbacks", None) or [])
        fit_kwargs = self._fit_epochs(dict(fit_kwargs))
        failures = 0
        while True:
            claim = self._claim()
            if claim is None:
                break
            trial, handle = claim
            t0 = time.time()
            self._run_trial(trial, handle, fit_args, fit_kwargs, user_callbacks)
            if verbose:
                score = "None" if trial["score"] is None else f"{trial['score']:.6g}"
                print(f"Trial {trial['trial_id']} {trial['status']} after {trial['epochs']} "
                      f"epochs in {time.time() - t0:.1f}s: {self.objective.name}={score} "
                      f"{trial['hyperparameters']}")
            failures = failures + 1 if trial["status"] == pj.FAILED else 0
            if failures >= self.max_consecutive_failed_trials:
                raise RuntimeError(f"{failures} trials in a row failed; the last one "
                                   f"({trial['trial_id']}) raised: {trial['error']}")

    def _claim(self):
        """Under the project lock: mark cut-off trials INTERRUPTED, stop when enough trials are
        finished or running, else take the next hyperparameters (a cut-off trial's first)."""
        project = self._project
        with project.lock():
            trials = project.load_trials()
            me = pj.this_owner()
            for t in trials:
                # This process runs one trial at a time: a RUNNING trial of its own was left by
                # an earlier search() that raised.
                if t["status"] == pj.RUNNING and (t["owner"] == me or not pj.owner_alive(
                        t["owner"], t["heartbeat"], self.stale_after)):
                    t["status"] = pj.INTERRUPTED
                    project.write_trial(t)
                    self._engine.interrupted(t)
            busy = [t for t in trials if t["status"] in pj.FINISHED + (pj.RUNNING,)]
            if self.max_trials is not None and len(busy) >= self.max_trials:
                return None
            rerun = {t.get("rerun_of") for t in trials}
            pending = [t for t in trials
                       if t["status"] == pj.INTERRUPTED and t["trial_id"] not in rerun]
            claim = self._engine.new_trial(
                trials, pending[0]["hyperparameters"] if pending else None)
            if claim is None:
                return None
            trial_id, values, handle = claim
            now = time.time()
            trial = {"trial_id": trial_id, "hyperparameters": values, "status": pj.RUNNING,
                     "metrics": {}, "score": None, "best_epoch": None, "epochs": 0,
                     "owner": me, "started": now, "heartbeat": now,
                     "rerun_of": pending[0]["trial_id"] if pending else None, "error": None}
            project.write_trial(trial)
        return trial, handle

    def _run_trial(self, trial: dict, handle, fit_args, fit_kwargs, user_callbacks) -> None:
        hp = self.hyperparameters.with_values(trial["hyperparameters"])
        model = cb = None
        try:
            model = self._build(hp)
            cb = _TrialCallback(self, trial, handle)
            callbacks = [cb] + [copy.deepcopy(c) for c in user_callbacks]
            self.hypermodel.fit(hp, model, *fit_args, callbacks=callbacks, **fit_kwargs)
            trial["status"] = pj.PRUNED if cb.pruned else pj.COMPLETED
        except Exception as e:  # a failed trial is recorded and counted, as in keras-tuner
            trial["status"], trial["error"] = pj.FAILED, f"{type(e).__name__}: {e}"
            if isinstance(e, _ObjectiveMissing):  # the search's setup is wrong, not the trial
                self._abandon(trial, handle, str(e))
                raise ValueError(str(e)) from None
        except BaseException:  # KeyboardInterrupt: the trial runs again on the next search()
            self._abandon(trial, handle, "interrupted")
            raise
        if trial["status"] != pj.FAILED and trial["score"] is None:
            trial["status"], trial["error"] = pj.FAILED, "no finite objective value"
        if trial["status"] != pj.FAILED and self._save_models:
            if cb.best_weights is not None:
                model.set_weights(cb.best_weights)
            model.save(self._project.model_file(trial["trial_id"]))
        self._engine.finish(handle, trial["status"], trial["score"])
        trial["finished"] = time.time()
        self._project.write_trial(trial)
        if trial["status"] != pj.FAILED and self._save_models:
            self._update_best(trial)
        # Release the trial: its model, optimizer state and the best-epoch weights.
        if cb is not None:
            cb.best_weights = None
            cb.model = None
        del model, cb, hp
        release_memory()

    def _abandon(self, trial: dict, handle, error: str) -> None:
        """Record a trial that stopped for a reason of the search, not of its own, as
        INTERRUPTED: the next search runs its hyperparameters again."""
        trial["status"], trial["error"] = pj.INTERRUPTED, error
        self._engine.finish(handle, pj.FAILED, None)
        self._project.write_trial(trial)
        release_memory()

    def _update_best(self, trial: dict) -> None:
        with self._project.lock():
            best = self._ranked(self._project.load_trials())
            if best and best[0]["trial_id"] == trial["trial_id"]:
                with open(self._project.model_file(trial["trial_id"]), "rb") as f:
                    data = f.read()
                with atomic_write(self._project.best_model_file) as f:
                    f.write(data)

    # -- results -------------------------------------------------------------------------------
    def _ranked(self, trials: List[dict]) -> List[dict]:
        done = [t for t in trials if t["status"] in (pj.COMPLETED, pj.PRUNED)
                and t["score"] is not None]
        sign = -1.0 if self.objective.direction == "max" else 1.0
        return sorted(done, key=lambda t: (sign * t["score"], t["trial_id"]))

    @property
    def trials(self) -> List[dict]:
        """Every trial's record (as stored in ``trials/trial_NNNN.json``), by trial id."""
        return self._project.load_trials()

    def get_best_hyperparameters(self, num_trials: int = 1) -> List[HyperParameters]:
        """The hyperparameters of the ``num_trials`` best finished trials, best first."""
        best = self._ranked(self._project.load_trials())[:num_trials]
        return [self.hyperparameters.with_values(t["hyperparameters"]) for t in best]

    def get_best_models(self, num_models: int = 1) -> list:
        """The models of the ``num_models`` best finished trials (at their best epoch), loaded
        from the project folder, best first."""
        from nnforge.models import load_model
        if not self._save_models:
            raise RuntimeError("get_best_models needs the trials' models, which are saved only "
                               "when h5py is installed (pip install h5py)")
        best = self._ranked(self._project.load_trials())[:num_models]
        return [load_model(self._project.model_file(t["trial_id"])) for t in best]

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the ``num_trials`` best trials: hyperparameters and score (keras-tuner's
        layout)."""
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print(f"Showing {num_trials} best trials")
        print(self.objective)
        for t in self._ranked(self._project.load_trials())[:num_trials]:
            print()
            print(f"Trial {t['trial_id']:04d} summary")
            print("Hyperparameters:")
            for k, v in t["hyperparameters"].items():
                print(f"{k}: {v}")
            print(f"Score: {t['score']}")
            if t["status"] == pj.PRUNED:
                print(f"Pruned after {t['epochs']} epochs")
