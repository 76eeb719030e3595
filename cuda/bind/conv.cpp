// Bindings: im2col, col2im, conv2d_workspace_bytes, conv2d_forward, conv2d_backward_input,
// conv2d_backward_filter (docs/KERNELS.md), the twins of cpp/bind/conv.cpp with `precision`,
// `workspace` and `stream`. Geometry: kernel, strides, dilation >= 1; pad >= 0; OH, OW >= 1 when
// N > 0; every size product (and every index the kernels form) must fit in int64. The fused
// activation gradient of the CPU's conv2d_backward_filter is a separate activation_backward here.
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>

#include "../../cpp/bind/geometry.h"  // conv2d_shape, cols_geometry, geom_desc (shared with _cpu)
#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;
using nnforge_bind::cols_geometry;
using nnforge_bind::conv2d_shape;
using nnforge_bind::geom_desc;
namespace nc = nnforge::cuda;

namespace {

struct Geometry {
  Pair st, dil, pad;
};

Geometry geometry(const std::string& fn, const py::object& strides, const py::object& dilation,
                  const py::object& pad) {
  return Geometry{pair_arg(fn, "strides", strides, 1), pair_arg(fn, "dilation", dilation, 1),
                  pair_arg(fn, "pad", pad, 0)};
}

// x (or dx) (N,H,W,C), w (or dw) (KH,KW,C,F), y (or dy) (N,OH,OW,F): consistent sizes.
nnforge::Conv2DShape conv_shape(const std::string& fn, const DevArray& x, const DevArray& w,
                                const DevArray& y, const Geometry& g) {
  const std::string desc = x.name + " " + shape_str(x) + ", " + w.name + " " + shape_str(w) +
                           ", " + y.name + " " + shape_str(y) + ", " +
                           geom_desc(g.st, g.dil, g.pad);
  if (y.dim(0) != x.dim(0))
    fail(fn, "batch sizes of '" + x.name + "' and '" + y.name + "' differ: " + desc);
  if (w.dim(2) != x.dim(3))
    fail(fn, "'" + w.name + "' input channels (shape[2]) must equal " + x.name +
                 ".shape[3]: " + desc);
  if (y.dim(3) != w.dim(3))
    fail(fn, "'" + y.name + "' channels (shape[3]) must equal the filters " + w.name +
                 ".shape[3]: " + desc);
  return conv2d_shape(fn, x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(1), w.dim(3),
                    g.st, g.dil, g.pad, y.dim(1), y.dim(2), desc);
}

// im2col / col2im: x-like (N,H,W,C) and cols (N*OH*OW, KH*KW*C).
nnforge::Conv2DShape cols_shape(const std::string& fn, const DevArray& x, const DevArray& cols,
                                const py::object& kernel, const py::object& strides,
                                const py::object& dilation, const py::object& pad,
                                const py::object& out_hw) {
  const int64_t xs[4] = {x.dim(0), x.dim(1), x.dim(2), x.dim(3)};
  std::string desc;
  const auto s = cols_geometry(fn, xs, x.name + " " + shape_str(x) + ", cols " + shape_str(cols),
                               kernel, strides, dilation, pad, out_hw, desc);
  want_shape(fn, cols, {s.N * s.OH * s.OW, s.KH * s.KW * s.C}, "(N*OH*OW, KH*KW*C) for " + desc);
  return s;
}

// A shape given as a tuple of 4 ints (conv2d_workspace_bytes).
std::array<int64_t, 4> shape4(const std::string& fn, const char* name, const py::object& o) {
  std::array<int64_t, 4> s{};
  try {
    py::sequence seq = o.cast<py::sequence>();
    if (seq.size() != 4) throw py::cast_error("len");
    for (size_t i = 0; i < 4; ++i) s[i] = seq[i].cast<int64_t>();
  } catch (const py::cast_error&) {
    fail(fn, std::string("argument '") + name + "' must be a tuple of 4 ints, got " +
                 std::string(py::str(o)));
  }
  return s;
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def(
      "im2col",
      [](py::object xo, py::object co, py::object kernel, py::object strides, py::object dilation,
         py::object pad, py::object out_hw, std::uintptr_t stream) {
        const std::string fn = "im2col";
        const DevArray x = cuda_array(fn, "x", xo, "float32", 4, false);
        const DevArray cols = cuda_array(fn, "cols", co, "float32", 2, true);
        const auto s = cols_shape(fn, x, cols, kernel, strides, dilation, pad, out_hw);
        no_overlap(fn, cols, x);
        on_device(fn, {&x, &cols});
        call_nogil(fn, [&] {
          return nc::im2col_nhwc(x.data<const float>(), cols.data<float>(), s, 0, s.N,
                                 as_stream(stream));
        });
      },
      py::arg("x"), py::arg("cols"), py::arg("kernel"), py::arg("strides"), py::arg("dilation"),
      py::arg("pad"), py::arg("out_hw"), py::arg("stream") = 0,
      "cols[n*OH*OW + oh*OW + ow, (kh*KW + kw)*C + c] = x[n, ih, iw, c] (0 in the padding).");

  m.def(
      "col2im",
      [](py::object co, py::object dxo, py::object kernel, py::object strides,
         py::object dilation, py::object pad, py::object out_hw, std::uintptr_t stream) {
        const std::string fn = "col2im";
        const DevArray cols = cuda_array(fn, "cols", co, "float32", 2, false);
        const DevArray dx = cuda_array(fn, "dx", dxo, "float32", 4, true);
        const auto s = cols_shape(fn, dx, cols, kernel, strides, dilation, pad, out_hw);
        no_overlap(fn, dx, cols);
        on_device(fn, {&cols, &dx});
        call_nogil(fn, [&] {
          return nc::col2im_nhwc(cols.data<const float>(), dx.data<float>(), s, 0, s.N,
                                 as_stream(stream));
        });
      },
      py::arg("cols"), py::arg("dx"), py::arg("kernel"), py::arg("strides"), py::arg("dilation"),
      py::arg("pad"), py::arg("out_hw"), py::arg("stream") = 0,
      "Adjoint of im2col; dx is overwritten.");

  m.def(
      "conv2d_workspace_bytes",
      [](py::object x_shape, py::object w_shape, py::object strides, py::object dilation,
         py::object pad, py::object out_hw, int64_t limit_bytes) {
        const std::string fn = "conv2d_workspace_bytes";
        if (limit_bytes < 0) fail(fn, "argument 'limit_bytes' must be >= 0");
        const auto xs = shape4(fn, "x_shape", x_shape);
        const auto ws = shape4(fn, "w_shape", w_shape);
        const Geometry g = geometry(fn, strides, dilation, pad);
        const Pair o = pair_arg(fn, "out_hw", out_hw, 0);
        if (ws[2] != xs[3]) fail(fn, "w_shape[2] must equal x_shape[3]");
        const auto s = conv2d_shape(fn, xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], g.st,
                                  g.dil, g.pad, o[0], o[1], "workspace size query");
        return static_cast<int64_t>(
            nc::conv2d_workspace_bytes(s, static_cast<size_t>(limit_bytes)));
      },
      py::arg("x_shape"), py::arg("w_shape"), py::arg("strides"), py::arg("dilation"),
      py::arg("pad"), py::arg("out_hw"), py::arg("limit_bytes"),
      "Scratch bytes the conv2d_* functions use: whole images of im2col rows within limit_bytes\n"
      "(at least one image); 0 when the convolution needs no im2col.");

