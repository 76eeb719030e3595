"""Scaled dot-product attention (``keras.ops.dot_product_attention``) with its gradient.

Shapes: query ``(B, T, N, H)``, key/value ``(B, S, K, H)`` with ``N % K == 0`` (K < N is
grouped-query attention). The forward is two batched GEMMs around our fused softmax kernel:
``logits = scale * Q K^T (+ bias)``, masked positions set to a large negative number,
``P = softmax(logits)``, ``out = P V``; the backward is the matching four GEMMs and the softmax
kernel's backward."""
from __future__ import annotations

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._util import data_of, float_data, unbroadcast


def _large_negative(dtype) -> float:
    return -0.7 * float(np.finfo(dtype).max)


def _combined_mask(xp, mask, is_causal: bool, t: int, s: int):
    """A boolean mask broadcastable to (B, N, T, S) (True = attend), or None."""
    combined = None
    if mask is not None:
        combined = mask if mask.dtype == np.bool_ else mask.astype(bool)
    if is_causal:
        causal = xp.tril(xp.ones((t, s), dtype=bool))[None, None]
        combined = causal if combined is None else xp.logical_and(combined, causal)
    return combined


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal: bool = False, flash_attention=None,
                          attn_logits_soft_cap=None) -> Tensor:
    """Scaled dot-product attention: ``softmax(Q K^T * scale + bias) V`` per head.

    Args:
        query: ``(B, T, N, H)``.
        key: ``(B, S, K, H)``; ``K == N`` is multi-head attention, ``N % K == 0`` grouped-query
            attention (each key/value head serves ``N // K`` query heads).
        value: same shape as ``key``.
        bias: optional additive bias broadcastable to ``(B, N, T, S)``.
        mask: optional boolean mask broadcastable to ``(B, N, T, S)``, True where a query may
            attend.
        scale: the logits' scale; None means ``1 / sqrt(H)``.
        is_causal: also mask the future (query ``t`` attends keys ``s <= t``).
        flash_attention: None or False (nnforge has no flash-attention kernel; True raises).
        attn_logits_soft_cap: must be None (Keras supports it only on JAX/TPU).

    Returns:
        A Tensor of the query's shape.

    Example:

    >>> q = np.random.rand(2, 4, 8, 16).astype("float32")
    >>> k = np.random.rand(2, 6, 8, 16).astype("float32")
    >>> ops.dot_product_attention(q, k, k).shape
    (2, 4, 8, 16)
    """
    if attn_logits_soft_cap is not None:
        raise ValueError("attn_logits_soft_cap is only supported for JAX on TPU. "
                         "Set attn_logits_soft_cap=None when not using JAX on TPU.")
    if flash_attention:
        raise ValueError("dot_product_attention: flash attention is not supported by nnforge; "
                         "pass flash_attention=None or False")
    q = float_data(query, "dot_product_attention", "query")
    k = float_data(key, "dot_product_attention", "key", like=q)
    v = float_data(value, "dot_product_attention", "value", like=q)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError("`dot_product_attention` only supports 4D inputs. "
                         f"Received: query.shape={tuple(q.shape)}, key.shape={tuple(k.shape)}, "
                         f"value.shape={tuple(v.shape)}.")
    b, t, n, h = q.shape
    kb, s, nk, kh = k.shape
    if kh != h or v.shape[:3] != k.shape[:3] or kb != b or n % nk:
        raise ValueError(f"dot_product_attention: incompatible shapes query {tuple(q.shape)}, "
                         f"key {tuple(k.shape)}, value {tuple(v.shape)} (expected (B, T, N, H), "
                         "(B, S, K, H), (B, S, K, Hv) with N a multiple of K)")
    be = backend.of(q)
    xp = be.xp
    groups = n // nk
    scale = float(1.0 / np.sqrt(h)) if scale is None else float(scale)
    qt = xp.ascontiguousarray(q.transpose(0, 2, 1, 3))                    # (B, N, T, H)
    kt = k.transpose(0, 2, 1, 3)                                           # (B, K, S, H)
    vt = v.transpose(0, 2, 1, 3)
    if groups > 1:
        kt = xp.repeat(kt, groups, axis=1)
        vt = xp.repeat(vt, groups, axis=1)
    kt = xp.ascontiguousarray(kt)
    vt = xp.ascontiguousarray(vt)
    logits = xp.matmul(qt, kt.transpose(0, 1, 3, 2))                      # (B, N, T, S)
    logits *= np.float32(scale)
    bias_a = None
    if bias is not None:
        bias_a = float_data(bias, "dot_product_attention", "bias", like=q)
        logits += bias_a
    mask_a = None if mask is None else be.xp.asarray(data_of(mask, "dot_product_attention", "mask"))
    keep = _combined_mask(xp, mask_a, is_causal, t, s)
    if keep is not None:
        logits = xp.where(keep, logits, np.float32(_large_negative(np.float32)))
    probs = be.softmax(xp.ascontiguousarray(logits, dtype=np.float32))
    out_t = xp.matmul(probs, vt)                                            # (B, N, T, Hv)
    out = xp.ascontiguousarray(out_t.transpose(0, 2, 1, 3))

    def backward(g, needs):
        gt = xp.ascontiguousarray(g.transpose(0, 2, 1, 3))                # (B, N, T, Hv)
        gq = gk = gv = gb = None
        if needs[2]:
            gvt = xp.matmul(probs.transpose(0, 1, 3, 2), gt)             # (B, N, S, Hv)
            if groups > 1:
                gvt = gvt.reshape(b, nk, groups, s, -1).sum(axis=2)
            gv = xp.ascontiguousarray(gvt.transpose(0, 2, 1, 3))
        if needs[0] or needs[1] or needs[3]:
            gp = xp.matmul(gt, vt.transpose(0, 1, 3, 2))                  # (B, N, T, S)
            gl = be.softmax_grad(probs, xp.ascontiguousarray(gp, dtype=np.float32))
            if keep is not None:
                gl = xp.where(keep, gl, np.float32(0))
            if needs[3]:
                gb = unbroadcast(gl, bias_a.shape)
            gl *= np.float32(scale)
            if needs[0]:
                gq = xp.ascontiguousarray(xp.matmul(gl, kt).transpose(0, 2, 1, 3))
            if needs[1]:
                gkt = xp.matmul(gl.transpose(0, 1, 3, 2), qt)            # (B, N, S, H)
                if groups > 1:
                    gkt = gkt.reshape(b, nk, groups, s, h).sum(axis=2)
                gk = xp.ascontiguousarray(gkt.transpose(0, 2, 1, 3))
        return gq, gk, gv, gb

    return record(out, (query, key, value, bias), backward)
