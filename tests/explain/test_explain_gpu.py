"""nnforge.explain on the GPU: every method gives the CPU's maps for a model whose weights are
CuPy arrays, from NumPy or CuPy inputs. Skipped without CuPy, nnforge._cuda and a device."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import backend, explain, layers

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not backend.cuda_available(), reason="needs CuPy and a GPU")]


def _model(device, weights=None):
    keras.config.set_device(device)
    keras.utils.set_random_seed(2)
    inner = keras.Sequential([keras.Input((10, 10, 1)),
                              layers.Conv2D(4, 3, activation="relu", name="conv")])
    model = keras.Sequential([keras.Input((10, 10, 1)), inner, layers.MaxPooling2D(2),
                              layers.Flatten(), layers.Dense(3, activation="softmax")])
    if weights is not None:
        model.set_weights(weights)
    return model


def test_every_method_matches_the_cpu():
    import cupy
    saved = keras.config.get_device()
    try:
        cpu = _model("cpu")
        gpu = _model("cuda", cpu.get_weights())
        x = np.random.default_rng(0).random((6, 10, 10, 1)).astype("float32")
        calls = {
            "saliency": lambda m, a: explain.saliency(m, a, output="logits"),
            "smoothgrad": lambda m, a: explain.smoothgrad(m, a, samples=8, seed=1,
                                                          batch_size=16),
            "ig": lambda m, a: explain.integrated_gradients(m, a, steps=16, batch_size=40),
            "grad_cam": lambda m, a: explain.grad_cam(m, a, output="logits", relu=False),
            "grad_cam++": lambda m, a: explain.grad_cam_plus_plus(m, a),
            "occlusion": lambda m, a: explain.occlusion(m, a, window=3, stride=2),
        }
        for name, fn in calls.items():
            ref = fn(cpu, x)
            for a in (x, cupy.asarray(x)):
                got = fn(gpu, a)
                assert isinstance(got, np.ndarray), name
                np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-5, err_msg=name)
        res = explain.sanity_check("saliency", gpu, cupy.asarray(x), output="logits")
        assert res.correlations.shape == (3, 6)
    finally:
        keras.config.set_device(saved)
