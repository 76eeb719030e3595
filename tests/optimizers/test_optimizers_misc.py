"""Ftrl, Lion, Lamb, Adafactor, Muon, ScheduleFreeAdamW and LossScaleOptimizer against Keras 3:
five steps on three variables (a tall 2-D kernel, a wide 2-D kernel, a bias), golden
trajectories from tests/golden/make_misc_golden.py; configs, saving and fit."""
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import optimizers
from tests.golden.make_misc_golden import OPT_CASES
from tests.helpers import check_serialize_round_trip

G = np.load(Path(__file__).resolve().parents[1] / "golden" / "misc.npz")


def _variables():
    w = keras.Variable(G["opt_w"].copy(), name="kernel")
    w2 = keras.Variable(G["opt_w2"].copy(), name="dense_kernel")
    b = keras.Variable(G["opt_b"].copy(), name="bias")
    return [w, w2, b]


@pytest.mark.parametrize("case", OPT_CASES, ids=[c[0] for c in OPT_CASES])
def test_optimizer_steps_match_keras(case):
    key, name, kw = case
    opt = getattr(optimizers, name)(**kw)
    vs = _variables()
    want = G[f"opt_{key}"]
    for s in range(5):
        opt.apply([G["opt_gw"][s], G["opt_gw2"][s], G["opt_gb"][s]], vs)
        got = np.concatenate([v.numpy().ravel() for v in vs])
        np.testing.assert_allclose(got, want[s], rtol=2e-5, atol=2e-6,
                                   err_msg=f"{key}: step {s + 1}")
    assert opt.iterations == 5


@pytest.mark.parametrize("case", OPT_CASES, ids=[c[0] for c in OPT_CASES])
def test_optimizer_config_round_trip(case):
    key, name, kw = case
    opt = getattr(optimizers, name)(**kw)
    config = opt.get_config()
    for k, v in kw.items():
        assert config[k] == v, k
    check_serialize_round_trip(optimizers, opt)


def test_loss_scale_optimizer_matches_keras():
    lso = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0,
                                        dynamic_growth_steps=2)
    w = keras.Variable(G["opt_w"].copy(), name="kernel")
    for s in range(5):
        g = G["opt_gw"][s] * np.float32(float(lso.dynamic_scale.numpy()))
        if s == 2:
            g = g.copy()
            g[0, 0] = np.inf
        lso.apply([g], [w])
        np.testing.assert_allclose(w.numpy().ravel(), G["opt_lso"][s], rtol=1e-6, atol=1e-7)
        assert float(lso.dynamic_scale.numpy()) == G["opt_lso_scales"][s]
    assert lso.iterations == 4  # the non-finite step is skipped
    config = lso.get_config()
    assert config["inner_optimizer"]["class_name"] == "SGD"
    again = optimizers.deserialize(optimizers.serialize(lso))
    assert isinstance(again.inner_optimizer, optimizers.SGD)
    assert again.get_config() == config
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)


def test_loss_scale_optimizer_in_fit_equals_inner_optimizer():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)

    def model_with(opt):
        keras.utils.set_random_seed(3)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        m.compile(optimizer=opt, loss="mse")
        m.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        return m
    a = model_with(optimizers.SGD(0.05))
    b = model_with(optimizers.LossScaleOptimizer(optimizers.SGD(0.05), initial_scale=1024.0))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["Ftrl", "Lion", "Lamb", "Adafactor", "Muon",
                                  "ScheduleFreeAdamW"])
