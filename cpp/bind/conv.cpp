// Bindings: im2col, col2im, conv2d_forward, conv2d_backward_input, conv2d_backward_filter
// (docs/KERNELS.md). Geometry: kernel, strides, dilation >= 1; pad >= 0; OH, OW >= 1 when N > 0;
// every size product (and every index the kernels form) must fit in int64.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "bind/check.h"
#include "bind/geometry.h"
#include "nnforge/im2col.h"
#include "nnforge/pool.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

// im2col / col2im share their checks: x-like (N,H,W,C) and cols (N*OH*OW, KH*KW*C).
nnforge::Conv2DShape check_cols(const std::string& fn, const char* xname, const py::array& x,
                                const py::array& cols, const py::object& kernel,
                                const py::object& strides, const py::object& dilation,
                                const py::object& pad, const py::object& out_hw) {
  const int64_t xs[4] = {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
  std::string desc;
  const nnforge::Conv2DShape s =
      cols_geometry(fn, xs, std::string(xname) + " " + shape_str(x) + ", cols " + shape_str(cols),
                    kernel, strides, dilation, pad, out_hw, desc);
  const int64_t rows = s.N * s.OH * s.OW, K = s.KH * s.KW * s.C;
  if (cols.shape(0) != rows || cols.shape(1) != K)
    fail(fn, "argument 'cols' must have shape (N*OH*OW, KH*KW*C) = (" + std::to_string(rows) +
                 ", " + std::to_string(K) + "): " + desc);
  return s;
}

}  // namespace

