"""Tests of nnforge.callbacks, driven by a tiny fake model and a fake training loop that
follow Keras 3's fit() contract (CallbackList with History/ProgbarLogger, batch and epoch
hooks, model.stop_training)."""
import math
import os
import warnings

import numpy as np
import pytest

from nnforge.callbacks import (Callback, CallbackList, CSVLogger, EarlyStopping, History,
                               LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                               ProgbarLogger, ReduceLROnPlateau, TerminateOnNaN)
from nnforge.utils import progbar as progbar_module

BAR = "\u2501"


class FakeOptimizer:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate


class FakeModel:
    def __init__(self, lr=0.1):
        self.weights = [np.zeros(2, np.float32), np.zeros((2, 2), np.float32)]
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.history = None
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(("model", filepath))
        with open(filepath, "w") as f:
            f.write("model")

    def save_weights(self, filepath):  # no overwrite argument: must still be callable
        self.saved.append(("weights", filepath))
        with open(filepath, "w") as f:
            f.write("weights")


def fake_fit(model, callbacks, epoch_logs, steps=3, verbose=0, batch_losses=None):
    """Keras 3's fit loop, minus the maths. epoch ``e`` sets the weights to ``e``."""
    cbl = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                       verbose=verbose, epochs=len(epoch_logs), steps=steps)
    model.stop_training = False
    cbl.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        cbl.on_epoch_begin(epoch)
        for step in range(steps):
            cbl.on_train_batch_begin(step)
            model.weights = [np.full(2, epoch, np.float32), np.full((2, 2), epoch, np.float32)]
            loss = batch_losses[epoch][step] if batch_losses else logs.get("loss", 1.0)
            cbl.on_train_batch_end(step, {"loss": np.float32(loss)})
            if model.stop_training:
                break
        cbl.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            break
    cbl.on_train_end()
    return model.history


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


# --------------------------------------------------------------------------- base/list
class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        attr = object.__getattribute__(self, name)
        if name.startswith("on_") and callable(attr):
            calls = object.__getattribute__(self, "calls")

            def wrapped(*args, **kwargs):
                calls.append(name)
                return attr(*args, **kwargs)
            return wrapped
        return attr


def test_callback_list_dispatches_every_hook():
    rec = Recorder()
    model = FakeModel()
    cbl = CallbackList([rec], model=model, verbose=0, epochs=1, steps=1)
    assert rec.model is model and rec.params == {"verbose": 0, "epochs": 1, "steps": 1}
    hooks = ["on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
             "on_epoch_end", "on_train_end", "on_test_begin", "on_test_batch_begin",
             "on_test_batch_end", "on_test_end", "on_predict_begin", "on_predict_batch_begin",
             "on_predict_batch_end", "on_predict_end", "on_batch_begin", "on_batch_end"]
    for h in hooks:
        if "batch" in h or "epoch" in h:
            getattr(cbl, h)(0, {"loss": 1.0})
        else:
            getattr(cbl, h)({})
    # the default train-batch hooks forward to the on_batch_* aliases
    expected = []
    for h in hooks:
        expected.append(h)
        if h == "on_train_batch_begin":
            expected.append("on_batch_begin")
        if h == "on_train_batch_end":
            expected.append("on_batch_end")
    assert rec.calls == expected


def test_callback_list_batch_logs_are_sorted_python_floats():
    seen = []
    cb = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))
    cbl = CallbackList([cb], model=FakeModel())
    cbl.on_train_batch_end(0, {"loss": np.float32(0.5), "accuracy": np.float64(0.25)})
    assert list(seen[0]) == ["accuracy", "loss"]
    assert all(type(v) is float for v in seen[0].values())


