"""NumPy-style element-wise math of ``keras.ops`` (trigonometric, exponential, rounding,
bit-wise, logical and comparison functions), with Keras's dtype rules and gradients where
Keras's have them. Computed with the array module of the backend owning the data."""
from __future__ import annotations

import math as _m

import numpy as np

from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._dtypes import float_type, float_type64, kind_of, result_type, strong
from ._npcommon import _doc, _ARG_X, arr, binary, unary_float, xp_of
from ._util import same_backend, unbroadcast

_LN2 = _m.log(2.0)
_LN10 = _m.log(10.0)

arccos = unary_float("arccos", "Element-wise inverse cosine", lambda xp, a: xp.arccos(a),
                     lambda xp, a, y: -1.0 / xp.sqrt(1.0 - a * a), "ops.arccos([1.0, -1.0])")
arccosh = unary_float("arccosh", "Element-wise inverse hyperbolic cosine",
                      lambda xp, a: xp.arccosh(a),
                      lambda xp, a, y: 1.0 / xp.sqrt(a * a - 1.0), "ops.arccosh([1.0, 2.0])")
arcsin = unary_float("arcsin", "Element-wise inverse sine", lambda xp, a: xp.arcsin(a),
                     lambda xp, a, y: 1.0 / xp.sqrt(1.0 - a * a), "ops.arcsin([1.0, 0.5])")
arcsinh = unary_float("arcsinh", "Element-wise inverse hyperbolic sine",
                      lambda xp, a: xp.arcsinh(a),
                      lambda xp, a, y: 1.0 / xp.sqrt(a * a + 1.0), "ops.arcsinh([1.0, 0.5])")
arctan = unary_float("arctan", "Element-wise inverse tangent", lambda xp, a: xp.arctan(a),
                     lambda xp, a, y: 1.0 / (1.0 + a * a), "ops.arctan([1.0, 0.5])")
arctanh = unary_float("arctanh", "Element-wise inverse hyperbolic tangent",
                      lambda xp, a: xp.arctanh(a),
                      lambda xp, a, y: 1.0 / (1.0 - a * a), "ops.arctanh([0.5, 0.0])")
cosh = unary_float("cosh", "Element-wise hyperbolic cosine", lambda xp, a: xp.cosh(a),
                   lambda xp, a, y: xp.sinh(a), "ops.cosh([0.0, 1.0])")
sinh = unary_float("sinh", "Element-wise hyperbolic sine", lambda xp, a: xp.sinh(a),
                   lambda xp, a, y: xp.cosh(a), "ops.sinh([0.0, 1.0])")
tan = unary_float("tan", "Element-wise tangent", lambda xp, a: xp.tan(a),
                  lambda xp, a, y: 1.0 + y * y, "ops.tan([0.0, 1.0])")
cbrt = unary_float("cbrt", "Element-wise cube root", lambda xp, a: xp.cbrt(a),
                   lambda xp, a, y: 1.0 / (3.0 * y * y), "ops.cbrt([8.0, -27.0])",
                   dtype_rule=float_type64)
exp2 = unary_float("exp2", "Element-wise ``2 ** x``", lambda xp, a: xp.exp2(a),
                   lambda xp, a, y: y * _LN2, "ops.exp2([3.0])")
expm1 = unary_float("expm1", "Element-wise ``exp(x) - 1``, accurate near zero",
                    lambda xp, a: xp.expm1(a), lambda xp, a, y: y + 1.0, "ops.expm1([1e-6])")
log10 = unary_float("log10", "Element-wise base-10 logarithm", lambda xp, a: xp.log10(a),
                    lambda xp, a, y: 1.0 / (a * _LN10), "ops.log10([100.0])")
log2 = unary_float("log2", "Element-wise base-2 logarithm", lambda xp, a: xp.log2(a),
                   lambda xp, a, y: 1.0 / (a * _LN2), "ops.log2([8.0])")
rsqrt = unary_float("rsqrt", "Element-wise ``1 / sqrt(x)``", lambda xp, a: 1.0 / xp.sqrt(a),
                    lambda xp, a, y: -0.5 * y * y * y, "ops.rsqrt([4.0])")
sinc = unary_float("sinc", "Element-wise normalized sinc ``sin(pi x) / (pi x)``",
                   lambda xp, a: xp.sinc(a),
                   lambda xp, a, y: xp.where(a == 0, 0.0, (xp.cos(np.pi * a) - y)
                                             / xp.where(a == 0, 1.0, a)),
                   "ops.sinc([0.0, 0.5])")
