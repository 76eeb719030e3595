"""Keras 3's guide "Training & evaluation with the built-in methods" (keras-io guides/
training_with_built_in_methods.py), with ``import keras`` changed to nnforge and data sizes and
epochs reduced; each section used is a test asserting what the guide shows."""
import numpy as np

import nnforge as keras
from nnforge import layers, ops


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def _mnist(n=2048):
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    # Preprocess the data (these are NumPy arrays)
    x_train = x_train[:n].reshape(n, 784).astype("float32") / 255
    x_test = x_test[:512].reshape(512, 784).astype("float32") / 255
    y_train = y_train[:n].astype("float32")
    y_test = y_test[:512].astype("float32")
    # Reserve samples for validation
    x_val = x_train[-256:]
    y_val = y_train[-256:]
    x_train = x_train[:-256]
    y_train = y_train[:-256]
    return x_train, y_train, x_val, y_val, x_test, y_test


def test_api_overview_a_first_end_to_end_example():
    keras.utils.set_random_seed(0)
    x_train, y_train, x_val, y_val, x_test, y_test = _mnist()
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(),  # Optimizer
        # Loss function to minimize
        loss=keras.losses.SparseCategoricalCrossentropy(),
        # List of metrics to monitor
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=2,
        # We pass some validation for
        # monitoring validation loss and metrics
        # at the end of each epoch
        validation_data=(x_val, y_val),
        verbose=0,
    )
    assert set(history.history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                                    "val_sparse_categorical_accuracy"}
    # Evaluate the model on the test data using `evaluate`
    results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    assert results[1] > 0.8  # "test loss, test acc"
    # Generate predictions (probabilities -- the output of the last layer)
    # on new data using `predict`
    predictions = model.predict(x_test[:3], verbose=0)
    assert predictions.shape == (3, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


def test_custom_losses():
    x_train, y_train, _, _, _, _ = _mnist(1024)

    def custom_mean_squared_error(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)

    # We need to one-hot encode the labels to use MSE
    y_train_one_hot = ops.one_hot(y_train, num_classes=10)
    h1 = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=2, verbose=0).history
    assert h1["loss"][1] < h1["loss"][0]

    class CustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
            reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
    y_pred = np.asarray(model.predict(x_train[:64], verbose=0))
    y1h = np.asarray(y_train_one_hot)[:64]
    expect = np.mean(np.mean((y1h - y_pred) ** 2, -1) + 0.1 * np.mean((0.5 - y_pred) ** 2, -1))
    np.testing.assert_allclose(model.evaluate(x_train[:64], y1h, batch_size=64, verbose=0),
                               expect, rtol=1e-5)
    h2 = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0).history
    assert np.isfinite(h2["loss"][0])


def test_custom_metrics():
    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(
                shape=(), name="ctp", initializer="zeros"
            )

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            values = ops.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, "float32")
                values = ops.multiply(values, sample_weight)
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives.value

        def reset_state(self):
            # The state of the metric will be reset at the start of each epoch.
            self.true_positives.assign(0.0)

    x_train, y_train, _, _, _, _ = _mnist(1024)
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    h = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0).history
    ctp = h["categorical_true_positives"]
    # reset each epoch (a per-epoch count that grows as the model learns; the guide's
    # (batch,) == (batch, 1) comparison broadcasts, so it counts pairs, as it does in Keras)
    assert 0 < ctp[0] < ctp[-1]
    assert len(model.metrics[1].metrics[0].variables) == 1


def test_handling_losses_and_metrics_that_dont_fit_the_standard_signature():
    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(ops.sum(inputs) * 0.1)
            return inputs  # Pass-through layer.

    x_train, y_train, _, _, _, _ = _mnist(1024)
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)

    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    # The displayed loss will be much higher than before
    # due to the regularization component.
    h = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0).history
    assert h["loss"][0] > np.log(10)

    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            # Compute the training-time loss value and add it
            # to the layer using `self.add_loss()`.
            loss = self.loss_fn(targets, logits, sample_weights)
            self.add_loss(loss)

            # Return the inference-time prediction tensor (for `.predict()`).
            return ops.softmax(logits)

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)

    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # No loss argument!

    data = {
        "inputs": np.random.random((3, 3)),
        "targets": np.random.random((3, 10)),
    }
    h = model.fit(data, epochs=3, verbose=0).history
    assert h["loss"][-1] < h["loss"][0]


def test_automatically_setting_apart_a_validation_holdout_set_and_sample_weights():
    keras.utils.set_random_seed(1)
    x_train, y_train, _, _, _, _ = _mnist(1024)
    model = get_compiled_model()
    h = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1,
                  verbose=0).history
    assert "val_loss" in h

    class_weight = {
        0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0,
        # Set weight "2" for class "5",
        # making this class 2x more important
        5: 2.0,
        6: 1.0, 7: 1.0, 8: 1.0, 9: 1.0,
    }
    model = get_compiled_model()
    model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1,
              verbose=0)

    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0
    model = get_compiled_model()
    h = model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1,
                  verbose=0).history
    assert np.isfinite(h["loss"][0])


def test_passing_data_to_multi_input_multi_output_models():
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")

    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)

    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)

    x = layers.concatenate([x1, x2])

    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)

    model = keras.Model(
        inputs=[image_input, timeseries_input], outputs=[score_output, class_output]
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ] if hasattr(keras.metrics, "MeanAbsolutePercentageError") else [
                keras.metrics.MeanAbsoluteError()],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )

    # Generate dummy NumPy data
    img_data = np.random.random_sample(size=(100, 32, 32, 3))
    ts_data = np.random.random_sample(size=(100, 20, 10))
    score_targets = np.random.random_sample(size=(100, 1))
    class_targets = np.random.random_sample(size=(100, 5))

    # Fit on dicts
    h = model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32,
        epochs=1,
        verbose=0,
    ).history
    assert {"loss", "score_output_loss", "class_output_loss",
            "class_output_categorical_accuracy"} <= set(h)
    np.testing.assert_allclose(h["loss"][0], 2.0 * h["score_output_loss"][0] +
                               h["class_output_loss"][0], rtol=1e-4)


def test_using_callbacks_and_learning_rate_schedules():
    x_train, y_train, _, _, _, _ = _mnist(1024)
    model = get_compiled_model()

    callbacks = [
        keras.callbacks.EarlyStopping(
            # Stop training when `val_loss` is no longer improving
            monitor="val_loss",
            # "no longer improving" being defined as "no better than 1e-2 less"
            min_delta=1e-2,
            # "no longer improving" being further defined as "for at least 2 epochs"
            patience=2,
            verbose=0,
        )
    ]
    h = model.fit(x_train, y_train, epochs=20, batch_size=64, callbacks=callbacks,
                  validation_split=0.2, verbose=0).history
    assert len(h["loss"]) < 20  # stopped early

    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
    assert abs(float(optimizer.learning_rate) - 0.1) < 1e-7
