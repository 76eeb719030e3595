"""Connectionist temporal classification: ``keras.ops.ctc_loss`` (forward-backward in log
space, with its exact gradient) and ``keras.ops.ctc_decode`` (greedy and prefix beam search).

Both run on the host in float64 (the recursions are sequential over time and small next to the
network that produces the logits) and return arrays on the input's backend."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._util import data_of

__all__ = ["ctc_loss", "ctc_decode"]

_NEG_INF = -np.inf


def _lse(*xs):
    """Element-wise log(sum(exp(x))) of arrays that may hold -inf."""
    m = xs[0]
    for x in xs[1:]:
        m = np.maximum(m, x)
    safe = np.where(np.isfinite(m), m, 0.0)
    s = np.zeros_like(safe)
    for x in xs:
        s = s + np.exp(x - safe)
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(m), np.log(s) + safe, _NEG_INF)


def _host_logits(fn, x, name, dtype):
    """``x`` (a ``(batch, max_time, num_classes)`` tensor) as its array, its backend and a host
    copy of ``dtype``; ``fn`` and ``name`` are the op and argument named in the error."""
    z = data_of(x, fn, name)
    zn = backend.to_numpy(z).astype(dtype)
    if zn.ndim != 3:
        raise ValueError(f"{fn}: {name} must be (batch, max_time, num_classes), got shape "
                         f"{zn.shape}")
    return z, backend.of(z), zn


def _host_ints(fn, x, name):
    """``x`` as a host int64 array (lengths and labels)."""
    return np.asarray(backend.to_numpy(data_of(x, fn, name))).astype(np.int64)


def _log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def _ctc_forward_backward(logp, labels, label_len, input_len, blank):
    """Per-sample negative log-likelihoods and the posteriors ``d(-log p)/d logp`` negated.

    Args:
        logp: ``(B, T, C)`` log-probabilities (float64).
        labels: ``(B, L)`` int labels.
        label_len: ``(B,)`` label lengths.
        input_len: ``(B,)`` input lengths.
        blank: blank class index.

    Returns:
        ``(nll (B,), post (B, T, C))`` with ``post[b, t, k]`` the posterior probability that
        frame ``t`` emits class ``k`` (zero beyond ``input_len``).
    """
    bsz, tmax, ncls = logp.shape
    lmax = labels.shape[1]
    smax = 2 * lmax + 1
    ext = np.full((bsz, smax), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    s_idx = np.arange(smax)[None, :]
    s_len = 2 * label_len[:, None] + 1                      # (B, 1)
    valid_s = s_idx < s_len                                  # (B, S)
    # the skip transition s-2 -> s: into a label that differs from the label two back
    skip = np.zeros((bsz, smax), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    bidx = np.arange(bsz)[:, None]
    emit = logp[bidx[:, :, None], np.arange(tmax)[None, :, None], ext[:, None, :]]  # (B,T,S)

    alpha = np.full((bsz, tmax, smax), _NEG_INF)
    a0 = np.full((bsz, smax), _NEG_INF)
    a0[:, 0] = emit[:, 0, 0]
    if smax > 1:
        a0[:, 1] = np.where(label_len > 0, emit[:, 0, 1], _NEG_INF)
    a0 = np.where(valid_s, a0, _NEG_INF)
    alpha[:, 0] = a0
    for t in range(1, tmax):
        prev = alpha[:, t - 1]
        p1 = np.concatenate([np.full((bsz, 1), _NEG_INF), prev[:, :-1]], axis=1)
        p2 = np.concatenate([np.full((bsz, 2), _NEG_INF), prev[:, :-2]], axis=1)
        p2 = np.where(skip, p2, _NEG_INF)
        a = _lse(prev, p1, p2) + emit[:, t]
        a = np.where(valid_s, a, _NEG_INF)
        alpha[:, t] = np.where((t < input_len)[:, None], a, _NEG_INF)

    # beta[t, s]: log-probability of the rest of the labelling after frame t (emission at t
    # excluded), started at the last frame of each sample
    beta = np.full((bsz, tmax, smax), _NEG_INF)
    last = input_len - 1
    for t in range(tmax - 1, -1, -1):
        init = np.full((bsz, smax), _NEG_INF)
        init[s_idx.repeat(bsz, 0) == s_len - 1] = 0.0
        init[(s_idx.repeat(bsz, 0) == s_len - 2)] = 0.0
        if t < tmax - 1:
            nxt = beta[:, t + 1] + emit[:, t + 1]
            n1 = np.concatenate([nxt[:, 1:], np.full((bsz, 1), _NEG_INF)], axis=1)
            skip_next = np.concatenate([skip[:, 2:], np.zeros((bsz, 2), dtype=bool)], axis=1)
            n2 = np.concatenate([nxt[:, 2:], np.full((bsz, 2), _NEG_INF)], axis=1)
            n2 = np.where(skip_next, n2, _NEG_INF)
            rec = _lse(nxt, n1, n2)
        else:
            rec = np.full((bsz, smax), _NEG_INF)
        b = np.where((t == last)[:, None], init, np.where((t < last)[:, None], rec, _NEG_INF))
        beta[:, t] = np.where(valid_s, b, _NEG_INF)

    end = alpha[np.arange(bsz), last]                        # (B, S)
    e1 = end[np.arange(bsz), (s_len[:, 0] - 1)]
    e2 = np.where(label_len > 0, end[np.arange(bsz), np.maximum(s_len[:, 0] - 2, 0)], _NEG_INF)
    logprob = _lse(e1, e2)
    nll = -logprob
    occ = alpha + beta - np.where(np.isfinite(logprob), logprob, 0.0)[:, None, None]
    occ = np.where(np.isfinite(logprob)[:, None, None], occ, _NEG_INF)
    post = np.zeros((bsz, tmax, ncls))
    w = np.exp(occ)                                          # (B, T, S)
    for s in range(smax):
        np.add.at(post, (np.arange(bsz)[:, None], np.arange(tmax)[None, :],
                         ext[:, s][:, None].repeat(tmax, 1)), w[:, :, s])
    return nll, post


def ctc_loss(target, output, target_length, output_length, mask_index: int = 0) -> Tensor:
    """CTC loss per sample (``keras.ops.ctc_loss``, as ``tf.nn.ctc_loss`` on logits).

    Args:
        target: ``(batch, max_label_length)`` integer labels (padding beyond
            ``target_length`` is ignored).
        output: ``(batch, max_time, num_classes)`` logits (not softmax-normalized).
        target_length: ``(batch,)`` label lengths.
        output_length: ``(batch,)`` input lengths.
        mask_index: the blank class (None: class 0).

    Returns:
        A ``(batch,)`` float32 Tensor of negative log-likelihoods, differentiable in
        ``output``; ``inf`` where no alignment exists (input too short).

    Example:

    >>> logits = np.zeros((1, 3, 3), "float32")
    >>> float(ops.ctc_loss([[1, 2]], logits, [2], [3])[0])  # -log(5/27)
    1.6863989...
    """
    z, be, zn = _host_logits("ctc_loss", output, "output", np.float64)
    lab = _host_ints("ctc_loss", target, "target")
    if lab.ndim != 2 or lab.shape[0] != zn.shape[0]:
        raise ValueError(f"ctc_loss: target must be (batch, max_label_length) with batch "
                         f"{zn.shape[0]}, got shape {lab.shape}")
    tl = _host_ints("ctc_loss", target_length, "target_length").reshape(-1)
    ol = _host_ints("ctc_loss", output_length, "output_length").reshape(-1)
    bsz, tmax, ncls = zn.shape
    if tl.shape[0] != bsz or ol.shape[0] != bsz:
        raise ValueError(f"ctc_loss: target_length and output_length must have shape ({bsz},), "
                         f"got {tl.shape} and {ol.shape}")
    if (ol < 1).any() or (ol > tmax).any() or (tl < 0).any() or (tl > lab.shape[1]).any():
        raise ValueError(f"ctc_loss: lengths out of range: output_length {ol.tolist()} must be "
                         f"in [1, {tmax}], target_length {tl.tolist()} in [0, {lab.shape[1]}]")
    blank = 0 if mask_index is None else mask_index % ncls  # None: 0, as tf.nn.ctc_loss
    lab = np.where(np.arange(lab.shape[1])[None, :] < tl[:, None], lab, blank)
    if ((lab < 0) | (lab >= ncls)).any():
        raise ValueError(f"ctc_loss: labels must lie in [0, {ncls}), got {lab.tolist()}")
    logp = _log_softmax(zn)
    nll, post = _ctc_forward_backward(logp, lab, tl, ol, blank)
    tmask = (np.arange(tmax)[None, :] < ol[:, None])[:, :, None]
    grad = np.where(tmask & np.isfinite(nll)[:, None, None], np.exp(logp) - post, 0.0)
    out_dt = z.dtype if z.dtype.kind == "f" else np.float32
    y = be.xp.asarray(nll.astype(out_dt))
    grad_b = be.xp.asarray(grad.astype(out_dt))

    def backward(g, needs):
        return (None, grad_b * g.reshape(-1, 1, 1))

    return record(y, (target, output), backward)


def ctc_decode(inputs, sequence_lengths, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True,
               mask_index: int = 0) -> Tuple[Tensor, Tensor]:
    """Decode CTC outputs (``keras.ops.ctc_decode``, as Keras's TensorFlow backend).

    Args:
        inputs: ``(batch, max_time, num_classes)`` logits (or log-probabilities).
        sequence_lengths: ``(batch,)`` valid lengths.
        strategy: ``"greedy"`` or ``"beam_search"``.
        beam_width: beams kept per step (beam search).
        top_paths: number of best paths returned (beam search).
        merge_repeated: greedy only: collapse repeated labels (a blank separates repeats).
        mask_index: the blank class (None: the last class).

    Returns:
        ``(decoded, scores)``: ``decoded`` is ``(top_paths, batch, max_time)`` int32 padded
        with -1; ``scores`` is ``(batch, 1)`` for greedy (minus the sum of the frames' max
        logits) and ``(batch, top_paths)`` log-probabilities for beam search.

    Example:

    >>> x = np.log(np.array([[[.1, .9], [.1, .9], [.9, .1]]], "float32"))
    >>> ops.ctc_decode(x, [3])[0].numpy()
    array([[[ 1, -1, -1]]], dtype=int32)
    """
    z, be, zn = _host_logits("ctc_decode", inputs, "inputs", np.float32)
    lens = _host_ints("ctc_decode", sequence_lengths, "sequence_lengths").reshape(-1)
    bsz, tmax, ncls = zn.shape
    if lens.shape[0] != bsz:
        raise ValueError(f"ctc_decode: sequence_lengths must have shape ({bsz},), got "
                         f"{lens.shape}")
    # None: the last class, as TensorFlow's decoders
    blank = ncls - 1 if mask_index is None else mask_index % ncls
    if strategy == "greedy":
        decoded = np.full((1, bsz, tmax), -1, dtype=np.int32)
        scores = np.zeros((bsz, 1), dtype=np.float32)
        for b in range(bsz):
            n = int(min(max(lens[b], 0), tmax))
            best = zn[b, :n].argmax(axis=-1)
            scores[b, 0] = -zn[b, np.arange(n), best].sum(dtype=np.float64)
            out, prev = [], -1
            for k in best.tolist():
                if k != blank and not (merge_repeated and k == prev):
                    out.append(k)
                prev = k
            decoded[0, b, :len(out)] = out
        return Tensor(be.xp.asarray(decoded)), Tensor(be.xp.asarray(scores))
    if strategy == "beam_search":
        if top_paths < 1 or top_paths > beam_width:
            raise ValueError(f"ctc_decode: top_paths must be in [1, beam_width={beam_width}], "
                             f"got {top_paths}")
        logp = _log_softmax(zn.astype(np.float64))
        decoded = np.full((top_paths, bsz, tmax), -1, dtype=np.int32)
        scores = np.full((bsz, top_paths), _NEG_INF, dtype=np.float32)
        import gc
        gc_was_on = gc.isenabled()
        gc.disable()  # the trie's parent/child cycles make the collector run often, for nothing
        try:
            results = [_prefix_beam_search(logp[b, :int(min(max(lens[b], 0), tmax))], blank,
                                           beam_width) for b in range(bsz)]
        finally:
            if gc_was_on:
                gc.enable()
        for b in range(bsz):
            beams = results[b]
            for p, (seq, score) in enumerate(beams[:top_paths]):
                decoded[p, b, :len(seq)] = seq
                scores[b, p] = score
        return Tensor(be.xp.asarray(decoded)), Tensor(be.xp.asarray(scores))
    raise ValueError(f"ctc_decode: invalid strategy {strategy!r}; expected 'greedy' or "
                     "'beam_search'")


class _Beam:
    """A label prefix in the beam-search trie, with its log-probabilities at the previous and
    the current frame: ``[ends in blank, ends in a label, total]``."""

    __slots__ = ("parent", "label", "children", "old", "new")

    def __init__(self, parent, label):
        self.parent = parent
        self.label = label
        self.children = {}
        self.old = [_NEG_INF] * 3
        self.new = [_NEG_INF] * 3

    def active(self) -> bool:
        return self.new[2] != _NEG_INF

    def child(self, label):
        c = self.children.get(label)
        if c is None:
            c = self.children[label] = _Beam(self, label)
        return c

    def labels(self):
        out, e = [], self
        while e.parent is not None:
            out.append(e.label)
            e = e.parent
        return out[::-1]


def _prefix_beam_search(logp, blank, beam_width):
    """CTC prefix beam search over ``(T, C)`` log-probabilities, step for step as TensorFlow's
    ``CTCBeamSearchDecoder`` (default scorer): beams are updated in place, then extended in
    order of their previous probability, labels in index order; a new prefix enters only if it
    beats the weakest beam, which it evicts. Returns ``[(labels, log_probability)]``, best
    first.

    The weakest beam is kept on a heap, and the extensions that cannot beat the weakest beam at
    the start of a step are dropped up front (that bound only rises during the step), so only
    promising (beam, label) pairs reach the Python loop."""
    import heapq
    import math

    def lae(a: float, b: float) -> float:
        if a == _NEG_INF:
            return b
        if b == _NEG_INF:
            return a
        return max(a, b) + math.log1p(math.exp(-abs(a - b)))

    root = _Beam(None, -1)
    root.new = [0.0, _NEG_INF, 0.0]
    leaves = {id(root): root}
    ncls = logp.shape[1]
    not_blank = np.arange(ncls) != blank

    for t in range(logp.shape[0]):
        lp_row = logp[t]
        lp = lp_row.tolist()
        branches = sorted(leaves.values(), key=lambda e: -e.new[2])
        leaves = {}
        for b in branches:
            b.old = list(b.new)
        for b in branches:
            if b.parent is not None:
                if b.parent.active():
                    prev = b.parent.old[0] if b.label == b.parent.label else b.parent.old[2]
                    b.new[1] = lae(b.new[1], prev)
                b.new[1] += lp[b.label]
            b.new[0] = b.old[2] + lp[blank]
            b.new[2] = lae(b.new[0], b.new[1])
            leaves[id(b)] = b
        heap = [(e.new[2], id(e)) for e in leaves.values()]
        heapq.heapify(heap)

        def bottom() -> float:
            # drop entries of beams evicted since (or evicted and re-entered with a new score)
            while True:
                score, key = heap[0]
                e = leaves.get(key)
                if e is not None and e.new[2] == score:
                    return score
                heapq.heappop(heap)

        def candidate(total: float) -> bool:
            return total > _NEG_INF and (len(leaves) < beam_width or total > bottom())

        # every extension's score, and the bound it must beat (the weakest beam now)
        olds = np.array([b.old[2] for b in branches])
        ext = olds[:, None] + lp_row[None, :]
        for i, b in enumerate(branches):
            if b.label >= 0:
                ext[i, b.label] = b.old[0] + lp[b.label]
        ext[:, ~not_blank] = _NEG_INF
        pending = {id(b) for b in branches}
        for i, b in enumerate(branches):
            pending.discard(id(b))
            if not candidate(b.old[2]):
                continue
            # the weakest beam only gets stronger during the step: an extension that cannot
            # beat it now never will. The children that are themselves branches still to come
            # are visited anyway: a rejected one has its old probability reset (as TF does),
            # which keeps it from extending later in this step.
            bound = bottom() if len(leaves) >= beam_width else _NEG_INF
            row = ext[i]
            ks = set(np.flatnonzero(row > bound).tolist())
            ks.update(k for k, c in b.children.items() if id(c) in pending)
            row = row.tolist()
            for k in sorted(ks):
                c = b.child(k)
                if c.active():
                    continue
                score = row[k]
                if candidate(score):
                    if len(leaves) == beam_width:
                        bottom()  # drops stale heap entries
                        worst = leaves.pop(heapq.heappop(heap)[1])
                        worst.new = [_NEG_INF] * 3
                    c.new = [_NEG_INF, score, score]
                    leaves[id(c)] = c
                    heapq.heappush(heap, (score, id(c)))
                else:
                    c.old = [_NEG_INF] * 3
                    c.new = [_NEG_INF] * 3
    ranked = sorted(leaves.values(), key=lambda e: -e.new[2])
    return [(e.labels(), float(e.new[2])) for e in ranked]
