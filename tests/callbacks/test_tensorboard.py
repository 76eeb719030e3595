"""callbacks.TensorBoard: event files read back by TensorBoard's own EventAccumulator."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

import nnforge as keras  # noqa: E402
from nnforge import layers  # noqa: E402
from nnforge.callbacks import event_writer  # noqa: E402

PYTHON_DIR = os.path.dirname(os.path.dirname(keras.__file__))

TRAIN_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import nnforge as keras
    from nnforge import layers
    log_dir, out = sys.argv[1], sys.argv[2]
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    model = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    tb = keras.callbacks.TensorBoard(log_dir, histogram_freq=3, update_freq=3)
    hist = model.fit(x, y, batch_size=16, epochs=4, validation_split=0.25, verbose=0,
                     callbacks=[tb])
    weights = {w.path: w.numpy().tolist() for l in model.layers for w in l.weights}
    json.dump({"history": hist.history, "weights": weights,
               "tf_loaded": "tensorflow" in sys.modules}, open(out, "w"))
""")


def _accumulator(path):
    acc = event_accumulator.EventAccumulator(path, size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0,
        event_accumulator.TENSORS: 0})
    acc.Reload()
    return acc


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tb")
    log_dir, out, script = tmp / "logs", tmp / "out.json", tmp / "train.py"
    script.write_text(TRAIN_SCRIPT)
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, str(script), str(log_dir), str(out)], check=True, env=env,
                   timeout=300)
    return log_dir, json.loads(out.read_text())


def test_training_with_the_callback_does_not_import_tensorflow(trained):
    assert trained[1]["tf_loaded"] is False


def test_directory_layout_is_keras(trained):
    log_dir, _ = trained
    assert sorted(os.listdir(log_dir)) == ["train", "validation"]
    for sub in ("train", "validation"):
        files = os.listdir(log_dir / sub)
        assert files and all(".tfevents." in f for f in files)


def test_epoch_scalars_equal_history(trained):
    log_dir, result = trained
    history = result["history"]
    train, val = _accumulator(str(log_dir / "train")), _accumulator(str(log_dir / "validation"))
    for name in ("loss", "accuracy"):
        events = train.Scalars(f"epoch_{name}")
        assert [e.step for e in events] == [0, 1, 2, 3]
        np.testing.assert_allclose([e.value for e in events], history[name], rtol=1e-6)
        val_events = val.Scalars(f"epoch_{name}")
        np.testing.assert_allclose([e.value for e in val_events], history[f"val_{name}"],
                                   rtol=1e-6)
    lr = train.Scalars("epoch_learning_rate")
    np.testing.assert_allclose([e.value for e in lr], [0.001] * 4, rtol=1e-6)


def test_batch_scalars_every_update_freq_batches(trained):
    log_dir, _ = trained
    train = _accumulator(str(log_dir / "train"))
    # 72 training samples / batch 16 = 5 batches per epoch, 20 in all; update_freq=3.
    steps = [e.step for e in train.Scalars("batch_loss")]
    assert steps == list(range(3, 21, 3))
    assert all(np.isfinite(e.value) for e in train.Scalars("batch_loss"))


def test_weight_histograms(trained):
    log_dir, result = trained
    train = _accumulator(str(log_dir / "train"))
    tags = train.Tags()["histograms"]
    assert sorted(tags) == sorted(f"{p}/histogram" for p in result["weights"])
    for path, values in result["weights"].items():
        events = train.Histograms(f"{path}/histogram")
        assert [e.step for e in events] == [0, 3]  # histogram_freq=3 over 4 epochs
        h = events[-1].histogram_value
        v = np.asarray(values, dtype=np.float64).ravel()
        assert h.num == v.size and sum(h.bucket) == v.size
        assert h.min == pytest.approx(v.min()) and h.max == pytest.approx(v.max())
        assert h.sum == pytest.approx(v.sum(), abs=1e-9)
        assert h.sum_squares == pytest.approx(np.dot(v, v))
        counts, _ = np.histogram(v, bins=30, range=(v.min(), v.max()))
        if v.min() < v.max():
            assert list(h.bucket) == counts.tolist()


def test_model_graph(trained):
    log_dir, _ = trained
    train = _accumulator(str(log_dir / "train"))
    graph = train.Graph()
    names = [n.name for n in graph.node]
    assert names[1:] == ["dense", "dense_1"]
    assert [n.op for n in graph.node] == ["InputLayer", "Dense", "Dense"]
    assert list(graph.node[1].input) == [graph.node[0].name]
    assert list(graph.node[2].input) == [graph.node[1].name]
    keras_json = train.Tensors("keras")[0].tensor_proto.string_val[0].decode()
    assert json.loads(keras_json)["class_name"] == "Sequential"


def test_functional_graph_edges_and_batch_mode(tmp_path):
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    h = layers.Concatenate(name="cat")([layers.Dense(5, name="da")(a), b])
    model = keras.Model([a, b], layers.Dense(1, name="out")(h))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 3)).astype("float32")]
    hist = model.fit(xs, rng.normal(size=(8, 1)).astype("float32"), batch_size=4, epochs=2,
                     verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path,
                                                                       update_freq="batch")])
    train = _accumulator(str(tmp_path / "train"))
    nodes = {n.name: list(n.input) for n in train.Graph().node}
    assert nodes == {"a": [], "b": [], "da": ["a"], "cat": ["da", "b"], "out": ["cat"]}
    assert [e.step for e in train.Scalars("batch_loss")] == [1, 2, 3, 4]
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_loss")],
                               hist.history["loss"], rtol=1e-6)
    assert not os.path.exists(tmp_path / "validation")


def test_write_images_and_evaluate(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    tb = keras.callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True,
                                     write_graph=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[tb])
    loss = model.evaluate(x, y, verbose=0, callbacks=[tb])
    train = _accumulator(str(tmp_path / "train"))
    kernel = model.layers[0].weights[0].numpy()
    img = train.Images(f"{model.layers[0].weights[0].path}/image")[0]
    assert (img.height, img.width) == (2, 3)  # (3, 2) kernel transposed, as Keras shows it
    assert img.encoded_image_string.startswith(b"\x89PNG")
    assert kernel.shape == (3, 2)
    val = _accumulator(str(tmp_path / "validation"))
    ev = val.Scalars("evaluation_loss_vs_iterations")
    assert ev[0].step == 1 and ev[0].value == pytest.approx(loss, rel=1e-6)


def test_graph_of_a_model_built_by_its_first_batch(tmp_path):
    model = keras.Sequential([layers.Dense(3, name="hidden"), layers.Dense(1, name="out")])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 4), "float32"), np.zeros((8, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    graph = _accumulator(str(tmp_path / "train")).Graph()
    assert [n.op for n in graph.node] == ["InputLayer", "Dense", "Dense"]
    assert [list(n.input) for n in graph.node][1:] == [[graph.node[0].name], ["hidden"]]


def test_crc32c_known_values():
    # RFC 3720 (iSCSI) test vectors for CRC-32C.
    assert event_writer.crc32c(b"") == 0
    assert event_writer.crc32c(b"123456789") == 0xE3069283
    assert event_writer.crc32c(bytes(32)) == 0x8A9136AA
    assert event_writer.crc32c(bytes([0xFF] * 32)) == 0x62A8AB43


def test_invalid_arguments():
    with pytest.raises(ValueError, match="profile_batch"):
        keras.callbacks.TensorBoard(profile_batch=2)
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(update_freq="often")