i0 = unary_float("i0", "Element-wise modified Bessel function of the first kind, order 0",
                 lambda xp, a: xp.i0(a) if xp is np else _i0_series(xp, a),
                 lambda xp, a, y: _i1(xp, a), "ops.i0([0.0, 1.0])", dtype_rule=float_type64)


def _i0_series(xp, a):
    a = a.astype(np.float64)
    t = (a / 2.0) ** 2
    term = xp.ones_like(a)
    out = xp.ones_like(a)
    for k in range(1, 60):
        term = term * t / (k * k)
        out = out + term
    return out


def _i1(xp, a):
    a64 = a.astype(np.float64)
    t = (a64 / 2.0) ** 2
    term = a64 / 2.0
    out = term.copy()
    for k in range(1, 60):
        term = term * t / (k * (k + 1))
        out = out + term
    return out.astype(a.dtype)


def _rad_type(x):
    dt = kind_of(x)[0]
    return "float64" if dt == "int64" else float_type(x)


deg2rad = unary_float("deg2rad", "Degrees to radians", lambda xp, a: a * (np.pi / 180.0),
                      lambda xp, a, y: np.pi / 180.0, "ops.deg2rad([180.0])",
                      dtype_rule=_rad_type)
rad2deg = unary_float("rad2deg", "Radians to degrees", lambda xp, a: a * (180.0 / np.pi),
                      lambda xp, a, y: 180.0 / np.pi, "ops.rad2deg([3.14159265])",
                      dtype_rule=_rad_type)


def _same_type(x):
    return kind_of(x)[0]


ceil = unary_float("ceil", "Element-wise ceiling", lambda xp, a: xp.ceil(a), None,
                   "ops.ceil([1.2, -1.2])", dtype_rule=float_type)
trunc = unary_float("trunc", "Element-wise rounding toward zero", lambda xp, a: xp.trunc(a), None,
                    "ops.trunc([1.7, -1.7])", dtype_rule=_same_type)
fabs = unary_float("fabs", "Element-wise absolute value as floats", lambda xp, a: xp.abs(a),
                   lambda xp, a, y: xp.sign(a), "ops.fabs([-1.5, 2])", dtype_rule=float_type)
reciprocal = unary_float("reciprocal", "Element-wise ``1 / x``", lambda xp, a: 1.0 / a,
                         lambda xp, a, y: -y * y, "ops.reciprocal([2.0, 4.0])")


def signbit(x) -> Tensor:
    """Whether the sign bit of each element is set (``keras.ops.signbit``).

    Args:
        x: input tensor.

    Returns:
        A bool Tensor (True for negative numbers and -0.0).

    Example:

    >>> ops.signbit([-1.0, 0.0, -0.0]).numpy()
    array([ True, False,  True])
    """
    a = arr(x, "signbit")
    return Tensor(xp_of(a).signbit(a) if a.dtype.kind != "b" else xp_of(a).zeros(a.shape, bool))


# ---- binary float functions --------------------------------------------------------------------

def _mod_type(x1, x2):
    dt = result_type(x1, x2)
    return "int32" if dt == "bool" else dt


def _float_type64_2(x1, x2):
    """Keras's hypot/heaviside rule: int64 operands give float64, other ints float32."""
    dt = result_type(x1, x2)
    return "float64" if dt == "int64" else dt if dt.startswith("float") else "float32"


arctan2 = binary("arctan2", "Element-wise ``arctan(x1 / x2)`` choosing the quadrant",
                 lambda xp, a, b: xp.arctan2(a, b),
                 lambda xp, a, b, y: b / (a * a + b * b),
                 lambda xp, a, b, y: -a / (a * a + b * b), "ops.arctan2([1.0], [-1.0])")
hypot = binary("hypot", "Element-wise ``sqrt(x1**2 + x2**2)``", lambda xp, a, b: xp.hypot(a, b),
               lambda xp, a, b, y: a / y, lambda xp, a, b, y: b / y, "ops.hypot([3.0], [4.0])",
               dtype_rule=_float_type64_2)
logaddexp = binary("logaddexp", "Element-wise ``log(exp(x1) + exp(x2))``",
                   lambda xp, a, b: xp.logaddexp(a, b),
                   lambda xp, a, b, y: xp.exp(a - y), lambda xp, a, b, y: xp.exp(b - y),
                   "ops.logaddexp([0.0], [0.0])")
