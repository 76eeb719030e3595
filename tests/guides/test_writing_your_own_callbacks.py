"""Keras 3's guide "Writing your own callbacks" (keras-io guides/writing_your_own_callbacks.py),
with ``import keras`` changed to nnforge and fewer epochs; the callbacks record what the guide
prints, and the tests assert it."""
import numpy as np

import nnforge as keras


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


def _data():
    # Load example MNIST data and pre-process it
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0

    # Limit the data to 1000 samples
    x_train = x_train[:1000]
    y_train = y_train[:1000]
    x_test = x_test[:1000]
    y_test = y_test[:1000]
    return x_train, y_train, x_test, y_test


def test_an_overview_of_callback_methods():
    x_train, y_train, x_test, y_test = _data()
    events = []

    class CustomCallback(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            keys = list(logs.keys())
            events.append(("Starting training", keys))

        def on_train_end(self, logs=None):
            keys = list(logs.keys())
            events.append(("Stop training", keys))

        def on_epoch_begin(self, epoch, logs=None):
            keys = list(logs.keys())
            events.append((f"Start epoch {epoch} of training", keys))

        def on_epoch_end(self, epoch, logs=None):
            keys = list(logs.keys())
            events.append((f"End epoch {epoch} of training", keys))

        def on_test_begin(self, logs=None):
            events.append(("Start testing", list(logs.keys())))

        def on_test_end(self, logs=None):
            events.append(("Stop testing", list(logs.keys())))

        def on_predict_begin(self, logs=None):
            events.append(("Start predicting", list(logs.keys())))

        def on_predict_end(self, logs=None):
            events.append(("Stop predicting", list(logs.keys())))

        def on_train_batch_begin(self, batch, logs=None):
            events.append((f"Training: start of batch {batch}", list(logs.keys())))

        def on_train_batch_end(self, batch, logs=None):
            events.append((f"Training: end of batch {batch}", list(logs.keys())))

        def on_test_batch_begin(self, batch, logs=None):
            events.append((f"Evaluating: start of batch {batch}", list(logs.keys())))

        def on_test_batch_end(self, batch, logs=None):
            events.append((f"Evaluating: end of batch {batch}", list(logs.keys())))

        def on_predict_batch_begin(self, batch, logs=None):
            events.append((f"Predicting: start of batch {batch}", list(logs.keys())))

        def on_predict_batch_end(self, batch, logs=None):
            events.append((f"Predicting: end of batch {batch}", list(logs.keys())))

    model = get_model()
    model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=1,
        verbose=0,
        validation_split=0.5,
        callbacks=[CustomCallback()],
    )
    names = [e[0] for e in events]
    assert names[0] == "Starting training" and names[-1] == "Stop training"
    assert names[1] == "Start epoch 0 of training"
    assert names.count("Training: end of batch 3") == 1  # 500 samples in batches of 128
    assert "Training: end of batch 4" not in names
    assert names.index("Start testing") < names.index("End epoch 0 of training")
    logged = dict(events)
    assert logged["Training: end of batch 3"] == ["loss", "mean_absolute_error"]
    assert logged["End epoch 0 of training"] == ["loss", "mean_absolute_error", "val_loss",
                                                 "val_mean_absolute_error"]

    events.clear()
    res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
    assert [e[0] for e in events][0] == "Start testing"
    assert dict(events)["Stop testing"] == ["loss", "mean_absolute_error"]
    assert len(res) == 2

    events.clear()
    res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()], verbose=0)
    assert [e[0] for e in events] == (["Start predicting"] + [
        f"Predicting: {w} of batch {i}" for i in range(8) for w in ("start", "end")] +
        ["Stop predicting"])
    assert res.shape == (1000, 1)


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.printed = []

    def on_train_batch_end(self, batch, logs=None):
        self.printed.append(
            "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_test_batch_end(self, batch, logs=None):
        self.printed.append(
            "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.printed.append(
            "The average loss for epoch {} is {:7.2f} "
            "and mean absolute error is {:7.2f}.".format(
                epoch, logs["loss"], logs["mean_absolute_error"]
            )
        )


def test_usage_of_logs_dict():
    x_train, y_train, x_test, y_test = _data()
    model = get_model()
    cb = LossAndErrorPrintingCallback()
    history = model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=2,
        verbose=0,
        callbacks=[cb],
    )
    epoch_lines = [p for p in cb.printed if p.startswith("The average loss for epoch")]
    assert len(epoch_lines) == 2
    assert epoch_lines[1] == "The average loss for epoch 1 is {:7.2f} and mean absolute " \
        "error is {:7.2f}.".format(history.history["loss"][1],
                                   history.history["mean_absolute_error"][1])

    cb = LossAndErrorPrintingCallback()
    res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[cb])
    assert cb.printed[-1] == "Up to batch 7, the average loss is {:7.2f}.".format(res[0])


