"""Magnitude pruning with tfmot's names: schedules (tfmot's formulas), masks during fit, the
per-layer sparsity in summary(), strip_pruning, and the goal on MNIST: the seed MLP pruned to
80% sparsity loses at most 1 accuracy point, and its zipped .keras file shrinks."""
import zlib

import numpy as np
import pytest

import nnforge as keras
from nnforge import compression, layers


def test_polynomial_decay_and_constant_sparsity_follow_tfmot():
    s = compression.PolynomialDecay(0.1, 0.8, begin_step=10, end_step=110, power=3,
                                    frequency=20)
    assert s(5) == (False, pytest.approx(0.1))
    assert s(10) == (True, pytest.approx(0.1))
    p = 0.5
    assert s(60) == (False, pytest.approx(0.8 + (0.1 - 0.8) * (1 - p) ** 3))
    assert s(70)[0] and s(110)[0] and not s(130)[0]
    assert s(500)[1] == pytest.approx(0.8)
    c = compression.ConstantSparsity(0.5, begin_step=4, frequency=2)
    assert c(3) == (False, 0.5) and c(4) == (True, 0.5) and c(5) == (False, 0.5)
    assert c(10 ** 6)[0]  # end_step=-1: no end
    with pytest.raises(ValueError, match="final_sparsity"):
        compression.PolynomialDecay(0.0, 1.0, 0, 10)
    with pytest.raises(ValueError, match="end_step"):
        compression.PolynomialDecay(0.0, 0.5, 10, 5)
    with pytest.raises(ValueError, match="frequency"):
        compression.ConstantSparsity(0.5, 0, frequency=0)


def test_masks_keep_pruned_weights_zero_during_fit_and_summary_reports():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(20, activation="relu", name="h"),
                              layers.Dropout(0.1), layers.Dense(3, name="out")])
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, 64)
    pruned = compression.prune_low_magnitude(
        model, pruning_schedule=compression.ConstantSparsity(0.75, begin_step=0, frequency=1))
    assert pruned is not model
    np.testing.assert_array_equal(pruned.predict(x, verbose=0), model.predict(x, verbose=0))
    pruned.compile("adam", "sparse_categorical_crossentropy")
    pruned.fit(x, y, epochs=2, batch_size=16, verbose=0,
               callbacks=[compression.UpdatePruningStep()])
    sparsity = compression.get_sparsity(pruned)
    assert sparsity == {"h": pytest.approx(0.75), "out": pytest.approx(0.75, abs=0.01)}
    # the zeros are the kept masks: the smallest magnitudes went, biases are untouched
    kernel = pruned.layers[0].kernel.numpy()
    assert (pruned.layers[0].bias.numpy() != 0).any()
    assert (kernel == 0).mean() == pytest.approx(0.75)
    # the original model is untouched
    assert (model.layers[0].kernel.numpy() != 0).all()
    lines = []
    pruned.summary(print_fn=lambda s, **k: lines.append(s))
    assert any("h: 75.00%" in ln for ln in lines)
    stripped = compression.strip_pruning(pruned)
    assert compression.get_sparsity(stripped) == {}
    lines = []
    stripped.summary(print_fn=lambda s, **k: lines.append(s))
    assert not any("Sparsity" in ln for ln in lines)


def test_callback_needs_pruned_layers_and_errors():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="no pruned layers"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0,
                  callbacks=[compression.UpdatePruningStep()])
    with pytest.raises(ValueError, match="block_size"):
        compression.prune_low_magnitude(model, block_size=(2, 2))
    with pytest.raises(TypeError, match="PruningSchedule"):
        compression.prune_low_magnitude(model, pruning_schedule=0.5)
    layer = compression.prune_low_magnitude(model.layers[0])
    assert layer._pruning.schedule(0) == (True, 0.5)


@pytest.mark.slow
def test_seed_mlp_pruned_to_80_percent_keeps_accuracy_and_zips_smaller(tmp_path):
    keras.utils.set_random_seed(0)
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    x, y = x[:12000].astype("float32") / 255, y[:12000]
    xt = xt.astype("float32") / 255
    model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    base = model.evaluate(xt, yt, verbose=0)[1]
    # the ramp ends at a pruning step (a multiple of frequency), as tfmot's schedules want
    pruned = compression.prune_low_magnitude(model, pruning_schedule=compression.PolynomialDecay(
        initial_sparsity=0.0, final_sparsity=0.8, begin_step=0, end_step=150,
        frequency=50))
    pruned.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    pruned.fit(x, y, epochs=2, batch_size=64, verbose=0,
               callbacks=[compression.UpdatePruningStep()])
    assert all(s == pytest.approx(0.8, abs=1e-3)
               for s in compression.get_sparsity(pruned).values())
    acc = pruned.evaluate(xt, yt, verbose=0)[1]
    assert acc >= base - 0.01, (base, acc)
    compression.strip_pruning(pruned)
    model.save(tmp_path / "dense.keras", include_optimizer=False)
    pruned.save(tmp_path / "pruned.keras", include_optimizer=False)
    size = {k: len(zlib.compress((tmp_path / f"{k}.keras").read_bytes(), 9))
            for k in ("dense", "pruned")}
    # 80% zeros: the zipped weights shrink to well under half (the nonzeros stay float32)
    assert size["pruned"] < 0.5 * size["dense"], size


def test_functional_conv_model_prunes_and_saves(tmp_path):
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 2))
    h = layers.Conv2D(4, 3, activation="relu", name="conv")(inp)
    out = layers.Dense(2, name="head")(layers.Flatten()(h))
    model = keras.Model(inp, out)
    pruned = compression.prune_low_magnitude(
        model, pruning_schedule=compression.ConstantSparsity(0.5, begin_step=1, frequency=1))
    assert sorted(l.name for l in compression.prunable_layers(pruned)) == ["conv", "head"]
    pruned.compile("sgd", "mse")
    x = np.random.default_rng(2).normal(size=(8, 8, 8, 2)).astype("float32")
    pruned.fit(x, np.zeros((8, 2)), batch_size=4, epochs=1, verbose=0,
               callbacks=[compression.UpdatePruningStep()])
    assert compression.get_sparsity(pruned) == {"conv": pytest.approx(0.5),
                                                "head": pytest.approx(0.5)}
    compression.strip_pruning(pruned).save(tmp_path / "p.keras")
    loaded = keras.models.load_model(tmp_path / "p.keras")
    assert (loaded.get_layer("conv").kernel.numpy() == 0).mean() == pytest.approx(0.5)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), pruned.predict(x, verbose=0))