  m.def(
      "conv2d_forward",
      [](py::object xo, py::object wo, py::object bo, py::object yo, int64_t act,
         py::object strides, py::object dilation, py::object pad, const std::string& precision,
         py::object wso, std::uintptr_t stream) {
        const std::string fn = "conv2d_forward";
        const DevArray x = cuda_array(fn, "x", xo, "float32", 4, false);
        const DevArray w = cuda_array(fn, "w", wo, "float32", 4, false);
        const DevArray y = cuda_array(fn, "y", yo, "float32", 4, true);
        const nnforge::Act a = act_code(fn, act);
        const auto s = conv_shape(fn, x, w, y, geometry(fn, strides, dilation, pad));
        const DevArray bias = optional_array(fn, "bias", bo, "float32", 1, false);
        if (!bo.is_none()) want_shape(fn, bias, {s.F}, "one bias per filter of w " + shape_str(w));
        const auto prec = precision_code(fn, precision);
        DevArray ws;
        void* pws = workspace(fn, wso, s.N > 0 ? nc::conv2d_workspace_bytes(s, 1) : 0, &ws);
        no_overlap(fn, y, x);
        no_overlap(fn, y, w);
        no_overlap(fn, y, bias);
        for (const DevArray* in : {&x, &w, &y, &bias}) no_overlap(fn, ws, *in);
        on_device(fn, {&x, &w, &bias, &y, &ws});
        call_nogil(fn, [&] {
          return nc::conv2d_forward(x.data<const float>(), w.data<const float>(),
                                    bias.data<const float>(), a, y.data<float>(), s, prec, pws,
                                    static_cast<size_t>(ws.nbytes()), as_stream(stream));
        });
      },
      py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("y"), py::arg("act"),
      py::arg("strides"), py::arg("dilation"), py::arg("pad"), py::arg("precision") = "fp32",
      py::arg("workspace") = py::none(), py::arg("stream") = 0,
      "y = act(conv2d(x, w) + bias), NHWC; the output size is y's (OH, OW). The workspace holds\n"
      "whole images of im2col rows (conv2d_workspace_bytes); None only when none is needed.");