def test_callback_list_default_history_and_progbar():
    model = FakeModel()
    cbl = CallbackList(None, add_history=True, add_progbar=True, model=model, verbose=1,
                       epochs=2, steps=3)
    kinds = [type(c) for c in cbl.callbacks]
    assert kinds == [History, ProgbarLogger]
    assert model.history is cbl.callbacks[0]
    # a user-supplied History/ProgbarLogger is reused, not duplicated
    h, p = History(), ProgbarLogger()
    cbl = CallbackList([h, p], add_history=True, add_progbar=True, model=model, verbose=1,
                       epochs=1, steps=1)
    assert cbl.callbacks == [h, p] and model.history is h
    with pytest.raises(TypeError, match="Callback"):
        CallbackList([object()])


def test_history_records_epochs_and_params():
    model = FakeModel()
    logs = [{"loss": 0.9, "val_loss": 1.0}, {"loss": 0.5, "val_loss": 0.7}]
    history = fake_fit(model, [], logs)
    assert isinstance(history, History) and model.history is history
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [0.9, 0.5], "val_loss": [1.0, 0.7]}
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 3}


def test_lambda_callback():
    events = []
    cb = LambdaCallback(
        on_epoch_begin=lambda epoch, logs: events.append(("eb", epoch)),
        on_epoch_end=lambda epoch, logs: events.append(("ee", epoch, logs["loss"])),
        on_train_begin=lambda logs: events.append(("tb",)),
        on_train_end=lambda logs: events.append(("te",)),
        on_train_batch_end=lambda batch, logs: events.append(("b", batch)),
        on_test_end=lambda logs: events.append(("test_end",)),
    )
    fake_fit(FakeModel(), [cb], [{"loss": 0.5}], steps=2)
    CallbackList([cb]).on_test_end({})
    assert events == [("tb",), ("eb", 0), ("b", 0), ("b", 1), ("ee", 0, 0.5), ("te",),
                      ("test_end",)]
    with pytest.raises(ValueError, match="unknown hook"):
        LambdaCallback(on_epoch_middle=print)


# --------------------------------------------------------------------------- ProgbarLogger
@pytest.fixture
def clock(monkeypatch):
    class Clock:
        t = 0.0

        def __call__(self):
            self.t += 0.5  # every reading is half a second after the previous one
            return self.t

    c = Clock()
    monkeypatch.setattr(progbar_module, "_now", c)
    return c


def test_progbar_logger_verbose_1(clock, capsys):
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}]
    fake_fit(FakeModel(), [], logs, steps=3, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2"
    assert out[1].startswith(f"3/3 {BAR * 20} ")
    assert out[1].endswith("/step - loss: 0.5000 - val_loss: 0.7500")
    assert out[2] == "Epoch 2/2"
    assert out[3].endswith("/step - loss: 0.2500 - val_loss: 0.5000")
    assert len(out) == 4


def test_progbar_logger_verbose_2(clock, capsys):
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}]
    fake_fit(FakeModel(), [], logs, steps=3, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert out[1].startswith("3/3 - ") and out[1].endswith(" - loss: 0.5000 - val_loss: 0.7500")
    assert "ms/step" in out[1] or "s/step" in out[1]
    assert len(out) == 4


def test_progbar_logger_single_epoch_has_no_header(clock, capsys):
    fake_fit(FakeModel(), [], [{"loss": 0.5}], steps=2, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith(f"2/2 {BAR * 20}")


def test_progbar_logger_evaluate_and_predict(clock, capsys):
    cbl = CallbackList(None, add_progbar=True, model=FakeModel(), verbose=1, epochs=1, steps=2)
    cbl.on_test_begin()
    cbl.on_test_batch_begin(0)
    cbl.on_test_batch_end(0, {"loss": 1.0})
    cbl.on_test_batch_end(1, {"loss": 0.5})
    cbl.on_test_end({"loss": 0.75})
    out = capsys.readouterr().out
    assert out.startswith(f"2/2 {BAR * 20}") and out.endswith("/step - loss: 0.7500\n")
    cbl.on_predict_begin()
    cbl.on_predict_batch_end(0, {"outputs": np.zeros(3)})
    cbl.on_predict_batch_end(1, {"outputs": np.zeros(3)})
    cbl.on_predict_end()
    out = capsys.readouterr().out
    assert out.startswith(f"2/2 {BAR * 20}") and out.endswith("/step\n")
    assert "outputs" not in out


def test_progbar_logger_silent_validation_inside_fit(clock, capsys):
    model = FakeModel()
    cbl = CallbackList(None, add_progbar=True, model=model, verbose=1, epochs=1, steps=1)
    cbl.on_train_begin()
    cbl.on_epoch_begin(0)
    cbl.on_train_batch_end(0, {"loss": 1.0})
    cbl.on_test_begin()
    cbl.on_test_batch_end(0, {"loss": 9.0})
    cbl.on_test_end({"loss": 9.0})
    assert capsys.readouterr().out == ""
    cbl.on_epoch_end(0, {"loss": 1.0, "val_loss": 9.0})
    cbl.on_train_end()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("- loss: 1.0000 - val_loss: 9.0000\n")


# --------------------------------------------------------------------------- EarlyStopping
def test_early_stopping_patience_and_restore_best_weights(capsys):
    model = FakeModel()
    es = EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    history = fake_fit(model, [es], val_losses(1.0, 0.8, 0.9, 0.85, 0.7))
    # best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3
    assert history.epoch == [0, 1, 2, 3]
    assert es.stopped_epoch == 3 and es.best == 0.8 and es.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1, 1])  # epoch 1's weights
    np.testing.assert_array_equal(model.weights[1], np.ones((2, 2)))
    assert capsys.readouterr().out == ("Epoch 4: early stopping\n"
                                       "Restoring model weights from the end of the best epoch: 2.\n")


