"""nnforge.explain on a trained MNIST convnet (keras.io's), and the example script."""
import os
import subprocess
import sys

import numpy as np
import pytest

import nnforge as keras
from nnforge import explain, layers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def trained():
    """keras.io's MNIST convnet, trained for 2 epochs on 4000 real MNIST images (~90%)."""
    keras.utils.set_random_seed(0)
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    x = x[:4000].astype("float32")[..., None] / 255.0
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x, keras.utils.to_categorical(y[:4000], 10), batch_size=128, epochs=2, verbose=0)
    xt = xt[:1000].astype("float32")[..., None] / 255.0
    _, acc = model.evaluate(xt, keras.utils.to_categorical(yt[:1000], 10), verbose=0)
    assert acc > 0.8
    return model, xt


@pytest.mark.slow
def test_randomisation_destroys_saliency_and_grad_cam_maps(trained):
    model, xt = trained
    x = xt[:24]
    before = [w.copy() for w in model.get_weights()]
    sal = explain.sanity_check("saliency", model, x, output="logits", absolute=False,
                               compare="signed")
    assert len(sal.layers) == 3  # dense, then the two convolutions, top-down
    assert sal.mean[-1] < 0.3, sal.table()
    # Grad-CAM: only digits whose trained map is not all zero (a constant map has no ranking).
    cams = explain.grad_cam(model, x, output="logits")
    informative = np.flatnonzero(cams.reshape(len(x), -1).max(axis=1) > 0)
    assert len(informative) >= 8
    cam = explain.sanity_check("grad_cam", model, x[informative], output="logits")
    assert cam.mean[-1] < 0.3, cam.table()
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_explanations_of_the_trained_convnet_are_consistent(trained):
    model, xt = trained
    x = xt[:8]
    ig, delta = explain.integrated_gradients(model, x, steps=64, output="logits",
                                             return_convergence_delta=True)
    gap = ig.reshape(8, -1).sum(axis=1) - delta
    assert np.all(np.abs(delta) <= 0.05 * np.abs(gap))  # completeness at 64 steps
    sal = explain.saliency(model, x, output="logits")
    assert sal.shape == x.shape and np.all(sal >= 0)


@pytest.mark.slow
def test_example_quick_mode_writes_pngs_and_table(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    # the nnforge this test process imported (installed in CI, python/ in a development tree)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(keras.__file__))
               + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "explain_mnist.py"),
                           str(out), "--quick", "--seed", "1"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for i in range(4):
        for name in ("input", "saliency", "ig", "gradcam", "gradcampp"):
            with Image.open(out / f"digit{i}_{name}.png") as im:
                assert im.size == (112, 112) and im.mode == "RGB"
    with Image.open(out / "grid.png") as im:
        assert im.size == (5 * 112, 4 * 112)
    table = (out / "sanity_check.txt").read_text()
    for method in ("saliency", "grad_cam", "grad_cam_plus_plus", "integrated_gradients"):
        assert f"Sanity check ({method})" in table
    assert "randomised down to" in table and "conv2d" in table
