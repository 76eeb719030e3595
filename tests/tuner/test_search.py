"""Searches end to end on a tiny model: results, resuming after SIGKILL, refusing a changed
space, overwrite, two processes on one study, pruning, and the tuners without Optuna."""
import builtins
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import nnforge
from nnforge import tuner as kt

from .workload import build_model, data, make_tuner

WORKLOAD = os.path.join(os.path.dirname(__file__), "workload.py")
ENV = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(nnforge.__file__)),
           OMP_NUM_THREADS="1")


def trials_of(directory, project):
    folder = os.path.join(directory, project, "trials")
    return [json.load(open(os.path.join(folder, n))) for n in sorted(os.listdir(folder))
            if n.endswith(".json")]


def finished(trials):
    return [t for t in trials if t["status"] in ("COMPLETED", "PRUNED", "FAILED")]


def assert_no_repeats(trials):
    ids = [t["trial_id"] for t in trials]
    assert len(ids) == len(set(ids))
    keys = [json.dumps(t["hyperparameters"], sort_keys=True) for t in finished(trials)]
    assert len(keys) == len(set(keys)), keys


def test_random_search_records_trials_and_best_model(tmp_path):
    tuner = make_tuner("random", str(tmp_path), "p", 3, seed=1)
    x, y = data()
    tuner.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    trials = trials_of(tmp_path, "p")
    assert [t["status"] for t in trials] == ["COMPLETED"] * 3
    for t in trials:
        assert len(t["metrics"]["val_accuracy"]) == 2 and t["epochs"] == 2
        assert t["score"] == max(t["metrics"]["val_accuracy"])
        assert set(t["hyperparameters"]) == {"units", "lr"}
    best = max(trials, key=lambda t: (t["score"], -t["trial_id"]))
    hps = tuner.get_best_hyperparameters(2)
    assert hps[0].values == best["hyperparameters"] and len(hps) == 2
    model = tuner.get_best_models(1)[0]
    # The saved model is the best epoch's: it scores the trial's score on the validation part.
    xv, yv = x[192:], y[192:]
    acc = model.evaluate(xv, yv, verbose=0)[1]
    assert abs(acc - best["score"]) < 1e-6
    best_file = nnforge.models.load_model(os.path.join(tmp_path, "p", "best_model.keras"))
    assert abs(best_file.evaluate(xv, yv, verbose=0)[1] - best["score"]) < 1e-6


def test_summaries_print_space_and_results(tmp_path, capsys):
    tuner = make_tuner("random", str(tmp_path), "p", 2, seed=0)
    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert "Default search space size: 2" in out and "units (Int)" in out and "lr (Float)" in out
    tuner.search(*data(), epochs=1, validation_split=0.25, verbose=0)
    tuner.results_summary(1)
    out = capsys.readouterr().out
    assert 'Objective(name="val_accuracy", direction="max")' in out
    assert out.count("summary") == 2 and "Score: " in out


def test_grid_search_walks_the_grid_and_conditional_space_is_discovered(tmp_path):
    def build(hp):
        kind = hp.Choice("kind", ["narrow", "wide"])
        units = 4
        if kind == "wide":  # declared only when the parent is "wide"
            with hp.conditional_scope("kind", ["wide"]):
                units = hp.Int("units", 16, 32, step=16)
        import nnforge as keras
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
        m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        return m

    tuner = kt.GridSearch(build, objective="val_loss", directory=str(tmp_path),
                          project_name="g")
    assert [h.name for h in tuner.hyperparameters.space] == ["kind", "units"]
    tuner.search(*data(), epochs=1, validation_split=0.25, verbose=0)
    got = [t["hyperparameters"] for t in trials_of(tmp_path, "g")]
    assert got == [{"kind": "narrow"}, {"kind": "wide", "units": 16},
                   {"kind": "wide", "units": 32}]


