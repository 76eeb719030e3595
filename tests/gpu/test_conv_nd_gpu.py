"""The conv family on the GPU: every op case and every layer case of tests/golden/conv.npz
(Keras 3's numbers) run with CuPy arrays / weights on the device (nnforge.config.set_device
('cuda')) and give Keras's outputs and gradients. Skipped without a GPU (see conftest.py); the
tolerance is 1e-4, as the CUDA kernels sum in another order (and may use TF32 where enabled)."""
from __future__ import annotations

import pytest

from tests.golden.make_conv_golden import LAYER_CASES, OP_CASES
from tests.layers.conv_golden import check_numbers, check_op

TOL = 1e-4


@pytest.fixture
def cupy_mod():
    cupy = pytest.importorskip("cupy")
    return cupy


@pytest.fixture
def on_gpu(cupy_mod):
    import nnforge
    before = nnforge.config.get_device()
    nnforge.config.set_device("cuda")
    yield cupy_mod
    nnforge.config.set_device(before)


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_op_matches_keras3_on_gpu(name, on_gpu):
    check_op(name, tol=TOL, to_device=on_gpu.asarray)


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_layer_matches_keras3_on_gpu(name, on_gpu):
    check_numbers(name, tol=TOL, to_device=on_gpu.asarray)