def test_fit_and_keras_file_round_trip(name, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = rng.normal(size=(32, 2)).astype(np.float32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    model.compile(optimizer=getattr(optimizers, name)(learning_rate=0.01), loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    assert type(again.optimizer).__name__ == name
    assert again.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(model.optimizer.variables, again.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_get_by_name_and_errors():
    assert isinstance(optimizers.get("ftrl"), optimizers.Ftrl)
    assert isinstance(optimizers.get("Lion"), optimizers.Lion)
    with pytest.raises(ValueError, match="learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)


def test_muon_uses_adamw_for_excluded_and_non_2d_variables():
    opt = optimizers.Muon(exclude_layers=["head"])
    emb = keras.Variable(np.ones((4, 3), np.float32), name="embeddings")
    emb._path = "embedding/embeddings"
    head = keras.Variable(np.ones((4, 3), np.float32), name="kernel")
    head._path = "head/kernel"
    body = keras.Variable(np.ones((4, 3), np.float32), name="kernel")
    body._path = "body/kernel"
    bias = keras.Variable(np.ones((3,), np.float32), name="bias")
    assert [opt._should_use_adamw(v) for v in (emb, head, body, bias)] == [True, True, False,
                                                                            True]


def test_multi_optimizer_matches_keras():
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.Adam(0.05), {"bias": optimizers.SGD(0.1, momentum=0.9)}))
    w = keras.Variable(G["opt_w"].copy(), name="kernel")
    b = keras.Variable(G["opt_b"].copy(), name="bias")
    for s in range(5):
        multi.apply([G["opt_gw"][s], G["opt_gb"][s]], [w, b])
        got = np.concatenate([w.numpy().ravel(), b.numpy().ravel()])
        np.testing.assert_allclose(got, G["opt_multi"][s], rtol=2e-5, atol=2e-6)
    assert multi.iterations == 5
    assert [type(o).__name__ for o in multi.optimizers] == ["SGD", "Adam"]
    with pytest.raises(AttributeError, match="MultiOptimizer"):
        multi.learning_rate
    again = optimizers.deserialize(optimizers.serialize(multi))
    assert isinstance(again.optimizers[0], optimizers.SGD)
    assert again.get_config() == multi.get_config()


def test_optimizer_map_lookup_and_errors():
    adam, sgd = optimizers.Adam(), optimizers.SGD()
    m = optimizers.OptimizerMap(adam)
    m["encoder/.*"] = sgd
    assert m["encoder/dense/kernel"] is sgd and m["decoder/kernel"] is adam
    assert len(m) == 1 and list(m) == ["encoder/.*"]
    with pytest.raises(ValueError, match="already exists"):
        m["encoder/.*"] = adam
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        m["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    m["encoder/dense/.*"] = adam
    with pytest.raises(ValueError, match="(?i)multiple optimizers"):
        m["encoder/dense/kernel"]
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("adam")


def test_multi_optimizer_in_fit_and_keras_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="enc"),
                              keras.layers.Dense(1, name="head")])
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.Adam(0.01), {"head/.*": optimizers.SGD(0.05)}))
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert opt.iterations == 8
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    assert isinstance(again.optimizer, optimizers.MultiOptimizer)
    assert again.optimizer.iterations == 8
    assert [o.iterations for o in again.optimizer.optimizers] == [8, 8]
    for a, b in zip(model.optimizer.variables, again.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("key", ["lso", "multi", "adafactor_ema"])
def test_keras_written_files_restore_the_optimizer_state(key, tmp_path):
    """A .keras file Keras 3 wrote after fit (golden bytes) loads with its optimizer state, in
    Keras's variable order; saving it again writes the same values."""
    path = tmp_path / "k.keras"
    path.write_bytes(G[f"kfile_{key}"].tobytes())
    model = keras.saving.load_model(path)
    from nnforge.saving.weights_file import optimizer_values
    got = np.concatenate([np.asarray(a, np.float64).ravel() for a in optimizer_values(model)])
    want = G[f"kfile_{key}_optvars"]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)
    again = tmp_path / "again.keras"
    model.save(again)
    reloaded = keras.saving.load_model(again)
    got2 = np.concatenate([np.asarray(a, np.float64).ravel() for a in optimizer_values(
        reloaded)])
    np.testing.assert_array_equal(got2, got)
