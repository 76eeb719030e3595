"""The fixed inputs and calls behind tests/golden/opsnp.npz (NumPy only, so both the generator,
run under Keras, and the tests, run under nnforge, import it).

Each case is ``(key, op name, args, kwargs, compare)``; ``compare`` is "" (values), "abs" (up
to sign: eigen/singular vectors) or "loose" (linear algebra: 1e-4 relative)."""
import numpy as np

_r = np.random.RandomState(0)
F = _r.randn(3, 4).astype("float32")
F2 = _r.randn(3, 4).astype("float32")
V = _r.randn(5).astype("float32")
V3 = _r.randn(4, 3).astype("float32")
W3 = _r.randn(4, 3).astype("float32")
U = _r.uniform(0.1, 0.9, (3, 4)).astype("float32")
G1 = (1.2 + _r.rand(3, 4)).astype("float32")
POS = (0.2 + 2 * _r.rand(3, 4)).astype("float32")
F64 = _r.randn(3, 4)
N = F.copy()
N[0, 1] = N[2, 3] = N[1, 0] = np.nan
NALL = N.copy()
NALL[:, 2] = np.nan
I = _r.randint(-6, 7, (3, 4)).astype("int32")
I2 = _r.randint(1, 5, (3, 4)).astype("int32")
IP = _r.randint(1, 30, (3, 4)).astype("int32")
I64 = _r.randint(-6, 7, (3, 4)).astype("int64")
B = _r.rand(3, 4) > 0.5
B2 = _r.rand(3, 4) > 0.5
U8 = _r.randint(0, 200, (3, 4)).astype("uint8")
SPECIAL = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.5, -2.5], "float32")
_A = _r.randn(3, 3)
SPD = (_A @ _A.T + 3 * np.eye(3)).astype("float32")
M3 = (_r.randn(3, 3) + 2 * np.eye(3)).astype("float32")
RHS = _r.randn(3, 2).astype("float32")
RHS1 = _r.randn(3).astype("float32")
TALL = _r.randn(5, 3).astype("float32")
BM = (_r.randn(2, 3, 3) + 2 * np.eye(3)).astype("float32")
SIG = np.sin(np.arange(40) * 0.37).astype("float32") + 0.1 * _r.randn(40).astype("float32")
IDX = np.array([0, 5, 7, 11], "int32")
X3 = _r.randn(2, 3, 4).astype("float32")

CASES = []


def case(key, name, *args, compare="", **kwargs):
    CASES.append((key, name, args, kwargs, compare))


for n in ["arccos", "arcsin", "arctanh"]:
    case(n, n, U)
    case(n + "_int", n, np.zeros((2, 2), "int32"))
for n in ["arcsinh", "arctan", "cbrt", "cosh", "sinh", "tan", "exp2", "expm1", "sinc", "i0",
          "deg2rad", "rad2deg", "ceil", "trunc", "fabs", "signbit", "isinf", "isneginf",
          "isposinf", "isreal", "logical_not", "copy", "ravel", "real", "imag", "conj",
          "conjugate", "angle", "nan_to_num", "fliplr", "flipud", "nonzero", "size", "ndim"]:
    case(n, n, F)
for n in ["cbrt", "exp2", "expm1", "deg2rad", "rad2deg", "ceil", "trunc", "fabs", "angle",
          "sinc", "i0", "reciprocal"]:
    case(n + "_int", n, I)
case("deg2rad_i64", "deg2rad", I64)
case("trunc_f64", "trunc", F64)
case("arccosh", "arccosh", G1)
for n in ["log10", "log2", "rsqrt", "reciprocal"]:
    case(n, n, POS)
for n in ["isinf", "isneginf", "isposinf", "signbit", "nan_to_num"]:
    case(n + "_special", n, SPECIAL)
case("nan_to_num_args", "nan_to_num", SPECIAL, nan=1.5, posinf=9.0, neginf=-9.0)
for n in ["arctan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "fmod", "mod",
          "floor_divide", "nextafter", "heaviside", "isclose", "allclose"]:
    case(n, n, F, F2)
