"""compile / fit / evaluate / predict and the per-batch methods, with Keras's semantics."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers


def data(n=512, d=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    w = rng.standard_normal((d, classes))
    y = np.argmax(x @ w, axis=1)
    return x, y


def model_for(d=8, classes=3, act="softmax"):
    return keras.Sequential([keras.Input((d,)), layers.Dense(32, activation="relu"),
                             layers.Dense(classes, activation=act)])


def test_fit_history_validation_and_accuracy_resolution():
    keras.utils.set_random_seed(1)
    x, y = data()
    model = model_for()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=8, batch_size=16, validation_split=0.25, verbose=0)
    assert sorted(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(hist.history["loss"]) == 8 and hist.epoch == list(range(8))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] > 0.75
    assert hist.params["epochs"] == 8 and hist.params["steps"] == 24
    loss, acc = model.evaluate(x, y, verbose=0)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert d == {"accuracy": acc, "loss": loss}
    preds = model.predict(x, verbose=0)
    np.testing.assert_allclose(acc, (preds.argmax(1) == y).mean(), atol=1e-6)


def test_categorical_vs_sparse_vs_binary_accuracy():
    x, y = data(classes=2)
    onehot = keras.utils.to_categorical(y, 2)
    m = model_for(classes=2)
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, onehot, epochs=1, verbose=0)
    assert m._compile_metrics.entries[0][0][1]._fn.__name__ == "categorical_accuracy"
    b = model_for(classes=1, act="sigmoid")
    b.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    b.fit(x, y.astype("float32"), epochs=1, verbose=0)
    assert b._compile_metrics.entries[0][0][1]._fn.__name__ == "binary_accuracy"


def test_evaluate_loss_only_and_validation_data():
    x, y = data()
    m = model_for()
    m.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
              loss=keras.losses.SparseCategoricalCrossentropy())
    h = m.fit(x, y, validation_data=(x[:64], y[:64]), epochs=2, verbose=0)
    assert "val_loss" in h.history
    assert isinstance(m.evaluate(x, y, verbose=0), float)


def test_predict_shapes_empty_and_batches():
    m = model_for()
    x, _ = data(n=70)
    assert m.predict(x, batch_size=16, verbose=0).shape == (70, 3)
    empty = m.predict(x[:0], verbose=0)
    assert empty.shape == (0, 3)
    np.testing.assert_allclose(m.predict_on_batch(x[:5]), m.predict(x[:5], verbose=0), rtol=1e-6)


def test_train_test_on_batch():
    x, y = data()
    m = model_for()
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    first = m.train_on_batch(x[:64], y[:64])
    for _ in range(30):
        last = m.train_on_batch(x[:64], y[:64])
    assert last[0] < first[0]
    d = m.test_on_batch(x[:64], y[:64], return_dict=True)
    assert set(d) == {"loss", "accuracy"}


def test_fit_errors_are_clear():
    x, y = data()
    m = model_for()
    with pytest.raises(RuntimeError, match="compile"):
        m.fit(x, y, verbose=0)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="same number of samples.*512 and 100"):
        m.fit(x, y[:100], verbose=0)
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 8"):
        m.fit(x[:, :5], y, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        m.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(TypeError, match="numeric"):
        m.fit(np.array([["a"] * 8] * 4), np.zeros(4), verbose=0)
    bad = y.copy()
    bad[3] = 7
    with pytest.raises(ValueError, match="epoch 1, batch 0|\\[0, 3\\)|range"):
        m.fit(x, bad, shuffle=False, verbose=0)


def test_sample_and_class_weights_change_the_loss():
    x, y = data(n=64)
    m = model_for()
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    base = m.evaluate(x, y, verbose=0)
    w = np.zeros(64, "float32")
    assert m.evaluate(x, y, sample_weight=w, verbose=0) == pytest.approx(0.0, abs=1e-7)
    assert m.evaluate(x, y, sample_weight=np.full(64, 2.0), verbose=0) == pytest.approx(
        2 * base, rel=1e-5)
    m.fit(x, y, class_weight={0: 1.0, 1: 0.0, 2: 0.0}, epochs=1, verbose=0)


def test_multi_output_losses_weights_and_metrics():
    a = keras.Input((6,), name="inp")
    h = layers.Dense(8, activation="relu")(a)
    c = layers.Dense(3, activation="softmax", name="cls")(h)
    r = layers.Dense(1, name="reg")(h)
    model = keras.Model(a, [c, r])
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 6)).astype("float32")
    yc = rng.integers(0, 3, 96)
    yr = rng.standard_normal((96, 1)).astype("float32")
    hist = model.fit(x, {"cls": yc, "reg": yr}, epochs=2, batch_size=32, verbose=0)
    assert {"loss", "cls_loss", "reg_loss", "cls_accuracy"} <= set(hist.history)
    d = model.evaluate(x, [yc, yr], verbose=0, return_dict=True)
    assert d["loss"] == pytest.approx(d["cls_loss"] + 0.5 * d["reg_loss"], rel=1e-4)


def test_early_stopping_and_terminate_on_nan():
    x, y = data()
    m = model_for()
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    es = keras.callbacks.EarlyStopping(monitor="loss", patience=1)
    hist = m.fit(x, y, epochs=20, callbacks=[es], verbose=0)
    assert len(hist.history["loss"]) < 20
    m2 = model_for(act=None)
    m2.compile(optimizer=keras.optimizers.SGD(learning_rate=1e30), loss="mse")
    seen = []
    hist = m2.fit(x * 1e10, np.ones((512, 3), "float32"), epochs=5, verbose=0,
                  callbacks=[keras.callbacks.TerminateOnNaN(),
                             keras.callbacks.LambdaCallback(
                                 on_train_batch_end=lambda b, logs: seen.append(logs["loss"]))])
    assert len(hist.history["loss"]) == 1
    assert not np.isfinite(seen[-1]) and all(np.isfinite(seen[:-1]))


def test_generators_and_pydatasets():
    x, y = data(n=128)

    class DS(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]

    m = model_for()
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(DS(), epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2

    def gen():
        while True:
            for i in range(4):
                yield x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]
    h = m.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    assert m.predict(DS(), verbose=0).shape == (128, 3)


def test_optimizer_objects_and_learning_rate():
    opt = keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    assert opt.learning_rate == pytest.approx(0.01)
    opt.learning_rate = 0.005
    assert opt.learning_rate == pytest.approx(0.005)
    with pytest.raises(ValueError):
        keras.optimizers.get("nope")
    assert isinstance(keras.optimizers.get("sgd"), keras.optimizers.SGD)
