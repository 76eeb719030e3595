// Bindings: max_pool2d_forward/backward, avg_pool2d_forward/backward (docs/KERNELS.md), the twins
// of cpp/bind/pool.cpp with `stream`. Geometry: pool, strides >= 1; pad >= 0; OH, OW >= 1 when
// N > 0; every window must hold at least one real element. max_pool2d_backward gathers through
// the windows, so unlike the CPU it needs the forward's pool, strides and pad; an argmax value
// that names no element of its window is ignored (never dereferenced).
#include <pybind11/pybind11.h>

#include <cstdint>
#include <limits>
#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;
namespace nc = nnforge::cuda;

namespace {

// x-like (N,H,W,C) and y-like (N,OH,OW,C) arrays with the pooling geometry.
nnforge::Pool2DShape make_shape(const std::string& fn, const DevArray& x, const DevArray& y,
                                const py::object& pool, const py::object& strides,
                                const py::object& pad) {
  if (pool.is_none() || strides.is_none() || pad.is_none())
    fail(fn, "arguments 'pool', 'strides' and 'pad' (the forward's geometry) are required");
  const Pair k = pair_arg(fn, "pool", pool, 1);
  const Pair st = pair_arg(fn, "strides", strides, 1);
  const Pair pd = pair_arg(fn, "pad", pad, 0);
  const std::string desc = x.name + " " + shape_str(x) + ", " + y.name + " " + shape_str(y) +
                           ", pool " + pair_str(k) + ", strides " + pair_str(st) + ", pad " +
                           pair_str(pd);
  if (x.dim(0) != y.dim(0)) fail(fn, "batch sizes differ: " + desc);
  if (x.dim(3) != y.dim(3)) fail(fn, "channel counts differ: " + desc);
  nnforge::Pool2DShape s;
  s.N = x.dim(0); s.H = x.dim(1); s.W = x.dim(2); s.C = x.dim(3);
  s.KH = k[0]; s.KW = k[1]; s.SH = st[0]; s.SW = st[1];
  s.pad_top = pd[0]; s.pad_left = pd[1];
  s.OH = y.dim(1); s.OW = y.dim(2);
  mul(fn, mul(fn, s.OH + s.pad_top, s.SH, "(OH+pad)*SH"), 2, "window starts: " + desc);
  mul(fn, mul(fn, s.OW + s.pad_left, s.SW, "(OW+pad)*SW"), 2, "window starts: " + desc);
  if (s.N > 0) {
    if (s.OH < 1 || s.OW < 1)
      fail(fn, "output size (OH, OW) must be >= 1 when the batch is not empty: " + desc);
    if (s.H < 1 || s.W < 1)
      fail(fn, "input height and width must be >= 1 when the batch is not empty: " + desc);
    const int64_t last_h = (s.OH - 1) * s.SH - s.pad_top;
    const int64_t last_w = (s.OW - 1) * s.SW - s.pad_left;
    if (s.pad_top >= s.KH || s.pad_left >= s.KW || last_h >= s.H || last_w >= s.W)
      fail(fn, "some pooling windows hold only padding (need pad < pool and "
               "(OH-1)*SH - pad_top < H, (OW-1)*SW - pad_left < W): " + desc);
  }
  return s;
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
        cudaError_t e;
        {
          py::gil_scoped_release nogil;
          e = nc::max_pool2d_forward(x.data<const float>(), y.data<float>(), am.data<int32_t>(),
                                     s, as_stream(stream));
        }
        check_cuda(fn, e);
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
        cudaError_t e;
        {
          py::gil_scoped_release nogil;
          e = nc::max_pool2d_backward(dy.data<const float>(), am.data<const int32_t>(),
                                      dx.data<float>(), s, as_stream(stream));
        }
        check_cuda(fn, e);
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
        cudaError_t e;
        {
          py::gil_scoped_release nogil;
          e = nc::avg_pool2d_forward(x.data<const float>(), y.data<float>(), s,
                                     as_stream(stream));
        }
        check_cuda(fn, e);
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
        cudaError_t e;
        {
          py::gil_scoped_release nogil;
          e = nc::avg_pool2d_backward(dy.data<const float>(), dx.data<float>(), s,
                                      as_stream(stream));
        }
        check_cuda(fn, e);
      },
      py::arg("dy"), py::arg("dx"), py::arg("pool"), py::arg("strides"), py::arg("pad"),
      py::arg("stream") = 0, "dx (overwritten): each window's gradient over its real elements.");
}
