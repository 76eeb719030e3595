"""nnforge.explain against exact identities: linear models, completeness, CAM, batching."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import explain, layers, ops


def _linear(softmax: bool, units: int = 3, features: int = 6):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((features,)),
                              layers.Dense(units, activation="softmax" if softmax else None)])
    w, b = model.layers[0].get_weights()
    model.layers[0].set_weights([w, np.linspace(-0.5, 0.5, units).astype("float32")])
    return model, w.astype(np.float64)


@pytest.fixture
def xs():
    return np.random.default_rng(0).normal(size=(5, 6)).astype("float32")


@pytest.mark.parametrize("softmax", [False, True])
def test_linear_saliency_is_abs_weight_and_ig_is_w_times_x(xs, softmax):
    model, w = _linear(softmax)
    output = "logits" if softmax else "model"
    t = np.array([0, 1, 2, 1, 0])
    sal = explain.saliency(model, xs, target=t, output=output)
    np.testing.assert_allclose(sal, np.abs(w[:, t].T), atol=1e-6, rtol=0)
    signed = explain.saliency(model, xs, target=t, output=output, absolute=False)
    np.testing.assert_allclose(signed, w[:, t].T, atol=1e-6, rtol=0)
    for method, steps in (("riemann_trapezoid", 8), ("gausslegendre", 4)):
        ig = explain.integrated_gradients(model, xs, target=t, output=output, steps=steps,
                                          method=method)
        assert ig.shape == xs.shape and ig.dtype == np.float32
        np.testing.assert_allclose(ig, w[:, t].T * xs, atol=1e-6, rtol=0)


def test_linear_ig_with_baseline_and_delta(xs):
    model, w = _linear(False)
    base = np.full(6, 0.25, "float32")
    ig, delta = explain.integrated_gradients(model, xs, target=2, baseline=base, steps=3,
                                             return_convergence_delta=True)
    np.testing.assert_allclose(ig, w[:, 2] * (xs - base), atol=1e-6, rtol=0)
    assert delta.shape == (5,)
    np.testing.assert_allclose(delta, 0.0, atol=1e-5)


def _mlp():
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="tanh"),
                             layers.Dense(16, activation="relu"),
                             layers.Dense(4, activation="softmax")])


@pytest.mark.parametrize("method", ["riemann_trapezoid", "gausslegendre"])
@pytest.mark.parametrize("output", ["model", "logits"])
def test_mlp_completeness_at_256_steps(method, output):
    model = _mlp()
    x = np.random.default_rng(4).normal(size=(6, 8)).astype("float32")
    ig, delta = explain.integrated_gradients(model, x, steps=256, method=method, output=output,
                                             batch_size=100, return_convergence_delta=True)
    hidden = keras.Sequential([keras.Input((8,)), model.layers[0], model.layers[1]])
    k, b = (a.astype(np.float64) for a in model.layers[2].get_weights())

    def f(a):  # the explained output, in float64 from the layers' weights
        z = np.asarray(hidden(a), np.float64) @ k + b
        if output == "logits":
            return z
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    fx = f(x)
    t = np.argmax(fx, axis=1)  # target=None explains the predicted class
    gap = fx[np.arange(6), t] - f(np.zeros_like(x))[np.arange(6), t]
    total = ig.sum(axis=1).astype(np.float64)
    assert np.all(np.abs(total - gap) <= 0.01 * np.abs(gap)), (total, gap)
    np.testing.assert_allclose(delta, total - gap, atol=1e-5)


def test_saliency_matches_finite_differences():
    model = _mlp()
    x = np.random.default_rng(5).normal(size=(2, 8)).astype("float64")
    g = explain.saliency(model, x, target=[1, 3], absolute=False)
    eps = 1e-2
    for i, t in enumerate([1, 3]):
        for j in range(8):
            xp_, xm = x[i:i + 1].copy(), x[i:i + 1].copy()
            xp_[0, j] += eps
            xm[0, j] -= eps
            fd = (np.asarray(model(xp_.astype("float32")))[0, t]
                  - np.asarray(model(xm.astype("float32")))[0, t]) / (2 * eps)
            assert abs(fd - g[i, j]) < 2e-3 + 2e-2 * abs(fd)


def _cam_model(nested: bool):
    keras.utils.set_random_seed(7)
    conv = layers.Conv2D(5, 3, activation="relu", name="conv")
    if not nested:
        model = keras.Sequential([keras.Input((8, 8, 2)), conv, layers.GlobalAveragePooling2D(),
                                  layers.Dense(3, activation="softmax", name="head")])
        return model, conv, model.get_layer("head")
    body = keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(4, 3, padding="same"),
                             conv], name="body")
    inp = keras.Input((8, 8, 2))
    h = layers.GlobalAveragePooling2D()(body(inp))
    head = layers.Dense(3, activation="softmax", name="head")
    model = keras.Model(inp, head(h))
    return model, conv, head


@pytest.mark.parametrize("nested", [False, True])
def test_grad_cam_equals_class_activation_map(nested):
    model, conv, head = _cam_model(nested)
    x = np.random.default_rng(8).normal(size=(4, 8, 8, 2)).astype("float32")
    t = np.array([0, 1, 2, 1])
    if nested:  # the conv's activations: the inner model's layers run on their own
        acts = np.asarray(keras.Sequential(model.layers[1].layers)(x)).astype(np.float64)
    else:
        acts = np.asarray(conv(x)).astype(np.float64)
    w = head.kernel.numpy().astype(np.float64)  # (channels, classes)
    cam = np.einsum("nhwk,kn->nhw", acts, w[:, t])  # Zhou et al.'s class activation map
    raw = explain.grad_cam(model, x, target=t, output="logits", relu=False)
    assert raw.shape == (4,) + acts.shape[1:3]
    hw = acts.shape[1] * acts.shape[2]
    np.testing.assert_allclose(raw, cam / hw, rtol=1e-5, atol=1e-6)  # positive scale 1/(h*w)
    pos = explain.grad_cam(model, x, target=t, output="logits")
    np.testing.assert_allclose(pos, np.maximum(cam, 0) / hw, rtol=1e-5, atol=1e-6)
    # The automatically found layer is the (nested) last convolution, as naming it gives.
    named = explain.grad_cam(model, x, target=t, output="logits", layer="conv")
    np.testing.assert_array_equal(named, pos)
    # Grad-CAM++ against its formula with the analytic gradient w / (h * w).
    grads = np.broadcast_to((w[:, t].T / hw)[:, None, None, :], acts.shape)
    g2, g3 = grads ** 2, grads ** 3
    denom = 2 * g2 + acts.sum(axis=(1, 2), keepdims=True) * g3
    alpha = np.where(grads != 0, g2 / np.where(denom != 0, denom, 1), 0)
    weights = (alpha * np.maximum(grads, 0)).sum(axis=(1, 2))
    ref = np.maximum(np.einsum("nhwk,nk->nhw", acts, weights), 0)
    pp = explain.grad_cam_plus_plus(model, x, target=t, output="logits")
    np.testing.assert_allclose(pp, ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("absolute", [True, False])
def test_smoothgrad_with_zero_noise_is_saliency(xs, absolute):
    model = _mlp()
    x = np.random.default_rng(2).normal(size=(5, 8)).astype("float32")
    sal = explain.saliency(model, x, target=1, absolute=absolute)
    sg = explain.smoothgrad(model, x, target=1, samples=9, noise_level=0.0, absolute=absolute,
                            batch_size=16)
    np.testing.assert_allclose(sg, sal, rtol=1e-6, atol=1e-7)


def test_smoothgrad_noise_does_not_depend_on_batch_size():
    model = _mlp()
    x = np.random.default_rng(2).normal(size=(5, 8)).astype("float32")
    a = explain.smoothgrad(model, x, target=1, samples=10, seed=3, batch_size=7)
    b = explain.smoothgrad(model, x, target=1, samples=10, seed=3, batch_size=256)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    c = explain.smoothgrad(model, x, target=1, samples=10, seed=4)
    assert not np.allclose(a, c)
    assert not np.allclose(a, explain.saliency(model, x, target=1))


def test_batch_equals_each_sample_alone():
    model, _, _ = _cam_model(True)
    x = np.random.default_rng(9).normal(size=(5, 8, 8, 2)).astype("float32")
    calls = {
        "saliency": lambda a, t: explain.saliency(model, a, target=t),
        "ig": lambda a, t: explain.integrated_gradients(model, a, target=t, steps=16,
                                                        batch_size=24),
        "grad_cam": lambda a, t: explain.grad_cam(model, a, target=t, output="logits"),
        "grad_cam++": lambda a, t: explain.grad_cam_plus_plus(model, a, target=t),
        "occlusion": lambda a, t: explain.occlusion(model, a, target=t, window=3, stride=2,
                                                    batch_size=10),
    }
    t = np.argmax(np.asarray(model(x)), axis=1)
    for name, fn in calls.items():
        batch = fn(x, None)  # None: the predicted class, the same as t
        np.testing.assert_allclose(batch, fn(x, t), rtol=1e-6, atol=1e-7, err_msg=name)
        alone = np.concatenate([fn(x[i:i + 1], t[i:i + 1]) for i in range(5)])
        np.testing.assert_allclose(batch, alone, rtol=1e-4, atol=1e-6, err_msg=name)


def test_occlusion_of_a_linear_model(xs):
    model, w = _linear(False)
    # Non-overlapping windows of 2 features: each feature gets its window's sum of w * x.
    occ = explain.occlusion(model, xs, target=1, window=2)
    contrib = (w[:, 1] * xs).reshape(5, 3, 2).sum(axis=2)
    np.testing.assert_allclose(occ, np.repeat(contrib, 2, axis=1), rtol=1e-5, atol=1e-6)
    # Overlapping windows of 2 with stride 1: the mean over the windows covering a feature.
    occ = explain.occlusion(model, xs, target=1, window=2, stride=1, baseline=0.5)
    d = w[:, 1] * (xs - 0.5)
    win = d[:, :-1] + d[:, 1:]
    ref = np.zeros_like(d)
    cnt = np.zeros(6)
    for j in range(5):
        ref[:, j:j + 2] += win[:, j:j + 1]
        cnt[j:j + 2] += 1
    np.testing.assert_allclose(occ, ref / cnt, rtol=1e-5, atol=1e-6)


def test_occlusion_window_covers_the_far_edge():
    model, _, _ = _cam_model(False)
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 2)).astype("float32")
    occ = explain.occlusion(model, x, target=0, window=3)  # starts 0, 3 and 5 (flush)
    assert occ.shape == x.shape
    np.testing.assert_array_equal(occ[..., 0], occ[..., 1])  # windows span all channels
    assert np.all(occ[:, 7, 7, 0] != 0)


@pytest.mark.parametrize("last", ["softmax_layer", "activation", "nested_dense"])
def test_logits_of_every_final_softmax_form(last):
    keras.utils.set_random_seed(11)
    dense = layers.Dense(4)
    x = np.random.default_rng(3).normal(size=(3, 5)).astype("float32")
    inp = keras.Input((5,))
    if last == "softmax_layer":
        model = keras.Model(inp, layers.Softmax()(dense(inp)))
    elif last == "activation":
        model = keras.Sequential([inp, dense, layers.Activation("softmax")])
    else:
        inner = keras.Sequential([keras.Input((5,)), layers.Dense(4, activation="softmax")])
        model = keras.Sequential([inp, inner])
        dense = inner.layers[0]
    plain = keras.Sequential([keras.Input((5,)), layers.Dense(4)])
    plain.set_weights(dense.get_weights())
    for t in (0, 3):
        got = explain.saliency(model, x, target=t, output="logits", absolute=False)
        ref = explain.saliency(plain, x, target=t, output="logits", absolute=False)
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)
    probs = explain.saliency(model, x, target=0, absolute=False)
    assert not np.allclose(probs, ref)


def test_callable_target_equals_class_index():
    model = _mlp()
    x = np.random.default_rng(6).normal(size=(4, 8)).astype("float32")
    by_index = explain.integrated_gradients(model, x, target=2, steps=16)
    by_fn = explain.integrated_gradients(model, x, target=lambda y: y[:, 2], steps=16)
    np.testing.assert_allclose(by_fn, by_index, rtol=1e-6, atol=1e-7)
    two = explain.saliency(model, x, target=lambda y: ops.sum(y[:, 1:3], axis=1),
                           absolute=False)
    ref = (explain.saliency(model, x, target=1, absolute=False)
           + explain.saliency(model, x, target=2, absolute=False))
    np.testing.assert_allclose(two, ref, rtol=1e-5, atol=1e-7)


def test_explaining_does_not_change_the_model():
    model, conv, _ = _cam_model(True)
    before = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 2)).astype("float32")
    y0 = np.asarray(model(x))
    explain.grad_cam(model, x, output="logits")
    explain.integrated_gradients(model, x, steps=4, output="logits")
    assert "call" not in conv.__dict__
    np.testing.assert_array_equal(np.asarray(model(x)), y0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
