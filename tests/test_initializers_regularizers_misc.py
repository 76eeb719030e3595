"""Identity and STFT initializers, OrthogonalRegularizer and MinMaxNorm against Keras 3 (golden
outputs from tests/golden/make_misc_golden.py), their configs, aliases and ``deserialize``."""
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import constraints, initializers, regularizers
from tests.golden.make_misc_golden import CONSTRAINT_CASES, REG_CASES, STFT_CASES

G = np.load(Path(__file__).resolve().parent / "golden" / "misc.npz")


def test_identity_matches_keras():
    np.testing.assert_array_equal(initializers.Identity(gain=2.0)((4, 6)), G["init_identity"])
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))
    assert initializers.Identity(gain=2.0).get_config() == {}  # as Keras 3.15 writes it


@pytest.mark.parametrize("i", range(len(STFT_CASES)))
def test_stft_matches_keras(i):
    keras_kw, ours, shape = STFT_CASES[i]
    got = initializers.STFT(**ours)(shape)
    np.testing.assert_allclose(got, G[f"init_stft{i}"], rtol=1e-5, atol=1e-6)
    # the window given as values gives the same kernel
    got2 = initializers.STFT(**keras_kw)(shape)
    np.testing.assert_allclose(got2, G[f"init_stft{i}"], rtol=1e-5, atol=1e-6)


def test_stft_errors_and_config():
    with pytest.raises(ValueError, match="side"):
        initializers.STFT(side="both")
    with pytest.raises(ValueError, match="unknown window"):
        initializers.STFT(window="kaiser_bessel")
    with pytest.raises(ValueError, match="scaling"):
        initializers.STFT(scaling="power")
    with pytest.raises(ValueError, match="frame_length"):
        initializers.STFT(window=np.ones(3))((4, 1, 3))
    init = initializers.STFT(side="imag", window="hamming", periodic=True)
    assert init.get_config() == {"side": "imag", "window": "hamming", "periodic": True,
                                 "scaling": "density"}
    again = initializers.deserialize(initializers.serialize(init))
    np.testing.assert_array_equal(again((8, 1, 5)), init((8, 1, 5)))


def test_aliases_and_deserialize():
    assert initializers.IdentityInitializer is initializers.identity is initializers.Identity
    assert initializers.STFTInitializer is initializers.stft is initializers.STFT
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    assert initializers.variance_scaling is initializers.VarianceScaling
    for cls_name, cls in (("IdentityInitializer", initializers.Identity),
                          ("STFTInitializer", initializers.STFT),
                          ("OrthogonalInitializer", initializers.Orthogonal)):
        obj = initializers.deserialize({"class_name": cls_name, "config": {}})
        assert type(obj) is cls
    assert isinstance(initializers.deserialize("identity"), initializers.Identity)
    assert isinstance(initializers.get("stft"), initializers.STFT)
    layer = keras.layers.Dense(3, kernel_initializer="identity")
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.kernel.numpy(), np.eye(3))


@pytest.mark.parametrize("case", REG_CASES, ids=[c[0] for c in REG_CASES])
def test_orthogonal_regularizer_matches_keras(case):
    key, name, kw = case
    reg = getattr(regularizers, name)(**kw)
    got = float(reg(keras.Variable(G["reg_w"])).numpy())
    np.testing.assert_allclose(got, G[f"reg_{key}"], rtol=1e-5)
    assert regularizers.deserialize(regularizers.serialize(reg)).get_config() == \
        reg.get_config()


def test_orthogonal_regularizer_gradient_and_errors():
    reg = regularizers.OrthogonalRegularizer(0.1)
    v = keras.Variable(G["reg_w"].copy())
    with keras.GradientTape() as tape:
        out = reg(v)
    grad = tape.gradient(out, v).numpy()
    w = G["reg_w"].astype(np.float64)
    eps = 1e-3
    for i, j in ((0, 0), (2, 1), (3, 2)):
        hi, lo = w.copy(), w.copy()
        hi[i, j] += eps
        lo[i, j] -= eps
        num = (float(reg(hi.astype(np.float32)).numpy()) -
               float(reg(lo.astype(np.float32)).numpy())) / (2 * eps)
        assert abs(grad[i, j] - num) < 2e-3 * max(1, abs(num))
    with pytest.raises(ValueError, match="rank 2"):
        reg(np.ones((2, 2, 2), np.float32))
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diag")
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    assert regularizers.get("orthogonal_regularizer").get_config() == {"factor": 0.01,
                                                                      "mode": "rows"}


def test_regularizer_in_a_layer_adds_its_loss():
    layer = keras.layers.Dense(3, kernel_regularizer=regularizers.OrthogonalRegularizer(0.5))
    layer(np.ones((2, 4), np.float32))
    want = float(regularizers.OrthogonalRegularizer(0.5)(layer.kernel).numpy())
    assert float(np.asarray(layer.losses[0].numpy() if hasattr(layer.losses[0], "numpy")
                            else layer.losses[0])) == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("case", CONSTRAINT_CASES, ids=[c[0] for c in CONSTRAINT_CASES])
def test_min_max_norm_matches_keras(case):
    key, name, kw = case
    c = getattr(constraints, name)(**kw)
    np.testing.assert_allclose(c(G["con_w"].copy()), G[f"con_{key}"], rtol=1e-6, atol=1e-7)
    again = constraints.deserialize(constraints.serialize(c))
    assert again.get_config() == c.get_config()


def test_min_max_norm_names():
    assert constraints.min_max_norm is constraints.MinMaxNorm
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0,
                                                     "rate": 1.0, "axis": 0}
    assert isinstance(constraints.deserialize("min_max_norm"), constraints.MinMaxNorm)
