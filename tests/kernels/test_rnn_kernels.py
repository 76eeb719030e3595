"""Whole-sequence LSTM / GRU kernels (nnforge._cpu.rnn_forward / rnn_infer / rnn_backward) against a plain
float64 NumPy reference of the forward pass and central differences of it for backward through
time; the embedding scatter-add against np.add.at. Edge shapes: batch 1, one step, masks with
all-masked rows, go_backwards, initial states, both GRU variants."""
import numpy as np
import pytest

from nnforge import _cpu
from nnforge.backend import cpu
from tests.helpers import at_thread_counts, central_differences

rng = np.random.default_rng(7)


def sig(v):
    return 1 / (1 + np.exp(-v))


def ref_forward(cell, x, w, u, b, h0, c0, mask, go_backwards, zero_out, reset_after=True):
    """Keras's recurrence in float64: (output sequence in processing order, last output,
    final h, final c)."""
    n, steps, _ = x.shape
    units = u.shape[0]
    h = np.zeros((n, units)) if h0 is None else h0.astype(np.float64)
    c = np.zeros((n, units)) if c0 is None else c0.astype(np.float64)
    prev = np.zeros((n, units))
    ys = []
    for s in range(steps):
        t = steps - 1 - s if go_backwards else s
        xt = x[:, t]
        if cell == "lstm":
            z = xt @ w + h @ u + (0 if b is None else b)
            i, f = sig(z[:, :units]), sig(z[:, units:2 * units])
            g, o = np.tanh(z[:, 2 * units:3 * units]), sig(z[:, 3 * units:])
            cn = f * c + i * g
            hn = o * np.tanh(cn)
        elif reset_after:
            xp = xt @ w + (0 if b is None else b[0])
            rec = h @ u + (0 if b is None else b[1])
            z = sig(xp[:, :units] + rec[:, :units])
            r = sig(xp[:, units:2 * units] + rec[:, units:2 * units])
            cand = np.tanh(xp[:, 2 * units:] + r * rec[:, 2 * units:])
            hn, cn = z * h + (1 - z) * cand, c
        else:
            xp = xt @ w + (0 if b is None else b)
            z = sig(xp[:, :units] + h @ u[:, :units])
            r = sig(xp[:, units:2 * units] + h @ u[:, units:2 * units])
            cand = np.tanh(xp[:, 2 * units:] + (r * h) @ u[:, 2 * units:])
            hn, cn = z * h + (1 - z) * cand, c
        m = np.ones((n, 1), bool) if mask is None else mask[:, t:t + 1]
        h = np.where(m, hn, h)
        c = np.where(m, cn, c)
        prev = np.where(m, hn, 0.0 if zero_out else prev)
        ys.append(prev)
    return np.stack(ys, 1), ys[-1], h, c


def make(cell, n, steps, d, units, bias=True, reset_after=True, states=False, scale=0.5):
    g = 4 if cell == "lstm" else 3
    x = rng.standard_normal((n, steps, d)).astype(np.float32)
    w = (rng.standard_normal((d, g * units)) * scale).astype(np.float32)
    u = (rng.standard_normal((units, g * units)) * scale).astype(np.float32)
    b = None
    if bias:
        shape = (2, g * units) if cell == "gru" and reset_after else (g * units,)
        b = (rng.standard_normal(shape) * scale).astype(np.float32)
    h0 = rng.standard_normal((n, units)).astype(np.float32) if states else None
    c0 = rng.standard_normal((n, units)).astype(np.float32) if states and cell == "lstm" else None
    return x, w, u, b, h0, c0