logaddexp2 = binary("logaddexp2", "Element-wise ``log2(2**x1 + 2**x2)``",
                    lambda xp, a, b: xp.logaddexp2(a, b),
                    lambda xp, a, b, y: xp.exp2(a - y), lambda xp, a, b, y: xp.exp2(b - y),
                    "ops.logaddexp2([1.0], [1.0])")


def _fminmax(name, fn, cmp):
    def g1(xp, a, b, y):
        return (cmp(a, b) | xp.isnan(b)) & ~xp.isnan(a)

    def g2(xp, a, b, y):
        return ~g1(xp, a, b, y)

    return binary(name, f"Element-wise {name[1:]}imum ignoring NaNs", fn, g1, g2,
                  f"ops.{name}([1.0, np.nan], [2.0, 0.5])", floating=False, weak=True)


fmax = _fminmax("fmax", lambda xp, a, b: xp.fmax(a, b), lambda a, b: a >= b)
fmin = _fminmax("fmin", lambda xp, a, b: xp.fmin(a, b), lambda a, b: a <= b)
fmod = binary("fmod", "Element-wise remainder of division, with the sign of ``x1``",
              lambda xp, a, b: xp.fmod(a, b), lambda xp, a, b, y: 1.0,
              lambda xp, a, b, y: -xp.trunc(a / b), "ops.fmod([-3.0, 3.0], [2.0, 2.0])",
              dtype_rule=_mod_type)
mod = binary("mod", "Element-wise remainder of division, with the sign of ``x2``",
             lambda xp, a, b: xp.mod(a, b), lambda xp, a, b, y: 1.0,
             lambda xp, a, b, y: -xp.floor(a / b), "ops.mod([-3.0, 3.0], [2.0, 2.0])",
             dtype_rule=_mod_type)
floor_divide = binary("floor_divide", "Element-wise floor of ``x1 / x2``",
                      lambda xp, a, b: xp.floor_divide(a, b), None, None,
                      "ops.floor_divide([7, -7], [2, 2])", floating=False, weak=True)
nextafter = binary("nextafter", "The next representable float after ``x1`` toward ``x2``",
                   lambda xp, a, b: xp.nextafter(a, b), None, None,
                   "ops.nextafter([1.0], [2.0])")
heaviside = binary("heaviside", "The Heaviside step function: 0 below zero, ``x2`` at zero, "
                   "1 above", lambda xp, a, b: xp.where(a > 0, 1, xp.where(a == 0, b, 0)),
                   None, lambda xp, a, b, y: (a == 0), "ops.heaviside([-1.0, 0.0, 2.0], 0.5)",
                   dtype_rule=_float_type64_2)


def _ldexp_fwd(xp, a, b):
    return a * xp.exp2(b.astype(a.dtype))


def ldexp(x1, x2) -> Tensor:
    """``x1 * 2 ** x2`` element-wise (``keras.ops.ldexp``); ``x2`` must be integer.

    Args:
        x1: mantissas (float).
        x2: integer exponents, broadcast against ``x1``.

    Returns:
        A Tensor of ``x1``'s float dtype.

    Example:

    >>> ops.ldexp([1.5], [3]).numpy()
    array([12.], dtype=float32)
    """
    if kind_of(x2)[0].startswith("float"):
        raise TypeError(f"ldexp: argument 'x2' must be integer, got dtype {kind_of(x2)[0]}")
    dt = float_type(x1)
    a = arr(x1, "ldexp", "x1", dt)
    b = arr(x2, "ldexp", "x2")
    a, b = same_backend(a, b)
    xp = xp_of(a)
    scale = xp.exp2(b.astype(dt))
    y = (a * scale).astype(dt, copy=False)
    return record(y, (x1, x2), lambda g, n: (unbroadcast(g * scale, a.shape), None))


# ---- integer / bit-wise functions --------------------------------------------------------------

def _intop(name, what, fn, example, weak=False):
    def op(x, y) -> Tensor:
        dt = result_type(x, y) if weak else result_type(strong(x), strong(y))
        if dt[0] not in "biu":
            raise TypeError(f"{name}: arguments must be integers or bools, got dtypes "
                            f"{kind_of(x)[0]} and {kind_of(y)[0]}")
        a = arr(x, name, "x", dt)
        b = arr(y, name, "y", dt)
        a, b = same_backend(a, b)
        return Tensor(xp_of(a).asarray(fn(xp_of(a), a, b)).astype(dt, copy=False))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _doc(name, what, "        x: first integer input.\n        y: second integer "
                      "input, broadcast against ``x``.", example)
    return op