def test_resume_counts_max_trials_across_runs(tmp_path):
    x, y = data()
    make_tuner("random", str(tmp_path), "p", 2).search(x, y, epochs=1, validation_split=0.25,
                                                       verbose=0)
    first = trials_of(tmp_path, "p")
    tuner = make_tuner("random", str(tmp_path), "p", 4)
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    trials = trials_of(tmp_path, "p")
    assert len(finished(trials)) == 4 and trials[:2] == first  # earlier trials kept as they were
    assert_no_repeats(trials)
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)  # nothing left to do
    assert len(trials_of(tmp_path, "p")) == 4


def test_changed_space_is_refused_with_the_difference(tmp_path):
    make_tuner("random", str(tmp_path), "p", 1)

    def other(hp):
        hp.Int("units", 4, 64, step=4)
        hp.Float("lr", 1e-4, 1e-1, sampling="log")
        return build_model(hp)

    with pytest.raises(ValueError, match=r"'units': max_value 32 -> 64.*overwrite=True"):
        kt.RandomSearch(other, objective="val_accuracy", max_trials=1, directory=str(tmp_path),
                        project_name="p")
    with pytest.raises(ValueError, match="objective"):
        make_tuner("random", str(tmp_path), "p", 1).__class__(
            build_model, objective="val_loss", directory=str(tmp_path), project_name="p")


def test_overwrite_starts_over(tmp_path):
    x, y = data()
    make_tuner("random", str(tmp_path), "p", 2).search(x, y, epochs=1, validation_split=0.25,
                                                       verbose=0)
    assert len(trials_of(tmp_path, "p")) == 2

    def other(hp):
        hp.Boolean("extra")
        return build_model(hp)

    tuner = kt.RandomSearch(other, objective="val_accuracy", max_trials=1,
                            directory=str(tmp_path), project_name="p", overwrite=True)
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    trials = trials_of(tmp_path, "p")
    assert len(trials) == 1 and "extra" in trials[0]["hyperparameters"]


@pytest.mark.parametrize("kind", ["random", "bayes"])
def test_sigkill_mid_trial_then_rerun_finishes_max_trials_without_repeats(tmp_path, kind):
    if kind == "bayes":
        pytest.importorskip("optuna")
    marker = tmp_path / "hanging"
    proc = subprocess.Popen([sys.executable, WORKLOAD, str(tmp_path), "p", kind, "5",
                             "--hang-in-trial", "3"], env=ENV)
    try:
        deadline = time.time() + 120
        while not marker.exists():
            assert proc.poll() is None, "the search ended before its third trial"
            assert time.time() < deadline
            time.sleep(0.05)
        cut = [t for t in trials_of(tmp_path, "p") if t["status"] == "RUNNING"]
        assert len(cut) == 1 and cut[0]["epochs"] == 1  # killed in the middle of a trial
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert len(finished(trials_of(tmp_path, "p"))) == 2
    subprocess.run([sys.executable, WORKLOAD, str(tmp_path), "p", kind, "5"], env=ENV,
                   check=True, timeout=300)
    trials = trials_of(tmp_path, "p")
    done = finished(trials)
    assert len(done) == 5 and all(t["status"] == "COMPLETED" for t in done)
    assert_no_repeats(trials)
    interrupted = [t for t in trials if t["status"] == "INTERRUPTED"]
    assert [t["trial_id"] for t in interrupted] == [cut[0]["trial_id"]]
    rerun = [t for t in done if t["rerun_of"] == cut[0]["trial_id"]]
    assert len(rerun) == 1 and rerun[0]["hyperparameters"] == cut[0]["hyperparameters"]


