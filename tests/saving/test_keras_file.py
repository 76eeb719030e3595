"""model.save / load_model (.keras, Keras 3 layout), save_weights / load_weights, atomic
writes, resuming training, and hostile files."""
import json
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from tests.helpers import PEERS, run_keras3, seed_cnn, seed_mlp

ROOT = Path(__file__).resolve().parents[2]




def mnist(n=1024):
    (x, y), _ = keras.datasets.mnist.load_data()
    return x[:n].astype("float32") / 255, keras.utils.to_categorical(y[:n], 10)


def test_sequential_round_trip_predicts_the_same(tmp_path):
    x, y = mnist(256)
    m = seed_mlp(hidden=32)
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    m.save(path)
    with zipfile.ZipFile(path) as zf:
        assert {"metadata.json", "config.json", "model.weights.h5"} <= set(zf.namelist())
        cfg = json.loads(zf.read("config.json"))
    assert cfg["class_name"] == "Sequential" and cfg["compile_config"]["loss"] == \
        "categorical_crossentropy"
    m2 = keras.models.load_model(path)
    np.testing.assert_array_equal(m2.predict(x, verbose=0), m.predict(x, verbose=0))
    assert m2.optimizer.iterations == m.optimizer.iterations
    assert m2.evaluate(x, y, verbose=0) == m.evaluate(x, y, verbose=0)


def test_functional_two_inputs_two_outputs_round_trip(tmp_path):
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    h = layers.Dense(5, activation="relu", name="h")(a)
    g = layers.Dense(5, activation="tanh", name="g")(b)
    o1 = layers.Dense(2, activation="softmax", name="o1")(h)
    o2 = layers.Dense(1, name="o2")(g)
    m = keras.Model([a, b], [o1, o2])
    m.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"])
    xa, xb = np.random.rand(8, 4).astype("f4"), np.random.rand(8, 3).astype("f4")
    m.save(tmp_path / "f.keras")
    m2 = keras.models.load_model(tmp_path / "f.keras")
    for p, q in zip(m.predict([xa, xb], verbose=0), m2.predict([xa, xb], verbose=0)):
        np.testing.assert_array_equal(p, q)
    assert m2.input_names == ["a", "b"] and m2.output_names == ["o1", "o2"]


def test_save_and_load_weights(tmp_path):
    m, other = seed_cnn(), seed_cnn()
    m.save_weights(tmp_path / "w.weights.h5")
    other.load_weights(tmp_path / "w.weights.h5")
    for p, q in zip(m.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match=".weights.h5"):
        m.save_weights(tmp_path / "w.h5")
    small = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(16),
                              layers.Dense(10)])
    with pytest.raises(ValueError, match="shape"):
        small.load_weights(tmp_path / "w.weights.h5")


def train(model, x, y, epochs, initial_epoch=0):
    model.fit(x, y, epochs=epochs, initial_epoch=initial_epoch, batch_size=32, verbose=0)
    return model


def test_resume_reaches_the_same_weights_as_an_uninterrupted_run(tmp_path):
    x, y = mnist(512)

    def fresh():
        keras.utils.set_random_seed(3)
        m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(32, activation="relu"), layers.Dropout(0.3),
                              layers.Dense(10, activation="softmax")])
        m.compile(optimizer="adam", loss="categorical_crossentropy")
        return m

    straight = train(fresh(), x, y, 3)
    first = train(fresh(), x, y, 2)
    first.save(tmp_path / "ckpt.keras")
    keras.utils.set_random_seed(999)  # the checkpoint must restore the random state itself
    resumed = keras.models.load_model(tmp_path / "ckpt.keras")
    assert resumed.epochs_trained == 2  # the checkpoint records where training stopped
    train(resumed, x, y, 3, initial_epoch=resumed.epochs_trained)
    for p, q in zip(straight.get_weights(), resumed.get_weights()):
        assert p.tobytes() == q.tobytes()


SAVER = r"""
import sys, numpy as np
sys.path[:0] = [{paths!r}]
import nnforge as keras
from nnforge import layers
m = keras.Sequential([keras.Input((64,)), layers.Dense(512), layers.Dense(512), layers.Dense(8)])
i = 0
print("ready", flush=True)
while True:
    m.layers[0].kernel.assign(np.full((64, 512), i % 7, "float32"))
    m.save(sys.argv[1])
    i += 1
"""