def test_early_stopping_patience_zero_and_no_restore():
    model = FakeModel()
    es = EarlyStopping(monitor="val_loss", patience=0)
    history = fake_fit(model, [es], val_losses(1.0, 0.9, 0.95, 0.5))
    assert history.epoch == [0, 1, 2] and es.stopped_epoch == 2
    np.testing.assert_array_equal(model.weights[0], [2, 2])  # last weights kept


def test_early_stopping_min_delta_and_max_mode():
    es = EarlyStopping(monitor="val_loss", min_delta=0.1, patience=1)
    history = fake_fit(FakeModel(), [es], val_losses(1.0, 0.95, 0.92, 0.5))
    assert history.epoch == [0, 1]  # 0.95 is not 0.1 better than 1.0
    logs = [{"val_accuracy": a} for a in (0.5, 0.6, 0.55, 0.58, 0.9)]
    es = EarlyStopping(monitor="val_accuracy", patience=2)  # auto -> max
    history = fake_fit(FakeModel(), [es], logs)
    assert history.epoch == [0, 1, 2, 3] and es.best == 0.6


def test_early_stopping_baseline_and_start_from_epoch():
    es = EarlyStopping(monitor="val_loss", patience=2, baseline=0.5, restore_best_weights=True)
    model = FakeModel()
    history = fake_fit(model, [es], val_losses(0.9, 0.95, 0.97, 0.4))
    # epoch 0 improves on inf but not on the baseline, so its wait is not reset: the
    # patience runs out one epoch earlier than without a baseline
    assert history.epoch == [0, 1] and es.stopped_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [0, 0])  # best of those epochs
    es = EarlyStopping(monitor="val_loss", patience=2)
    assert fake_fit(FakeModel(), [es], val_losses(0.9, 0.95, 0.97, 0.4)).epoch == [0, 1, 2]
    es = EarlyStopping(monitor="val_loss", patience=0, start_from_epoch=2)
    history = fake_fit(FakeModel(), [es], val_losses(1.0, 2.0, 3.0, 4.0, 5.0))
    assert history.epoch == [0, 1, 2, 3]  # warm-up epochs 0 and 1 are not monitored