@pytest.mark.parametrize("kind", ["random", "bayes"])
def test_two_processes_share_one_study(tmp_path, kind):
    if kind == "bayes":
        pytest.importorskip("optuna")
    make_tuner(kind, str(tmp_path), "p", 8)  # create the project before the race
    procs = [subprocess.Popen([sys.executable, WORKLOAD, str(tmp_path), "p", kind, "8",
                               "--epochs", "2"], env=ENV) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0
    trials = trials_of(tmp_path, "p")
    assert len(trials) == 8 and len(finished(trials)) == 8
    assert_no_repeats(trials)
    owners = {t["owner"]["pid"] for t in trials}
    assert owners <= {p.pid for p in procs}


@pytest.mark.parametrize("pruner", ["median", "hyperband"])
def test_pruning_stops_hopeless_trials(tmp_path, pruner):
    optuna = pytest.importorskip("optuna")

    def build(hp):
        import nnforge as keras
        # lr 1e-5 barely moves in 6 epochs; 3e-2 learns the problem in 2.
        lr = hp.Choice("lr", [1e-5, 3e-2])
        hp.Int("seed", 0, 1000)
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
        m.compile(optimizer=keras.optimizers.Adam(lr), loss="categorical_crossentropy",
                  metrics=["accuracy"])
        return m

    nnforge.utils.set_random_seed(0)
    p = (optuna.pruners.MedianPruner(n_startup_trials=2) if pruner == "median"
         else optuna.pruners.HyperbandPruner(min_resource=1, max_resource=6,
                                             reduction_factor=3))
    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=12, seed=0, pruner=p,
                            directory=str(tmp_path), project_name="p")
    tuner.search(*data(), epochs=6, validation_split=0.25, verbose=0)
    trials = trials_of(tmp_path, "p")
    pruned = [t for t in trials if t["status"] == "PRUNED"]
    assert len(trials) == 12 and pruned
    assert all(t["epochs"] < 6 for t in pruned)
    assert all(len(t["metrics"]["val_loss"]) == t["epochs"] for t in pruned)
    spent = sum(t["epochs"] for t in trials)
    assert spent < 12 * 6
    best = tuner.get_best_hyperparameters(1)[0]
    assert best["lr"] == 3e-2


def test_hyperband_tuner_runs_keras_tuners_number_of_trials(tmp_path):
    pytest.importorskip("optuna")
    from nnforge.tuner.tuners import hyperband_trials
    assert hyperband_trials(9, 3, 1) == 9 + 5 + 3
    assert hyperband_trials(81, 3, 2) == 2 * (81 + 34 + 15 + 8 + 5)
    tuner = kt.Hyperband(build_model, objective="val_accuracy", max_epochs=3, factor=3,
                         seed=0, directory=str(tmp_path), project_name="h")
    assert tuner.max_trials == 3 + 2
    tuner.search(*data(), epochs=100, validation_split=0.25, verbose=0)  # epochs: max_epochs
    trials = trials_of(tmp_path, "h")
    assert len(finished(trials)) == 5 and max(t["epochs"] for t in trials) == 3


