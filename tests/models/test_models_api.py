"""Sequential and functional Model: construction, shapes, calls, summary, configs, errors."""
import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from tests.helpers import seed_mlp, seed_cnn




def test_seed_param_counts():
    assert seed_mlp().count_params() == 101_770
    assert seed_cnn().count_params() == 42_442


def test_sequential_ways_to_give_the_input_shape():
    a = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    assert a.built and a.output_shape == (None, 2)
    b = keras.Sequential()
    b.add(keras.Input((3,)))
    b.add(layers.Dense(4))
    assert b.count_params() == 16
    c = keras.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not c.built
    out = c(np.ones((5, 3), "float32"))
    assert out.shape == (5, 2) and c.built and c.count_params() == 16 + 10
    c2 = keras.Sequential([layers.Dense(2)])
    c2.build((None, 7))
    assert c2.count_params() == 16
    assert len(c.layers) == 2 and c.get_layer(index=0) is c.layers[0]


def test_summary_matches_keras_layout():
    keras.backend.clear_session()
    model = seed_mlp()
    buf = io.StringIO()
    with redirect_stdout(buf):
        model.summary()
    text = buf.getvalue()
    assert 'Model: "sequential"' in text
    assert re.search(r"│ flatten \(Flatten\) +│ \(None, 784\) +│ +0 │", text)
    assert re.search(r"│ dense \(Dense\) +│ \(None, 128\) +│ +100,480 │", text)
    assert re.search(r"│ dense_1 \(Dense\) +│ \(None, 10\) +│ +1,290 │", text)
    assert " Total params: 101,770 (397.54 KB)" in text
    assert " Trainable params: 101,770 (397.54 KB)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text
    assert "InputLayer" not in text


def test_functional_multi_input_multi_output():
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    ha = layers.Dense(5, activation="relu", name="ha")(a)
    hb = layers.Dense(5, activation="relu", name="hb")(b)
    merged = layers.Dense(6, name="mix")(layers.Concatenate(name="merge")([ha, hb]))
    out1 = layers.Dense(2, activation="softmax", name="cls")(merged)
    out2 = layers.Dense(1, name="reg")(hb)
    model = keras.Model(inputs=[a, b], outputs=[out1, out2])
    assert model.input_names == ["a", "b"] and model.output_names == ["cls", "reg"]
    assert [l.name for l in model.layers][:2] == ["a", "b"]
    xa, xb = np.ones((7, 4), "float32"), np.ones((7, 3), "float32")
    y1, y2 = model.predict([xa, xb], verbose=0)
    assert y1.shape == (7, 2) and y2.shape == (7, 1)
    d1, d2 = model.predict({"a": xa, "b": xb}, verbose=0)
    np.testing.assert_array_equal(d1, y1)
    # the classification head sees both branches: changing either input changes it
    za, _ = model.predict([xa * 0, xb], verbose=0)
    zb, _ = model.predict([xa, xb * 0], verbose=0)
    assert np.abs(za - y1).max() > 1e-6 and np.abs(zb - y1).max() > 1e-6
    with pytest.raises(ValueError, match="expects 2 input"):
        model.predict(xa, verbose=0)
    with pytest.raises(ValueError, match="incompatible.*\\(None, 4\\).*\\(7, 5\\)"):
        model.predict([np.ones((7, 5)), xb], verbose=0)
    buf = io.StringIO()
    with redirect_stdout(buf):
        model.summary()
    assert "Connected to" in buf.getvalue()


def test_functional_graph_disconnected_and_bad_outputs():
    a = keras.Input((4,))
    b = keras.Input((4,))
    out = layers.Dense(2)(b)
    with pytest.raises(ValueError, match="disconnected"):
        keras.Model(a, out)
    with pytest.raises(ValueError, match="symbolic"):
        keras.Model(a, np.ones(3))


def test_calling_models_and_nesting():
    inner = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    x = keras.Input((5,))
    y = inner(x)
    outer = keras.Model(x, layers.Activation("softmax")(y))
    data = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    out = outer(data, training=False)
    assert isinstance(out, keras.Tensor) and out.shape == (4, 2)
    np.testing.assert_allclose(out.numpy().sum(1), 1, rtol=1e-6)
    assert outer.count_params() == inner.count_params() == 5 * 3 + 3 + 3 * 2 + 2


def test_subclassed_model_trains_with_fit_and_tape():
    class MLP(keras.Model):
        def __init__(self):
            super().__init__(name="mlp")
            self.hidden = layers.Dense(16, activation="relu")
            self.out = layers.Dense(3, activation="softmax")

        def call(self, x, training=None):
            return self.out(self.hidden(x))

    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4)).astype("float32")
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    keras.utils.set_random_seed(0)  # weights and shuffling: a repeatable run
    model = MLP()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.85
    assert len(model.trainable_weights) == 4
    with keras.GradientTape() as tape:
        loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y[:8], model(x[:8])))
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(g is not None and g.shape == w.shape for g, w in zip(grads, model.trainable_weights))


def test_get_config_round_trip_and_json():
    model = seed_cnn()
    clone = keras.models.clone_model(model)
    assert clone.count_params() == model.count_params()
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    js = model.to_json()
    again = keras.models.model_from_json(js)
    assert again.count_params() == 42_442
    a = keras.Input((4,))
    f = keras.Model(a, layers.Dense(2, name="o")(layers.Dense(3)(a)))
    f2 = keras.Model.from_config(f.get_config())
    assert f2.count_params() == f.count_params() and f2.output_shape == (None, 2)


def test_get_layer_errors():
    model = seed_mlp()
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
