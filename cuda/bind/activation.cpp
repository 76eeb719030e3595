// Bindings: activation_forward/backward, softmax_forward/backward, bias_add, bias_grad
// (docs/KERNELS.md), the twins of cpp/bind/activation.cpp with `stream` (and a workspace for
// bias_grad's partial sums).
#include <pybind11/pybind11.h>

#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;
namespace nc = nnforge::cuda;

void bind_activation(py::module_& m) {
  m.def(
      "activation_forward",
      [](py::object xo, py::object yo, int64_t act, std::uintptr_t stream) {
        const std::string fn = "activation_forward";
        const DevArray x = cuda_array(fn, "x", xo, "float32", -1, false);
        const DevArray y = cuda_array(fn, "y", yo, "float32", -1, true);
        same_shape(fn, x, y);
        const nnforge::Act a = act_code(fn, act);
        no_overlap(fn, x, y, true);
        on_device(fn, {&x, &y});
        call_nogil(fn, [&] {
          return nc::activation_forward(a, x.data<const float>(), y.data<float>(), x.size,
                                        as_stream(stream));
        });
      },
      py::arg("x"), py::arg("y"), py::arg("act"), py::arg("stream") = 0,
      "y = act(x) element-wise; y may be x (in place). act: 0 linear, 1 relu, 2 sigmoid, 3 tanh.");

  m.def(
      "activation_backward",
      [](py::object yo, py::object dyo, py::object dxo, int64_t act, std::uintptr_t stream) {
        const std::string fn = "activation_backward";
        const DevArray y = cuda_array(fn, "y", yo, "float32", -1, false);
        const DevArray dy = cuda_array(fn, "dy", dyo, "float32", -1, false);
        const DevArray dx = cuda_array(fn, "dx", dxo, "float32", -1, true);
        same_shape(fn, y, dy);
        same_shape(fn, dy, dx);
        const nnforge::Act a = act_code(fn, act);
        no_overlap(fn, dy, dx, true);
        no_overlap(fn, y, dx, true);
        on_device(fn, {&y, &dy, &dx});
        call_nogil(fn, [&] {
          return nc::activation_backward(a, y.data<const float>(), dy.data<const float>(),
                                         dx.data<float>(), y.size, as_stream(stream));
        });
      },
      py::arg("y"), py::arg("dy"), py::arg("dx"), py::arg("act"), py::arg("stream") = 0,
      "dx = dy * act'(.) written through the forward output y; dx may be dy.");

  m.def(
      "softmax_forward",
      [](py::object xo, py::object yo, std::uintptr_t stream) {
        const std::string fn = "softmax_forward";
        const DevArray x = cuda_array(fn, "x", xo, "float32", 2, false);
        const DevArray y = cuda_array(fn, "y", yo, "float32", 2, true);
        same_shape(fn, x, y);
        no_overlap(fn, x, y, true);
        on_device(fn, {&x, &y});
        call_nogil(fn, [&] {
          return nc::softmax_forward(x.data<const float>(), y.data<float>(), x.dim(0), x.dim(1),
                                     as_stream(stream));
        });
      },
      py::arg("x"), py::arg("y"), py::arg("stream") = 0,
      "Row-wise stable softmax of a 2-D (rows, cols) array.");

  m.def(
      "softmax_backward",
      [](py::object yo, py::object dyo, py::object dxo, std::uintptr_t stream) {
        const std::string fn = "softmax_backward";
        const DevArray y = cuda_array(fn, "y", yo, "float32", 2, false);
        const DevArray dy = cuda_array(fn, "dy", dyo, "float32", 2, false);
        const DevArray dx = cuda_array(fn, "dx", dxo, "float32", 2, true);
        same_shape(fn, y, dy);
        same_shape(fn, dy, dx);
        no_overlap(fn, dy, dx, true);
        no_overlap(fn, y, dx);
        on_device(fn, {&y, &dy, &dx});
        call_nogil(fn, [&] {
          return nc::softmax_backward(y.data<const float>(), dy.data<const float>(),
                                      dx.data<float>(), y.dim(0), y.dim(1), as_stream(stream));
        });
      },
      py::arg("y"), py::arg("dy"), py::arg("dx"), py::arg("stream") = 0,
      "dx = y * (dy - sum(dy * y, row)); dx may be dy.");

  m.def(
      "bias_add",
      [](py::object yo, py::object bo, std::uintptr_t stream) {
        const std::string fn = "bias_add";
        const DevArray y = cuda_array(fn, "y", yo, "float32", 2, true);
        const DevArray b = cuda_array(fn, "bias", bo, "float32", 1, false);
        want_shape(fn, b, {y.dim(1)}, "to match 'y' " + shape_str(y));
        no_overlap(fn, y, b);
        on_device(fn, {&y, &b});
        call_nogil(fn, [&] {
          return nc::bias_add(y.data<float>(), b.data<const float>(), y.dim(0), y.dim(1),
                              as_stream(stream));
        });
      },
      py::arg("y"), py::arg("bias"), py::arg("stream") = 0, "In place: y[r, c] += bias[c].");

  m.def(
      "bias_grad_workspace_bytes",
      [](int64_t rows, int64_t cols) {
        const std::string fn = "bias_grad_workspace_bytes";
        if (rows < 0 || cols < 0) fail(fn, "'rows' and 'cols' must be >= 0");
        mul(fn, mul(fn, rows, cols, "rows*cols"), 4, "rows*cols*4");
        return static_cast<int64_t>(nc::bias_grad_workspace_bytes(rows, cols));
      },
      py::arg("rows"), py::arg("cols"),
      "Bytes of 'workspace' bias_grad needs for dy (rows, cols): 0 up to 1024 rows.");

  m.def(
      "bias_grad",
      [](py::object dyo, py::object dbo, py::object wso, std::uintptr_t stream) {
        const std::string fn = "bias_grad";
        const DevArray dy = cuda_array(fn, "dy", dyo, "float32", 2, false);
        const DevArray db = cuda_array(fn, "db", dbo, "float32", 1, true);
        want_shape(fn, db, {dy.dim(1)}, "to match 'dy' " + shape_str(dy));
        no_overlap(fn, dy, db);
        DevArray ws;
        void* pws = workspace(fn, wso, nc::bias_grad_workspace_bytes(dy.dim(0), dy.dim(1)), &ws);
        no_overlap(fn, ws, dy);
        no_overlap(fn, ws, db);
        on_device(fn, {&dy, &db, &ws});
        call_nogil(fn, [&] {
          return nc::bias_grad(dy.data<const float>(), db.data<float>(), dy.dim(0), dy.dim(1), pws,
                               static_cast<size_t>(ws.nbytes()), as_stream(stream));
        });
      },
      py::arg("dy"), py::arg("db"), py::arg("workspace") = py::none(), py::arg("stream") = 0,
      "db[c] = sum_r dy[r, c] (a fixed summation order: deterministic). Above 1024 rows it needs\n"
      "a workspace of bias_grad_workspace_bytes(rows, cols) bytes.");
}