for n in ["arctan2", "hypot", "fmod", "mod", "floor_divide", "heaviside", "fmax"]:
    case(n + "_int", n, I, I2)
case("fmax_nan", "fmax", N, F2)
case("fmin_nan", "fmin", N, F2)
case("heaviside_zero", "heaviside", np.array([-1.0, 0.0, 2.0], "float32"), 0.5)
case("isclose_tol", "isclose", F, F + 1e-3, rtol=0.0, atol=2e-3)
case("ldexp", "ldexp", F, I2)
for n in ["bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"]:
    case(n, n, IP, I2)
for n in ["bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift"]:
    case(n, n, IP, I2)
case("bitwise_and_bool", "bitwise_and", B, B2)
case("bitwise_invert", "bitwise_invert", I)
case("bitwise_not", "bitwise_not", U8)
for n in ["logical_and", "logical_or", "logical_xor"]:
    case(n, n, B, F)
case("isin", "isin", I, np.array([0, 1, 2, 3], "int32"))
case("isin_invert", "isin", I, np.array([0, 1, 2, 3], "int32"), invert=True)

# reductions and statistics
for n in ["amax", "amin", "prod", "ptp", "median", "nanmax", "nanmin", "nansum", "nanmean",
          "nanprod", "nanvar", "nanstd", "nanmedian"]:
    case(n, n, N if n.startswith("nan") else F)
    case(n + "_ax1", n, N if n.startswith("nan") else F, axis=1)
    case(n + "_ax0k", n, N if n.startswith("nan") else F, axis=0, keepdims=True)
for n in ["nanmax", "nanmin", "nanmean", "nanmedian"]:
    case(n + "_allnan", n, NALL, axis=0)
case("prod_int", "prod", I2, axis=0)
case("prod_bool", "prod", B)
case("prod_zero", "prod", np.array([[1.0, 0.0, 3.0], [2.0, 3.0, 4.0]], "float32"), axis=1)
case("nansum_int", "nansum", I)
case("nanmean_int", "nanmean", I, axis=1)
case("median_int", "median", I, axis=0)
case("count_nonzero", "count_nonzero", I)
case("count_nonzero_ax", "count_nonzero", I, axis=1)
for m in ["linear", "lower", "higher", "midpoint", "nearest"]:
    case("quantile_" + m, "quantile", F, [0.1, 0.5, 0.8], axis=1, method=m)
    case("nanquantile_" + m, "nanquantile", N, 0.35, axis=1, method=m)
case("quantile_all", "quantile", F, 0.3)
case("quantile_keep", "quantile", X3, [0.25, 0.75], axis=(0, 2), keepdims=True)
case("percentile", "percentile", F, 40.0, axis=0)
case("nanpercentile", "nanpercentile", N, [20.0, 90.0], axis=1)
case("nanargmax", "nanargmax", N, axis=1)
case("nanargmin", "nanargmin", N, axis=0)
case("nanargmax_all", "nanargmax", N)
case("nanargmin_allnan", "nanargmin", NALL, axis=0)
case("nancumsum", "nancumsum", N, axis=1)
case("nancumprod", "nancumprod", N, axis=0)
case("nancumsum_flat", "nancumsum", N)
case("average", "average", F, axis=1)
case("average_w", "average", F, axis=1, weights=np.array([1.0, 2.0, 0.5, 0.0], "float32"))
case("average_wfull", "average", F, weights=POS)
case("average_int", "average", I)
case("corrcoef", "corrcoef", F)
case("corrcoef_int", "corrcoef", I)
case("trapezoid", "trapezoid", F)
case("trapezoid_x", "trapezoid", F, x=np.array([0.0, 0.5, 1.5, 3.0], "float32"))
case("trapezoid_ax0", "trapezoid", F, dx=0.5, axis=0)
case("bincount", "bincount", np.array([0, 1, 1, 3, 5], "int32"))
case("bincount_w", "bincount", np.array([0, 1, 1, 3], "int32"),
     weights=np.array([0.5, 1.0, 2.0, 1.5], "float32"), minlength=6)
