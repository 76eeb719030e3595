"""The regression, correlation, confusion-count, *AtSensitivity & co., F-beta, R2 and IoU
metrics against Keras 3 (golden outputs from tests/golden/make_misc_golden.py, two batches per
metric), their configs, and their use in compile/fit (the metric functions are checked with the
loss functions in test_losses_extra.py)."""
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import metrics
from tests.golden.make_misc_golden import METRIC_CASES
from tests.helpers import check_serialize_round_trip

G = np.load(Path(__file__).resolve().parent / "golden" / "misc.npz")


def _run(name, kw, t, p, sw):
    m = getattr(metrics, name)(**kw)
    n = len(G[t])
    half = n // 2
    for sl in (slice(0, half), slice(half, n)):
        args = {} if sw is None else {"sample_weight": G[sw][sl]}
        m.update_state(G[t][sl], G[p][sl], **args)
    return m


@pytest.mark.parametrize("case", METRIC_CASES, ids=[c[0] for c in METRIC_CASES])
def test_metric_matches_keras(case):
    key, name, kw, t, p, sw = case
    m = _run(name, kw, t, p, sw)
    got = np.asarray(m.result().numpy())
    want = G[f"metric_{key}"]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    m.reset_state()
    m2 = _run(name, kw, t, p, sw)  # reset gives the same result again
    np.testing.assert_allclose(np.asarray(m2.result().numpy()), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", METRIC_CASES, ids=[c[0] for c in METRIC_CASES])
def test_metric_config_round_trip(case):
    key, name, kw, *_ = case
    m = getattr(metrics, name)(**kw)
    config = m.get_config()
    for k, v in kw.items():
        if k != "dtype" and not (name == "CosineSimilarity" and k == "axis"):
            assert config[k] == (list(v) if isinstance(v, tuple) else v), k
    check_serialize_round_trip(metrics, m)


def test_keras_config_keys():
    assert metrics.SensitivityAtSpecificity(0.5).get_config() == {
        "name": "sensitivity_at_specificity", "dtype": "float32", "class_id": None,
        "num_thresholds": 200, "specificity": 0.5}
    assert set(metrics.MeanIoU(3).get_config()) == {
        "num_classes", "name", "dtype", "ignore_class", "sparse_y_true", "sparse_y_pred",
        "axis"}
    assert metrics.BinaryIoU().get_config()["target_class_ids"] == [0, 1]
    assert metrics.FBetaScore().get_config()["beta"] == 1.0
    # as Keras 3.15: CosineSimilarity's config has no axis
    assert metrics.CosineSimilarity(axis=0).get_config() == {"name": "cosine_similarity",
                                                             "dtype": "float32"}


def test_errors():
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=1)
    with pytest.raises(ValueError, match="threshold"):
        metrics.FBetaScore(threshold=1.5)
    with pytest.raises(ValueError, match="specificity"):
        metrics.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match="out of range"):
        metrics.IoU(num_classes=2, target_class_ids=[2])
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match="2D"):
        metrics.R2Score().update_state(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="predictions must be"):
        metrics.TruePositives().update_state([1, 0], [1.5, 0.2])


def test_keras_doc_examples():
    m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    assert float(m.result()) == pytest.approx(1 / 3, rel=1e-5)
    m = metrics.RecallAtPrecision(0.8)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert float(m.result()) == pytest.approx(0.5)
    m = metrics.R2Score()
    m.update_state([[1], [4], [3]], [[2], [4], [4]])
    assert float(m.result()) == pytest.approx(0.57142854, rel=1e-5)
    m = metrics.FalsePositives(thresholds=[0.2, 0.8])
    m.update_state([0, 1, 0, 0], [0.5, 0.9, 0.1, 0.95])
    np.testing.assert_array_equal(m.result().numpy(), [2.0, 1.0])


def test_metric_names_in_compile_and_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse",
                  metrics=["msle", metrics.RootMeanSquaredError(), metrics.R2Score(),
                           "logcosh", "cosine_similarity"])
    h = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for k in ("root_mean_squared_error", "r2_score", "logcosh", "cosine_similarity"):
        assert k in h.history, sorted(h.history)
    res = model.evaluate(x, y, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    assert res["root_mean_squared_error"] == pytest.approx(
        float(np.sqrt(np.mean((pred - y) ** 2))), rel=1e-4)


def test_metric_functions_are_the_loss_functions():
    from nnforge import losses
    for n in ("binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
              "categorical_focal_crossentropy", "categorical_hinge", "hinge", "huber",
              "kl_divergence", "log_cosh", "mean_absolute_error",
              "mean_absolute_percentage_error", "mean_squared_error",
              "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy",
              "squared_hinge"):
        assert getattr(metrics, n) is getattr(losses, n), n


def test_metric_given_by_name_keeps_that_name():
    """As Keras's compile: a metric given as a string is named by that string."""
    x = np.ones((8, 2), np.float32)
    y = np.ones((8, 1), np.float32)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["msle", "hinge", "mape"])
    res = model.evaluate(x, y, verbose=0, return_dict=True)
    assert {"msle", "hinge", "mape"} <= set(res)
