"""The focal, generalized, Dice, Tversky and Circle losses against Keras 3 (golden outputs from
tests/golden/make_misc_golden.py), their gradients against finite differences, and their
configs / serialization; the loss and metric functions (``keras.losses.*`` and
``keras.metrics.*``) against Keras 3."""
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import losses, metrics
from tests.golden.make_misc_golden import FUNCTION_CASES, LOSS_CASES
from tests.helpers import check_serialize_round_trip

G = np.load(Path(__file__).resolve().parent / "golden" / "misc.npz")


@pytest.mark.parametrize("case", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_loss_matches_keras(case):
    key, name, kw, t, p, sw = case
    loss = getattr(losses, name)(**kw)
    args = {} if sw is None else {"sample_weight": G[sw]}
    got = loss(G[t], G[p], **args).numpy()
    want = G[f"loss_{key}"]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


FUNCTIONS = [(module, c) for module in (losses, metrics) for c in FUNCTION_CASES
             if hasattr(module, c[1])]


@pytest.mark.parametrize("module,case", FUNCTIONS,
                         ids=[f"{m.__name__.rsplit('.', 1)[-1]}-{c[0]}" for m, c in FUNCTIONS])
def test_loss_and_metric_functions_match_keras(module, case):
    """The functions of FUNCTION_CASES, from keras.losses and from keras.metrics."""
    key, name, kw, t, p = case
    got = np.asarray(getattr(module, name)(G[t], G[p], **kw).numpy())
    np.testing.assert_allclose(got, G[f"fn_{key}"], rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("case", [c for c in LOSS_CASES if c[0] in (
    "bfce_bal", "bfce_logits", "cfce", "cfce_logits", "gce", "dice", "tversky", "circle_args")],
    ids=lambda c: c[0])
def test_loss_gradient_finite_differences(case):
    key, name, kw, t, p, sw = case
    kw = dict(kw, reduction="sum")
    loss = getattr(losses, name)(**kw)
    y_pred = G[p].astype(np.float64)
    v = keras.Variable(G[p].copy())
    with keras.GradientTape() as tape:
        out = loss(G[t], v)
    grad = tape.gradient(out, v).numpy()
    rng = np.random.default_rng(0)
    flat = y_pred.reshape(-1)
    for i in rng.choice(flat.size, size=min(6, flat.size), replace=False):
        eps = 1e-3
        hi, lo = flat.copy(), flat.copy()
        hi[i] += eps
        lo[i] -= eps
        f_hi = float(loss(G[t], hi.reshape(y_pred.shape).astype(np.float32)).numpy())
        f_lo = float(loss(G[t], lo.reshape(y_pred.shape).astype(np.float32)).numpy())
        num = (f_hi - f_lo) / (2 * eps)
        assert abs(grad.reshape(-1)[i] - num) <= 2e-2 * max(1.0, abs(num)), (i, grad.reshape(
            -1)[i], num)


@pytest.mark.parametrize("case", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_loss_config_round_trip(case):
    key, name, kw, *_ = case
    loss = getattr(losses, name)(**kw)
    config = loss.get_config()
    for k, v in kw.items():
        assert config[k] == (v if k != "reduction" else v), k
    check_serialize_round_trip(losses, loss)


def test_keras_config_keys():
    assert losses.BinaryFocalCrossentropy().get_config() == {
        "name": "binary_focal_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1,
        "apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0}
    assert losses.Circle().get_config() == {"name": "circle", "reduction": "sum_over_batch_size",
                                            "gamma": 80.0, "margin": 0.4,
                                            "remove_diagonal": True}
    assert losses.Tversky().get_config() == {"name": "tversky",
                                             "reduction": "sum_over_batch_size", "alpha": 0.5,
                                             "beta": 0.5, "axis": None}


def test_errors_and_lookup():
    with pytest.raises(ValueError, match="q must be in the interval"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)
    with pytest.raises(ValueError, match="axis"):
        losses.categorical_focal_crossentropy(G["cat_true"], G["cat_prob"], axis=True)
    assert losses.get("dice") is losses.dice
    assert isinstance(losses.get("Tversky"), losses.Tversky)
    assert losses.deserialize("circle") is losses.circle
    assert isinstance(losses.deserialize("Dice"), losses.Dice)
    with pytest.warns(SyntaxWarning):
        losses.categorical_focal_crossentropy(np.ones((2, 1)), np.full((2, 1), 0.5, np.float32))


def test_circle_rows_without_positives_are_left_out_of_the_mean():
    emb = G["emb"][:4]
    labels = np.array([0, 1, 2, 3])  # no positive pairs at all: every row masked, as Keras
    per_row = losses.circle(labels, emb).numpy()
    assert np.all(per_row == 0)
    assert float(losses.Circle()(labels, emb).numpy()) == 0.0


def test_focal_loss_trains_in_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.5),
                  loss=losses.BinaryFocalCrossentropy(gamma=1.0))
    h = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