case("histogram", "histogram", V, bins=4)
case("histogram_range", "histogram", V, bins=3, range=(-1.0, 1.0))
case("digitize", "digitize", F, [-1.0, 0.0, 0.5, 1.0])
case("searchsorted", "searchsorted", np.array([-1.0, 0.0, 0.5, 2.0], "float32"), F[0])
case("searchsorted_r", "searchsorted", np.array([0.0, 1.0, 1.0, 2.0], "float32"),
     np.array([1.0, 0.5, 3.0], "float32"), side="right")

# arrays
case("append", "append", F, V)
case("append_ax", "append", F, F2, axis=0)
case("append_int_float", "append", I, F)
case("diag", "diag", V)
case("diag_k", "diag", V, k=-2)
case("diag_2d", "diag", F, k=1)
case("diagflat", "diagflat", F[:2, :2], k=1)
case("diagonal", "diagonal", X3, offset=1, axis1=1, axis2=2)
case("trace", "trace", F)
case("trace_int", "trace", I, offset=-1)
case("trace_3d", "trace", X3, axis1=1, axis2=2)
case("diff", "diff", F)
case("diff_n2", "diff", F, n=2, axis=0)
case("diff_bool", "diff", B)
case("dot", "dot", F, V3)
case("dot_vec", "dot", V, V)
case("dot_mv", "dot", F, F2[0])
case("dot_int", "dot", I, I2.T)
case("dot_scalar", "dot", F, 2.0)
case("inner", "inner", F, F2)
case("outer", "outer", F[0], V)
case("vdot", "vdot", F, F2)
case("tensordot", "tensordot", X3, V3, axes=1)
case("tensordot_pairs", "tensordot", X3, F, axes=([1, 2], [0, 1]))
case("tensordot_0", "tensordot", V, F[0], axes=0)
case("kron", "kron", F[:2, :2], F2[:2, :3])
case("kron_int", "kron", I[:2, :2], I2[0])
case("cross", "cross", V3, W3)
case("cross_2d", "cross", V3[:, :2], W3[:, :2])
case("cross_23", "cross", V3[:, :2], W3)
case("cross_axis", "cross", V3.T, W3.T, axis=0)
for mode in ["valid", "same", "full"]:
    case("correlate_" + mode, "correlate", V, F[0, :3], mode=mode)
    case("correlate_swap_" + mode, "correlate", F[0, :3], V, mode=mode)
case("correlate_int", "correlate", I[0], I2[0, :2], mode="full")
case("moveaxis", "moveaxis", X3, 0, -1)
case("moveaxis_multi", "moveaxis", X3, [0, 1], [2, 0])
case("swapaxes", "swapaxes", X3, 0, 2)
case("roll", "roll", F, 2)
case("roll_ax", "roll", F, -1, axis=1)
case("roll_multi", "roll", X3, (1, 2), axis=(0, 2))
case("rot90", "rot90", F)
case("rot90_k", "rot90", X3, k=3, axes=(1, 2))
case("rot90_neg", "rot90", F, k=-1)
case("tril", "tril", F)
case("tril_k", "tril", X3, k=-1)
case("triu", "triu", F, k=1)
case("hstack", "hstack", [F, F2])
case("hstack_1d", "hstack", [V, F[0]])
case("vstack", "vstack", [F, F2[:1]])
case("vstack_1d", "vstack", [V[:4], F[0]])
case("dstack", "dstack", [F, F2])
case("dstack_1d", "dstack", [V, V])
case("hsplit", "hsplit", F, 2)
case("vsplit", "vsplit", F, [1])
case("dsplit", "dsplit", X3, 2)
case("hstack_mixed", "hstack", [I, F])
case("swapaxes_int", "swapaxes", I, 0, 1)
case("eye", "eye", 3)
case("eye_k", "eye", 3, 4, k=1, dtype="int32")
case("eye_neg", "eye", 4, 3, k=-2)
case("identity", "identity", 3)
case("tri", "tri", 3)
case("tri_k", "tri", 3, 4, k=-1, dtype="int32")
case("empty", "empty", (2, 3))
case("empty_like", "empty_like", I)
case("full_like", "full_like", I, 7)
case("full_like_f", "full_like", F, 2.5, dtype="float64")
case("linspace", "linspace", 0.0, 1.0, 5)
case("linspace_noend", "linspace", -1.0, 2.0, 4, endpoint=False)
case("linspace_int", "linspace", 0, 10, 6)
case("linspace_ret", "linspace", 0.0, 1.0, 5, retstep=True)
case("linspace_arr", "linspace", np.array([0.0, 1.0], "float32"), np.array([1.0, 3.0], "float32"),
     3, axis=1)