def test_early_stopping_reusable_and_errors():
    es = EarlyStopping(patience=0)
    fake_fit(FakeModel(), [es], val_losses(1.0, 2.0))
    history = fake_fit(FakeModel(), [es], val_losses(5.0, 4.0, 3.0))
    assert history.epoch == [0, 1, 2]  # best was reset by on_train_begin
    with pytest.raises(ValueError, match="mode='max'"):
        fake_fit(FakeModel(), [EarlyStopping(monitor="weird_metric")], [{"weird_metric": 1.0}])
    with pytest.warns(UserWarning, match="not available"):
        fake_fit(FakeModel(), [EarlyStopping(monitor="val_loss")], [{"loss": 1.0}])


# --------------------------------------------------------------------------- TerminateOnNaN
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_terminate_on_nan(bad, capsys):
    model = FakeModel()
    history = fake_fit(model, [TerminateOnNaN()], [{"loss": 1.0}] * 3, steps=3,
                       batch_losses=[[1.0, bad, 1.0]] * 3)
    assert model.stop_training is True
    assert history.epoch == [0]
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n"


def test_terminate_on_nan_ignores_finite_and_can_raise():
    model = FakeModel()
    history = fake_fit(model, [TerminateOnNaN()], [{"loss": 1.0}] * 2)
    assert history.epoch == [0, 1] and model.stop_training is False
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        fake_fit(FakeModel(), [TerminateOnNaN(raise_error=True)], [{"loss": 1.0}],
                 batch_losses=[[math.nan, 1.0, 1.0]])


# --------------------------------------------------------------------------- ReduceLROnPlateau
def test_reduce_lr_on_plateau(capsys):
    model = FakeModel(lr=0.1)
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, verbose=1)
    history = fake_fit(model, [cb], val_losses(1.0, 1.0, 1.0, 0.5, 0.5))
    # logged at each epoch end before that epoch's reduction (as Keras)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.0125)
    assert isinstance(model.optimizer.learning_rate, float)
    out = capsys.readouterr().out
    assert out == ("\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.05.\n"
                   "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.025.\n"
                   "\nEpoch 5: ReduceLROnPlateau reducing learning rate to 0.0125.\n")


def test_reduce_lr_on_plateau_cooldown_min_lr_and_max_mode():
    model = FakeModel(lr=1.0)
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=1, cooldown=2, min_lr=0.005)
    history = fake_fit(model, [cb], val_losses(*([1.0] * 8)))
    # reduce at epoch 1, cooldown counts down over epochs 2-3, reduce at 3 and 5; min_lr
    # clamps the last one (logged values are those before each epoch's reduction)
    assert history.history["learning_rate"] == pytest.approx(
        [1.0, 1.0, 0.1, 0.1, 0.01, 0.01, 0.005, 0.005])
    assert model.optimizer.learning_rate == pytest.approx(0.005)
    model = FakeModel(lr=0.2)
    cb = ReduceLROnPlateau(monitor="val_acc", factor=0.5, patience=1)  # 'acc' -> max
    fake_fit(model, [cb], [{"val_acc": v} for v in (0.5, 0.6, 0.7)])
    assert model.optimizer.learning_rate == pytest.approx(0.2)
    fake_fit(model, [cb], [{"val_acc": v} for v in (0.5, 0.4)])
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)


# --------------------------------------------------------------------------- LearningRateScheduler
def test_learning_rate_scheduler(capsys):
    model = FakeModel(lr=0.1)

    def schedule(epoch, lr):
        return lr if epoch < 2 else lr * 0.5

    history = fake_fit(model, [LearningRateScheduler(schedule, verbose=1)], [{"loss": 1.0}] * 4)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    out = capsys.readouterr().out
    assert "\nEpoch 3: LearningRateScheduler setting learning rate to 0.05.\n" in out
    assert out.count("LearningRateScheduler setting") == 4


def test_learning_rate_scheduler_one_arg_and_bad_output():
    model = FakeModel(lr=1.0)
    fake_fit(model, [LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], [{"loss": 1}] * 3)
    assert model.optimizer.learning_rate == pytest.approx(0.03)
    with pytest.raises(ValueError, match="should be a float"):
        fake_fit(FakeModel(), [LearningRateScheduler(lambda e, lr: "fast")], [{"loss": 1.0}])