def test_early_stopping_at_minimum_loss():
    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        """Stop training when the loss is at its min, i.e. the loss stops decreasing.

        Arguments:
            patience: Number of epochs to wait after min has been hit. After this
            number of no improvement, training stops.
        """

        def __init__(self, patience=0):
            super().__init__()
            self.patience = patience
            # best_weights to store the weights at which the minimum loss occurs.
            self.best_weights = None

        def on_train_begin(self, logs=None):
            # The number of epoch it has waited when loss is no longer minimum.
            self.wait = 0
            # The epoch the training stops at.
            self.stopped_epoch = 0
            # Initialize the best as infinity.
            self.best = np.inf

        def on_epoch_end(self, epoch, logs=None):
            current = logs.get("loss")
            if np.less(current, self.best):
                self.best = current
                self.wait = 0
                # Record the best weights if current results is better (less).
                self.best_weights = self.model.get_weights()
            else:
                self.wait += 1
                if self.wait >= self.patience:
                    self.stopped_epoch = epoch
                    self.model.stop_training = True
                    # Restoring model weights from the end of the best epoch.
                    self.model.set_weights(self.best_weights)

        def on_train_end(self, logs=None):
            if self.stopped_epoch > 0:
                self.message = "Epoch %05d: early stopping" % (self.stopped_epoch + 1)

    x_train, y_train, _, _ = _data()
    keras.utils.set_random_seed(0)
    model = get_model()
    stopper = EarlyStoppingAtMinLoss()
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        steps_per_epoch=5,
        epochs=30,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback(), stopper],
    )
    losses = history.history["loss"]
    # stopped at the first epoch whose loss did not improve, with the best weights restored
    assert stopper.stopped_epoch == len(losses) - 1 < 29
    assert losses[-1] >= min(losses[:-1])
    for a, b in zip(stopper.best_weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert stopper.message == "Epoch %05d: early stopping" % len(losses)


def test_learning_rate_scheduling():
    class CustomLearningRateScheduler(keras.callbacks.Callback):
        """Learning rate scheduler which sets the learning rate according to schedule.

        Arguments:
            schedule: a function that takes an epoch index
                (integer, indexed from 0) and current learning rate
                as inputs and returns a new learning rate as output (float).
        """

        def __init__(self, schedule):
            super().__init__()
            self.schedule = schedule
            self.seen = []

        def on_epoch_begin(self, epoch, logs=None):
            if not hasattr(self.model.optimizer, "learning_rate"):
                raise ValueError('Optimizer must have a "learning_rate" attribute.')
            # Get the current learning rate from model's optimizer.
            lr = self.model.optimizer.learning_rate
            # Call schedule function to get the scheduled learning rate.
            scheduled_lr = self.schedule(epoch, lr)
            # Set the value back to the optimizer before this epoch starts
            self.model.optimizer.learning_rate = scheduled_lr
            self.seen.append(float(np.array(scheduled_lr)))

    LR_SCHEDULE = [
        # (epoch to start, learning rate) tuples
        (3, 0.05),
        (6, 0.01),
        (9, 0.005),
        (12, 0.001),
    ]

    def lr_schedule(epoch, lr):
        """Helper function to retrieve the scheduled learning rate based on epoch."""
        if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
            return lr
        for i in range(len(LR_SCHEDULE)):
            if epoch == LR_SCHEDULE[i][0]:
                return LR_SCHEDULE[i][1]
        return lr

    x_train, y_train, _, _ = _data()
    model = get_model()
    scheduler = CustomLearningRateScheduler(lr_schedule)
    model.fit(
        x_train,
        y_train,
        batch_size=64,
        steps_per_epoch=5,
        epochs=15,
        verbose=0,
        callbacks=[
            LossAndErrorPrintingCallback(),
            scheduler,
        ],
    )
    np.testing.assert_allclose(scheduler.seen, [0.1] * 3 + [0.05] * 3 + [0.01] * 3 +
                               [0.005] * 3 + [0.001] * 3, rtol=1e-6)
