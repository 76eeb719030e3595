"""Overridable train_step / test_step / predict_step, compute_loss / compute_metrics, tracked
metrics and the logs they produce (Keras 3's "Customizing what happens in fit()")."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype("float32")
    w = rng.standard_normal((8, 1)).astype("float32")
    return x, (x @ w).astype("float32")


def _functional(cls=keras.Model):
    inputs = keras.Input((8,))
    return cls(inputs, layers.Dense(1)(inputs))


def _update_metrics(model, loss, y, y_pred):
    """The guide's metric update at the end of a custom step: the "loss" tracker takes the loss,
    every other metric ``(y, y_pred)``; returns the logs ``{name: result}``."""
    for metric in model.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
        else:
            metric.update_state(y, y_pred)
    return {m.name: m.result() for m in model.metrics}


def test_overridden_train_step_matches_the_builtin_step():
    """A train_step written as in the guide (tape, compute_loss, optimizer.apply) follows the
    same trajectory as the built-in step: same weights after one epoch, same History."""
    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            return _update_metrics(self, loss, y, y_pred)

    x, y = _data()
    keras.utils.set_random_seed(1)
    custom = _functional(CustomModel)
    keras.utils.set_random_seed(1)
    builtin = _functional()
    builtin.set_weights(custom.get_weights())
    hist = {}
    for name, m in (("custom", custom), ("builtin", builtin)):
        m.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
        keras.utils.set_random_seed(2)
        hist[name] = m.fit(x, y, batch_size=32, epochs=3, verbose=0).history
    assert set(hist["custom"]) == {"loss", "mae"}
    for a, b in zip(custom.get_weights(), builtin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the custom loss tracker is updated once per batch without weights, the built-in one
    # weighted by batch size: with equal batches the means agree
    np.testing.assert_allclose(hist["custom"]["mae"], hist["builtin"]["mae"], rtol=1e-5)
    np.testing.assert_allclose(hist["custom"]["loss"], hist["builtin"]["loss"], rtol=1e-5)
    assert hist["custom"]["loss"][-1] < hist["custom"]["loss"][0]


def test_own_trackers_assigned_as_attributes_are_tracked_and_reset_each_epoch():
    class CustomModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()
            self.batches_seen = []

        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.loss_fn(y, y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            self.batches_seen.append(float(loss))
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    x, y = _data(128)
    inputs = keras.Input((8,))
    m = CustomModel(inputs, layers.Dense(1)(inputs))
    assert [t.name for t in m.metrics] == ["loss", "mae"]
    m.compile(optimizer="adam")  # no loss: the model computes its own
    h = m.fit(x, y, batch_size=32, epochs=2, verbose=0).history
    # as in Keras: compile's own loss tracker first, then the model's attributes
    assert [t.name for t in m.metrics] == ["loss", "loss", "mae"]
    assert m.metrics[1] is m.loss_tracker and m.metrics[2] is m.mae_metric
    # reset at each epoch: the second epoch's loss is the mean of its own 4 batches
    np.testing.assert_allclose(h["loss"][1], np.mean(m.batches_seen[4:]), rtol=1e-5)
    np.testing.assert_allclose(h["loss"][0], np.mean(m.batches_seen[:4]), rtol=1e-5)


def test_values_returned_by_train_step_reach_progress_bar_and_history(capsys):
    class Counting(keras.Model):
        def train_step(self, data):
            logs = super().train_step(data)
            logs["twice_loss"] = ops.multiply(logs["loss"], 2.0)
            return logs

    x, y = _data(64)
    m = _functional(Counting)
    m.compile(optimizer="sgd", loss="mse")
    h = m.fit(x, y, batch_size=32, epochs=2, verbose=1).history
    np.testing.assert_allclose(h["twice_loss"], 2 * np.asarray(h["loss"]), rtol=1e-6)
    assert "twice_loss:" in capsys.readouterr().out


def test_sample_weight_reaches_compute_loss():
    seen = {}

    class Weighted(keras.Model):
        def train_step(self, data):
            x, y, sample_weight = data
            seen["sw"] = np.asarray(sample_weight)
            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            self.optimizer.apply(tape.gradient(loss, self.trainable_variables),
                                 self.trainable_variables)
            return {"loss": loss}

    x, y = _data(32)
    sw = np.linspace(0, 1, 32).astype("float32")
    m = _functional(Weighted)
    m.compile(optimizer="sgd", loss="mse")
    m.fit(x, y, sample_weight=sw, batch_size=32, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(seen["sw"], sw)
    # compute_loss with weights equals the weighted mean of the per-sample squared errors
    y_pred = m.predict(x, verbose=0)
    expect = np.mean(np.mean((y - y_pred) ** 2, axis=-1) * sw)
    got = float(m.compute_loss(y=y, y_pred=y_pred, sample_weight=sw))
    np.testing.assert_allclose(got, expect, rtol=1e-5)


def test_custom_test_step_and_predict_step():
    class Custom(keras.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            return _update_metrics(self, loss, y, y_pred)

        def predict_step(self, data):
            return ops.multiply(self(data, training=False), -1.0)

    x, y = _data(96)
    m = _functional(Custom)
    m.compile(loss="mse", metrics=["mae"])
    logs = m.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    pred = -m.predict(x, verbose=0)
    np.testing.assert_allclose(logs["loss"], np.mean((pred - y) ** 2), rtol=1e-4)
    np.testing.assert_allclose(logs["mae"], np.mean(np.abs(pred - y)), rtol=1e-4)


def test_compute_loss_override_keeps_the_builtin_step():
    class L1(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return ops.mean(ops.abs(ops.subtract(y_pred, y)))

    x, y = _data(128)
    m = _functional(L1)
    m.compile(optimizer=keras.optimizers.SGD(0.05))
    h = m.fit(x, y, batch_size=32, epochs=4, verbose=0).history
    assert h["loss"][-1] < h["loss"][0]
    np.testing.assert_allclose(m.evaluate(x, y, verbose=0),
                               np.mean(np.abs(m.predict(x, verbose=0) - y)), rtol=1e-4)


def test_compile_without_loss_uses_added_losses():
    class Reconstruct(layers.Layer):
        def call(self, inputs):
            out = inputs * 0.5
            self.add_loss(ops.mean(ops.square(out - 1.0)))
            return out

    inputs = keras.Input((4,))
    hidden = layers.Dense(4)(inputs)
    m = keras.Model(inputs, Reconstruct()(hidden))
    m.compile(optimizer=keras.optimizers.SGD(0.3))
    x = np.random.default_rng(0).standard_normal((64, 4)).astype("float32")
    h = m.fit(x, batch_size=16, epochs=10, verbose=0).history
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    m(x[:2])
    assert len(m.losses) == 1  # reset at every outer call, not accumulated
    m(x[:2])
    assert len(m.losses) == 1


def test_no_loss_at_all_is_a_clear_error():
    m = _functional()
    m.compile(optimizer="sgd")
    x, y = _data(8)
    with pytest.raises(ValueError, match="no loss to compute"):
        m.fit(x, y, verbose=0)


def test_compiled_loss_and_compiled_metrics_as_tf_keras_has_them():
    class Legacy(keras.Model):
        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    x, y = _data(128)
    m = _functional(Legacy)
    m.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    h = m.fit(x, y, batch_size=32, epochs=3, verbose=0).history
    assert "mae" in h and h["mae"][-1] < h["mae"][0]


def test_builtin_logs_are_floats_and_metric_names_follow_keras():
    x, y = _data(64)
    m = _functional()
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert m.metrics_names == ["loss", "compile_metrics"]
    logs = m.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "mae"} and all(type(v) is float for v in logs.values())