  m.def(
      "conv2d_backward_input",
      [](py::object dyo, py::object wo, py::object dxo, py::object strides, py::object dilation,
         py::object pad, const std::string& precision, py::object wso, std::uintptr_t stream) {
        const std::string fn = "conv2d_backward_input";
        const DevArray dy = cuda_array(fn, "dy", dyo, "float32", 4, false);
        const DevArray w = cuda_array(fn, "w", wo, "float32", 4, false);
        const DevArray dx = cuda_array(fn, "dx", dxo, "float32", 4, true);
        const auto s = conv_shape(fn, dx, w, dy, geometry(fn, strides, dilation, pad));
        const auto prec = precision_code(fn, precision);
        DevArray ws;
        void* pws = workspace(fn, wso, s.N > 0 ? nc::conv2d_workspace_bytes(s, 1) : 0, &ws);
        no_overlap(fn, dx, dy);
        no_overlap(fn, dx, w);
        for (const DevArray* in : {&dy, &w, &dx}) no_overlap(fn, ws, *in);
        on_device(fn, {&dy, &w, &dx, &ws});
        call_nogil(fn, [&] {
          return nc::conv2d_backward_input(dy.data<const float>(), w.data<const float>(),
                                           dx.data<float>(), s, prec, pws,
                                           static_cast<size_t>(ws.nbytes()), as_stream(stream));
        });
      },
      py::arg("dy"), py::arg("w"), py::arg("dx"), py::arg("strides"), py::arg("dilation"),
      py::arg("pad"), py::arg("precision") = "fp32", py::arg("workspace") = py::none(),
      py::arg("stream") = 0, "dx (overwritten) = col2im(dy @ w^T).");

  m.def(
      "conv2d_backward_filter",
      [](py::object xo, py::object dyo, py::object dwo, py::object dbo, py::object strides,
         py::object dilation, py::object pad, const std::string& precision, py::object wso,
         std::uintptr_t stream) {
        const std::string fn = "conv2d_backward_filter";
        const DevArray x = cuda_array(fn, "x", xo, "float32", 4, false);
        const DevArray dy = cuda_array(fn, "dy", dyo, "float32", 4, false);
        const DevArray dw = cuda_array(fn, "dw", dwo, "float32", 4, true);
        const auto s = conv_shape(fn, x, dw, dy, geometry(fn, strides, dilation, pad));
        const DevArray db = optional_array(fn, "db", dbo, "float32", 1, true);
        if (!dbo.is_none()) want_shape(fn, db, {s.F}, "one bias per filter of dw " + shape_str(dw));
        const auto prec = precision_code(fn, precision);
        size_t need = s.N > 0 ? nc::conv2d_workspace_bytes(s, 1) : 0;
        if (!dbo.is_none())
          need = std::max(need, nc::bias_grad_workspace_bytes(s.N * s.OH * s.OW, s.F));
        DevArray ws;
        void* pws = workspace(fn, wso, need, &ws);
        for (const DevArray* in : {&x, &dy}) {
          no_overlap(fn, dw, *in);
          no_overlap(fn, db, *in);
        }
        no_overlap(fn, db, dw);
        for (const DevArray* in : {&x, &dy, &dw, &db}) no_overlap(fn, ws, *in);
        on_device(fn, {&x, &dy, &dw, &db, &ws});
        call_nogil(fn, [&] {
          return nc::conv2d_backward_filter(x.data<const float>(), dy.data<const float>(),
                                            dw.data<float>(), db.data<float>(), s, prec, pws,
                                            static_cast<size_t>(ws.nbytes()), as_stream(stream));
        });
      },
      py::arg("x"), py::arg("dy"), py::arg("dw"), py::arg("db"), py::arg("strides"),
      py::arg("dilation"), py::arg("pad"), py::arg("precision") = "fp32",
      py::arg("workspace") = py::none(), py::arg("stream") = 0,
      "dw (overwritten) = im2col(x)^T @ dy; db (or None) = column sums of dy. Deterministic. The\n"
      "workspace must hold max(conv2d_workspace_bytes, bias_grad_workspace_bytes(N*OH*OW, F)\n"
      "when db is given) bytes.");
}
