// Bindings: activation_forward/backward, softmax_forward/backward, bias_add, bias_grad
// (docs/KERNELS.md). Everything is validated before the GIL is released.
#include "nnforge/activation.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

// Distinct buffers that share memory would be read after being written: refuse them. The very
// same buffer (exact alias) is allowed where the kernel documents in-place use.
void no_partial_overlap(const std::string& fn, const char* na, const py::array& a, const char* nb,
                        const py::array& b, bool exact_ok) {
  if (a.size() == 0 || b.size() == 0) return;
  const auto lo_a = reinterpret_cast<uintptr_t>(a.data()), hi_a = lo_a + a.nbytes();
  const auto lo_b = reinterpret_cast<uintptr_t>(b.data()), hi_b = lo_b + b.nbytes();
  if (exact_ok && lo_a == lo_b && hi_a == hi_b) return;
  if (lo_a < hi_b && lo_b < hi_a)
    fail(fn, std::string("arguments '") + na + "' " + shape_str(a) + " and '" + nb + "' " +
                 shape_str(b) + " overlap in memory" + (exact_ok ? " (only an exact alias is allowed)" : ""));
}

}  // namespace

void bind_activation(py::module_& m) {
  m.def(
      "activation_forward",
      [](py::object xo, py::object yo, int64_t act) {
        const std::string fn = "activation_forward";
        py::array x = arr(fn, "x", xo), y = arr(fn, "y", yo);
        check_f32(fn, "x", x, -1, false);
        check_f32(fn, "y", y, -1, true);
        check_same_shape(fn, "x", x, "y", y);
        const nnforge::Act a = act_code(fn, act);
        no_partial_overlap(fn, "x", x, "y", y, true);
        const float* px = fptr(x);
        float* py_ = fmut(y);
        const int64_t n = static_cast<int64_t>(x.size());
        py::gil_scoped_release nogil;
        nnforge::activation_forward(a, px, py_, n);
      },
      py::arg("x"), py::arg("y"), py::arg("act"),
      "y = act(x) element-wise; y may be x (in place). act: 0 linear, 1 relu, 2 sigmoid, 3 tanh.");

  m.def(
      "activation_backward",
      [](py::object yo, py::object dyo, py::object dxo, int64_t act) {
        const std::string fn = "activation_backward";
        py::array y = arr(fn, "y", yo), dy = arr(fn, "dy", dyo), dx = arr(fn, "dx", dxo);
        check_f32(fn, "y", y, -1, false);
        check_f32(fn, "dy", dy, -1, false);
        check_f32(fn, "dx", dx, -1, true);
        check_same_shape(fn, "y", y, "dy", dy);
        check_same_shape(fn, "dy", dy, "dx", dx);
        const nnforge::Act a = act_code(fn, act);
        no_partial_overlap(fn, "dy", dy, "dx", dx, true);
        no_partial_overlap(fn, "y", y, "dx", dx, true);
        const float *py_ = fptr(y), *pdy = fptr(dy);
        float* pdx = fmut(dx);
        const int64_t n = static_cast<int64_t>(y.size());
        py::gil_scoped_release nogil;
        nnforge::activation_backward(a, py_, pdy, pdx, n);
      },
      py::arg("y"), py::arg("dy"), py::arg("dx"), py::arg("act"),
      "dx = dy * act'(.) written through the forward output y; dx may be dy.");

  m.def(
      "softmax_forward",
      [](py::object xo, py::object yo) {
        const std::string fn = "softmax_forward";
        py::array x = arr(fn, "x", xo), y = arr(fn, "y", yo);
        check_f32(fn, "x", x, 2, false);
        check_f32(fn, "y", y, 2, true);
        check_same_shape(fn, "x", x, "y", y);
        no_partial_overlap(fn, "x", x, "y", y, true);
        const float* px = fptr(x);
        float* py_ = fmut(y);
        const int64_t rows = x.shape(0), cols = x.shape(1);
        py::gil_scoped_release nogil;
        nnforge::softmax_forward(px, py_, rows, cols);
      },
      py::arg("x"), py::arg("y"), "Row-wise stable softmax of a 2-D (rows, cols) array.");

  m.def(
      "softmax_backward",
      [](py::object yo, py::object dyo, py::object dxo) {
        const std::string fn = "softmax_backward";
        py::array y = arr(fn, "y", yo), dy = arr(fn, "dy", dyo), dx = arr(fn, "dx", dxo);
        check_f32(fn, "y", y, 2, false);
        check_f32(fn, "dy", dy, 2, false);
        check_f32(fn, "dx", dx, 2, true);
        check_same_shape(fn, "y", y, "dy", dy);
        check_same_shape(fn, "dy", dy, "dx", dx);
        no_partial_overlap(fn, "dy", dy, "dx", dx, true);
        no_partial_overlap(fn, "y", y, "dx", dx, false);
        const float *py_ = fptr(y), *pdy = fptr(dy);
        float* pdx = fmut(dx);
        const int64_t rows = y.shape(0), cols = y.shape(1);
        py::gil_scoped_release nogil;
        nnforge::softmax_backward(py_, pdy, pdx, rows, cols);
      },
      py::arg("y"), py::arg("dy"), py::arg("dx"), "dx = y * (dy - sum(dy * y, row)).");

  m.def(
      "bias_add",
      [](py::object yo, py::object bo) {
        const std::string fn = "bias_add";
        py::array y = arr(fn, "y", yo), b = arr(fn, "bias", bo);
        check_f32(fn, "y", y, 2, true);
        check_f32(fn, "bias", b, 1, false);
        if (b.shape(0) != y.shape(1))
          fail(fn, "argument 'bias' " + shape_str(b) + " must have shape (" +
                       std::to_string(y.shape(1)) + ",) to match 'y' " + shape_str(y));
        no_partial_overlap(fn, "y", y, "bias", b, false);
        float* py_ = fmut(y);
        const float* pb = fptr(b);
        const int64_t rows = y.shape(0), cols = y.shape(1);
        py::gil_scoped_release nogil;
        nnforge::bias_add(py_, pb, rows, cols);
      },
      py::arg("y"), py::arg("bias"), "In place: y[r, c] += bias[c].");

  m.def(
      "bias_grad",
      [](py::object dyo, py::object dbo) {
        const std::string fn = "bias_grad";
        py::array dy = arr(fn, "dy", dyo), db = arr(fn, "db", dbo);
        check_f32(fn, "dy", dy, 2, false);
        check_f32(fn, "db", db, 1, true);
        if (db.shape(0) != dy.shape(1))
          fail(fn, "argument 'db' " + shape_str(db) + " must have shape (" +
                       std::to_string(dy.shape(1)) + ",) to match 'dy' " + shape_str(dy));
        no_partial_overlap(fn, "dy", dy, "db", db, false);
        const float* pdy = fptr(dy);
        float* pdb = fmut(db);
        const int64_t rows = dy.shape(0), cols = dy.shape(1);
        py::gil_scoped_release nogil;
        nnforge::bias_grad(pdy, pdb, rows, cols);
      },
      py::arg("dy"), py::arg("db"),
      "db[c] = sum_r dy[r, c] (fixed summation order, independent of the thread count).");
}
