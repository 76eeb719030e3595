"""LayerNormalization, RMSNormalization, GroupNormalization, UnitNormalization and
SpectralNormalization: Keras 3 goldens (tests/golden/attn.npz), the layer contract (gradients,
configs, .keras round trips) and errors."""
import numpy as np
import pytest

import nnforge
from nnforge import layers
from tests.golden.attn_check import check_layer_case
from tests.helpers import run_layer_test


@pytest.mark.parametrize("case", ["layer_norm", "layer_norm_axes", "layer_norm_noscale",
                                  "rms_norm", "group_norm", "group_norm_axis1", "unit_norm",
                                  "spectral_norm"])
def test_matches_keras3(case):
    check_layer_case(case)


@pytest.mark.parametrize("cls,kwargs,shape", [
    (layers.LayerNormalization, {}, (2, 3, 4)),
    (layers.LayerNormalization, {"axis": [1, 2], "center": False}, (2, 3, 4)),
    (layers.RMSNormalization, {"epsilon": 1e-5}, (2, 3, 4)),
    (layers.GroupNormalization, {"groups": 2}, (2, 3, 4)),
    (layers.GroupNormalization, {"groups": -1, "axis": 1}, (2, 3, 4)),
    (layers.UnitNormalization, {}, (2, 3, 4)),
])
def test_layer_contract(cls, kwargs, shape, tmp_path):
    run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=shape,
                   tmp_path=tmp_path)


def test_layer_norm_defaults_and_config():
    layer = layers.LayerNormalization()
    config = layer.get_config()
    assert config["epsilon"] == 1e-3 and config["axis"] == -1 and config["rms_scaling"] is False
    layer(np.zeros((2, 3), np.float32))
    assert layer.get_config()["axis"] == [-1]  # as Keras: the axes become a list once built
    assert layers.RMSNormalization().get_config()["epsilon"] == 1e-6
    assert layers.GroupNormalization().get_config()["groups"] == 32


def test_layer_norm_normalizes():
    x = np.random.default_rng(0).standard_normal((4, 16)).astype(np.float32) * 3 + 2
    y = layers.LayerNormalization(epsilon=1e-6)(x).numpy()
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(-1), 1, atol=1e-4)


def test_normalization_errors():
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="multiple"):
        layers.GroupNormalization(groups=3)(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="cannot be more"):
        layers.GroupNormalization(groups=8)(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="out of bounds"):
        layers.LayerNormalization(axis=3)(np.zeros((2, 4), np.float32))
    with pytest.raises(TypeError):
        layers.UnitNormalization(axis="x")


def test_spectral_normalization_unit_spectral_norm_and_round_trip(tmp_path):
    nnforge.utils.set_random_seed(0)
    sn = layers.SpectralNormalization(layers.Dense(5), power_iterations=20)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    sn(x, training=True)
    sigma = np.linalg.svd(sn.layer.kernel.numpy(), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 1e-3
    inference = sn(x).numpy()
    np.testing.assert_allclose(sn(x, training=False).numpy(), inference)
    assert [w.name for w in sn.weights] == ["kernel", "bias", "vector_u"]
    model = nnforge.Sequential([nnforge.Input((4,)), sn])
    model.save(tmp_path / "sn.keras")
    restored = nnforge.saving.load_model(tmp_path / "sn.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), inference, rtol=1e-6)
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="kernel"):
        layers.SpectralNormalization(layers.Activation("relu"))(x)