def test_killed_mid_save_leaves_a_loadable_file(tmp_path):
    target = tmp_path / "live.keras"
    seed_mlp(hidden=32).save(target)
    code = SAVER.format(paths=[p for p in sys.path if p])
    rng = np.random.default_rng(0)
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", code, str(target)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        import time
        time.sleep(float(rng.uniform(0.05, 0.4)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        m = keras.models.load_model(target)  # old or new, never torn
        assert m.count_params() > 0
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "live.keras"]
    assert all(name.endswith(".tmp") for name in leftovers)


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_hostile_and_broken_files_give_clear_errors(tmp_path):
    good = tmp_path / "good.keras"
    seed_mlp(hidden=32).save(good)
    with zipfile.ZipFile(good) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    (tmp_path / "plain.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a zip"):
        keras.models.load_model(tmp_path / "plain.keras")
    data = good.read_bytes()
    (tmp_path / "trunc.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        keras.models.load_model(tmp_path / "trunc.keras")
    _zip(tmp_path / "dots.keras", dict(parts, **{"../evil.txt": b"x"}))
    with pytest.raises(ValueError, match="unsafe name"):
        keras.models.load_model(tmp_path / "dots.keras")
    _zip(tmp_path / "abs.keras", dict(parts, **{"/etc/evil": b"x"}))
    with pytest.raises(ValueError, match="unsafe name"):
        keras.models.load_model(tmp_path / "abs.keras")
    cfg = json.loads(parts["config.json"])
    cfg["config"]["layers"][2]["class_name"] = "EvilLayer"
    _zip(tmp_path / "unknown.keras", dict(parts, **{"config.json": json.dumps(cfg)}))
    with pytest.raises(ValueError, match="Unknown layer class 'EvilLayer'"):
        keras.models.load_model(tmp_path / "unknown.keras")
    cfg = json.loads(parts["config.json"])
    cfg["config"]["layers"][2]["config"]["units"] = 7
    _zip(tmp_path / "shape.keras", dict(parts, **{"config.json": json.dumps(cfg)}))
    with pytest.raises(ValueError, match="shape"):
        keras.models.load_model(tmp_path / "shape.keras")
    _zip(tmp_path / "nojson.keras", dict(parts, **{"config.json": b"{not json"}))
    with pytest.raises(ValueError, match="not valid JSON"):
        keras.models.load_model(tmp_path / "nojson.keras")
    _zip(tmp_path / "missing.keras", {"config.json": parts["config.json"]})
    with pytest.raises(ValueError, match="lacks"):
        keras.models.load_model(tmp_path / "missing.keras")
    with zipfile.ZipFile(tmp_path / "bomb.keras", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, d in parts.items():
            zf.writestr(n, d)
        zf.writestr("padding.bin", b"\0" * (64 << 20))
    with pytest.raises(ValueError, match="zip bomb"):
        keras.models.load_model(tmp_path / "bomb.keras")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".keras") == []


INTEROP_KERAS_WRITES = r"""
import os, sys, numpy as np
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
kind, path, xpath, ypath = sys.argv[1:5]
keras.utils.set_random_seed(0)
if kind == "mlp":
    m = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10, activation="softmax")])
else:
    m = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)), keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
m.save(path)
np.save(ypath, m.predict(np.load(xpath), verbose=0))
"""

INTEROP_KERAS_READS = r"""
import os, sys, numpy as np
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
path, xpath, ypath = sys.argv[1:4]
m = keras.models.load_model(path)
np.save(ypath, m.predict(np.load(xpath), verbose=0))
"""


@pytest.mark.slow
@pytest.mark.skipif(not PEERS.exists(), reason="no peers venv with Keras 3 (../shared/peers)")
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_interop_with_keras3(tmp_path, kind):
    rng = np.random.default_rng(0)
    x = rng.random((16, 28, 28) if kind == "mlp" else (16, 32, 32, 3), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    # Keras 3 writes, nnforge reads
    run_keras3(INTEROP_KERAS_WRITES, kind, tmp_path / "k.keras", tmp_path / "x.npy",
               tmp_path / "yk.npy")
    m = keras.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(m.predict(x, verbose=0), np.load(tmp_path / "yk.npy"),
                               rtol=1e-5, atol=1e-6)
    # nnforge writes, Keras 3 reads
    keras.utils.set_random_seed(1)
    ours = seed_cnn() if kind == "cnn" else keras.Sequential([
        keras.Input((28, 28)), layers.Flatten(), layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax")])
    ours.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    ours.save(tmp_path / "n.keras")
    run_keras3(INTEROP_KERAS_READS, tmp_path / "n.keras", tmp_path / "x.npy",
               tmp_path / "yn.npy")
    np.testing.assert_allclose(np.load(tmp_path / "yn.npy"), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


INTEROP_RNN_KERAS = r"""
import os, sys, numpy as np
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
mode, path, xpath, ypath = sys.argv[1:5]
if mode == "write":
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4, return_sequences=True),
        keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True)),
        keras.layers.TimeDistributed(keras.layers.Dense(2)), keras.layers.BatchNormalization()])
    m.save(path)
else:
    m = keras.models.load_model(path)
np.save(ypath, m.predict(np.load(xpath), verbose=0))
"""


@pytest.mark.slow
@pytest.mark.skipif(not PEERS.exists(), reason="no peers venv with Keras 3 (../shared/peers)")
def test_interop_recurrent_wrapped_and_normalization_layers(tmp_path):
    x = np.random.default_rng(0).random((2, 5, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    run_keras3(INTEROP_RNN_KERAS, "write", tmp_path / "k.keras", tmp_path / "x.npy",
               tmp_path / "yk.npy")
    m = keras.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(m.predict(x, verbose=0), np.load(tmp_path / "yk.npy"),
                               rtol=1e-5, atol=1e-6)
    m.save(tmp_path / "n.keras")
    run_keras3(INTEROP_RNN_KERAS, "read", tmp_path / "n.keras", tmp_path / "x.npy",
               tmp_path / "yn.npy")
    np.testing.assert_allclose(np.load(tmp_path / "yn.npy"), np.load(tmp_path / "yk.npy"),
                               rtol=1e-5, atol=1e-6)