case("logspace", "logspace", 0.0, 2.0, 5)
case("logspace_base", "logspace", 0.0, 3.0, 4, base=2.0)
case("geomspace", "geomspace", 1.0, 1000.0, 4)
case("geomspace_neg", "geomspace", -1.0, -16.0, 5)
case("vander", "vander", V[:3])
case("vander_inc", "vander", np.array([1, 2, 3], "int32"), 4, increasing=True)
case("unravel_index", "unravel_index", IDX, (3, 4))
case("view", "view", F, "int32")
case("view_u8", "view", I[:, :2], "uint8")
case("complex_real", "real", np.array([1 + 2j, -3 - 1j], "complex64"))
case("complex_imag", "imag", np.array([1 + 2j, -3 - 1j], "complex64"))
case("complex_conj", "conj", np.array([1 + 2j, -3 - 1j], "complex64"))
case("complex_angle", "angle", np.array([1 + 2j, -3 - 1j], "complex64"))
for n in ["bartlett", "blackman", "hamming", "hanning"]:
    case(n, n, 7)
    case(n + "_even", n, 6)
case("kaiser", "kaiser", 7, 2.5)
case("kaiser_even", "kaiser", 6, 8.0)

# linalg
case("cholesky", "cholesky", SPD, compare="loose")
case("cholesky_upper", "cholesky", SPD, upper=True, compare="loose")
case("cholesky_inverse", "cholesky_inverse", np.linalg.cholesky(SPD).astype("float32"),
     compare="loose")
case("cholesky_inverse_upper", "cholesky_inverse",
     np.linalg.cholesky(SPD).T.astype("float32").copy(), upper=True, compare="loose")
case("det", "det", M3, compare="loose")
case("det_batch", "det", BM, compare="loose")
case("inv", "inv", M3, compare="loose")
case("inv_batch", "inv", BM, compare="loose")
case("slogdet", "slogdet", -M3, compare="loose")
case("logdet", "logdet", SPD, compare="loose")
case("solve", "solve", M3, RHS, compare="loose")
case("solve_batch", "solve", BM, np.stack([RHS, RHS]), compare="loose")
case("solve_triangular", "solve_triangular", M3, RHS, compare="loose")
case("solve_triangular_lower", "solve_triangular", M3, RHS, lower=True, compare="loose")
case("eigh", "eigh", SPD, compare="abs")
case("svd", "svd", TALL, compare="abs")
case("svd_thin", "svd", TALL, full_matrices=False, compare="abs")
case("svd_s", "svd", TALL, compute_uv=False, compare="loose")
case("qr", "qr", TALL, compare="abs")
case("qr_complete", "qr", TALL, mode="complete", compare="abs")
case("lstsq", "lstsq", TALL, _r.randn(5).astype("float32"), compare="loose")
case("lstsq_2d", "lstsq", TALL, _r.randn(5, 2).astype("float32"), compare="loose")
case("pinv", "pinv", TALL, compare="loose")
case("matrix_rank", "matrix_rank", np.array([[1.0, 2.0], [2.0, 4.0]], "float32"))
case("matrix_rank_full", "matrix_rank", M3)
case("lu_factor", "lu_factor", M3, compare="loose")
case("lu_factor_batch", "lu_factor", BM, compare="loose")
case("norm_fro", "norm", M3, compare="loose")

