"""keras.applications against Keras 3 itself (golden outputs from
tests/golden/make_applications_golden.py): parameter counts and the per-layer weight layout that
Keras 3 weights files are keyed by, for every architecture; a small MobileNetV2 loading a weights
file Keras 3 wrote and predicting as Keras did; preprocessing; grouped convolutions; errors.
With the peers venv (/tmp/peers or NNFORGE_PEERS_PYTHON), full-size ResNet50 and MobileNetV2
load weights Keras 3 saves on the spot and give Keras's outputs within 1e-4."""
import json
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import applications as A
from tests.helpers import PEERS, run_keras3

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SPEC = json.loads((GOLDEN / "applications.json").read_text())
IO = np.load(GOLDEN / "applications_io.npz")


def layer_signature(model):
    return [[type(layer).__name__, [list(w.shape) for w in layer.weights]]
            for layer in model.layers if layer.weights]


def check_against_golden(model, want):
    assert model.count_params() == want["params"]
    assert list(model.output_shape) == want["output_shape"]
    assert layer_signature(model) == want["layers"]


@pytest.mark.parametrize("name", [n for n in SPEC if "builder" not in SPEC[n]])
def test_architecture_matches_keras(name):
    check_against_golden(getattr(A, name)(weights=None), SPEC[name])


@pytest.mark.parametrize("key", [n for n in SPEC if "builder" in SPEC[n]])
def test_arguments_match_keras(key):
    want = SPEC[key]
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in want["kwargs"].items()}
    check_against_golden(getattr(A, want["builder"])(weights=None, **kwargs), want)


def test_mobilenet_v2_loads_keras_weights_and_predicts_as_keras():
    model = A.MobileNetV2(weights=str(GOLDEN / "applications_mobilenet_v2.weights.h5"),
                          alpha=0.35, input_shape=(32, 32, 3), classes=10)
    x = A.mobilenet_v2.preprocess_input(IO["images"].copy())
    np.testing.assert_allclose(x, IO["mobilenet_v2_x"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), IO["mobilenet_v2_y"], rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("module,key", [("resnet50", "resnet_pre"), ("densenet", "densenet_pre")])
def test_preprocess_input_as_keras(module, key):
    got = getattr(A, module).preprocess_input(IO["images"].copy())
    np.testing.assert_allclose(got, IO[key], rtol=1e-6, atol=1e-4)
    tensor = getattr(A, module).preprocess_input(keras.ops.convert_to_tensor(IO["images"]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tensor), IO[key], rtol=1e-6,
                               atol=1e-4)
    images = IO["images"]
    assert A.efficientnet.preprocess_input(images) is images  # the model preprocesses itself


@pytest.mark.parametrize("tag,groups,filters", [("g2", 2, 4), ("g3", 3, 6), ("gdw", 6, 12)])
def test_grouped_conv2d_matches_keras(tag, groups, filters):
    layer = keras.layers.Conv2D(filters, 3, groups=groups, padding="same")
    layer.build((None, 7, 7, 6))
    assert tuple(layer.kernel.shape) == IO[f"{tag}_kernel"].shape
    layer.set_weights([IO[f"{tag}_kernel"], IO[f"{tag}_bias"]])
    x = keras.Variable(IO[f"{tag}_x"])
    with keras.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = keras.ops.sum(y * y)
    dx, dk = tape.gradient(loss, [x, layer.kernel])
    np.testing.assert_allclose(y.numpy(), IO[f"{tag}_y"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(dx), IO[f"{tag}_dx"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(dk), IO[f"{tag}_dk"], rtol=1e-4, atol=1e-4)
    cfg = layer.get_config()
    assert cfg["groups"] == groups
    assert keras.layers.Conv2D.from_config(cfg).groups == groups


def test_grouped_conv_refuses_indivisible_channels():
    with pytest.raises(ValueError, match="evenly divisible"):
        keras.layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="evenly divisible"):
        keras.layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), "float32"))


def test_weights_argument_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("NNFORGE_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="downloads no weights"):
        A.ResNet50()  # Keras's default, weights="imagenet", with no file in NNFORGE_DATA_DIR
    with pytest.raises(ValueError, match="classes` should be 1000"):
        A.VGG16(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="path to the weights file"):
        A.DenseNet121(weights=str(tmp_path / "missing.weights.h5"))
    with pytest.raises(ValueError, match="at least 32x32"):
        A.ResNet50(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="activations are allowed"):
        A.ResNet50(weights="imagenet", classifier_activation="relu")
    # weights="imagenet" reads the Keras-3-format file named for the architecture
    small = A.MobileNetV2(weights=None, alpha=0.35, input_shape=(96, 96, 3), include_top=False)
    small.save_weights(str(tmp_path / "mobilenet_v2_0.35_96_notop.weights.h5"))
    again = A.MobileNetV2(weights="imagenet", alpha=0.35, input_shape=(96, 96, 3),
                          include_top=False)
    for a, b in zip(small.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_decode_predictions_reads_the_class_index(tmp_path, monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    (tmp_path / "imagenet_class_index.json").write_text(json.dumps(index))
    monkeypatch.setenv("NNFORGE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(A.imagenet_utils, "CLASS_INDEX", None)
    preds = np.zeros((2, 1000), "float32")
    preds[0, 7], preds[0, 3], preds[1, 999] = 0.7, 0.2, 0.9
    got = A.resnet50.decode_predictions(preds, top=2)
    assert got[0][0][:2] == ("n00000007", "class_7") and got[0][1][1] == "class_3"
    assert got[1][0][1] == "class_999"
    with pytest.raises(ValueError, match="2D array of shape"):
        A.vgg16.decode_predictions(np.zeros((2, 10)))


def test_input_tensor_and_functional_use():
    inputs = keras.Input((64, 64, 3))
    base = A.ResNet50V2(weights=None, include_top=False, input_tensor=inputs, pooling="avg")
    out = keras.layers.Dense(3)(base.output)
    model = keras.Model(inputs, out)
    assert model.predict(np.zeros((2, 64, 64, 3), "float32"), verbose=0).shape == (2, 3)


PEER_SCRIPT = r"""
import os, sys, numpy as np
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
name, path, out = sys.argv[1:4]
keras.utils.set_random_seed(3)
m = getattr(keras.applications, name)(weights=None)
rng = np.random.default_rng(5)
for layer in m.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape).astype("float32"))
        layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape)
                                     .astype("float32"))
m.save_weights(path)
x = rng.uniform(-1, 1, (2, 224, 224, 3)).astype("float32")
np.savez(out, x=x, y=np.asarray(m.predict(x, verbose=0)))
"""


@pytest.mark.skipif(not PEERS.exists(), reason="needs the peers venv with Keras 3")
@pytest.mark.parametrize("name", ["ResNet50", "MobileNetV2"])
def test_full_size_keras_weights_give_keras_outputs(name, tmp_path):
    path, out = tmp_path / f"{name}.weights.h5", tmp_path / "io.npz"
    run_keras3(PEER_SCRIPT, name, path, out, timeout=900)
    io = np.load(out)
    model = getattr(A, name)(weights=str(path))
    np.testing.assert_allclose(model.predict(io["x"], verbose=0), io["y"], rtol=1e-4,
                               atol=1e-4)
