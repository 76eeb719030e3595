// Bindings: max_pool2d_forward/backward, avg_pool2d_forward/backward (docs/KERNELS.md), the twins
// of cpp/bind/pool.cpp with `stream`. Geometry: pool, strides >= 1; pad >= 0; OH, OW >= 1 when
// N > 0; every window must hold at least one real element. max_pool2d_backward gathers through
// the windows, so unlike the CPU it needs the forward's pool, strides and pad; an argmax value
// that names no element of its window is ignored (never dereferenced).
#include <pybind11/pybind11.h>

#include <cstdint>
#include <limits>
#include <string>

#include "../../cpp/bind/geometry.h"  // pool2d_args (shared with _cpu)
#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;
namespace nc = nnforge::cuda;

namespace {

// x-like (N,H,W,C) and y-like (N,OH,OW,C) arrays with the pooling geometry (the CPU's rules,
// cpp/bind/geometry.h); the geometry is required here (max_pool2d_backward gathers by window).
nnforge::Pool2DShape make_shape(const std::string& fn, const DevArray& x, const DevArray& y,
                                const py::object& pool, const py::object& strides,
                                const py::object& pad) {
  if (pool.is_none() || strides.is_none() || pad.is_none())
    fail(fn, "arguments 'pool', 'strides' and 'pad' (the forward's geometry) are required");
  const int64_t xs[4] = {x.dim(0), x.dim(1), x.dim(2), x.dim(3)};
  const int64_t ys[4] = {y.dim(0), y.dim(1), y.dim(2), y.dim(3)};
  return nnforge_bind::pool2d_args(fn, xs, ys, x.name + " " + shape_str(x),
                                   y.name + " " + shape_str(y), pool, strides, pad);
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def(
      "max_pool2d_forward",
      [](py::object xo, py::object yo, py::object ao, py::object pool, py::object strides,
         py::object pad, std::uintptr_t stream) {
        const std::string fn = "max_pool2d_forward";
        const DevArray x = cuda_array(fn, "x", xo, "float32", 4, false);
        const DevArray y = cuda_array(fn, "y", yo, "float32", 4, true);
        const auto s = make_shape(fn, x, y, pool, strides, pad);
        const DevArray am = optional_array(fn, "argmax", ao, "int32", 4, true);
        if (!ao.is_none()) {
          same_shape(fn, y, am);
          if (s.H * s.W * s.C > std::numeric_limits<int32_t>::max())
            fail(fn, "H*W*C = " + std::to_string(s.H * s.W * s.C) +
                         " does not fit the int32 argmax: x " + shape_str(x));
        }
        no_overlap(fn, y, x);
        no_overlap(fn, am, x);
        no_overlap(fn, am, y);
        on_device(fn, {&x, &y, &am});
        call_nogil(fn, [&] {
          return nc::max_pool2d_forward(x.data<const float>(), y.data<float>(), am.data<int32_t>(),
                                        s, as_stream(stream));
        });
      },
      py::arg("x"), py::arg("y"), py::arg("argmax"), py::arg("pool"), py::arg("strides"),
      py::arg("pad"), py::arg("stream") = 0,
      "Max pooling NHWC; argmax (int32, or None) gets (ih*W + iw)*C + c of each winner (the\n"
      "first maximum in row-major window order, as on the CPU).");

  m.def(
      "max_pool2d_backward",
      [](py::object dyo, py::object ao, py::object dxo, py::object pool, py::object strides,
         py::object pad, std::uintptr_t stream) {
        const std::string fn = "max_pool2d_backward";
        const DevArray dy = cuda_array(fn, "dy", dyo, "float32", 4, false);
        const DevArray am = cuda_array(fn, "argmax", ao, "int32", 4, false);
        const DevArray dx = cuda_array(fn, "dx", dxo, "float32", 4, true);
        same_shape(fn, dy, am);
        const auto s = make_shape(fn, dx, dy, pool, strides, pad);
        no_overlap(fn, dx, dy);
        no_overlap(fn, dx, am);
        on_device(fn, {&dy, &am, &dx});
        call_nogil(fn, [&] {
          return nc::max_pool2d_backward(dy.data<const float>(), am.data<const int32_t>(),
                                         dx.data<float>(), s, as_stream(stream));
        });
      },
      py::arg("dy"), py::arg("argmax"), py::arg("dx"), py::arg("pool"), py::arg("strides"),
      py::arg("pad"), py::arg("stream") = 0,
      "dx (overwritten): each element gathers the dy of the windows whose argmax names it, in\n"
      "ascending window order (deterministic, and the CPU's summation order).");

  m.def(
      "avg_pool2d_forward",
      [](py::object xo, py::object yo, py::object pool, py::object strides, py::object pad,
         std::uintptr_t stream) {
        const std::string fn = "avg_pool2d_forward";
        const DevArray x = cuda_array(fn, "x", xo, "float32", 4, false);
        const DevArray y = cuda_array(fn, "y", yo, "float32", 4, true);
        const auto s = make_shape(fn, x, y, pool, strides, pad);
        no_overlap(fn, y, x);
        on_device(fn, {&x, &y});
        call_nogil(fn, [&] {
          return nc::avg_pool2d_forward(x.data<const float>(), y.data<float>(), s,
                                        as_stream(stream));
        });
      },
      py::arg("x"), py::arg("y"), py::arg("pool"), py::arg("strides"), py::arg("pad"),
      py::arg("stream") = 0,
      "Average pooling NHWC over the real (non-padding) elements of each window.");

  m.def(
      "avg_pool2d_backward",
      [](py::object dyo, py::object dxo, py::object pool, py::object strides, py::object pad,
         std::uintptr_t stream) {
        const std::string fn = "avg_pool2d_backward";
        const DevArray dy = cuda_array(fn, "dy", dyo, "float32", 4, false);
        const DevArray dx = cuda_array(fn, "dx", dxo, "float32", 4, true);
        const auto s = make_shape(fn, dx, dy, pool, strides, pad);
        no_overlap(fn, dx, dy);
        on_device(fn, {&dy, &dx});
        call_nogil(fn, [&] {
          return nc::avg_pool2d_backward(dy.data<const float>(), dx.data<float>(), s,
                                         as_stream(stream));
        });
      },
      py::arg("dy"), py::arg("dx"), py::arg("pool"), py::arg("strides"), py::arg("pad"),
      py::arg("stream") = 0, "dx (overwritten): each window's gradient over its real elements.");
}
