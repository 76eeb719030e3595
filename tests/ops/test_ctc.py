"""CTC (ops/ctc.py, losses.ctc/CTC): loss values and gradients and decoding against Keras 3
(TF backend) golden outputs, a brute-force reference over all alignments, and finite
differences."""
import itertools

import numpy as np
import pytest

import nnforge
from nnforge import losses, ops
from tests.golden.opsnn_cases import check_case, golden
from tests.helpers import check_grads

rng = np.random.default_rng(11)


def test_ctc_loss_matches_keras():
    g = golden()
    tgt, tl, ol = g["ctc_loss/target"], g["ctc_loss/tl"], g["ctc_loss/ol"]
    check_case("ctc_loss", lambda o: ops.ctc_loss(tgt, o, tl, ol), rtol=1e-5, grad_atol=1e-5)


def test_ctc_loss_other_blank_matches_keras():
    g = golden()
    tgt = g["ctc_loss_mask2/target"]
    ol = g["ctc_loss/ol"]
    check_case("ctc_loss_mask2", lambda o: ops.ctc_loss(tgt, o, np.array([3, 3, 2]), ol,
                                                        mask_index=2))


@pytest.mark.parametrize("key", ["losses.ctc", "losses.CTC"])
def test_ctc_losses_match_keras(key):
    y_true = golden()["losses.ctc/y_true"]
    fn = losses.ctc if key == "losses.ctc" else losses.CTC()
    check_case(key, lambda o: fn(y_true, o))


def brute_force_nll(logits, labels, blank):
    """-log of the summed probability of every frame path that collapses to ``labels``."""
    t, c = logits.shape
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    total = 0.0
    for path in itertools.product(range(c), repeat=t):
        out, prev = [], None
        for k in path:
            if k != blank and k != prev:
                out.append(k)
            prev = k
        if out == list(labels):
            total += np.exp(sum(logp[i, k] for i, k in enumerate(path)))
    return -np.log(total)


@pytest.mark.parametrize("labels,blank", [([1, 1], 0), ([2, 1, 2], 0), ([], 0), ([0, 2], 1),
                                          ([1], 2)])
def test_ctc_loss_against_all_alignments(labels, blank):
    logits = rng.standard_normal((5, 3))
    tgt = np.array([labels + [0] * (3 - len(labels))])
    got = ops.ctc_loss(tgt, logits[None].astype("float32"), [len(labels)], [5],
                       mask_index=blank).numpy()[0]
    np.testing.assert_allclose(got, brute_force_nll(logits, labels, blank), rtol=1e-5)


def test_ctc_loss_gradient_finite_differences_and_padding():
    tgt = np.array([[1, 2, 0], [2, 2, 1]])
    fn = lambda o: ops.ctc_loss(tgt, o, np.array([2, 3]), np.array([4, 6]))  # noqa: E731
    logits = rng.standard_normal((2, 6, 3))
    check_grads(fn, [logits], eps=1e-3)
    # frames past output_length get no gradient and do not change the loss
    v = nnforge.Variable(logits.astype("float32"))
    with nnforge.GradientTape() as tape:
        y = ops.sum(fn(v))
    gr = tape.gradient(y, v).numpy()
    assert np.all(gr[0, 4:] == 0)
    changed = logits.copy()
    changed[0, 4:] += 5.0
    np.testing.assert_allclose(fn(changed.astype("float32")).numpy(), fn(v).numpy(), rtol=1e-6)


def test_ctc_loss_impossible_alignment_is_inf():
    y = ops.ctc_loss([[1, 1, 1]], np.zeros((1, 4, 3), "float32"), [3], [4]).numpy()
    assert np.isinf(y[0])


@pytest.mark.parametrize("key,kwargs", [
    ("ctc_decode", {}),
    ("ctc_decode_nomerge", dict(merge_repeated=False, mask_index=2)),
])
def test_ctc_greedy_decode_matches_keras(key, kwargs):
    lens = golden()["ctc_decode/lens"]
    check_case(key, lambda x: ops.ctc_decode(x, lens, **kwargs), check_dtype=True)


@pytest.mark.parametrize("key,kwargs", [
    ("ctc_decode_beam", dict(beam_width=10, top_paths=3)),
    ("ctc_decode_beam_m4", dict(beam_width=6, top_paths=2, mask_index=4)),
])
def test_ctc_beam_search_decode_matches_keras(key, kwargs):
    lens = golden()["ctc_decode/lens"]
    check_case(key, lambda x: ops.ctc_decode(x, lens, strategy="beam_search", **kwargs),
               rtol=1e-4, atol=1e-4, check_dtype=True)


def test_ctc_errors():
    with pytest.raises(ValueError, match="ctc_loss: output must be"):
        ops.ctc_loss([[1]], np.zeros((2, 3)), [1], [2])
    with pytest.raises(ValueError, match="ctc_loss: lengths out of range"):
        ops.ctc_loss([[1]], np.zeros((1, 3, 3)), [1], [4])
    with pytest.raises(ValueError, match="ctc_decode: invalid strategy"):
        ops.ctc_decode(np.zeros((1, 3, 3)), [3], strategy="best")
    with pytest.raises(ValueError, match="ctc: y_true must be"):
        losses.ctc(np.zeros(3), np.zeros((1, 3, 3)))


def test_ctc_loss_object_config_round_trip():
    loss = losses.CTC(reduction="sum", name="my_ctc")
    cfg = loss.get_config()
    assert cfg == {"name": "my_ctc", "reduction": "sum"}
    again = losses.deserialize(losses.serialize(loss)) if hasattr(losses, "deserialize") \
        else losses.get(losses.serialize(loss))
    assert isinstance(again, losses.CTC) and again.reduction == "sum"
    assert losses.get("ctc") is losses.ctc


def test_ctc_loss_trains_a_model():
    """compile(loss=CTC()) / loss="ctc" in fit: the loss goes down."""
    from nnforge import layers
    x = rng.standard_normal((32, 12, 6)).astype("float32")
    y = rng.integers(1, 5, (32, 4)).astype("int32")
    y[:, 3] = 0  # padding
    model = nnforge.Sequential([nnforge.Input((12, 6)), layers.Dense(16, activation="mish"),
                                layers.Dense(5)])
    model.compile(optimizer="adam", loss=losses.CTC())
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert hist[-1] < hist[0]
    model.compile(optimizer="adam", loss="ctc")
    hist = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
    assert np.isfinite(hist).all()