CASES = [
    # cell, n, steps, d, units, bias, reset_after, states, masked, go_backwards, zero_out
    ("lstm", 3, 5, 4, 3, True, True, False, False, False, False),
    ("lstm", 1, 1, 2, 5, True, True, True, False, False, False),
    ("lstm", 5, 4, 3, 17, False, True, True, True, True, False),
    ("lstm", 9, 6, 2, 4, True, True, True, True, False, True),
    ("gru", 3, 5, 4, 3, True, True, False, False, False, False),
    ("gru", 1, 1, 3, 6, True, True, True, False, True, False),
    ("gru", 6, 4, 2, 5, True, True, True, True, True, True),
    ("gru", 4, 5, 3, 3, True, False, False, False, False, False),
    ("gru", 5, 3, 2, 18, False, False, True, True, True, False),
    ("gru", 2, 4, 3, 4, True, False, True, True, False, True),
]


def make_mask(n, steps):
    mask = rng.random((n, steps)) > 0.4
    mask[0] = False  # an all-masked row
    if n > 1:
        mask[1] = True
    return mask


def case_inputs(case):
    """The arrays of a CASES row and its mask (None where the row is unmasked):
    ``(x, w, u, b, h0, c0, mask)``."""
    cell, n, steps, d, units, bias, ra, states, masked, gb, zo = case
    return (*make(cell, n, steps, d, units, bias, ra, states),
            make_mask(n, steps) if masked else None)


