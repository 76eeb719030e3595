// Bindings: max_pool2d_forward/backward, avg_pool2d_forward/backward (docs/KERNELS.md).
// Geometry: pool, strides >= 1; pad >= 0; OH, OW >= 1 when N > 0; and every window must hold at
// least one real element (padding never wins a max and is never averaged, so an all-padding
// window has no value). argmax is int32 (index in the image) or uint8 (index in the window, for
// windows of at most 256 elements). With the geometry, max_pool2d_backward only compares argmax
// values; without it (int32 only) they are scanned before the kernel scatters with them.
#include "nnforge/pool.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "bind/check.h"
#include "bind/geometry.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

// x-like (N,H,W,C) and y-like (N,OH,OW,C) arrays with the pooling geometry (bind/geometry.h).
nnforge::Pool2DShape make_shape(const std::string& fn, const py::array& x, const py::array& y,
                                const char* xn, const char* yn, const py::object& pool,
                                const py::object& strides, const py::object& pad) {
  const int64_t xs[4] = {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
  const int64_t ys[4] = {y.shape(0), y.shape(1), y.shape(2), y.shape(3)};
  return pool2d_args(fn, xs, ys, std::string(xn) + " " + shape_str(x),
                     std::string(yn) + " " + shape_str(y), pool, strides, pad);
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def(
      "max_pool2d_forward",
      [](py::object xo, py::object yo, py::object ao, py::object pool, py::object strides,
         py::object pad) {
        const std::string fn = "max_pool2d_forward";
        py::array x = arr(fn, "x", xo), y = arr(fn, "y", yo);
        check_f32(fn, "x", x, 4, false);
        check_f32(fn, "y", y, 4, true);
        const auto s = make_shape(fn, x, y, "x", "y", pool, strides, pad);
        no_overlap(fn, "y", y, "x", x);
        py::array a;
        if (!ao.is_none()) {
          a = arr(fn, "argmax", ao);
          check_argmax(fn, a, true);
          check_same_shape(fn, "y", y, "argmax", a);
          if (is_u8(a)) {
            check_window_fits_u8(fn, s);
          } else if (s.H * s.W * s.C > std::numeric_limits<int32_t>::max()) {
            fail(fn, "H*W*C = " + std::to_string(s.H * s.W * s.C) +
                         " does not fit the int32 argmax: x " + shape_str(x));
          }
          no_overlap(fn, "argmax", a, "x", x);
          no_overlap(fn, "argmax", a, "y", y);
        }
        const float* px = fptr(x);
        float* py_ = fmut(y);
        if (!ao.is_none() && is_u8(a)) {
          uint8_t* pa = static_cast<uint8_t*>(a.mutable_data());
          py::gil_scoped_release nogil;
          nnforge::max_pool2d_forward_local(px, py_, pa, s);
          return;
        }
        int32_t* pa = ao.is_none() ? nullptr : static_cast<int32_t*>(a.mutable_data());
        py::gil_scoped_release nogil;
        nnforge::max_pool2d_forward(px, py_, pa, s);
      },
      py::arg("x"), py::arg("y"), py::arg("argmax"), py::arg("pool"), py::arg("strides"),
      py::arg("pad"),
      "Max pooling NHWC. argmax (or None) gets each winner's index: int32 (ih*W + iw)*C + c in\n"
      "its image, or uint8 (ih - hs)*KW + (iw - ws) in its window (pool of <= 256 elements).");

  m.def(
      "max_pool2d_backward",
      [](py::object dyo, py::object ao, py::object dxo, py::object pool, py::object strides,
         py::object pad, py::object reluo) {
        const std::string fn = "max_pool2d_backward";
        py::array dy = arr(fn, "dy", dyo), a = arr(fn, "argmax", ao), dx = arr(fn, "dx", dxo);
        check_f32(fn, "dy", dy, 4, false);
        check_argmax(fn, a, false);
        check_f32(fn, "dx", dx, 4, true);
        check_same_shape(fn, "dy", dy, "argmax", a);
        if (!pool.is_none()) {
          // Geometry given: checked as for the forward (dx plays x, dy plays y); each dx element
          // is gathered from the windows that hold it, argmax values only compared.
          const auto s = make_shape(fn, dx, dy, "dx", "dy", pool, strides, pad);
          no_overlap(fn, "dx", dx, "dy", dy);
          no_overlap(fn, "dx", dx, "argmax", a);
          const float* pdy = fptr(dy);
          float* pdx = fmut(dx);
          if (!reluo.is_none()) {  // relu's gradient on the pooled output, folded in
            if (!is_u8(a)) fail(fn, "relu_y needs a uint8 argmax (index in the window)");
            py::array ry = arr(fn, "relu_y", reluo);
            check_f32(fn, "relu_y", ry, 4, false);
            check_same_shape(fn, "dy", dy, "relu_y", ry);
            no_overlap(fn, "dx", dx, "relu_y", ry);
            check_window_fits_u8(fn, s);
            const uint8_t* pa = static_cast<const uint8_t*>(a.data());
            const float* pry = fptr(ry);
            py::gil_scoped_release nogil;
            nnforge::max_pool2d_backward_windows_relu(pdy, pa, pry, pdx, s);
          } else if (is_u8(a)) {
            check_window_fits_u8(fn, s);
            const uint8_t* pa = static_cast<const uint8_t*>(a.data());
            py::gil_scoped_release nogil;
            nnforge::max_pool2d_backward_windows(pdy, pa, pdx, s);
          } else {
            const int32_t* pa = static_cast<const int32_t*>(a.data());
            py::gil_scoped_release nogil;
            nnforge::max_pool2d_backward_windows(pdy, pa, pdx, s);
          }
          return;
        }
        if (!strides.is_none() || !pad.is_none())
          fail(fn, "strides and pad are only meaningful together with pool");
        if (!reluo.is_none()) fail(fn, "relu_y needs the forward's pool, strides and pad");
        if (is_u8(a))
          fail(fn, "a uint8 argmax (index in the window) needs the forward's pool, strides and pad");
        const std::string desc =
            "dy " + shape_str(dy) + ", argmax " + shape_str(a) + ", dx " + shape_str(dx);
        if (dy.shape(0) != dx.shape(0)) fail(fn, "batch sizes differ: " + desc);
        if (dy.shape(3) != dx.shape(3)) fail(fn, "channel counts differ: " + desc);
        nnforge::Pool2DShape s{};
        s.N = dx.shape(0); s.H = dx.shape(1); s.W = dx.shape(2); s.C = dx.shape(3);
        s.OH = dy.shape(1); s.OW = dy.shape(2);
        s.KH = s.KW = s.SH = s.SW = 1;
        const int64_t img = mul(fn, mul(fn, s.H, s.W, "H*W"), s.C, "H*W*C: " + desc);
        mul(fn, s.N, img, "N*H*W*C: " + desc);
        no_overlap(fn, "dx", dx, "dy", dy);
        no_overlap(fn, "dx", dx, "argmax", a);
        // Every index must point inside its image.
        const int32_t* pa = static_cast<const int32_t*>(a.data());
        const int64_t total = static_cast<int64_t>(a.size());
        for (int64_t i = 0; i < total; ++i)
          if (pa[i] < 0 || pa[i] >= img)
            fail(fn, "argmax value " + std::to_string(pa[i]) + " at flat index " +
                         std::to_string(i) + " is outside [0, H*W*C = " + std::to_string(img) +
                         "): " + desc);
        const float* pdy = fptr(dy);
        float* pdx = fmut(dx);
        py::gil_scoped_release nogil;
        nnforge::max_pool2d_backward(pdy, pa, pdx, s);
      },
      py::arg("dy"), py::arg("argmax"), py::arg("dx"), py::arg("pool") = py::none(),
      py::arg("strides") = py::none(), py::arg("pad") = py::none(),
      py::arg("relu_y") = py::none(),
      "dx (overwritten) = zeros with dy scattered (accumulated) to the argmax positions. With\n"
      "the forward's pool, strides and pad (required for a uint8 argmax), each dx element is\n"
      "written once, gathered from the windows that hold it (the same sums). relu_y (float32,\n"
      "dy's shape; uint8 argmax only): the pooled output of a relu layer; a window's dy counts\n"
      "only where it is > 0 (relu's gradient folded in, bitwise the two passes).");

  m.def(
      "avg_pool2d_forward",
      [](py::object xo, py::object yo, py::object pool, py::object strides, py::object pad) {
        const std::string fn = "avg_pool2d_forward";
        py::array x = arr(fn, "x", xo), y = arr(fn, "y", yo);
        check_f32(fn, "x", x, 4, false);
        check_f32(fn, "y", y, 4, true);
        const auto s = make_shape(fn, x, y, "x", "y", pool, strides, pad);
        no_overlap(fn, "y", y, "x", x);
        const float* px = fptr(x);
        float* py_ = fmut(y);
        py::gil_scoped_release nogil;
        nnforge::avg_pool2d_forward(px, py_, s);
      },
      py::arg("x"), py::arg("y"), py::arg("pool"), py::arg("strides"), py::arg("pad"),
      "Average pooling NHWC over the real (non-padding) elements of each window.");

  m.def(
      "avg_pool2d_backward",
      [](py::object dyo, py::object dxo, py::object pool, py::object strides, py::object pad) {
        const std::string fn = "avg_pool2d_backward";
        py::array dy = arr(fn, "dy", dyo), dx = arr(fn, "dx", dxo);
        check_f32(fn, "dy", dy, 4, false);
        check_f32(fn, "dx", dx, 4, true);
        const auto s = make_shape(fn, dx, dy, "dx", "dy", pool, strides, pad);
        no_overlap(fn, "dx", dx, "dy", dy);
        const float* pdy = fptr(dy);
        float* pdx = fmut(dx);
        py::gil_scoped_release nogil;
        nnforge::avg_pool2d_backward(pdy, pdx, s);
      },
      py::arg("dy"), py::arg("dx"), py::arg("pool"), py::arg("strides"), py::arg("pad"),
      "dx (overwritten): each window's gradient divided by its real-element count.");
}