# fft
case("fft", "fft", (F, F2), compare="loose")
case("fft2", "fft2", (X3, X3 * 0.5), compare="loose")
case("ifft2", "ifft2", (X3, -X3), compare="loose")
case("rfft", "rfft", F, compare="loose")
case("rfft_len", "rfft", F, fft_length=6, compare="loose")
case("rfft_crop", "rfft", F, fft_length=3, compare="loose")
case("irfft", "irfft", (F, F2), compare="loose")
case("irfft_len", "irfft", (F, F2), fft_length=5, compare="loose")
case("stft", "stft", SIG, 8, 4, 16, compare="loose")
case("stft_hamming", "stft", np.stack([SIG, SIG * 2]), 10, 3, 10, window="hamming",
     center=False, compare="loose")
case("stft_none", "stft", SIG, 8, 8, 8, window=None, compare="loose")
case("view_as_complex", "view_as_complex", F[:, :2].copy())
case("view_as_real", "view_as_real", np.array([1 + 2j, -3 - 1j], "complex64"))

# einops-style rearrange
case("rearrange_perm", "rearrange", X3, "b h w -> w b h")
case("rearrange_merge", "rearrange", X3, "b h w -> (b h) w")
case("rearrange_split", "rearrange", X3, "b h (w1 w) -> (b w1) h w", w1=2)
case("rearrange_split_all", "rearrange", X3, "b (h1 h) w -> h1 (w b) h", h1=3, h=1)


# vectorize: (key, pyfunc, vectorize kwargs, call args). Keras's TensorFlow backend rejects
# these (its vmap takes one argument, axis 0 only), so the tests compare with numpy.vectorize,
# the semantics Keras documents and its JAX/torch backends follow
def _add_scaled(a, b):
    return a * 2.0 + b


def _matvec(m, v):
    return m @ v


def _pair(a, b):
    return a + b, a - b


VECTORIZE = [
    ("vectorize_scalar", _add_scaled, {}, (F, F2[0])),
    ("vectorize_sig", _matvec, {"signature": "(m,n),(n)->(m)"}, (X3, V3[:, 0])),
    ("vectorize_broadcast", _add_scaled, {}, (F[:, :1], F2[0])),
    ("vectorize_tuple", _pair, {}, (V, V[::-1].copy())),
]


# result dtypes over input dtypes: (op, number of tensor arguments); each op runs on small
# arrays of every dtype in SWEEP_DTYPES (binary ops: the dtype against itself, int32, float32
# and the Python scalars 2 and 2.0)
SWEEP_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                "float64"]
SWEEP_UNARY = ["cholesky_inverse", "eigh", "svd", "qr", "pinv", "slogdet", "logdet", "lu_factor",
               "matrix_rank", "median", "quantile", "percentile", "nanmedian", "nanmin",
               "nanargmax", "argpartition", "searchsorted", "digitize", "bincount", "histogram",
               "nonzero", "rot90", "triu", "diagonal", "diagflat", "flipud", "moveaxis",
               "swapaxes", "hsplit", "vsplit", "hstack", "vstack", "dstack", "view",
               "full_like", "empty_like", "unravel_index", "rfft", "fft", "view_as_complex",
               "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "cbrt", "cosh",
               "sinh", "tan", "exp2", "expm1", "log10", "log2", "rsqrt", "reciprocal", "sinc",
               "i0", "deg2rad", "rad2deg", "ceil", "trunc", "fabs", "signbit", "angle",
               "isinf", "isneginf", "isposinf", "isreal", "logical_not", "nan_to_num", "copy",
               "real", "imag", "conj", "prod", "median", "nansum", "nanmean", "nanmax",
               "nanprod", "nanvar", "nanstd", "nancumsum", "nancumprod", "count_nonzero",
               "ptp", "amax", "average", "corrcoef", "trapezoid", "diff", "trace", "diag",
               "tril", "roll", "ravel", "vander", "bitwise_invert", "cholesky", "inv", "det"]
SWEEP_BINARY = ["arctan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "fmod", "mod",
                "floor_divide", "nextafter", "heaviside", "isclose", "logical_and",
                "logical_xor", "bitwise_and", "bitwise_xor", "left_shift", "gcd", "lcm",
                "dot", "inner", "outer", "vdot", "kron", "cross", "append", "tensordot",
                "correlate", "isin", "ldexp", "solve", "bitwise_or", "bitwise_left_shift",
                "bitwise_right_shift", "right_shift", "logical_or", "allclose",
                "solve_triangular", "lstsq", "average"]