# --------------------------------------------------------------------------- CSVLogger
def test_csv_logger_content(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"val_loss": 0.6, "loss": 0.5, "accuracy": 0.75},
            {"val_loss": 0.55, "loss": 0.25, "accuracy": np.float32(0.875)}]
    fake_fit(FakeModel(), [CSVLogger(str(path))], logs)
    assert path.read_text() == ("epoch,accuracy,loss,val_loss\n"
                                "0,0.75,0.5,0.6\n"
                                "1,0.875,0.25,0.55\n")


def test_csv_logger_append_separator_missing_and_arrays(tmp_path):
    path = tmp_path / "log.csv"
    fake_fit(FakeModel(), [CSVLogger(path, separator=";")], [{"loss": 1.0}])
    fake_fit(FakeModel(), [CSVLogger(path, separator=";", append=True)],
             [{"loss": 2.0}, {"other": 3}])
    assert path.read_text() == "epoch;loss\n0;1.0\n0;2.0\n1;NA\n"
    fake_fit(FakeModel(), [CSVLogger(path)], [{"loss": 0.5, "per_class": np.array([1, 2])}])
    assert path.read_text() == 'epoch,loss,per_class\n0,0.5,"""[1, 2]"""\n'
    model = FakeModel()
    model.metrics_names = ["loss", "val_loss"]
    fake_fit(model, [CSVLogger(path)], [{"loss": 0.5}])
    assert path.read_text() == "epoch,loss,val_loss\n0,0.5,NA\n"


# --------------------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_filename_template(tmp_path):
    model = FakeModel()
    template = str(tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.2f}.keras")
    fake_fit(model, [ModelCheckpoint(template)], val_losses(0.912, 0.5, 0.75))
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == ["01-0.91.keras", "02-0.50.keras", "03-0.75.keras"]
    assert [kind for kind, _ in model.saved] == ["model"] * 3


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    model = FakeModel()
    path = str(tmp_path / "best.weights.h5")
    cb = ModelCheckpoint(path, save_best_only=True, save_weights_only=True, verbose=1)
    fake_fit(model, [cb], val_losses(1.0, 1.2, 0.5, 0.7))
    assert model.saved == [("weights", path), ("weights", path)]  # epochs 1 and 3
    assert cb.best == 0.5
    out = capsys.readouterr().out
    assert f"\nEpoch 1: val_loss improved from inf to 1.00000, saving model to {path}\n" in out
    assert "\nEpoch 2: val_loss did not improve from 1.00000\n" in out
    assert f"\nEpoch 3: val_loss improved from 1.00000 to 0.50000, saving model to {path}\n" in out


def test_model_checkpoint_mode_max_threshold_and_batch_freq(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "m.keras"), monitor="val_accuracy",
                         save_best_only=True, initial_value_threshold=0.6)
    fake_fit(model, [cb], [{"val_accuracy": a} for a in (0.5, 0.7, 0.65, 0.8)])
    assert len(model.saved) == 2 and cb.best == 0.8
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.keras"), save_freq=2)
    fake_fit(model, [cb], [{"loss": 1.0}] * 2, steps=3)
    assert [os.path.basename(p) for _, p in model.saved] == ["e1-b2.keras", "e2-b1.keras",
                                                             "e2-b3.keras"]


def test_model_checkpoint_validation(tmp_path):
    with pytest.raises(ValueError, match=".weights.h5"):
        ModelCheckpoint(str(tmp_path / "w.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match=".keras"):
        ModelCheckpoint(str(tmp_path / "model.bin"))
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="sometimes")
    cb = ModelCheckpoint(str(tmp_path / "{nope}.keras"))
    with pytest.raises(KeyError, match="Failed to format"):
        fake_fit(FakeModel(), [cb], [{"loss": 1.0}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # unknown mode falls back to auto with a warning
        with pytest.raises(UserWarning, match="unknown"):
            ModelCheckpoint(str(tmp_path / "m.keras"), mode="sideways")