bitwise_and = _intop("bitwise_and", "Element-wise bit-wise AND",
                     lambda xp, a, b: xp.bitwise_and(a, b), "ops.bitwise_and([12], [10])")
bitwise_or = _intop("bitwise_or", "Element-wise bit-wise OR",
                    lambda xp, a, b: xp.bitwise_or(a, b), "ops.bitwise_or([12], [10])")
bitwise_xor = _intop("bitwise_xor", "Element-wise bit-wise XOR",
                     lambda xp, a, b: xp.bitwise_xor(a, b), "ops.bitwise_xor([12], [10])")
bitwise_left_shift = _intop("bitwise_left_shift", "Element-wise ``x << y``",
                            lambda xp, a, b: xp.left_shift(a, b),
                            "ops.bitwise_left_shift([1], [3])", weak=True)
bitwise_right_shift = _intop("bitwise_right_shift", "Element-wise ``x >> y``",
                             lambda xp, a, b: xp.right_shift(a, b),
                             "ops.bitwise_right_shift([16], [2])", weak=True)
left_shift = _intop("left_shift", "Element-wise ``x << y``", lambda xp, a, b: xp.left_shift(a, b),
                    "ops.left_shift([1], [3])", weak=True)
right_shift = _intop("right_shift", "Element-wise ``x >> y``",
                     lambda xp, a, b: xp.right_shift(a, b), "ops.right_shift([16], [2])",
                     weak=True)


def _gcd_lcm(name, fn, what):
    def op(x1, x2) -> Tensor:
        dt = result_type(strong(x1), strong(x2))
        if dt[0] not in "iu":
            raise TypeError(f"{name}: arguments must be integers, got dtypes "
                            f"{kind_of(x1)[0]} and {kind_of(x2)[0]}")
        a = arr(x1, name, "x1", dt)
        b = arr(x2, name, "x2", dt)
        a, b = same_backend(a, b)
        return Tensor(fn(xp_of(a), a, b).astype(dt, copy=False))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _doc(name, what, "        x1: first integer input.\n        x2: second integer "
                      "input, broadcast against ``x1``.", f"ops.{name}([12, 18], [8, 12])")
    return op


gcd = _gcd_lcm("gcd", lambda xp, a, b: xp.gcd(a, b), "Element-wise greatest common divisor")
lcm = _gcd_lcm("lcm", lambda xp, a, b: xp.lcm(a, b), "Element-wise least common multiple")


def bitwise_invert(x) -> Tensor:
    """Element-wise bit-wise NOT (``keras.ops.bitwise_invert``).

    Args:
        x: integer or bool input.

    Returns:
        A Tensor of ``x``'s dtype.

    Example:

    >>> ops.bitwise_invert(np.array([0], 'int32')).numpy()
    array([-1], dtype=int32)
    """
    a = arr(x, "bitwise_invert", "x", kind_of(x)[0])
    if a.dtype.kind not in "biu":
        raise TypeError(f"bitwise_invert: argument 'x' must be integer or bool, got {a.dtype}")
    return Tensor(xp_of(a).invert(a))


def bitwise_not(x) -> Tensor:
    """Element-wise bit-wise NOT (``keras.ops.bitwise_not``, same as ``bitwise_invert``).

    Args:
        x: integer or bool input.

    Returns:
        A Tensor of ``x``'s dtype.

    Example:

    >>> ops.bitwise_not(np.array([0], 'int32')).numpy()
    array([-1], dtype=int32)
    """
    return bitwise_invert(x)


# ---- logical and comparison --------------------------------------------------------------------

def _logical(name, fn):
    def op(x1, x2) -> Tensor:
        a = arr(x1, name, "x1")
        b = arr(x2, name, "x2")
        a, b = same_backend(a, b)
        return Tensor(xp_of(a).asarray(fn(xp_of(a), a.astype(bool), b.astype(bool))))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _doc(name, f"Element-wise logical {name.split('_')[1].upper()} (nonzero is True)",
                      _ARG_X.replace("x:", "x1:") + "\n        x2: second input.",
                      f"ops.{name}([True, False], [True, True])")
    return op