def test_random_and_grid_search_work_without_optuna(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    for mod in [m for m in sys.modules if m == "optuna" or m.startswith("optuna.")]:
        monkeypatch.delitem(sys.modules, mod)
    x, y = data()
    kt.RandomSearch(build_model, objective="val_accuracy", max_trials=2, directory=str(tmp_path),
                    project_name="r").search(x, y, epochs=1, validation_split=0.25, verbose=0)
    kt.GridSearch(build_model, objective="val_accuracy", max_trials=2, directory=str(tmp_path),
                  project_name="g").search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert len(finished(trials_of(tmp_path, "r"))) == 2
    assert len(finished(trials_of(tmp_path, "g"))) == 2
    assert "optuna" not in sys.modules
    with pytest.raises(ImportError, match=r"nnforge\[tune\]"):
        kt.BayesianOptimization(build_model, directory=str(tmp_path), project_name="b")
    with pytest.raises(ImportError, match=r"nnforge\[tune\]"):
        kt.RandomSearch(build_model, pruner="median", directory=str(tmp_path),
                        project_name="m")


def test_missing_objective_and_failing_trials_raise_clearly(tmp_path):
    tuner = make_tuner("random", str(tmp_path), "p", 3)
    x, y = data()
    with pytest.raises(ValueError, match="'val_accuracy' is not among the epoch logs"):
        tuner.search(x, y, epochs=1, verbose=0)  # no validation data

    def broken(hp):
        hp.Int("units", 1, 4)
        raise_in_fit = build_model(hp)
        raise_in_fit.fit = None  # not callable: every trial fails
        return raise_in_fit

    t = kt.RandomSearch(broken, objective="val_loss", max_trials=5,
                        max_consecutive_failed_trials=2, directory=str(tmp_path),
                        project_name="b")
    with pytest.raises(RuntimeError, match="2 trials in a row failed.*TypeError"):
        t.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert [tr["status"] for tr in trials_of(tmp_path, "b")] == ["FAILED", "FAILED"]


def test_import_nnforge_does_not_import_optuna():
    code = ("import nnforge, sys; "
            "assert 'optuna' not in sys.modules and 'nnforge.tuner' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], env=ENV, check=True)
    code = ("import nnforge.tuner as kt, sys; kt.RandomSearch; kt.GridSearch; "
            "assert 'optuna' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], env=ENV, check=True)


def test_keyboard_interrupt_leaves_the_trial_to_rerun_in_the_same_process(tmp_path):
    import nnforge as keras
    x, y = data()
    state = {"trials": 0}

    class CtrlC(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            state["trials"] += 1

        def on_epoch_end(self, epoch, logs=None):
            if state["trials"] == 2:
                raise KeyboardInterrupt

    tuner = make_tuner("random", str(tmp_path), "p", 3)
    with pytest.raises(KeyboardInterrupt):
        tuner.search(x, y, epochs=2, validation_split=0.25, callbacks=[CtrlC()], verbose=0)
    cut = [t for t in trials_of(tmp_path, "p") if t["status"] == "INTERRUPTED"]
    assert len(cut) == 1
    tuner.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    trials = trials_of(tmp_path, "p")
    assert len(finished(trials)) == 3
    assert_no_repeats(trials)
    assert [t["hyperparameters"] for t in trials if t["rerun_of"] == cut[0]["trial_id"]] == [
        cut[0]["hyperparameters"]]


def test_hypermodel_fit_and_given_hyperparameters(tmp_path):
    seen = []

    class Tuned(kt.HyperModel):
        def build(self, hp):
            return build_model(hp)

        def fit(self, hp, model, *args, **kwargs):
            batch = hp.Choice("batch_size", [16, 64])
            if args[0] is not None:  # None while the tuner discovers the space
                seen.append((batch, hp.get("units"), hp.get("lr")))
            return model.fit(*args, batch_size=batch, **kwargs)

    given = kt.HyperParameters()
    given.Fixed("lr", 0.01)
    tuner = kt.RandomSearch(Tuned(), objective="val_loss", max_trials=3, seed=0,
                            hyperparameters=given, tune_new_entries=False,
                            directory=str(tmp_path), project_name="p")
    tuner.search(*data(), epochs=1, validation_split=0.25, verbose=0)
    kinds = {h.name: h.kind for h in tuner.hyperparameters.space}
    # units and batch_size (declared in fit) are new entries, fixed at their defaults
    assert kinds == {"lr": "Fixed", "units": "Fixed", "batch_size": "Fixed"}
    assert seen == [(16, 4, 0.01)]  # one trial: the space has a single point
    tuned = kt.RandomSearch(Tuned(), objective="val_loss", max_trials=4, seed=0,
                            directory=str(tmp_path), project_name="t")
    assert {h.name for h in tuned.hyperparameters.space} == {"units", "lr", "batch_size"}
    seen.clear()
    tuned.search(*data(), epochs=1, validation_split=0.25, verbose=0)
    assert [s[0] for s in seen] == [t["hyperparameters"]["batch_size"] for t in tuned.trials]
    assert {s[0] for s in seen} <= {16, 64}
    with pytest.raises(ValueError, match=r"\['batch_size', 'units'\].*allow_new_entries=False"):
        kt.RandomSearch(Tuned(), objective="val_loss", hyperparameters=given,
                        allow_new_entries=False, directory=str(tmp_path), project_name="q")
