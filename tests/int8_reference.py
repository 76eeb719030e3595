"""Plain NumPy references of the backend's int8 functions (the interface the int8 kernels
implement: ``quantize_rows_int8``, ``int8_pack_weights``, ``int8_matmul_int32``,
``int8_dense``, ``int8_conv2d``), and a fixture that lends them to ``nnforge.backend.cpu``
where the compiled backend lacks one, so the Python side is tested before and after the
kernels land. Scales are multipliers: ``q = clip(round(x * scale), -127, 127)``."""
import numpy as np
import pytest

from nnforge.backend import cpu

_ACT = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}


def quantize_rows_int8(x):
    m = np.abs(x).max(axis=1)
    scale = np.where(m > 0, 127.0 / np.where(m > 0, m, 1), 1.0).astype(np.float32)
    q = np.clip(np.round(x * scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def int8_pack_weights(wq):
    return np.array(wq, dtype=np.int8, copy=True)


def int8_matmul_int32(xq, packed):
    return xq.astype(np.int32) @ packed.astype(np.int32)


def _quantize(x, x_scale):
    if x_scale is None:
        return quantize_rows_int8(x)
    q = np.clip(np.round(x * np.float32(x_scale)), -127, 127).astype(np.int8)
    return q, np.full((x.shape[0],), x_scale, np.float32)


def int8_dense(x, packed, w_scale, bias, activation, x_scale=None, out_scale=None):
    q, s = _quantize(x, x_scale)
    y = int8_matmul_int32(q, packed).astype(np.float32) / (s[:, None] * w_scale[None, :])
    if bias is not None:
        y = y + bias
    y = _ACT[activation](y).astype(np.float32)
    if out_scale is not None:
        return np.clip(np.round(y * out_scale), -127, 127).astype(np.int8)
    return y


def _pads(size, k, s, d, padding):
    eff = (k - 1) * d + 1
    if padding == "valid":
        return (size - eff) // s + 1, 0
    out = -(-size // s)
    return out, max((out - 1) * s + eff - size, 0) // 2


def int8_conv2d(x, packed, w_scale, bias, kernel_size, strides, padding, dilation_rate,
                activation, x_scale=None):
    n, h, w, c = x.shape
    kh, kw = kernel_size
    oh, pt = _pads(h, kh, strides[0], dilation_rate[0], padding)
    ow, pl = _pads(w, kw, strides[1], dilation_rate[1], padding)
    eh = (oh - 1) * strides[0] + (kh - 1) * dilation_rate[0] + 1
    ew = (ow - 1) * strides[1] + (kw - 1) * dilation_rate[1] + 1
    xp = np.zeros((n, max(h + pt, eh), max(w + pl, ew), c), np.float32)
    xp[:, pt:pt + h, pl:pl + w] = x
    cols = np.empty((n, oh, ow, kh, kw, c), np.float32)
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilation_rate[0], j * dilation_rate[1]
            cols[:, :, :, i, j] = xp[:, r0:r0 + (oh - 1) * strides[0] + 1:strides[0],
                                     c0:c0 + (ow - 1) * strides[1] + 1:strides[1]]
    y = int8_dense(cols.reshape(n * oh * ow, -1), packed, w_scale, bias, activation, x_scale)
    return y.reshape(n, oh, ow, -1)


REFERENCES = {f.__name__: f for f in (quantize_rows_int8, int8_pack_weights, int8_matmul_int32,
                                      int8_dense, int8_conv2d)}


@pytest.fixture
def int8_backend(monkeypatch):
    """The compiled int8 functions where the backend has them, these references elsewhere."""
    for name, fn in REFERENCES.items():
        if not hasattr(cpu, name):
            monkeypatch.setattr(cpu, name, fn, raising=False)
    yield cpu
