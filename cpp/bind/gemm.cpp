// Bindings: sgemm and sgemm_bias_act (docs/KERNELS.md).
#include "nnforge/gemm.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

struct Dims {
  int64_t M, N, K, lda, ldb, ldc;
};

// Validates a, b, c (and returns the GEMM sizes) for sgemm-like functions.
Dims check_gemm(const std::string& fn, const py::array& a, const py::array& b, const py::array& c,
                bool trans_a, bool trans_b) {
  check_f32(fn, "a", a, 2, false);
  check_f32(fn, "b", b, 2, false);
  check_f32(fn, "c", c, 2, true);
  std::string desc;
  const GemmSizes g = gemm_sizes(fn, {a.shape(0), a.shape(1)}, {b.shape(0), b.shape(1)},
                                 {c.shape(0), c.shape(1)}, trans_a, trans_b, desc);
  if (c.size() > 0) {
    // Output must not overlap the inputs (the kernel writes C while reading A and B).
    auto lo = [](const py::array& x) { return reinterpret_cast<uintptr_t>(x.data()); };
    auto hi = [](const py::array& x) { return reinterpret_cast<uintptr_t>(x.data()) + x.nbytes(); };
    if ((a.size() > 0 && lo(a) < hi(c) && lo(c) < hi(a)) ||
        (b.size() > 0 && lo(b) < hi(c) && lo(c) < hi(b)))
      fail(fn, "argument 'c' must not share memory with 'a' or 'b': " + desc);
  }
  Dims d;
  d.M = g.M;
  d.N = g.N;
  d.K = g.K;
  d.lda = std::max<int64_t>(1, a.shape(1));
  d.ldb = std::max<int64_t>(1, b.shape(1));
  d.ldc = std::max<int64_t>(1, g.N);
  return d;
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def(
      "sgemm",
      [](const py::array& a, const py::array& b, py::array& c, bool trans_a, bool trans_b,
         float alpha, float beta) {
        const Dims d = check_gemm("sgemm", a, b, c, trans_a, trans_b);
        const float* pa = fptr(a);
        const float* pb = fptr(b);
        float* pc = fmut(c);
        py::gil_scoped_release nogil;
        nnforge::sgemm(trans_a, trans_b, d.M, d.N, d.K, alpha, pa, d.lda, pb, d.ldb, beta, pc,
                       d.ldc);
      },
      py::arg("a"), py::arg("b"), py::arg("c"), py::arg("trans_a") = false,
      py::arg("trans_b") = false, py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f,
      "c = alpha * op(a) @ op(b) + beta * c (float32, C-contiguous; beta == 0: c not read).");
  m.def(
      "sgemm_bias_act",
      [](const py::array& a, const py::array& b, const py::object& bias, py::array& c,
         bool trans_a, bool trans_b, int act) {
        const std::string fn = "sgemm_bias_act";
        const Dims d = check_gemm(fn, a, b, c, trans_a, trans_b);
        const nnforge::Act ac = act_code(fn, act);
        const float* pbias = nullptr;
        py::array bias_arr;
        if (!is_none(bias)) {
          if (!py::isinstance<py::array>(bias))
            throw py::type_error(fn + ": argument 'bias' must be a numpy array or None");
          bias_arr = py::reinterpret_borrow<py::array>(bias);
          check_f32(fn, "bias", bias_arr, 1, false);
          if (bias_arr.shape(0) != d.N)
            fail(fn, "argument 'bias' must have shape (" + std::to_string(d.N) + ",), got " +
                         shape_str(bias_arr) + " for c " + shape_str(c));
          pbias = fptr(bias_arr);
        }
        const float* pa = fptr(a);
        const float* pb = fptr(b);
        float* pc = fmut(c);
        py::gil_scoped_release nogil;
        nnforge::sgemm_bias_act(trans_a, trans_b, d.M, d.N, d.K, pa, d.lda, pb, d.ldb, pbias,
                                ac, pc, d.ldc);
      },
      py::arg("a"), py::arg("b"), py::arg("bias"), py::arg("c"), py::arg("trans_a") = false,
      py::arg("trans_b") = false, py::arg("act") = 0,
      "c = act(op(a) @ op(b) + bias); bias (N,) or None; act 0 linear, 1 relu, 2 sigmoid, 3 tanh.");
}