namespace {

// The checks conv2d_forward and conv2d_max_pool_forward share: x and w float32 4-D, the output
// `outn` (its batch and channels against x and w; its spatial size is each binding's own), the
// activation, the geometry and the optional bias (F,). `extra` adds to the message's description.
struct ForwardArgs {
  py::array x, w, out, b;
  const float* pb = nullptr;
  nnforge::Act act = nnforge::Act::Linear;
  Pair st, dil, pd;
  std::string desc;
};

ForwardArgs forward_args(const std::string& fn, py::object xo, py::object wo, py::object bo,
                         py::object outo, const std::string& outn, int64_t act,
                         py::object strides, py::object dilation, py::object pad,
                         const std::string& extra) {
  ForwardArgs f;
  f.x = arr(fn, "x", xo);
  f.w = arr(fn, "w", wo);
  f.out = arr(fn, outn.c_str(), outo);
  check_f32(fn, "x", f.x, 4, false);
  check_f32(fn, "w", f.w, 4, false);
  check_f32(fn, outn.c_str(), f.out, 4, true);
  f.act = act_code(fn, act);
  f.st = pair_arg(fn, "strides", strides, 1);
  f.dil = pair_arg(fn, "dilation", dilation, 1);
  f.pd = pair_arg(fn, "pad", pad, 0);
  f.desc = "x " + shape_str(f.x) + ", w " + shape_str(f.w) + ", " + outn + " " +
           shape_str(f.out) + extra + ", " + geom_desc(f.st, f.dil, f.pd);
  if (f.out.shape(0) != f.x.shape(0))
    fail(fn, "batch sizes of 'x' and '" + outn + "' differ: " + f.desc);
  if (f.w.shape(2) != f.x.shape(3))
    fail(fn, "'w' input channels (w.shape[2]) must equal x.shape[3]: " + f.desc);
  if (f.out.shape(3) != f.w.shape(3))
    fail(fn, "'" + outn + "' channels (" + outn +
                 ".shape[3]) must equal the filters w.shape[3]: " + f.desc);
  if (!bo.is_none()) {
    f.b = arr(fn, "bias", bo);
    check_f32(fn, "bias", f.b, 1, false);
    if (f.b.shape(0) != f.w.shape(3))
      fail(fn, "argument 'bias' " + shape_str(f.b) + " must have shape (F,) with F = " +
                   std::to_string(f.w.shape(3)) + ": " + f.desc);
    f.pb = fptr(f.b);
    no_overlap(fn, outn.c_str(), f.out, "bias", f.b);
  }
  return f;
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def(
      "im2col",
      [](py::object xo, py::object co, py::object kernel, py::object strides, py::object dilation,
         py::object pad, py::object out_hw) {
        const std::string fn = "im2col";
        py::array x = arr(fn, "x", xo), cols = arr(fn, "cols", co);
        check_f32(fn, "x", x, 4, false);
        check_f32(fn, "cols", cols, 2, true);
        const auto s = check_cols(fn, "x", x, cols, kernel, strides, dilation, pad, out_hw);
        no_overlap(fn, "cols", cols, "x", x);
        const float* px = fptr(x);
        float* pc = fmut(cols);
        py::gil_scoped_release nogil;
        nnforge::im2col_nhwc(px, pc, s, 0, s.N);
      },
      py::arg("x"), py::arg("cols"), py::arg("kernel"), py::arg("strides"), py::arg("dilation"),
      py::arg("pad"), py::arg("out_hw"),
      "cols[n*OH*OW + oh*OW + ow, (kh*KW + kw)*C + c] = x[n, ih, iw, c] (0 in the padding).");

  m.def(
      "col2im",
      [](py::object co, py::object dxo, py::object kernel, py::object strides,
         py::object dilation, py::object pad, py::object out_hw) {
        const std::string fn = "col2im";
        py::array cols = arr(fn, "cols", co), dx = arr(fn, "dx", dxo);
        check_f32(fn, "cols", cols, 2, false);
        check_f32(fn, "dx", dx, 4, true);
        const auto s = check_cols(fn, "dx", dx, cols, kernel, strides, dilation, pad, out_hw);
        no_overlap(fn, "dx", dx, "cols", cols);
        const float* pc = fptr(cols);
        float* pdx = fmut(dx);
        py::gil_scoped_release nogil;
        nnforge::col2im_nhwc(pc, pdx, s, 0, s.N);
      },
      py::arg("cols"), py::arg("dx"), py::arg("kernel"), py::arg("strides"), py::arg("dilation"),
      py::arg("pad"), py::arg("out_hw"), "Adjoint of im2col; dx is overwritten.");

  m.def("set_winograd", &nnforge::set_winograd, py::arg("on"),
        "Route 3x3 stride-1 convolutions with >= 16 channels and filters through Winograd's "
        "F(2x2, 3x3) (on, the default) or through im2col + GEMM (off), for the calls that follow.");
  m.def("get_winograd", &nnforge::get_winograd, "Whether the Winograd path is on.");
  m.def(
      "conv2d_forward",
      [](py::object xo, py::object wo, py::object bo, py::object yo, int64_t act,
         py::object strides, py::object dilation, py::object pad) {
        const std::string fn = "conv2d_forward";
        ForwardArgs f =
            forward_args(fn, xo, wo, bo, yo, "y", act, strides, dilation, pad, "");
        const py::array &x = f.x, &w = f.w;
        py::array& y = f.out;
        const auto s = conv2d_shape(fn, x.shape(0), x.shape(1), x.shape(2), x.shape(3), w.shape(0),
                                  w.shape(1), w.shape(3), f.st, f.dil, f.pd, y.shape(1),
                                  y.shape(2), f.desc);
        no_overlap(fn, "y", y, "x", x);
        no_overlap(fn, "y", y, "w", w);
        const float *px = fptr(x), *pw = fptr(w), *pb = f.pb;
        float* py_ = fmut(y);
        const nnforge::Act a = f.act;
        py::gil_scoped_release nogil;
        nnforge::conv2d_forward(px, pw, pb, a, py_, s);
      },
      py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("y"), py::arg("act"),
      py::arg("strides"), py::arg("dilation"), py::arg("pad"),
      "y = act(conv2d(x, w) + bias), NHWC; the output size is y's (OH, OW).");

  m.def(
      "conv2d_max_pool_forward",
      [](py::object xo, py::object wo, py::object bo, py::object outo, int64_t act,
         py::object strides, py::object dilation, py::object pad, py::object conv_hw,
         py::object pool, py::object pool_strides, py::object pool_pad, py::object argo) {
        const std::string fn = "conv2d_max_pool_forward";
        const Pair chw = pair_arg(fn, "conv_hw", conv_hw, 1);
        ForwardArgs f =
            forward_args(fn, xo, wo, bo, outo, "out", act, strides, dilation, pad,
                         ", conv output (" + std::to_string(chw[0]) + ", " +
                             std::to_string(chw[1]) + ")");
        const py::array &x = f.x, &w = f.w;
        py::array& out = f.out;
        const auto s = conv2d_shape(fn, x.shape(0), x.shape(1), x.shape(2), x.shape(3), w.shape(0),
                                  w.shape(1), w.shape(3), f.st, f.dil, f.pd, chw[0], chw[1],
                                  f.desc);
        const int64_t ys[4] = {x.shape(0), chw[0], chw[1], w.shape(3)};
        const int64_t os[4] = {out.shape(0), out.shape(1), out.shape(2), out.shape(3)};
        const auto ps = pool2d_args(fn, ys, os, "conv output", "out " + shape_str(out), pool,
                                    pool_strides, pool_pad);
        no_overlap(fn, "out", out, "x", x);
        no_overlap(fn, "out", out, "w", w);
        uint8_t* parg = nullptr;
        if (!argo.is_none()) {  // the winners for a training step's backward
          py::array am = arr(fn, "argmax", argo);
          check_argmax(fn, am, true);
          if (!is_u8(am))
            fail(fn, "argument 'argmax' must have dtype uint8 (index in the window), got " +
                         std::string(py::str(am.dtype())));
          check_same_shape(fn, "out", out, "argmax", am);
          check_window_fits_u8(fn, ps);
          no_overlap(fn, "argmax", am, "x", x);
          no_overlap(fn, "argmax", am, "w", w);
          no_overlap(fn, "argmax", am, "out", out);
          parg = static_cast<uint8_t*>(am.mutable_data());
        }
        const float *px = fptr(x), *pw = fptr(w), *pb = f.pb;
        float* po = fmut(out);
        const nnforge::Act a = f.act;
        py::gil_scoped_release nogil;
        return nnforge::conv2d_max_pool_forward(px, pw, pb, a, po, parg, s, ps);
      },
      py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("out"), py::arg("act"),
      py::arg("strides"), py::arg("dilation"), py::arg("pad"), py::arg("conv_hw"),
      py::arg("pool"), py::arg("pool_strides"), py::arg("pool_pad"),
      py::arg("argmax") = py::none(),
      "out = max_pool2d(act(conv2d(x, w) + bias)), NHWC, bitwise as the two calls; conv_hw is "
      "the convolution's output size. argmax (uint8, out's shape, or None) gets each winner's "
      "index in its window, as max_pool2d_forward's uint8 argmax. Returns False (out and argmax "
      "untouched) where one image's convolution output is too large to stay in the cache.");
  m.def(
      "conv2d_backward_input",
      [](py::object dyo, py::object wo, py::object dxo, py::object strides, py::object dilation,
         py::object pad) {
        const std::string fn = "conv2d_backward_input";
        py::array dy = arr(fn, "dy", dyo), w = arr(fn, "w", wo), dx = arr(fn, "dx", dxo);
        check_f32(fn, "dy", dy, 4, false);
        check_f32(fn, "w", w, 4, false);
        check_f32(fn, "dx", dx, 4, true);
        const Pair st = pair_arg(fn, "strides", strides, 1);
        const Pair dil = pair_arg(fn, "dilation", dilation, 1);
        const Pair pd = pair_arg(fn, "pad", pad, 0);
        const std::string desc = "dy " + shape_str(dy) + ", w " + shape_str(w) + ", dx " +
                                 shape_str(dx) + ", " + geom_desc(st, dil, pd);
        if (dy.shape(0) != dx.shape(0)) fail(fn, "batch sizes of 'dy' and 'dx' differ: " + desc);
        if (w.shape(2) != dx.shape(3))
          fail(fn, "'w' input channels (w.shape[2]) must equal dx.shape[3]: " + desc);
        if (dy.shape(3) != w.shape(3))
          fail(fn, "'dy' channels (dy.shape[3]) must equal the filters w.shape[3]: " + desc);
        const auto s = conv2d_shape(fn, dx.shape(0), dx.shape(1), dx.shape(2), dx.shape(3),
                                  w.shape(0), w.shape(1), w.shape(3), st, dil, pd, dy.shape(1),
                                  dy.shape(2), desc);
        no_overlap(fn, "dx", dx, "dy", dy);
        no_overlap(fn, "dx", dx, "w", w);
        const float *pdy = fptr(dy), *pw = fptr(w);
        float* pdx = fmut(dx);
        py::gil_scoped_release nogil;
        nnforge::conv2d_backward_input(pdy, pw, pdx, s);
      },
      py::arg("dy"), py::arg("w"), py::arg("dx"), py::arg("strides"), py::arg("dilation"),
      py::arg("pad"), "dx (overwritten) = col2im(dy @ w^T).");

  m.def(
      "conv2d_backward_filter",
      [](py::object xo, py::object dyo, py::object dwo, py::object dbo, py::object strides,
         py::object dilation, py::object pad, py::object yo, int64_t act) {
        const std::string fn = "conv2d_backward_filter";
        py::array x = arr(fn, "x", xo), dy = arr(fn, "dy", dyo), dw = arr(fn, "dw", dwo);
        check_f32(fn, "x", x, 4, false);
        check_f32(fn, "dy", dy, 4, false);
        check_f32(fn, "dw", dw, 4, true);
        const Pair st = pair_arg(fn, "strides", strides, 1);
        const Pair dil = pair_arg(fn, "dilation", dilation, 1);
        const Pair pd = pair_arg(fn, "pad", pad, 0);
        const std::string desc = "x " + shape_str(x) + ", dy " + shape_str(dy) + ", dw " +
                                 shape_str(dw) + ", " + geom_desc(st, dil, pd);
        if (dy.shape(0) != x.shape(0)) fail(fn, "batch sizes of 'x' and 'dy' differ: " + desc);
        if (dw.shape(2) != x.shape(3))
          fail(fn, "'dw' input channels (dw.shape[2]) must equal x.shape[3]: " + desc);
        if (dy.shape(3) != dw.shape(3))
          fail(fn, "'dy' channels (dy.shape[3]) must equal the filters dw.shape[3]: " + desc);
        float* pdb = nullptr;
        py::array db;
        if (!dbo.is_none()) {
          db = arr(fn, "db", dbo);
          check_f32(fn, "db", db, 1, true);
          if (db.shape(0) != dw.shape(3))
            fail(fn, "argument 'db' " + shape_str(db) + " must have shape (F,) with F = " +
                         std::to_string(dw.shape(3)) + ": " + desc);
          no_overlap(fn, "db", db, "x", x);
          no_overlap(fn, "db", db, "dy", dy);
          no_overlap(fn, "db", db, "dw", dw);
          pdb = fmut(db);
        }
        const auto s = conv2d_shape(fn, x.shape(0), x.shape(1), x.shape(2), x.shape(3), dw.shape(0),
                                  dw.shape(1), dw.shape(3), st, dil, pd, dy.shape(1), dy.shape(2),
                                  desc);
        no_overlap(fn, "dw", dw, "x", x);
        no_overlap(fn, "dw", dw, "dy", dy);
        const nnforge::Act a = act_code(fn, act);
        const float* py_ = nullptr;
        py::array y;
        if (act != 0) {
          if (yo.is_none()) fail(fn, "act != 0 needs 'y', the forward's activated output");
          y = arr(fn, "y", yo);
          check_f32(fn, "y", y, 4, false);
          check_same_shape(fn, "dy", dy, "y", y);
          no_overlap(fn, "dw", dw, "y", y);
          if (pdb) no_overlap(fn, "db", db, "y", y);
          py_ = fptr(y);
        } else if (!yo.is_none()) {
          fail(fn, "'y' is only used with act != 0");
        }
        const float *px = fptr(x), *pdy = fptr(dy);
        float* pdw = fmut(dw);
        py::gil_scoped_release nogil;
        if (py_)
          nnforge::conv2d_backward_filter_act(px, py_, pdy, a, pdw, pdb, s);
        else
          nnforge::conv2d_backward_filter(px, pdy, pdw, pdb, s);
      },
      py::arg("x"), py::arg("dy"), py::arg("dw"), py::arg("db"), py::arg("strides"),
      py::arg("dilation"), py::arg("pad"), py::arg("y") = py::none(), py::arg("act") = 0,
      "dw (overwritten) = im2col(x)^T @ dz; db (or None) = column sums of dz, where dz = dy, or\n"
      "with a fused activation (act != 0, y = the forward's activated output) dz = act'(y) * dy.\n"
      "Deterministic.");
}