SWEEP_PARTNERS = ["same", "int32", "float32", "pyint", "pyfloat"]


_EXTRA_ARGS = {"quantile": (0.5,), "percentile": (50,), "argpartition": (1,),
               "searchsorted": ([1, 2],), "digitize": ([1.5],), "moveaxis": (0, 1),
               "swapaxes": (0, 1), "hsplit": (2,), "vsplit": (2,), "view": ("uint8",),
               "full_like": (3,), "unravel_index": ((2, 2),)}


def sweep_args(dtype, op):
    """The arguments of a unary sweep call: the input (wrapped in a list for the stacking ops,
    a pair for fft) and any fixed extra arguments."""
    x = sweep_input(dtype, op)
    if op in ("hstack", "vstack", "dstack"):
        return ([x, x],)
    if op == "fft":
        return ((x, x),)
    if op == "searchsorted":
        return (x.reshape(-1)[:2], [1, 2])
    return (x,) + _EXTRA_ARGS.get(op, ())


def sweep_input(dtype, op=""):
    """A small input of ``dtype`` for the dtype sweep (2x2 matrices for linalg, 3-vectors for
    cross)."""
    if op in ("cholesky", "inv", "det", "solve", "solve_triangular", "lstsq", "cholesky_inverse",
              "eigh", "svd", "qr", "pinv", "slogdet", "logdet", "lu_factor", "matrix_rank"):
        base = np.array([[2, 1], [1, 3]])
    elif op == "cross":
        base = np.array([1, 2, 3])
    elif op == "view_as_complex":
        base = np.array([[1, 2], [3, 1]])
    elif op in ("vander", "bincount", "histogram", "diagflat", "unravel_index", "rfft"):
        base = np.array([1, 2])
    else:
        base = np.array([[1, 2], [3, 1]])
    return base.astype(dtype)


def sweep_partner(kind, dtype, op=""):
    if kind == "same":
        return sweep_input(dtype, op)
    if kind in ("int32", "float32"):
        return sweep_input(kind, op)
    return 2 if kind == "pyint" else 2.0


