// nnforge._cuda: pybind11 bindings for the CUDA kernels of cuda/*.cu (see cuda/kernels.cuh).
//
// Arrays arrive as raw device pointers (Python ints, e.g. CuPy's `a.data.ptr`) with explicit
// sizes; `stream` is a cudaStream_t as an int (CuPy's `cupy.cuda.get_current_stream().ptr`,
// 0 = the legacy default stream). Optional arrays are the pointer 0. Every size, leading dimension,
// geometry value and pointer (non-null where data is read or written, aligned for its type) is
// checked before anything is enqueued, and bad input raises ValueError naming the function and
// the argument; nothing here can check that a pointer really addresses enough device memory, which
// is why nnforge.backend.cuda validates the CuPy arrays' shapes first. The GIL is released while
// kernels are enqueued; a failed launch raises RuntimeError with the CUDA error string. Kernels run
// asynchronously on the stream, as CuPy's own kernels do.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>

#include "kernels.cuh"

namespace py = pybind11;
namespace nc = nnforge::cuda;
using nnforge::Act;
using nnforge::Conv2DShape;
using nnforge::Pool2DShape;

namespace {

using ptr_t = std::uintptr_t;
using pair_t = std::tuple<int64_t, int64_t>;
using shape4_t = std::tuple<int64_t, int64_t, int64_t, int64_t>;

[[noreturn]] void fail(const std::string& fn, const std::string& msg) {
  throw py::value_error(fn + ": " + msg);
}

void check_cuda(const std::string& fn, cudaError_t e) {
  if (e != cudaSuccess)
    throw std::runtime_error(fn + ": CUDA error " + cudaGetErrorName(e) + ": " +
                             cudaGetErrorString(e));
}

void nonneg(const std::string& fn, const char* name, int64_t v) {
  if (v < 0) fail(fn, std::string("'") + name + "' must be >= 0, got " + std::to_string(v));
}

void positive(const std::string& fn, const char* name, int64_t v) {
  if (v < 1) fail(fn, std::string("'") + name + "' must be >= 1, got " + std::to_string(v));
}

// Product of non-negative sizes; ValueError when it (or its size in bytes) overflows int64.
int64_t product(const std::string& fn, std::initializer_list<int64_t> xs) {
  int64_t p = 1;
  for (int64_t x : xs) {
    if (x < 0) fail(fn, "negative size " + std::to_string(x));
    if (x != 0 && p > (std::numeric_limits<int64_t>::max() / 8) / x)
      fail(fn, "sizes overflow int64");
    p *= x;
  }
  return p;
}

// A device pointer for `count` elements of `elem` bytes: non-null when count > 0 (unless
// optional), aligned for the element type.
template <typename T>
T* dptr(const std::string& fn, const char* name, ptr_t p, int64_t count, bool optional = false) {
  if (p == 0) {
    if (count > 0 && !optional)
      fail(fn, std::string("'") + name + "' is a null pointer but must hold " +
                   std::to_string(count) + " elements");
    return nullptr;
  }
  if (p % alignof(T) != 0)
    fail(fn, std::string("'") + name + "' is not aligned to " + std::to_string(alignof(T)) +
                 " bytes");
  return reinterpret_cast<T*>(p);
}

cudaStream_t as_stream(ptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

Act as_act(const std::string& fn, int act) {
  if (act < 0 || act > 3)
    fail(fn, "'act' must be 0 (linear), 1 (relu), 2 (sigmoid) or 3 (tanh), got " +
                 std::to_string(act));
  return static_cast<Act>(act);
}

nc::Precision as_precision(const std::string& fn, const std::string& p) {
  if (p == "fp32" || p == "float32" || p == "highest") return nc::Precision::FP32;
  if (p == "tf32" || p == "high") return nc::Precision::TF32;
  if (p == "bf16" || p == "bfloat16" || p == "medium") return nc::Precision::BF16;
  fail(fn, "'precision' must be 'fp32', 'tf32' or 'bf16', got '" + p + "'");
}

// GEMM operand checks: op(A) is M x K, op(B) is K x N, C is M x N.
void check_gemm(const std::string& fn, int64_t M, int64_t N, int64_t K, bool ta, bool tb,
                int64_t lda, int64_t ldb, int64_t ldc) {
  nonneg(fn, "M", M);
  nonneg(fn, "N", N);
  nonneg(fn, "K", K);
  const int64_t a_cols = ta ? M : K, b_cols = tb ? K : N;
  if (lda < (a_cols > 1 ? a_cols : 1))
    fail(fn, "'lda' = " + std::to_string(lda) + " is smaller than the " +
                 std::to_string(a_cols) + " columns of A as stored");
  if (ldb < (b_cols > 1 ? b_cols : 1))
    fail(fn, "'ldb' = " + std::to_string(ldb) + " is smaller than the " +
                 std::to_string(b_cols) + " columns of B as stored");
  if (ldc < (N > 1 ? N : 1))
    fail(fn, "'ldc' = " + std::to_string(ldc) + " is smaller than N = " + std::to_string(N));
  product(fn, {ta ? K : M, lda});
  product(fn, {tb ? N : K, ldb});
  product(fn, {M, ldc});
}

Conv2DShape conv_shape(const std::string& fn, const shape4_t& xs, const shape4_t& ws,
                       const pair_t& strides, const pair_t& dilation, const pair_t& pad,
                       const pair_t& out_hw) {
  Conv2DShape s{};
  std::tie(s.N, s.H, s.W, s.C) = xs;
  int64_t wc = 0;
  std::tie(s.KH, s.KW, wc, s.F) = ws;
  std::tie(s.SH, s.SW) = strides;
  std::tie(s.DH, s.DW) = dilation;
  std::tie(s.pad_top, s.pad_left) = pad;
  std::tie(s.OH, s.OW) = out_hw;
  nonneg(fn, "N", s.N);
  nonneg(fn, "H", s.H);
  nonneg(fn, "W", s.W);
  nonneg(fn, "C", s.C);
  nonneg(fn, "F", s.F);
  if (wc != s.C)
    fail(fn, "kernel has " + std::to_string(wc) + " input channels but x has " +
                 std::to_string(s.C));
  positive(fn, "kernel[0]", s.KH);
  positive(fn, "kernel[1]", s.KW);
  positive(fn, "strides[0]", s.SH);
  positive(fn, "strides[1]", s.SW);
  positive(fn, "dilation[0]", s.DH);
  positive(fn, "dilation[1]", s.DW);
  nonneg(fn, "pad[0]", s.pad_top);
  nonneg(fn, "pad[1]", s.pad_left);
  nonneg(fn, "out_hw[0]", s.OH);
  nonneg(fn, "out_hw[1]", s.OW);
  if (s.N > 0 && (s.OH < 1 || s.OW < 1))
    fail(fn, "output height and width must be >= 1, got (" + std::to_string(s.OH) + ", " +
                 std::to_string(s.OW) + ")");
  product(fn, {s.N, s.H, s.W, s.C});
  product(fn, {s.N, s.OH, s.OW, s.F});
  product(fn, {s.N, s.OH, s.OW, s.KH, s.KW, s.C});
  product(fn, {s.KH, s.KW, s.C, s.F});
  // Coordinates computed by the kernels stay far from overflow.
  product(fn, {s.OH + s.pad_top, s.SH});
  product(fn, {s.OW + s.pad_left, s.SW});
  product(fn, {s.KH, s.DH});
  product(fn, {s.KW, s.DW});
  return s;
}

Pool2DShape pool_shape(const std::string& fn, const shape4_t& xs, const pair_t& pool,
                       const pair_t& strides, const pair_t& pad, const pair_t& out_hw,
                       bool check_windows = true) {
  Pool2DShape s{};
  std::tie(s.N, s.H, s.W, s.C) = xs;
  std::tie(s.KH, s.KW) = pool;
  std::tie(s.SH, s.SW) = strides;
  std::tie(s.pad_top, s.pad_left) = pad;
  std::tie(s.OH, s.OW) = out_hw;
  nonneg(fn, "N", s.N);
  nonneg(fn, "H", s.H);
  nonneg(fn, "W", s.W);
  nonneg(fn, "C", s.C);
  positive(fn, "pool[0]", s.KH);
  positive(fn, "pool[1]", s.KW);
  positive(fn, "strides[0]", s.SH);
  positive(fn, "strides[1]", s.SW);
  nonneg(fn, "pad[0]", s.pad_top);
  nonneg(fn, "pad[1]", s.pad_left);
  nonneg(fn, "out_hw[0]", s.OH);
  nonneg(fn, "out_hw[1]", s.OW);
  if (s.N > 0 && (s.OH < 1 || s.OW < 1))
    fail(fn, "output height and width must be >= 1, got (" + std::to_string(s.OH) + ", " +
                 std::to_string(s.OW) + ")");
  product(fn, {s.N, s.H, s.W, s.C});
  product(fn, {s.N, s.OH, s.OW, s.C});
  product(fn, {s.OH + s.pad_top, s.SH, s.KH});
  product(fn, {s.OW + s.pad_left, s.SW, s.KW});
  if (check_windows && s.N > 0) {
    // As nnforge._cpu: every window must meet the image (the kernels would write 0 otherwise).
    if (s.H < 1 || s.W < 1)
      fail(fn, "input height and width must be >= 1 when the batch is not empty");
    const int64_t last_h = (s.OH - 1) * s.SH - s.pad_top;
    const int64_t last_w = (s.OW - 1) * s.SW - s.pad_left;
    if (s.pad_top >= s.KH || s.pad_left >= s.KW || last_h >= s.H || last_w >= s.W)
      fail(fn, "some pooling windows hold only padding (need pad < pool and "
               "(OH-1)*SH - pad_top < H, (OW-1)*SW - pad_left < W)");
  }
  return s;
}

void* workspace(const std::string& fn, ptr_t ws, int64_t ws_bytes, const Conv2DShape& s) {
  nonneg(fn, "workspace_bytes", ws_bytes);
  if (ws == 0) return nullptr;  // the launcher takes scratch from cudaMallocAsync
  if (ws % 16 != 0) fail(fn, "'workspace' must be 16-byte aligned");
  const size_t need = nc::conv2d_workspace_bytes(s, 1);  // one image of im2col rows
  if (static_cast<size_t>(ws_bytes) < need)
    fail(fn, "'workspace_bytes' = " + std::to_string(ws_bytes) + " is less than the " +
                 std::to_string(need) + " bytes one image of im2col rows needs");
  return reinterpret_cast<void*>(ws);
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: clear the error, report none
    return 0;
  }
  return n;
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() =
      "nnforge CUDA kernels on raw device pointers (CuPy arrays' data.ptr) and CuPy's stream; "
      "used only by nnforge.backend.cuda";

  // ---- runtime ----
  m.def("is_built", []() { return true; }, "True: this module was compiled with nvcc.");
  m.def("device_count", &device_count,
        "Number of CUDA devices; 0 (no exception) without a driver or a device.");
  m.def("runtime_version", []() {
    int v = 0;
    cudaRuntimeGetVersion(&v);
    return v;
  }, "Version of the statically linked CUDA runtime (e.g. 13000).");
  m.def("driver_version", []() {
    int v = 0;
    if (cudaDriverGetVersion(&v) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return v;
  }, "CUDA version the installed driver supports; 0 without a driver.");
  m.def("get_device", []() {
    int d = 0;
    check_cuda("get_device", cudaGetDevice(&d));
    return d;
  });
  m.def("set_device", [](int d) {
    if (d < 0 || d >= device_count())
      fail("set_device", "device " + std::to_string(d) + " does not exist (" +
                             std::to_string(device_count()) + " devices)");
    check_cuda("set_device", cudaSetDevice(d));
  }, py::arg("device"));
  m.def("compute_capability", [](int d) {
    if (d < 0 || d >= device_count())
      fail("compute_capability", "device " + std::to_string(d) + " does not exist");
    int major = 0, minor = 0;
    check_cuda("compute_capability",
               cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d));
    check_cuda("compute_capability",
               cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d));
    return std::make_tuple(major, minor);
  }, py::arg("device") = 0);
  m.def("tensor_cores_used", [](const std::string& precision) {
    return nc::tensor_cores_used(as_precision("tensor_cores_used", precision));
  }, py::arg("precision"),
     "Whether sgemm with this precision runs on tensor cores on the current device (TF32/BF16 "
     "need compute capability 8.0; below it they run in FP32).");
  m.def("stream_synchronize", [](ptr_t stream) {
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = cudaStreamSynchronize(as_stream(stream));
    }
    check_cuda("stream_synchronize", e);
  }, py::arg("stream"));

  // ---- GEMM ----
  m.def("sgemm", [](ptr_t a, ptr_t b, ptr_t c, int64_t M, int64_t N, int64_t K, bool ta, bool tb,
                    float alpha, float beta, int64_t lda, int64_t ldb, int64_t ldc, ptr_t stream,
                    const std::string& precision) {
    const std::string fn = "sgemm";
    check_gemm(fn, M, N, K, ta, tb, lda, ldb, ldc);
    const nc::Precision prec = as_precision(fn, precision);
    const float* A = dptr<const float>(fn, "a", a, M * K);
    const float* B = dptr<const float>(fn, "b", b, K * N);
    float* C = dptr<float>(fn, "c", c, M * N);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nullptr, Act::Linear,
                    prec, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("M"), py::arg("N"), py::arg("K"),
     py::arg("trans_a"), py::arg("trans_b"), py::arg("alpha"), py::arg("beta"), py::arg("lda"),
     py::arg("ldb"), py::arg("ldc"), py::arg("stream"), py::arg("precision") = "fp32",
     "C = alpha * op(A) @ op(B) + beta * C, row-major (beta == 0: C not read).");

  m.def("sgemm_bias_act", [](ptr_t a, ptr_t b, ptr_t bias, ptr_t c, int64_t M, int64_t N,
                             int64_t K, bool ta, bool tb, int act, int64_t lda, int64_t ldb,
                             int64_t ldc, ptr_t stream, const std::string& precision) {
    const std::string fn = "sgemm_bias_act";
    check_gemm(fn, M, N, K, ta, tb, lda, ldb, ldc);
    const nc::Precision prec = as_precision(fn, precision);
    const Act ac = as_act(fn, act);
    const float* A = dptr<const float>(fn, "a", a, M * K);
    const float* B = dptr<const float>(fn, "b", b, K * N);
    const float* bs = dptr<const float>(fn, "bias", bias, N, true);
    float* C = dptr<float>(fn, "c", c, M * N);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::sgemm(ta, tb, M, N, K, 1.f, A, lda, B, ldb, 0.f, C, ldc, bs, ac, prec,
                    as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("a"), py::arg("b"), py::arg("bias"), py::arg("c"), py::arg("M"), py::arg("N"),
     py::arg("K"), py::arg("trans_a"), py::arg("trans_b"), py::arg("act"), py::arg("lda"),
     py::arg("ldb"), py::arg("ldc"), py::arg("stream"), py::arg("precision") = "fp32",
     "C = act(op(A) @ op(B) + bias); bias 0 for none.");

  // ---- activations, softmax, bias ----
  m.def("activation_forward", [](ptr_t x, ptr_t y, int64_t n, int act, ptr_t stream) {
    const std::string fn = "activation_forward";
    nonneg(fn, "n", n);
    product(fn, {n});
    const Act ac = as_act(fn, act);
    const float* X = dptr<const float>(fn, "x", x, n);
    float* Y = dptr<float>(fn, "y", y, n);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::activation_forward(ac, X, Y, n, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("x"), py::arg("y"), py::arg("n"), py::arg("act"), py::arg("stream"));

  m.def("activation_backward", [](ptr_t y, ptr_t dy, ptr_t dx, int64_t n, int act, ptr_t stream) {
    const std::string fn = "activation_backward";
    nonneg(fn, "n", n);
    product(fn, {n});
    const Act ac = as_act(fn, act);
    const float* Y = dptr<const float>(fn, "y", y, n);
    const float* DY = dptr<const float>(fn, "dy", dy, n);
    float* DX = dptr<float>(fn, "dx", dx, n);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::activation_backward(ac, Y, DY, DX, n, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("y"), py::arg("dy"), py::arg("dx"), py::arg("n"), py::arg("act"), py::arg("stream"));

  m.def("softmax_forward", [](ptr_t x, ptr_t y, int64_t rows, int64_t cols, ptr_t stream) {
    const std::string fn = "softmax_forward";
    const int64_t n = product(fn, {rows, cols});
    const float* X = dptr<const float>(fn, "x", x, n);
    float* Y = dptr<float>(fn, "y", y, n);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::softmax_forward(X, Y, rows, cols, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("x"), py::arg("y"), py::arg("rows"), py::arg("cols"), py::arg("stream"));

  m.def("softmax_backward", [](ptr_t y, ptr_t dy, ptr_t dx, int64_t rows, int64_t cols,
                               ptr_t stream) {
    const std::string fn = "softmax_backward";
    const int64_t n = product(fn, {rows, cols});
    const float* Y = dptr<const float>(fn, "y", y, n);
    const float* DY = dptr<const float>(fn, "dy", dy, n);
    float* DX = dptr<float>(fn, "dx", dx, n);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::softmax_backward(Y, DY, DX, rows, cols, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("y"), py::arg("dy"), py::arg("dx"), py::arg("rows"), py::arg("cols"),
     py::arg("stream"));

  m.def("bias_add", [](ptr_t y, ptr_t bias, int64_t rows, int64_t cols, ptr_t stream) {
    const std::string fn = "bias_add";
    const int64_t n = product(fn, {rows, cols});
    float* Y = dptr<float>(fn, "y", y, n);
    const float* B = dptr<const float>(fn, "bias", bias, n > 0 ? cols : 0);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::bias_add(Y, B, rows, cols, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("y"), py::arg("bias"), py::arg("rows"), py::arg("cols"), py::arg("stream"));

  m.def("bias_grad", [](ptr_t dy, ptr_t db, int64_t rows, int64_t cols, ptr_t stream) {
    const std::string fn = "bias_grad";
    const int64_t n = product(fn, {rows, cols});
    const float* DY = dptr<const float>(fn, "dy", dy, n);
    float* DB = dptr<float>(fn, "db", db, cols);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::bias_grad(DY, DB, rows, cols, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("dy"), py::arg("db"), py::arg("rows"), py::arg("cols"), py::arg("stream"));

  // ---- im2col / convolution ----
  m.def("im2col", [](ptr_t x, ptr_t cols, shape4_t x_shape, pair_t kernel, pair_t strides,
                     pair_t dilation, pair_t pad, pair_t out_hw, ptr_t stream) {
    const std::string fn = "im2col";
    const shape4_t w_shape{std::get<0>(kernel), std::get<1>(kernel), std::get<3>(x_shape), 1};
    const Conv2DShape s = conv_shape(fn, x_shape, w_shape, strides, dilation, pad, out_hw);
    const float* X = dptr<const float>(fn, "x", x, s.N * s.H * s.W * s.C);
    float* COLS = dptr<float>(fn, "cols", cols, s.N * s.OH * s.OW * s.KH * s.KW * s.C);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::im2col_nhwc(X, COLS, s, 0, s.N, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("x"), py::arg("cols"), py::arg("x_shape"), py::arg("kernel"), py::arg("strides"),
     py::arg("dilation"), py::arg("pad"), py::arg("out_hw"), py::arg("stream"),
     "cols (N*OH*OW, KH*KW*C) from x (N, H, W, C).");

  m.def("col2im", [](ptr_t cols, ptr_t dx, shape4_t x_shape, pair_t kernel, pair_t strides,
                     pair_t dilation, pair_t pad, pair_t out_hw, ptr_t stream) {
    const std::string fn = "col2im";
    const shape4_t w_shape{std::get<0>(kernel), std::get<1>(kernel), std::get<3>(x_shape), 1};
    const Conv2DShape s = conv_shape(fn, x_shape, w_shape, strides, dilation, pad, out_hw);
    const float* COLS = dptr<const float>(fn, "cols", cols, s.N * s.OH * s.OW * s.KH * s.KW * s.C);
    float* DX = dptr<float>(fn, "dx", dx, s.N * s.H * s.W * s.C);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::col2im_nhwc(COLS, DX, s, 0, s.N, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("cols"), py::arg("dx"), py::arg("x_shape"), py::arg("kernel"), py::arg("strides"),
     py::arg("dilation"), py::arg("pad"), py::arg("out_hw"), py::arg("stream"),
     "dx (N, H, W, C) overwritten with the adjoint of im2col.");

  m.def("conv2d_workspace_bytes", [](shape4_t x_shape, shape4_t w_shape, pair_t strides,
                                     pair_t dilation, pair_t pad, pair_t out_hw,
                                     int64_t limit_bytes) {
    const std::string fn = "conv2d_workspace_bytes";
    nonneg(fn, "limit_bytes", limit_bytes);
    const Conv2DShape s = conv_shape(fn, x_shape, w_shape, strides, dilation, pad, out_hw);
    return static_cast<int64_t>(nc::conv2d_workspace_bytes(s, static_cast<size_t>(limit_bytes)));
  }, py::arg("x_shape"), py::arg("w_shape"), py::arg("strides"), py::arg("dilation"),
     py::arg("pad"), py::arg("out_hw"), py::arg("limit_bytes"),
     "Scratch bytes the conv2d_* functions use: whole images of im2col rows within limit_bytes "
     "(at least one image); 0 when the convolution needs no im2col.");

  m.def("conv2d_forward", [](ptr_t x, ptr_t w, ptr_t bias, ptr_t y, shape4_t x_shape,
                             shape4_t w_shape, int act, pair_t strides, pair_t dilation, pair_t pad,
                             pair_t out_hw, ptr_t stream, const std::string& precision,
                             ptr_t ws, int64_t ws_bytes) {
    const std::string fn = "conv2d_forward";
    const Conv2DShape s = conv_shape(fn, x_shape, w_shape, strides, dilation, pad, out_hw);
    const Act ac = as_act(fn, act);
    const nc::Precision prec = as_precision(fn, precision);
    if (s.N == 0) return;  // an empty batch: nothing to read or write, no device touched
    const float* X = dptr<const float>(fn, "x", x, s.N * s.H * s.W * s.C);
    const float* Wt = dptr<const float>(fn, "w", w, s.KH * s.KW * s.C * s.F);
    const float* B = dptr<const float>(fn, "bias", bias, s.F, true);
    float* Y = dptr<float>(fn, "y", y, s.N * s.OH * s.OW * s.F);
    void* WS = workspace(fn, ws, ws_bytes, s);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::conv2d_forward(X, Wt, B, ac, Y, s, prec, WS, static_cast<size_t>(ws_bytes),
                             as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("y"), py::arg("x_shape"),
     py::arg("w_shape"), py::arg("act"), py::arg("strides"), py::arg("dilation"), py::arg("pad"),
     py::arg("out_hw"), py::arg("stream"), py::arg("precision") = "fp32",
     py::arg("workspace") = 0, py::arg("workspace_bytes") = 0,
     "y (N, OH, OW, F) = act(conv(x, w) + bias).");

  m.def("conv2d_backward_input", [](ptr_t dy, ptr_t w, ptr_t dx, shape4_t x_shape, shape4_t w_shape,
                                    pair_t strides, pair_t dilation, pair_t pad, pair_t out_hw,
                                    ptr_t stream, const std::string& precision, ptr_t ws,
                                    int64_t ws_bytes) {
    const std::string fn = "conv2d_backward_input";
    const Conv2DShape s = conv_shape(fn, x_shape, w_shape, strides, dilation, pad, out_hw);
    const nc::Precision prec = as_precision(fn, precision);
    const float* DY = dptr<const float>(fn, "dy", dy, s.N * s.OH * s.OW * s.F);
    const float* Wt = dptr<const float>(fn, "w", w, s.KH * s.KW * s.C * s.F);
    float* DX = dptr<float>(fn, "dx", dx, s.N * s.H * s.W * s.C);
    void* WS = workspace(fn, ws, ws_bytes, s);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::conv2d_backward_input(DY, Wt, DX, s, prec, WS, static_cast<size_t>(ws_bytes),
                                    as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("dy"), py::arg("w"), py::arg("dx"), py::arg("x_shape"), py::arg("w_shape"),
     py::arg("strides"), py::arg("dilation"), py::arg("pad"), py::arg("out_hw"),
     py::arg("stream"), py::arg("precision") = "fp32", py::arg("workspace") = 0,
     py::arg("workspace_bytes") = 0, "dx (N, H, W, C) overwritten with col2im(dy @ w^T).");

  m.def("conv2d_backward_filter", [](ptr_t x, ptr_t dy, ptr_t dw, ptr_t db, shape4_t x_shape,
                                     shape4_t w_shape, pair_t strides, pair_t dilation, pair_t pad,
                                     pair_t out_hw, ptr_t stream, const std::string& precision,
                                     ptr_t ws, int64_t ws_bytes) {
    const std::string fn = "conv2d_backward_filter";
    const Conv2DShape s = conv_shape(fn, x_shape, w_shape, strides, dilation, pad, out_hw);
    const nc::Precision prec = as_precision(fn, precision);
    const float* X = dptr<const float>(fn, "x", x, s.N * s.H * s.W * s.C);
    const float* DY = dptr<const float>(fn, "dy", dy, s.N * s.OH * s.OW * s.F);
    float* DW = dptr<float>(fn, "dw", dw, s.KH * s.KW * s.C * s.F);
    float* DB = dptr<float>(fn, "db", db, s.F, true);
    void* WS = workspace(fn, ws, ws_bytes, s);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::conv2d_backward_filter(X, DY, DW, DB, s, prec, WS, static_cast<size_t>(ws_bytes),
                                     as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("x"), py::arg("dy"), py::arg("dw"), py::arg("db"), py::arg("x_shape"),
     py::arg("w_shape"), py::arg("strides"), py::arg("dilation"), py::arg("pad"),
     py::arg("out_hw"), py::arg("stream"), py::arg("precision") = "fp32",
     py::arg("workspace") = 0, py::arg("workspace_bytes") = 0,
     "dw (KH, KW, C, F) overwritten with im2col(x)^T @ dy; db (F) (0 for none) with the column "
     "sums of dy.");

  // ---- pooling ----
  m.def("max_pool2d_forward", [](ptr_t x, ptr_t y, ptr_t argmax, shape4_t x_shape, pair_t pool,
                                 pair_t strides, pair_t pad, pair_t out_hw, ptr_t stream) {
    const std::string fn = "max_pool2d_forward";
    const Pool2DShape s = pool_shape(fn, x_shape, pool, strides, pad, out_hw);
    const int64_t ny = s.N * s.OH * s.OW * s.C;
    if (argmax != 0 && s.H * s.W * s.C > std::numeric_limits<int32_t>::max())
      fail(fn, "an image of H*W*C = " + std::to_string(s.H * s.W * s.C) +
                   " elements is too large for int32 argmax indices");
    const float* X = dptr<const float>(fn, "x", x, s.N * s.H * s.W * s.C);
    float* Y = dptr<float>(fn, "y", y, ny);
    int32_t* AM = dptr<int32_t>(fn, "argmax", argmax, ny, true);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::max_pool2d_forward(X, Y, AM, s, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("x"), py::arg("y"), py::arg("argmax"), py::arg("x_shape"), py::arg("pool"),
     py::arg("strides"), py::arg("pad"), py::arg("out_hw"), py::arg("stream"),
     "y (N, OH, OW, C); argmax int32 (0 for none) = (ih*W + iw)*C + c of each winner.");

  m.def("max_pool2d_backward", [](ptr_t dy, ptr_t argmax, ptr_t dx, shape4_t x_shape,
                                  pair_t out_hw, ptr_t stream) {
    const std::string fn = "max_pool2d_backward";
    const Pool2DShape s = pool_shape(fn, x_shape, {1, 1}, {1, 1}, {0, 0}, out_hw, false);
    const int64_t ny = s.N * s.OH * s.OW * s.C;
    const float* DY = dptr<const float>(fn, "dy", dy, ny);
    const int32_t* AM = dptr<const int32_t>(fn, "argmax", argmax, ny);
    float* DX = dptr<float>(fn, "dx", dx, s.N * s.H * s.W * s.C);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::max_pool2d_backward(DY, AM, DX, s, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("dy"), py::arg("argmax"), py::arg("dx"), py::arg("x_shape"), py::arg("out_hw"),
     py::arg("stream"),
     "dx (N, H, W, C) overwritten: zero, then dy accumulated at the argmax positions.");

  m.def("avg_pool2d_forward", [](ptr_t x, ptr_t y, shape4_t x_shape, pair_t pool, pair_t strides,
                                 pair_t pad, pair_t out_hw, ptr_t stream) {
    const std::string fn = "avg_pool2d_forward";
    const Pool2DShape s = pool_shape(fn, x_shape, pool, strides, pad, out_hw);
    const float* X = dptr<const float>(fn, "x", x, s.N * s.H * s.W * s.C);
    float* Y = dptr<float>(fn, "y", y, s.N * s.OH * s.OW * s.C);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::avg_pool2d_forward(X, Y, s, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("x"), py::arg("y"), py::arg("x_shape"), py::arg("pool"), py::arg("strides"),
     py::arg("pad"), py::arg("out_hw"), py::arg("stream"));

  m.def("avg_pool2d_backward", [](ptr_t dy, ptr_t dx, shape4_t x_shape, pair_t pool,
                                  pair_t strides, pair_t pad, pair_t out_hw, ptr_t stream) {
    const std::string fn = "avg_pool2d_backward";
    const Pool2DShape s = pool_shape(fn, x_shape, pool, strides, pad, out_hw);
    const float* DY = dptr<const float>(fn, "dy", dy, s.N * s.OH * s.OW * s.C);
    float* DX = dptr<float>(fn, "dx", dx, s.N * s.H * s.W * s.C);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::avg_pool2d_backward(DY, DX, s, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("dy"), py::arg("dx"), py::arg("x_shape"), py::arg("pool"), py::arg("strides"),
     py::arg("pad"), py::arg("out_hw"), py::arg("stream"), "dx (N, H, W, C) overwritten.");

  // ---- losses ----
  m.def("categorical_crossentropy", [](ptr_t y_true, ptr_t y_pred, ptr_t losses, ptr_t grad,
                                       int64_t N, int64_t C, bool from_logits, float scale,
                                       ptr_t stream) {
    const std::string fn = "categorical_crossentropy";
    const int64_t n = product(fn, {N, C});
    const float* T = dptr<const float>(fn, "y_true", y_true, n);
    const float* P = dptr<const float>(fn, "y_pred", y_pred, n);
    float* L = dptr<float>(fn, "losses", losses, N);
    float* G = dptr<float>(fn, "grad", grad, n, true);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::categorical_crossentropy(T, P, L, G, N, C, from_logits, scale, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("y_true"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"), py::arg("N"),
     py::arg("C"), py::arg("from_logits"), py::arg("scale"), py::arg("stream"));

  m.def("sparse_categorical_crossentropy", [](ptr_t labels, ptr_t y_pred, ptr_t losses,
                                              ptr_t grad, int64_t N, int64_t C, bool from_logits,
                                              float scale, ptr_t stream) {
    const std::string fn = "sparse_categorical_crossentropy";
    const int64_t n = product(fn, {N, C});
    if (N > 0 && C < 1) fail(fn, "'C' must be >= 1 when there are samples");
    const int64_t* LB = dptr<const int64_t>(fn, "labels", labels, N);
    const float* P = dptr<const float>(fn, "y_pred", y_pred, n);
    float* L = dptr<float>(fn, "losses", losses, N);
    float* G = dptr<float>(fn, "grad", grad, n, true);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::sparse_categorical_crossentropy(LB, P, L, G, N, C, from_logits, scale,
                                              as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("labels"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"), py::arg("N"),
     py::arg("C"), py::arg("from_logits"), py::arg("scale"), py::arg("stream"),
     "labels int64 (N,) in [0, C): the caller checks the range (a label outside it yields NaN).");

  m.def("binary_crossentropy", [](ptr_t y_true, ptr_t y_pred, ptr_t losses, ptr_t grad,
                                  int64_t N, int64_t D, bool from_logits, float scale,
                                  ptr_t stream) {
    const std::string fn = "binary_crossentropy";
    const int64_t n = product(fn, {N, D});
    const float* T = dptr<const float>(fn, "y_true", y_true, n);
    const float* P = dptr<const float>(fn, "y_pred", y_pred, n);
    float* L = dptr<float>(fn, "losses", losses, N);
    float* G = dptr<float>(fn, "grad", grad, n, true);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::binary_crossentropy(T, P, L, G, N, D, from_logits, scale, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("y_true"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"), py::arg("N"),
     py::arg("D"), py::arg("from_logits"), py::arg("scale"), py::arg("stream"));

  m.def("mean_squared_error", [](ptr_t y_true, ptr_t y_pred, ptr_t losses, ptr_t grad, int64_t N,
                                 int64_t D, float scale, ptr_t stream) {
    const std::string fn = "mean_squared_error";
    const int64_t n = product(fn, {N, D});
    const float* T = dptr<const float>(fn, "y_true", y_true, n);
    const float* P = dptr<const float>(fn, "y_pred", y_pred, n);
    float* L = dptr<float>(fn, "losses", losses, N);
    float* G = dptr<float>(fn, "grad", grad, n, true);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::mean_squared_error(T, P, L, G, N, D, scale, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("y_true"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"), py::arg("N"),
     py::arg("D"), py::arg("scale"), py::arg("stream"));

  // ---- optimizer updates ----
  m.def("sgd_update", [](ptr_t p, ptr_t g, ptr_t velocity, int64_t n, float lr, float momentum,
                         bool nesterov, ptr_t stream) {
    const std::string fn = "sgd_update";
    nonneg(fn, "n", n);
    product(fn, {n});
    float* P = dptr<float>(fn, "p", p, n);
    const float* G = dptr<const float>(fn, "g", g, n);
    float* V = dptr<float>(fn, "velocity", velocity, n, momentum == 0.f);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::sgd_update(P, G, V, n, lr, momentum, nesterov, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("p"), py::arg("g"), py::arg("velocity"), py::arg("n"), py::arg("lr"),
     py::arg("momentum"), py::arg("nesterov"), py::arg("stream"),
     "In place; velocity may be 0 only when momentum == 0.");

  m.def("adam_update", [](ptr_t p, ptr_t g, ptr_t mm, ptr_t v, ptr_t vhat, int64_t n, float lr,
                          float beta1, float beta2, float epsilon, int64_t t, ptr_t stream) {
    const std::string fn = "adam_update";
    nonneg(fn, "n", n);
    product(fn, {n});
    positive(fn, "t", t);
    float* P = dptr<float>(fn, "p", p, n);
    const float* G = dptr<const float>(fn, "g", g, n);
    float* M = dptr<float>(fn, "m", mm, n);
    float* V = dptr<float>(fn, "v", v, n);
    float* VH = dptr<float>(fn, "vhat", vhat, n, true);
    cudaError_t e;
    {
      py::gil_scoped_release nogil;
      e = nc::adam_update(P, G, M, V, VH, n, lr, beta1, beta2, epsilon, t, as_stream(stream));
    }
    check_cuda(fn, e);
  }, py::arg("p"), py::arg("g"), py::arg("m"), py::arg("v"), py::arg("vhat"), py::arg("n"),
     py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("epsilon"), py::arg("t"),
     py::arg("stream"), "In place, Keras 3 Adam at step t >= 1; vhat 0 unless amsgrad.");
}