logical_and = _logical("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_or = _logical("logical_or", lambda xp, a, b: xp.logical_or(a, b))
logical_xor = _logical("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))


def logical_not(x) -> Tensor:
    """Element-wise logical NOT (``keras.ops.logical_not``).

    Args:
        x: input tensor (nonzero is True).

    Returns:
        A bool Tensor.

    Example:

    >>> ops.logical_not([True, False]).numpy()
    array([False,  True])
    """
    a = arr(x, "logical_not")
    return Tensor(xp_of(a).logical_not(a))


def _isclose_args(x1, x2, name):
    dt = result_type(x1, x2)
    a = arr(x1, name, "x1", dt)
    b = arr(x2, name, "x2", dt)
    return same_backend(a, b)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    """Element-wise ``|x1 - x2| <= atol + rtol * |x2|`` (``keras.ops.isclose``).

    Args:
        x1: first input tensor.
        x2: second input tensor.
        rtol: relative tolerance.
        atol: absolute tolerance.
        equal_nan: whether NaNs compare equal.

    Returns:
        A bool Tensor.

    Example:

    >>> ops.isclose([1.0, 2.0], [1.0 + 1e-7, 2.1]).numpy()
    array([ True, False])
    """
    a, b = _isclose_args(x1, x2, "isclose")
    return Tensor(xp_of(a).isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    """Whether all elements are close (``keras.ops.allclose``; see ``isclose``).

    Args:
        x1: first input tensor.
        x2: second input tensor.
        rtol: relative tolerance.
        atol: absolute tolerance.
        equal_nan: whether NaNs compare equal.

    Returns:
        A scalar bool Tensor.

    Example:

    >>> bool(ops.allclose([1.0, 2.0], [1.0, 2.0]))
    True
    """
    a, b = _isclose_args(x1, x2, "allclose")
    return Tensor(xp_of(a).asarray(xp_of(a).allclose(a, b, rtol=rtol, atol=atol,
                                                     equal_nan=equal_nan)))


def _isinf_like(name, fn, what):
    def op(x) -> Tensor:
        a = arr(x, name)
        xp = xp_of(a)
        if a.dtype.kind not in "fc":
            return Tensor(xp.zeros(a.shape, bool))
        return Tensor(fn(xp, a))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _doc(name, what, _ARG_X, f"ops.{name}([np.inf, -np.inf, 1.0])")
    return op


isinf = _isinf_like("isinf", lambda xp, a: xp.isinf(a), "Element-wise test for +/- infinity")
isneginf = _isinf_like("isneginf", lambda xp, a: xp.isneginf(a),
                       "Element-wise test for negative infinity")
isposinf = _isinf_like("isposinf", lambda xp, a: xp.isposinf(a),
                       "Element-wise test for positive infinity")


def isreal(x) -> Tensor:
    """Element-wise test for a zero imaginary part (``keras.ops.isreal``).

    Args:
        x: input tensor (real or complex).

    Returns:
        A bool Tensor.

    Example:

    >>> ops.isreal(np.array([1 + 1j, 2 + 0j])).numpy()
    array([False,  True])
    """
    a = arr(x, "isreal")
    return Tensor(xp_of(a).isreal(a))


def isin(x1, x2, assume_unique=False, invert=False) -> Tensor:
    """Whether each element of ``x1`` is in ``x2`` (``keras.ops.isin``).

    Args:
        x1: input tensor.
        x2: the values to look for (any shape).
        assume_unique: whether both inputs are known to hold unique values.
        invert: return the opposite (not in ``x2``).

    Returns:
        A bool Tensor of ``x1``'s shape.

    Example:

    >>> ops.isin([1, 2, 3], [2, 5]).numpy()
    array([False,  True, False])
    """
    a = arr(x1, "isin", "x1")
    b = arr(x2, "isin", "x2")
    a, b = same_backend(a, b)
    return Tensor(xp_of(a).isin(a, b, assume_unique=assume_unique, invert=invert))


__all__ = ["allclose", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
           "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
           "bitwise_right_shift", "bitwise_xor", "cbrt", "ceil", "cosh", "deg2rad", "exp2",
           "expm1", "fabs", "floor_divide", "fmax", "fmin", "fmod", "gcd", "heaviside", "hypot",
           "i0", "isclose", "isin", "isinf", "isneginf", "isposinf", "isreal", "lcm", "ldexp",
           "left_shift", "log10", "log2", "logaddexp", "logaddexp2", "logical_and", "logical_not",
           "logical_or", "logical_xor", "mod", "nextafter", "rad2deg", "reciprocal",
           "right_shift", "rsqrt", "signbit", "sinc", "sinh", "tan", "trunc"]
