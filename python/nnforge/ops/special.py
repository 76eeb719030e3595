"""Special functions and safe division of ``keras.ops``: ``erfc``, ``erfinv``,
``divide_no_nan``. The error functions are computed on the host in float64 (CPython's
``math.erfc``, and for ``erfinv`` Giles' single-precision approximation refined by Newton steps on
``math.erf``), then cast back; their gradients are closed forms."""
from __future__ import annotations

import math as _m

import numpy as np

from nnforge import backend

from ._npcommon import binary, unary_float
from ._util import erf_host

_TWO_OVER_SQRT_PI = 2.0 / _m.sqrt(_m.pi)

_erfc = np.vectorize(_m.erfc, otypes=[np.float64])


def _on_host(xp, a, fn):
    """``fn`` of ``a`` computed in float64 on the host, returned on ``a``'s device."""
    host = backend.to_numpy(a).astype(np.float64)
    return xp.asarray(fn(host) if host.size else host)


def _erfinv_host(y: np.ndarray) -> np.ndarray:
    """Inverse error function: Giles (2010) single-precision approximation, then two Newton
    steps on erf in float64; +-inf at +-1, NaN outside [-1, 1]."""
    out = np.full(y.shape, np.nan)
    inside = np.abs(y) < 1
    t = y[inside]
    w = -np.log((1.0 - t) * (1.0 + t))
    small = w < 5.0
    ws = w - 2.5
    p_small = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                          0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                          1.50140941], ws)
    wl = np.sqrt(np.maximum(w, 5.0)) - 3.0
    p_large = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                          0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                          2.83297682], wl)
    x = np.where(small, p_small, p_large) * t
    for _ in range(2):
        x = x - (erf_host(x) - t) / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
    out[inside] = x
    out[y == 1] = np.inf
    out[y == -1] = -np.inf
    return out


erfc = unary_float(
    "erfc", "Element-wise complementary error function ``1 - erf(x)``, accurate for large x",
    lambda xp, a: _on_host(xp, a, _erfc),
    lambda xp, a, y: -_TWO_OVER_SQRT_PI * xp.exp(-a * a), "ops.erfc([0.0, 3.0])")

erfinv = unary_float(
    "erfinv", "Element-wise inverse error function (NaN outside [-1, 1])",
    lambda xp, a: _on_host(xp, a, _erfinv_host),
    lambda xp, a, y: (_m.sqrt(_m.pi) / 2.0) * xp.exp(y * y), "ops.erfinv([0.0, 0.5])")


def _no_nan(xp, a, b, value):
    return xp.where(b == 0, xp.zeros_like(value), value)


divide_no_nan = binary(
    "divide_no_nan", "Element-wise ``x1 / x2``, and 0 wherever ``x2`` is 0",
    lambda xp, a, b: _no_nan(xp, a, b, a / xp.where(b == 0, xp.ones_like(b), b)),
    lambda xp, a, b, y: _no_nan(xp, a, b, 1.0 / xp.where(b == 0, xp.ones_like(b), b)),
    lambda xp, a, b, y: _no_nan(xp, a, b, -y / xp.where(b == 0, xp.ones_like(b), b)),
    example="ops.divide_no_nan([1.0, 2.0], [0.0, 4.0])")

__all__ = ["divide_no_nan", "erfc", "erfinv"]