def check_against_reference(case, inputs, y_seq, y_last, h, c):
    """Asserts a kernel's sequence output, last output and final states (``c``: LSTM only) for
    the case's inputs equal the float64 reference's."""
    cell, n, steps, d, units, bias, ra, states, masked, gb, zo = case
    want_seq, want_last, want_h, want_c = ref_forward(cell, *inputs, gb, zo, ra)
    np.testing.assert_allclose(y_seq, want_seq, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(y_last, want_last, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(h, want_h, rtol=2e-5, atol=2e-6)
    if cell == "lstm":
        np.testing.assert_allclose(c, want_c, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_reference(case):
    cell, n, steps, d, units, bias, ra, states, masked, gb, zo = case
    inputs = case_inputs(case)
    saved = cpu.rnn_sequence(cell, *inputs, gb, zo, reset_after=ra, want_sequence=True)
    check_against_reference(case, inputs, saved["y_seq"], saved["y_last"], saved["h_all"][:, -1],
                            saved["c_all"][:, -1] if cell == "lstm" else None)


@pytest.mark.parametrize("case", CASES)
def test_inference_matches_reference_and_training_forward(case):
    cell, n, steps, d, units, bias, ra, states, masked, gb, zo = case
    inputs = x, w, u, b, h0, c0, mask = case_inputs(case)
    got = cpu.rnn_infer(cell, *inputs, gb, zo, reset_after=ra, want_sequence=True)
    check_against_reference(case, inputs, got["y_seq"], got["y_last"], got["h_last"],
                            got["c_last"])
    if cell != "lstm":
        assert got["c_last"] is None
    train = cpu.rnn_sequence(cell, x, w, u, b, h0, c0, mask, gb, zo, reset_after=ra,
                             want_sequence=True)
    np.testing.assert_allclose(got["y_seq"], train["y_seq"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got["y_last"], train["y_last"], rtol=1e-6, atol=1e-6)
    last = cpu.rnn_infer(cell, x, w, u, b, h0, c0, mask, gb, zo, reset_after=ra)
    assert last["y_seq"] is None
    np.testing.assert_array_equal(last["y_last"], got["y_last"])


def test_inference_wide_and_threaded():
    # rows and 4*units wider than a micro-kernel tile, features above one K block, 1-3 threads
    x, w, u, b, h0, c0 = make("lstm", 41, 3, 300, 67, scale=0.05, states=True)
    _, y_last, h, c = ref_forward("lstm", x, w, u, b, h0, c0, None, False, False)
    outs = at_thread_counts(lambda: cpu.rnn_infer("lstm", x, w, u, b, h0, c0, None, False, False))
    np.testing.assert_allclose(outs[0]["y_last"], y_last, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outs[0]["c_last"], c, rtol=1e-4, atol=1e-5)
    for other in outs[1:]:
        np.testing.assert_array_equal(other["y_last"], outs[0]["y_last"])


def test_inference_binding_refuses_bad_arguments():
    x, w, u, b, h0, c0 = make("gru", 2, 3, 4, 5)
    ok = dict(y_seq=None, y_last=np.empty((2, 5), np.float32), h_last=None, c_last=None)

    def call(**kw):
        a = dict(ok, **kw)
        _cpu.rnn_infer(1, True, x, w, u, b, None, None, None, False, False, a["y_seq"],
                       a["y_last"], a["h_last"], a["c_last"])

    call()
    with pytest.raises(ValueError, match="y_last"):
        call(y_last=np.empty((2, 4), np.float32))
    with pytest.raises(ValueError, match="c_last"):
        call(c_last=np.empty((2, 5), np.float32))  # a GRU has no cell state
    with pytest.raises(ValueError, match="h_last"):
        call(h_last=np.empty((2, 5), np.float64))
    with pytest.raises(ValueError, match="share memory"):
        call(h_last=ok["y_last"][:])  # a view of another output


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sequences", [True, False])
def test_backward_matches_central_differences(case, sequences):
    cell, n, steps, d, units, bias, ra, states, masked, gb, zo = case
    x, w, u, b, h0, c0, mask = case_inputs(case)
    p_seq = rng.standard_normal((n, steps, units))
    p_last = rng.standard_normal((n, units))
    q_h = rng.standard_normal((n, units))
    q_c = rng.standard_normal((n, units))
    arrays = {"x": x, "w": w, "u": u, "b": b, "h0": h0, "c0": c0}
    ref = {k: (None if v is None else v.astype(np.float64)) for k, v in arrays.items()}

    def loss():
        ys, yl, h, c = ref_forward(cell, ref["x"], ref["w"], ref["u"], ref["b"], ref["h0"],
                                   ref["c0"], mask, gb, zo, ra)
        out = (ys * p_seq).sum() if sequences else (yl * p_last).sum()
        out += (h * q_h).sum()
        if cell == "lstm":
            out += (c * q_c).sum()
        return out

    saved = cpu.rnn_sequence(cell, x, w, u, b, h0, c0, mask, gb, zo, reset_after=ra,
                             want_sequence=sequences)
    f32 = np.float32
    dx, dw, du, db, dh0, dc0 = cpu.rnn_sequence_grad(
        cell, x, w, u, b, h0, c0, mask, gb, zo, ra, saved,
        p_seq.astype(f32) if sequences else None, None if sequences else p_last.astype(f32),
        q_h.astype(f32), q_c.astype(f32) if cell == "lstm" else None, want_dx=True,
        want_dh0=True)
    got = {"x": dx, "w": dw, "u": du, "b": db, "h0": dh0, "c0": dc0}
    for k, v in ref.items():
        if v is None:
            continue
        num = central_differences(loss, v, eps=1e-6)
        np.testing.assert_allclose(got[k], num, rtol=2e-3, atol=2e-4, err_msg=f"d{k} {case}")


def test_results_do_not_depend_on_thread_count():
    x, w, u, b, h0, c0 = make("lstm", 33, 7, 5, 9, states=True)
    mask = make_mask(33, 7)

    def forward_and_backward():
        s = cpu.rnn_sequence("lstm", x, w, u, b, h0, c0, mask, True, False, want_sequence=True)
        g = cpu.rnn_sequence_grad("lstm", x, w, u, b, h0, c0, mask, True, False, True, s,
                                  np.ones((33, 7, 9), np.float32), None, None, None,
                                  want_dh0=True)
        return [s["y_seq"], *[a for a in g if a is not None]]

    outs = at_thread_counts(forward_and_backward)
    for other in outs[1:]:
        for a, b_ in zip(outs[0], other):
            np.testing.assert_array_equal(a, b_)


def test_large_batch_and_units_match_reference():
    # wider than one micro-kernel tile in both directions (rows and 4*units columns)
    x, w, u, b, h0, c0 = make("lstm", 40, 3, 70, 67, scale=0.1)
    s = cpu.rnn_sequence("lstm", x, w, u, b, None, None, None, False, False, want_sequence=True)
    ys, _, _, _ = ref_forward("lstm", x, w, u, b, None, None, None, False, False)
    np.testing.assert_allclose(s["y_seq"], ys, rtol=1e-4, atol=1e-5)


def test_bindings_refuse_bad_arguments():
    x, w, u, b, h0, c0 = make("lstm", 2, 3, 4, 5)
    n, t, units = 2, 3, 5
    bufs = dict(gates=np.empty((n, t, 20), np.float32), aux=None,
                h_all=np.empty((n, t, units), np.float32),
                c_all=np.empty((n, t, units), np.float32), y_seq=None,
                y_last=np.empty((n, units), np.float32))
    args = dict(cell=0, reset_after=True, x=x, kernel=w, recurrent_kernel=u, bias=b, h0=None,
                c0=None, mask=None, go_backwards=False, zero_output_for_mask=False)
    _cpu.rnn_forward(**args, **bufs)
    with pytest.raises(ValueError, match="kernel.*shape"):
        _cpu.rnn_forward(**dict(args, kernel=w[:3].copy()), **bufs)
    with pytest.raises(ValueError, match="float32"):
        _cpu.rnn_forward(**dict(args, x=x.astype(np.float64)), **bufs)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.rnn_forward(**dict(args, x=np.asfortranarray(x)), **bufs)
    with pytest.raises(ValueError, match="mask"):
        _cpu.rnn_forward(**dict(args, mask=np.ones((n, t), np.float32)), **bufs)
    with pytest.raises(ValueError, match="mask"):
        _cpu.rnn_forward(**dict(args, mask=np.ones((n, t + 1), bool)), **bufs)
    with pytest.raises(ValueError, match="gates"):
        _cpu.rnn_forward(**args, **dict(bufs, gates=np.empty((n, t, 16), np.float32)))
    with pytest.raises(ValueError, match="share memory"):
        _cpu.rnn_forward(**args, **dict(bufs, y_last=bufs["h_all"].reshape(-1)[:n * units]
                                        .reshape(n, units)))
    with pytest.raises(ValueError, match="cell"):
        _cpu.rnn_forward(**dict(args, cell=2), **bufs)
    with pytest.raises(ValueError, match="at least one step"):
        _cpu.rnn_forward(**dict(args, x=np.zeros((n, 0, 4), np.float32)), **bufs)
    with pytest.raises(ValueError, match="None for a GRU"):
        _cpu.rnn_forward(**dict(args, cell=1, kernel=w[:, :15].copy(),
                                recurrent_kernel=u[:, :15].copy(), bias=None,
                                c0=np.zeros((n, units), np.float32)), **bufs)
    with pytest.raises(TypeError):
        _cpu.rnn_forward(**dict(args, x=x.tolist()), **bufs)


def test_embedding_backward_matches_add_at():
    for rows, dim, n in ((10, 4, 0), (7, 3, 50), (1000, 64, 3200), (3, 1, 9)):
        ids = rng.integers(0, rows, n)
        ids[: n // 3] = ids[0] if n else 0  # many repeats of one row
        dy = rng.standard_normal((n, dim)).astype(np.float32)
        expected = np.zeros((rows, dim), np.float32)
        np.add.at(expected, ids, dy)
        out = np.full((rows, dim), np.nan, np.float32)  # every entry must be written
        _cpu.embedding_backward(ids.astype(np.int64), dy, out)
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        _cpu.embedding_backward(np.array([5], np.int64), np.zeros((1, 2), np.float32),
                                np.zeros((5, 2), np.float32))
    with pytest.raises(ValueError, match="int64"):
        _cpu.embedding_backward(np.array([1], np.int32), np.zeros((1, 2), np.float32),
                                np.zeros((5, 2), np.float32))
    with pytest.raises(ValueError, match="dy"):
        _cpu.embedding_backward(np.array([1], np.int64), np.zeros((1, 3), np.float32),
                                np.zeros((5, 2), np.float32))
