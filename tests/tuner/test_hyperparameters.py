"""HyperParameters, Objective and the engines' sampling, against keras-tuner's documented
semantics."""
import math

import numpy as np
import pytest

from nnforge import tuner as kt
from nnforge.tuner.engines import grid, sample_space
from nnforge.tuner.hyperparameters import space_difference
from nnforge.tuner.objective import create_objective


def test_declaring_returns_defaults_and_records_the_space():
    hp = kt.HyperParameters()
    assert hp.Int("units", 32, 512, step=32) == 32           # default: min_value
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 1e-4
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"      # default: first value
    assert hp.Choice("maybe", [None, 1, 2]) is None          # None when None is a value
    assert hp.Boolean("bn") is False
    assert hp.Fixed("batch", 64) == 64
    assert hp.Int("units", 32, 512, step=32, default=64) == 32  # declared once: value kept
    assert [h.name for h in hp.space] == ["units", "lr", "act", "maybe", "bn", "batch"]
    assert hp.values == {"units": 32, "lr": 1e-4, "act": "relu", "maybe": None, "bn": False,
                         "batch": 64}
    assert hp["units"] == 32 and "lr" in hp
    with pytest.raises(KeyError, match="nope"):
        hp.get("nope")


def test_conditional_scope_returns_none_when_inactive():
    hp = kt.HyperParameters()
    kind = hp.Choice("kind", ["mlp", "wide"])
    with hp.conditional_scope("kind", ["wide"]):
        width = hp.Int("width", 256, 1024, step=256)
    assert kind == "mlp" and width is None
    assert hp.Int("depth", 1, 3, parent_name="kind", parent_values=["mlp"]) == 1
    with pytest.raises(ValueError, match="inactive"):
        hp.get("width")
    assert not hp.is_active("width") and hp.is_active("depth")
    with pytest.raises(ValueError, match="not defined"):
        with hp.conditional_scope("missing", [1]):
            pass
    trial = hp.with_values({"kind": "wide", "width": 768})
    assert trial.Choice("kind", ["mlp", "wide"]) == "wide"
    with trial.conditional_scope("kind", ["wide"]):
        assert trial.Int("width", 256, 1024, step=256) == 768


def test_grid_values_follow_keras_tuner():
    assert kt.Int("n", 6, 13, step=3).grid_values() == [6, 9, 12]
    assert kt.Int("b", 2, 32, step=2, sampling="log").grid_values() == [2, 4, 8, 16, 32]
    assert np.allclose(kt.Float("lr", 0.001, 10, step=10, sampling="log").grid_values(),
                       [0.001, 0.01, 0.1, 1, 10])
    assert np.allclose(kt.Float("f", 0, 1, step=0.2).grid_values(), [0, 0.2, 0.4, 0.6, 0.8, 1])
    g = kt.Float("g", 1e-4, 1e-2, sampling="log").grid_values()
    assert len(g) == 10 and math.isclose(g[0], 1e-4) and math.isclose(g[-1], 1e-2)
    assert np.allclose(np.diff(np.log(g)), np.log(100) / 9)


def test_sampling_stays_in_range_and_log_is_log_uniform():
    rng = np.random.default_rng(0)
    lr = kt.Float("lr", 1e-5, 1e-1, sampling="log")
    draws = np.array([lr.sample(rng) for _ in range(4000)])
    assert draws.min() >= 1e-5 and draws.max() <= 1e-1
    # log-uniform: each decade holds a quarter of the draws
    counts = np.histogram(np.log10(draws), bins=[-5, -4, -3, -2, -1])[0]
    assert np.all(np.abs(counts / 4000 - 0.25) < 0.03)
    units = kt.Int("u", 32, 512, step=32)
    assert {units.sample(rng) for _ in range(500)} == set(range(32, 513, 32))
    li = kt.Int("li", 1, 1000, sampling="log")
    d = np.array([li.sample(rng) for _ in range(4000)])
    assert d.min() >= 1 and d.max() <= 1000 and np.median(d) < 60  # log-uniform median ~32


def test_invalid_declarations_name_the_hyperparameter():
    with pytest.raises(ValueError, match="'lr'.*min_value > 0"):
        kt.Float("lr", 0.0, 1.0, sampling="log")
    with pytest.raises(ValueError, match="'u'.*min_value 5 > max_value 1"):
        kt.Int("u", 5, 1)
    with pytest.raises(ValueError, match="'s'.*sampling"):
        kt.Float("s", 1.0, 2.0, sampling="reverse_log")
    with pytest.raises(ValueError, match="'c'.*one type"):
        kt.Choice("c", [1, "a"])
    with pytest.raises(ValueError, match="'c'.*not one of"):
        kt.Choice("c", [1, 2], default=3)


def test_grid_walks_conditions_last_hyperparameter_fastest():
    hp = kt.HyperParameters()
    hp.Choice("kind", ["a", "b"])
    hp.Int("n", 1, 2, parent_name="kind", parent_values=["b"])
    hp.Boolean("flag")
    combos = list(grid(hp.space))
    assert combos == [{"kind": "a", "flag": True}, {"kind": "a", "flag": False},
                      {"kind": "b", "n": 1, "flag": True}, {"kind": "b", "n": 1, "flag": False},
                      {"kind": "b", "n": 2, "flag": True}, {"kind": "b", "n": 2, "flag": False}]
    rng = np.random.default_rng(1)
    for _ in range(50):
        v = sample_space(hp.space, lambda h: h.sample(rng))
        assert ("n" in v) == (v["kind"] == "b")


def test_objective_direction_is_inferred_as_keras_tuner_does():
    assert create_objective("val_accuracy").direction == "max"
    assert create_objective("accuracy").direction == "max"
    assert create_objective("val_acc").direction == "max"
    assert create_objective("val_loss").direction == "min"
    assert create_objective("weighted_mae").direction == "min"
    assert create_objective(None).name == "val_loss"
    assert create_objective(kt.Objective("val_auc", "max")).direction == "max"
    with pytest.raises(ValueError, match='unknown metric "val_custom"'):
        create_objective("val_custom")
    with pytest.raises(ValueError, match="direction"):
        kt.Objective("x", "up")
    assert kt.Objective("m", "max").better_than(2, 1)
    assert kt.Objective("m", "min").better_than(1, 2)


def test_space_round_trips_and_differences_are_named():
    hp = kt.HyperParameters()
    hp.Int("units", 32, 512, step=32)
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    again = kt.HyperParameters.from_config(hp.get_config())
    assert again.get_config() == hp.get_config()
    changed = kt.HyperParameters()
    changed.Int("units", 32, 256, step=32)
    changed.Boolean("bn")
    diff = space_difference(hp.get_config()["space"], changed.get_config()["space"])
    assert "hyperparameter 'units': max_value 512 -> 256" in diff
    assert any("'bn' was added" in d for d in diff)
    assert any("'lr' was removed" in d for d in diff)
