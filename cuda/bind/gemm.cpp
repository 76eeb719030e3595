// Bindings: sgemm and sgemm_bias_act (docs/KERNELS.md), the twins of cpp/bind/gemm.cpp with
// `precision` and `stream`. Operands may have a row pitch (a[:, :k] of a wider array): it becomes
// the leading dimension.
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;

namespace {

struct Dims {
  int64_t M, N, K, lda, ldb, ldc;
};

// Validates a, b, c (and returns the GEMM sizes) for sgemm-like functions.
Dims check_gemm(const std::string& fn, const DevArray& a, const DevArray& b, const DevArray& c,
                bool trans_a, bool trans_b) {
  std::string desc;
  const nnforge_bind::GemmSizes g =
      nnforge_bind::gemm_sizes(fn, {a.dim(0), a.dim(1)}, {b.dim(0), b.dim(1)},
                               {c.dim(0), c.dim(1)}, trans_a, trans_b, desc);
  // The kernels write C while reading A and B: no overlap, not even the same buffer.
  no_overlap(fn, c, a);
  no_overlap(fn, c, b);
  return Dims{g.M, g.N, g.K, std::max<int64_t>(1, a.ld), std::max<int64_t>(1, b.ld),
              std::max<int64_t>(1, c.ld)};
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def(
      "sgemm",
      [](py::object ao, py::object bo, py::object co, bool trans_a, bool trans_b, float alpha,
         float beta, const std::string& precision, std::uintptr_t stream) {
        const std::string fn = "sgemm";
        const DevArray a = cuda_array(fn, "a", ao, "float32", 2, false, true);
        const DevArray b = cuda_array(fn, "b", bo, "float32", 2, false, true);
        const DevArray c = cuda_array(fn, "c", co, "float32", 2, true, true);
        const Dims d = check_gemm(fn, a, b, c, trans_a, trans_b);
        const auto prec = precision_code(fn, precision);
        on_device(fn, {&a, &b, &c});
        call_nogil(fn, [&] {
          return nnforge::cuda::sgemm(trans_a, trans_b, d.M, d.N, d.K, alpha,
                                      a.data<const float>(), d.lda, b.data<const float>(), d.ldb,
                                      beta, c.data<float>(), d.ldc, nullptr, nnforge::Act::Linear,
                                      prec, as_stream(stream));
        });
      },
      py::arg("a"), py::arg("b"), py::arg("c"), py::arg("trans_a") = false,
      py::arg("trans_b") = false, py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f,
      py::arg("precision") = "fp32", py::arg("stream") = 0,
      "c = alpha * op(a) @ op(b) + beta * c (beta == 0: c not read; alpha == 0: a, b not read).");

  m.def(
      "sgemm_bias_act",
      [](py::object ao, py::object bo, py::object biaso, py::object co, bool trans_a,
         bool trans_b, int64_t act, const std::string& precision, std::uintptr_t stream) {
        const std::string fn = "sgemm_bias_act";
        const DevArray a = cuda_array(fn, "a", ao, "float32", 2, false, true);
        const DevArray b = cuda_array(fn, "b", bo, "float32", 2, false, true);
        const DevArray c = cuda_array(fn, "c", co, "float32", 2, true, true);
        const Dims d = check_gemm(fn, a, b, c, trans_a, trans_b);
        const DevArray bias = optional_array(fn, "bias", biaso, "float32", 1, false);
        if (!biaso.is_none()) {
          want_shape(fn, bias, {d.N}, "one bias per column of c " + shape_str(c));
          no_overlap(fn, c, bias);
        }
        const nnforge::Act ac = act_code(fn, act);
        const auto prec = precision_code(fn, precision);
        on_device(fn, {&a, &b, &c, &bias});
        call_nogil(fn, [&] {
          return nnforge::cuda::sgemm(trans_a, trans_b, d.M, d.N, d.K, 1.f, a.data<const float>(),
                                      d.lda, b.data<const float>(), d.ldb, 0.f, c.data<float>(),
                                      d.ldc, bias.data<const float>(), ac, prec, as_stream(stream));
        });
      },
      py::arg("a"), py::arg("b"), py::arg("bias"), py::arg("c"), py::arg("trans_a") = false,
      py::arg("trans_b") = false, py::arg("act") = 0, py::arg("precision") = "fp32",
      py::arg("stream") = 0,
      "c = act(op(a) @ op(b) + bias); bias (N,) or None; act 0 linear, 1 relu, 2 sigmoid, 3 tanh.");
}
