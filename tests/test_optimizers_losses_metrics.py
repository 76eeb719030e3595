"""Optimizers against NumPy transcriptions of Keras 3's update rules (several steps, with
clipping and schedules); the extra losses and metrics against NumPy references."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import optimizers
from nnforge.optimizers import schedules

rng = np.random.default_rng(11)
W0 = rng.standard_normal((5, 3)).astype(np.float32)
GRADS = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(4)]


def run_ours(opt):
    v = keras.Variable(W0.copy())
    for g in GRADS:
        opt.apply_gradients([(g, v)])
    return v.numpy()


def ref_run(update, lr_at=lambda t: 0.01, clip=None):
    w = W0.astype(np.float64).copy()
    state = {}
    for t, g in enumerate(GRADS, start=1):
        g = g.astype(np.float64)
        if clip is not None:
            g = clip(g)
        w = update(w, g, lr_at(t - 1), t, state)
    return w


def sgd_ref(momentum=0.0, nesterov=False):
    def upd(w, g, lr, t, s):
        if not momentum:
            return w - lr * g
        m = s.get("m", np.zeros_like(w))
        m = momentum * m - lr * g
        s["m"] = m
        return w + (momentum * m - lr * g if nesterov else m)
    return upd


def adam_ref(b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    def upd(w, g, lr, t, s):
        if wd:
            w = w - w * wd * lr
        m, v = s.get("m", np.zeros_like(w)), s.get("v", np.zeros_like(w))
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        s["m"], s["v"] = m, v
        vv = v
        if amsgrad:
            vv = s["vh"] = np.maximum(s.get("vh", np.zeros_like(w)), v)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - alpha * m / (np.sqrt(vv) + eps)
    return upd


def rmsprop_ref(rho=0.9, eps=1e-7, momentum=0.0, centered=False):
    def upd(w, g, lr, t, s):
        v = s["v"] = rho * s.get("v", np.zeros_like(w)) + (1 - rho) * g * g
        denom = v
        if centered:
            a = s["a"] = rho * s.get("a", np.zeros_like(w)) + (1 - rho) * g
            denom = v - a * a
        inc = lr * g / np.sqrt(denom + eps)
        if momentum:
            s["m"] = momentum * s.get("m", np.zeros_like(w)) + inc
            return w - s["m"]
        return w - inc
    return upd


def adagrad_ref(init=0.1, eps=1e-7):
    def upd(w, g, lr, t, s):
        a = s["a"] = s.get("a", np.full_like(w, init)) + g * g
        return w - lr * g / np.sqrt(a + eps)
    return upd


def adamax_ref(b1=0.9, b2=0.999, eps=1e-7):
    def upd(w, g, lr, t, s):
        m = s["m"] = s.get("m", np.zeros_like(w)) + (g - s.get("m", np.zeros_like(w))) * (1 - b1)
        u = s["u"] = np.maximum(b2 * s.get("u", np.zeros_like(w)), np.abs(g))
        return w - lr / (1 - b1 ** t) * m / (u + eps)
    return upd


def adadelta_ref(rho=0.95, eps=1e-7):
    def upd(w, g, lr, t, s):
        ag = s["ag"] = rho * s.get("ag", np.zeros_like(w)) + (1 - rho) * g * g
        ad = s.get("ad", np.zeros_like(w))
        delta = -np.sqrt(ad + eps) / np.sqrt(ag + eps) * g
        s["ad"] = rho * ad + (1 - rho) * delta * delta
        return w + lr * delta
    return upd


def nadam_ref(b1=0.9, b2=0.999, eps=1e-7):
    def upd(w, g, lr, t, s):
        u_t = b1 * (1 - 0.5 * 0.96 ** (0.004 * t))
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (0.004 * (t + 1)))
        up = s.get("up", 1.0) * u_t
        up1 = up * u_t1
        s["up"] = up
        m = s["m"] = s.get("m", np.zeros_like(w)) + (g - s.get("m", np.zeros_like(w))) * (1 - b1)
        v = s["v"] = s.get("v", np.zeros_like(w)) + (g * g - s.get("v", np.zeros_like(w))) * (1 - b2)
        m_hat = u_t1 * m / (1 - up1) + (1 - u_t) * g / (1 - up)
        v_hat = v / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return upd


@pytest.mark.parametrize("make,ref", [
    (lambda: optimizers.SGD(0.01), sgd_ref()),
    (lambda: optimizers.SGD(0.01, momentum=0.9), sgd_ref(0.9)),
    (lambda: optimizers.SGD(0.01, momentum=0.9, nesterov=True), sgd_ref(0.9, True)),
    (lambda: optimizers.Adam(0.01), adam_ref()),
    (lambda: optimizers.Adam(0.01, amsgrad=True), adam_ref(amsgrad=True)),
    (lambda: optimizers.AdamW(0.01, weight_decay=0.1), adam_ref(wd=0.1)),
    (lambda: optimizers.RMSprop(0.01), rmsprop_ref()),
    (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True), rmsprop_ref(momentum=0.5,
                                                                                centered=True)),
    (lambda: optimizers.Adagrad(0.01), adagrad_ref()),
    (lambda: optimizers.Adamax(0.01), adamax_ref()),
    (lambda: optimizers.Adadelta(0.01), adadelta_ref()),
    (lambda: optimizers.Nadam(0.01), nadam_ref()),
])
def test_optimizer_matches_keras_formula(make, ref):
    np.testing.assert_allclose(run_ours(make()), ref_run(ref), rtol=2e-5, atol=2e-6)


def test_clipping_and_schedules():
    def clipnorm(g, c=0.5):
        n = np.sqrt((g * g).sum())
        return g * (c / n) if n > c else g
    np.testing.assert_allclose(run_ours(optimizers.SGD(0.1, clipnorm=0.5)),
                               ref_run(sgd_ref(), lambda t: 0.1, clipnorm), rtol=1e-5)
    np.testing.assert_allclose(run_ours(optimizers.Adam(0.01, clipvalue=0.3)),
                               ref_run(adam_ref(), clip=lambda g: np.clip(g, -0.3, 0.3)),
                               rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(run_ours(optimizers.SGD(0.1, global_clipnorm=0.5)),
                               ref_run(sgd_ref(), lambda t: 0.1, clipnorm), rtol=1e-5)
    sched = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    np.testing.assert_allclose(run_ours(optimizers.SGD(sched)),
                               ref_run(sgd_ref(), lambda t: 0.1 * 0.5 ** (t / 2)), rtol=1e-5)
    pw = schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.05, 0.01])
    assert [pw(t) for t in range(4)] == [0.1, 0.1, 0.05, 0.01]
    cos = schedules.CosineDecay(1.0, 10)
    assert cos(0) == pytest.approx(1.0) and cos(10) == pytest.approx(0.0, abs=1e-9)
    inv = schedules.InverseTimeDecay(1.0, 1, 0.5)
    assert inv(2) == pytest.approx(0.5)
    opt = optimizers.Adam()
    opt.learning_rate = 0.123
    assert opt.learning_rate == pytest.approx(0.123)
    with pytest.raises(ValueError, match="only one"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


Y_TRUE = rng.integers(0, 2, (6, 4)).astype(np.float64)
Y_PRED = rng.uniform(0.05, 0.95, (6, 4))


@pytest.mark.parametrize("name,ref", [
    ("mean_absolute_error", lambda t, p: np.abs(p - t).mean(-1)),
    ("huber", lambda t, p: np.where(np.abs(p - t) <= 1, 0.5 * (p - t) ** 2,
                                    np.abs(p - t) - 0.5).mean(-1)),
    ("log_cosh", lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    ("kl_divergence", lambda t, p: (np.clip(t, 1e-7, 1) * np.log(np.clip(t, 1e-7, 1) /
                                                                 np.clip(p, 1e-7, 1))).sum(-1)),
    ("poisson", lambda t, p: (p - t * np.log(p + 1e-7)).mean(-1)),
    ("cosine_similarity", lambda t, p: -(t / np.linalg.norm(t, axis=-1, keepdims=True).clip(1e-6)
                                         * p / np.linalg.norm(p, axis=-1, keepdims=True)).sum(-1)),
    ("hinge", lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)),
    ("categorical_hinge", lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1,
                                                  0)),
])
def test_extra_losses(name, ref):
    fn = keras.losses.get(name)
    np.testing.assert_allclose(np.asarray(fn(Y_TRUE, Y_PRED)), ref(Y_TRUE, Y_PRED), rtol=1e-4,
                               atol=1e-6)
    obj = keras.losses.to_loss_object(name)
    sw = np.arange(6, dtype=np.float64)
    np.testing.assert_allclose(float(obj(Y_TRUE, Y_PRED, sample_weight=sw)),
                               (ref(Y_TRUE, Y_PRED) * sw).mean(), rtol=1e-4)


def test_metrics_stateful_api():
    p = keras.metrics.Precision()
    r = keras.metrics.Recall()
    t = np.array([1, 0, 1, 1, 0], "float32")
    s = np.array([0.9, 0.8, 0.2, 0.7, 0.1], "float32")
    p.update_state(t, s)
    r.update_state(t, s)
    assert float(p.result()) == pytest.approx(2 / 3)
    assert float(r.result()) == pytest.approx(2 / 3)
    p.reset_state()
    assert float(p.result()) == 0.0
    auc = keras.metrics.AUC(num_thresholds=1000)
    auc.update_state(t, s)
    pos, neg = s[t == 1], s[t == 0]
    exact = np.mean([a > b for a in pos for b in neg])
    assert float(auc.result()) == pytest.approx(exact, abs=0.02)
    f1 = keras.metrics.F1Score(average="macro", threshold=0.5)
    yt = np.eye(3)[[0, 1, 2, 1]]
    yp = np.eye(3)[[0, 2, 2, 1]]
    f1.update_state(yt, yp)
    assert float(f1.result()) == pytest.approx(np.mean([1.0, 2 / 3, 2 / 3]))
    topk = keras.metrics.TopKCategoricalAccuracy(k=2)
    topk.update_state(np.eye(3)[[0, 1]], np.array([[0.5, 0.3, 0.2], [0.6, 0.1, 0.3]]))
    assert float(topk.result()) == pytest.approx(0.5)
    mse = keras.metrics.MeanSquaredError()
    mse.update_state(np.zeros((2, 2)), np.ones((2, 2)) * 2)
    assert float(mse.result()) == pytest.approx(4.0)
    acc = keras.metrics.SparseCategoricalAccuracy()
    assert float(acc(np.array([1, 0]), np.array([[0.1, 0.9], [0.2, 0.8]]))) == 0.5


def test_regularizers_add_to_the_training_loss_and_constraints_apply():
    layer = keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L2(0.5),
                               kernel_constraint=keras.constraints.NonNeg())
    m = keras.Sequential([keras.Input((4,)), layer])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.ones((2, 4), "float32")
    y = np.zeros((2, 3), "float32")
    k = layer.kernel.numpy()
    expected = float(((x @ k + layer.bias.numpy()) ** 2).mean() + 0.5 * (k ** 2).sum())
    first = m.train_on_batch(x, y)
    assert first == pytest.approx(expected, rel=1e-5)
    assert (layer.kernel.numpy() >= 0).all()