# gradients under TensorFlow's GradientTape: (key, op name, args, kwargs); the loss is
# sum_i sum(output_i * grad_projection(output_i.shape, i)) and the gradients are taken with
# respect to every float32 array among the arguments (tuples included)
_T = np.array([[1.0, 2.0, 2.0], [0.5, 2.0, -1.0]], "float32")  # ties for max/min/quantile
GRAD_CASES = [
    ("cholesky", "cholesky", (SPD,), {}),
    ("cholesky_upper", "cholesky", (SPD,), {"upper": True}),
    ("cholesky_inverse", "cholesky_inverse", (np.linalg.cholesky(SPD).astype("float32"),), {}),
    ("eigh", "eigh", (SPD,), {}),
    ("svd_thin", "svd", (M3,), {"full_matrices": False}),
    ("svd_s", "svd", (TALL,), {"compute_uv": False}),
    ("qr", "qr", (TALL,), {}),
    ("lu_factor", "lu_factor", (M3,), {}),
    ("det", "det", (M3,), {}),
    ("inv", "inv", (BM,), {}),
    ("slogdet", "slogdet", (-M3,), {}),
    ("logdet", "logdet", (SPD,), {}),
    ("solve", "solve", (M3, RHS), {}),
    ("solve_triangular", "solve_triangular", (M3, RHS), {"lower": True}),
    ("lstsq", "lstsq", (TALL, RHS1.repeat(2)[:5]), {}),
    ("pinv", "pinv", (TALL,), {}),
    ("amax_ties", "amax", (_T,), {"axis": 1}),
    ("ptp_ties", "ptp", (_T,), {}),
    ("median_ties", "median", (_T,), {"axis": 1}),
    ("quantile", "quantile", (F,), {"q": [0.2, 0.7], "axis": 1}),
    ("quantile_nearest", "quantile", (F,), {"q": 0.4, "axis": 0, "method": "nearest"}),
    ("nanquantile", "nanquantile", (N,), {"q": 0.6, "axis": 1}),
    ("prod_zero", "prod", (np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0]], "float32"),),
     {"axis": 1}),
    ("fmax_ties", "fmax", (_T, _T[::-1].copy()), {}),
    ("fabs_zero", "fabs", (np.array([-1.0, 0.0, 2.0], "float32"),), {}),
    ("sinc_zero", "sinc", (np.array([-1.5, 0.0, 0.3], "float32"),), {}),
    ("cbrt", "cbrt", (F,), {}),
    ("i0", "i0", (F,), {}),
    ("arctan2", "arctan2", (F, F2), {}),
    ("hypot", "hypot", (F, F2), {}),
    ("heaviside", "heaviside", (np.array([-1.0, 0.0, 2.0], "float32"),
                                np.array([0.2, 0.5, 0.7], "float32")), {}),
    ("nan_to_num", "nan_to_num", (SPECIAL,), {}),
    ("nanmean", "nanmean", (N,), {"axis": 1}),
    ("nanvar", "nanvar", (N,), {"axis": 0}),
    ("nanmax", "nanmax", (N,), {"axis": 1}),
    ("nanprod", "nanprod", (N,), {}),
    ("average", "average", (F,), {"axis": 1, "weights": POS[0]}),
    ("corrcoef", "corrcoef", (F,), {}),
    ("trapezoid", "trapezoid", (F,), {"x": np.array([0.0, 0.5, 1.5, 3.0], "float32")}),
    ("correlate", "correlate", (V, F[0, :3]), {"mode": "full"}),
    ("cross", "cross", (V3, W3), {}),
    ("kron", "kron", (F[:2, :2], F2[:2, :3]), {}),
    ("tensordot", "tensordot", (X3, F), {"axes": ([1, 2], [0, 1])}),
    ("logaddexp", "logaddexp", (F, F2), {}),
    ("fmod", "fmod", (F, F2 + 3), {}),
    ("fft", "fft", ((F, F2),), {}),
    ("fft2", "fft2", ((X3, X3 * 0.5),), {}),
    ("ifft2", "ifft2", ((X3, -X3),), {}),
    ("rfft", "rfft", (F,), {}),
    ("rfft_len", "rfft", (F,), {"fft_length": 6}),
    ("rfft_crop", "rfft", (F,), {"fft_length": 3}),
    ("irfft", "irfft", ((F, F2),), {}),
    ("irfft_len", "irfft", ((F, F2),), {"fft_length": 5}),
    ("stft", "stft", (SIG, 8, 4, 16), {}),
    ("istft", "istft", ((F.T.copy()[:, :3], F2.T.copy()[:, :3]), 4, 2, 4), {}),
    ("rot90", "rot90", (X3,), {"k": 3, "axes": (1, 2)}),
    ("diagonal", "diagonal", (X3,), {"offset": 1, "axis1": 1, "axis2": 2}),
    ("roll", "roll", (X3,), {"shift": (1, 2), "axis": (0, 2)}),
    ("rearrange", "rearrange", (X3, "b h (w1 w) -> (b w1) h w"), {"w1": 2}),
]


def grad_projection(shape, i):
    """The fixed weights of output ``i`` in the gradient cases' loss."""
    n = int(np.prod(shape)) if len(shape) else 1
    return np.cos(np.arange(n) * 0.7 + i).reshape(shape).astype("float32")


def flat(out):
    """An op's result as a flat list: nested tuples and lists of outputs are unpacked in order."""
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in flat(x)]
    return [out]


def watch_float32_args(args, to_tensor):
    """The gradient cases' arguments with every float32 array (also inside tuples) turned into a
    tensor by ``to_tensor``: returns ``(args, leaves)``, leaves being those tensors in order (what
    the tape watches and differentiates by); other arguments pass through."""
    leaves = []

    def convert(a):
        if isinstance(a, tuple):
            return tuple(convert(b) for b in a)
        if isinstance(a, np.ndarray) and a.dtype == np.float32:
            t = to_tensor(a)
            leaves.append(t)
            return t
        return a
    return tuple(convert(a) for a in args), leaves
