"""Whole-sequence LSTM / GRU on the GPU (cuda/rnn.cu through nnforge.backend.cuda) against the CPU
kernels (nnforge.backend.cpu), which tests/kernels/test_rnn_kernels.py checks against a NumPy
step-by-step reference and tests/layers against Keras 3's goldens:

* forward: the saved gates / states, the output sequence and the last output, for LSTM, GRU
  (reset_after True and False), with and without bias, initial states, a mask (both
  zero_output_for_mask settings) and go_backwards;
* backward through time: dx, the kernels', bias and initial-state gradients for the same cases;
* inference and a fused LSTM layer's training step through the layers (the GPU path the layers
  take now that the CUDA backend has the kernels);
* the bindings' validation through fake CUDA arrays (no_gpu tests: they run everywhere).

The gate arithmetic differs from the CPU's in rounding only (expf/tanhf vs the CPU's vectorised
exp), so values compare within float32 tolerances. Skipped without CuPy and a CUDA device
(conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest

from nnforge.backend import cpu as cb

from .test_cuda_bindings_validation import F, reaches_launch

CASES = [  # (cell, reset_after, bias, states, mask, zero_output_for_mask, go_backwards)
    ("lstm", True, True, False, False, False, False),
    ("lstm", True, True, True, True, False, True),
    ("lstm", True, False, True, True, True, False),
    ("gru", True, True, False, False, False, False),
    ("gru", True, True, True, True, False, True),
    ("gru", False, True, True, True, True, False),
    ("gru", False, False, False, False, False, True),
]


def _dev():
    cupy = pytest.importorskip("cupy")
    from nnforge.backend import cuda
    return cupy, cuda


def _inputs(case, N=5, T=7, D=6, H=4, seed=0):
    cell, reset_after, with_bias, states, with_mask, _, _ = case
    rng = np.random.default_rng(seed)
    G = 4 if cell == "lstm" else 3
    f = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)  # noqa: E731
    x, k, u = f(N, T, D), f(D, G * H), f(H, G * H)
    b = (f(2, G * H) if cell == "gru" and reset_after else f(G * H)) if with_bias else None
    h0 = f(N, H) if states else None
    c0 = f(N, H) if states and cell == "lstm" else None
    mask = (rng.random((N, T)) > 0.3) if with_mask else None
    return x, k, u, b, h0, c0, mask


def _close(got, want, tol=2e-5):
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES)
def test_forward_and_backward_match_the_cpu(case):
    cupy, gb = _dev()
    cell, reset_after, _, _, _, zero_out, backwards = case
    arrays = _inputs(case)
    dev = [None if a is None else cupy.asarray(a) for a in arrays]
    args = dict(go_backwards=backwards, zero_output_for_mask=zero_out, reset_after=reset_after,
                want_sequence=True)
    want = cb.rnn_sequence(cell, *arrays, **args)
    got = gb.rnn_sequence(cell, *dev, **args)
    for key in ("gates", "aux", "h_all", "c_all", "y_seq", "y_last"):
        if want[key] is not None:
            _close(cupy.asnumpy(got[key]), want[key])
    rng = np.random.default_rng(1)
    N, T, H = arrays[0].shape[0], arrays[0].shape[1], arrays[2].shape[0]
    dy_seq = rng.standard_normal((N, T, H)).astype(np.float32)
    dh = rng.standard_normal((N, H)).astype(np.float32)
    dc = rng.standard_normal((N, H)).astype(np.float32) if cell == "lstm" else None
    grads_cpu = cb.rnn_sequence_grad(cell, *arrays, backwards, zero_out, reset_after, want,
                                     dy_seq, None, dh, dc, want_dx=True, want_dh0=True)
    saved = {k: (None if v is None else cupy.asarray(v)) for k, v in want.items()}
    grads_gpu = gb.rnn_sequence_grad(cell, *dev, backwards, zero_out, reset_after, saved,
                                     cupy.asarray(dy_seq), None, cupy.asarray(dh),
                                     None if dc is None else cupy.asarray(dc), want_dx=True,
                                     want_dh0=True)
    for g, w in zip(grads_gpu, grads_cpu):
        assert (g is None) == (w is None)
        if w is not None:
            _close(cupy.asnumpy(g), w, 1e-4)


def test_layers_take_the_fused_gpu_path_and_train_like_the_cpu():
    cupy, gb = _dev()
    import nnforge as keras
    from nnforge import ops
    from nnforge.core import unwrap
    assert ops.fused_rnn_available(cupy.zeros((2, 3), cupy.float32))
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 5, 3)).astype(np.float32)
    y = rng.standard_normal((8, 4)).astype(np.float32)
    saved = keras.config.get_device()
    results = []
    try:
        for device in ("cpu", "cuda"):
            keras.config.set_device(device)
            keras.utils.set_random_seed(0)
            m = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4)])
            m.compile(optimizer="sgd", loss="mse")
            m.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
            kernel = unwrap(m.layers[0].cell.kernel if hasattr(m.layers[0], "cell")
                            else m.layers[0].kernel)
            assert isinstance(kernel, cupy.ndarray if device == "cuda" else np.ndarray)
            results.append((np.asarray(m.predict(x, verbose=0)),
                            [np.asarray(cupy.asnumpy(unwrap(w)) if device == "cuda" else
                                        unwrap(w)) for w in m.weights]))
    finally:
        keras.config.set_device(saved)
    _close(results[1][0], results[0][0], 1e-4)
    for g, w in zip(results[1][1], results[0][1]):
        _close(g, w, 1e-4)


# ---- argument validation (no GPU needed) --------------------------------------------------------

def _forward_args(N=2, T=3, D=4, H=5, cell=0):
    G = 4 if cell == 0 else 3
    return dict(cell=cell, reset_after=True, x=F((N, T, D)), kernel=F((D, G * H)),
                recurrent_kernel=F((H, G * H)), bias=F((G * H,)) if cell == 0 else F((2, G * H)),
                h0=None, c0=None, mask=None, go_backwards=False, zero_output_for_mask=False,
                gates=F((N, T, G * H)), aux=None if cell == 0 else F((N, T, H)),
                h_all=F((N, T, H)), c_all=F((N, T, H)) if cell == 0 else None, y_seq=None,
                y_last=F((N, H)))


def _workspace(c, kw, backward=False):
    n = c.rnn_workspace_bytes(kw["cell"], kw["reset_after"], kw["x"].shape[0], kw["x"].shape[1],
                              kw["recurrent_kernel"].shape[0], backward, kw["bias"] is not None)
    return F((n,), "uint8")


@pytest.mark.no_gpu
@pytest.mark.parametrize("cell", [0, 1])
def test_valid_forward_arguments_reach_the_launch(c, cell):
    kw = _forward_args(cell=cell)
    reaches_launch(c, lambda: c.rnn_forward(**kw, workspace=_workspace(c, kw)))


@pytest.mark.no_gpu
@pytest.mark.parametrize("change,error,match", [
    (dict(x=F((2, 3, 4), "float64")), ValueError, r"argument 'x' must have dtype float32"),
    (dict(x=np.zeros((2, 3, 4), np.float32)), TypeError, r"argument 'x' must be a CUDA array"),
    (dict(kernel=F((4, 21))), ValueError, r"argument 'kernel' must have shape \(4, 20\)"),
    (dict(gates=F((2, 3, 19))), ValueError, r"argument 'gates' must have shape \(2, 3, 20\)"),
    (dict(h0=F((3, 5))), ValueError, r"argument 'h0' must have shape \(2, 5\)"),
    (dict(mask=F((2, 3), "float32")), ValueError, r"argument 'mask' must have dtype bool"),
    (dict(mask=F((3, 2), "bool")), ValueError, r"argument 'mask' must have shape \(2, 3\)"),
    (dict(y_last=F((2, 5), readonly=True)), ValueError, r"argument 'y_last' must be writeable"),
    (dict(gates=None), ValueError, r"argument 'gates' is required"),
    (dict(cell=2), ValueError, r"argument 'cell' must be 0 \(LSTM\) or 1 \(GRU\)"),
    (dict(aux=F((2, 3, 5))), ValueError, r"argument 'aux' must be None for an LSTM"),
    (dict(h_all=F((2, 3, 5), strides=(60, 4, 12))), ValueError, r"'h_all' must be C-contiguous"),
])
def test_bad_forward_arguments(c, change, error, match):
    kw = _forward_args()
    kw.update(change)
    with pytest.raises(error, match=match):
        c.rnn_forward(**kw, workspace=F((1 << 20,), "uint8"))


@pytest.mark.no_gpu
def test_forward_outputs_must_not_overlap_and_workspace_must_fit(c):
    kw = _forward_args()
    kw["y_seq"] = kw["h_all"]
    with pytest.raises(ValueError, match=r"'h_all' .* and 'y_seq' .* overlap"):
        c.rnn_forward(**kw, workspace=_workspace(c, kw))
    kw = _forward_args()
    with pytest.raises(ValueError, match=r"argument 'workspace' must hold at least"):
        c.rnn_forward(**kw, workspace=F((8,), "uint8"))
    with pytest.raises(ValueError, match=r"argument 'precision'"):
        c.rnn_forward(**kw, precision="fp64", workspace=_workspace(c, kw))


@pytest.mark.no_gpu
def test_backward_arguments(c):
    kw = _forward_args()
    for key in ("y_seq", "y_last"):
        kw.pop(key)
    N, T, D, H = 2, 3, 4, 5
    grads = dict(dy_seq=None, dy_last=F((N, H)), dh_T=None, dc_T=None, dx=F((N, T, D)),
                 dkernel=F((D, 4 * H)), drecurrent_kernel=F((H, 4 * H)), dbias=F((4 * H,)),
                 dh0=None, dc0=None)
    ws = _workspace(c, kw, backward=True)
    reaches_launch(c, lambda: c.rnn_backward(**kw, **grads, workspace=ws))
    bad = dict(grads, dkernel=F((D, 4 * H + 1)))
    with pytest.raises(ValueError, match=r"argument 'dkernel' must have shape \(4, 20\)"):
        c.rnn_backward(**kw, **bad, workspace=ws)
    bad = dict(grads, dx=kw["x"])
    with pytest.raises(ValueError, match=r"'dx' .* and 'x' .* overlap"):
        c.rnn_backward(**kw, **bad, workspace=ws)
    nobias = dict(kw, bias=None)
    with pytest.raises(ValueError, match=r"'dbias' must be None when there is no bias"):
        c.rnn_backward(**nobias, **grads, workspace=ws)
