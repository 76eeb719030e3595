// Bindings: int8 quantized inference (nnforge/qgemm.h): quantize_rows_s8, qgemm_s8, qdense_s8,
// qconv2d_s8, int8_isa / set_int8_isa. The packed weights arrive as the arrays of
// nnforge.backend.quantized.Int8PackedWeights (panels int8 (NP, KG, 16, 4), comp int32 (NP*16,))
// plus N; their shapes are checked against K (from x) and N.
#include "nnforge/qgemm.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>

#include "bind/check.h"
#include "bind/qgemm_args.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

template <class T>
void check_typed(const std::string& fn, const char* name, const py::array& a, int ndim,
                 bool writeable, const char* tname) {
  if (!a.dtype().is(py::dtype::of<T>()))
    fail(fn, std::string("argument '") + name + "' must have dtype " + tname + ", got " +
                 std::string(py::str(a.dtype())) + " with shape " + shape_str(a));
  if (!(a.flags() & py::array::c_style))
    fail(fn, std::string("argument '") + name + "' must be C-contiguous, got shape " +
                 shape_str(a) + " with other strides");
  if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) != 0)
    fail(fn, std::string("argument '") + name + "' is not aligned for " + tname);
  if (writeable && !a.writeable())
    fail(fn, std::string("argument '") + name + "' must be writeable");
  if (ndim >= 0 && a.ndim() != ndim)
    fail(fn, std::string("argument '") + name + "' must be " + std::to_string(ndim) +
                 "-D, got shape " + shape_str(a));
}

// Checks panels / comp against K and N.
nnforge::QPacked check_packed(const std::string& fn, const py::object& po, const py::object& co,
                              int64_t N, int64_t K) {
  py::array panels = arr(fn, "panels", po), comp = arr(fn, "comp", co);
  check_typed<int8_t>(fn, "panels", panels, 4, false, "int8");
  check_typed<int32_t>(fn, "comp", comp, 1, false, "int32");
  const QPackedDims d = qpacked_dims(fn, N, K);
  const int64_t NP = d.NP, KG = d.KG;
  if (panels.shape(0) != NP || panels.shape(1) != KG || panels.shape(2) != 16 ||
      panels.shape(3) != 4)
    fail(fn, "argument 'panels' must have shape (" + std::to_string(NP) + ", " +
                 std::to_string(KG) + ", 16, 4) for K = " + std::to_string(K) + ", N = " +
                 std::to_string(N) + ", got " + shape_str(panels));
  if (comp.shape(0) != NP * 16)
    fail(fn, "argument 'comp' must have shape (" + std::to_string(NP * 16) + ",) for N = " +
                 std::to_string(N) + ", got " + shape_str(comp));
  return nnforge::QPacked{static_cast<const int8_t*>(panels.data()),
                          static_cast<const int32_t*>(comp.data()), K, N};
}

const float* vec_arg(const std::string& fn, const char* name, const py::object& o, int64_t n,
                     bool optional, py::array& keep) {
  if (optional && o.is_none()) return nullptr;
  keep = arr(fn, name, o);
  check_f32(fn, name, keep, 1, false);
  if (keep.shape(0) != n)
    fail(fn, std::string("argument '") + name + "' must have shape (" + std::to_string(n) +
                 ",), got " + shape_str(keep));
  return fptr(keep);
}

}  // namespace

void bind_qgemm(py::module_& m) {
  m.def(
      "quantize_rows_s8",
      [](py::object xo, py::object qo, py::object so) {
        const std::string fn = "quantize_rows_s8";
        py::array x = arr(fn, "x", xo), q = arr(fn, "q", qo), s = arr(fn, "scale", so);
        check_f32(fn, "x", x, 2, false);
        check_typed<int8_t>(fn, "q", q, 2, true, "int8");
        check_f32(fn, "scale", s, 1, true);
        check_same_shape(fn, "x", x, "q", q);
        if (s.shape(0) != x.shape(0))
          fail(fn, "argument 'scale' must have shape (" + std::to_string(x.shape(0)) +
                       ",), got " + shape_str(s) + " for x " + shape_str(x));
        no_overlap(fn, "q", q, "x", x);
        no_overlap(fn, "scale", s, "x", x);
        no_overlap(fn, "scale", s, "q", q);
        const float* px = fptr(x);
        int8_t* pq = static_cast<int8_t*>(q.mutable_data());
        float* ps = fmut(s);
        const int64_t M = x.shape(0), K = x.shape(1);
        py::gil_scoped_release nogil;
        nnforge::quantize_rows_s8(px, M, K, pq, ps);
      },
      py::arg("x"), py::arg("q"), py::arg("scale"),
      "q, scale = per-row abs-max int8 quantization of float32 x (M, K), written in place.");

  m.def(
      "qgemm_s8",
      [](py::object xo, py::object po, py::object co, int64_t n, py::object oo) {
        const std::string fn = "qgemm_s8";
        py::array xq = arr(fn, "xq", xo), out = arr(fn, "out", oo);
        check_typed<int8_t>(fn, "xq", xq, 2, false, "int8");
        check_typed<int32_t>(fn, "out", out, 2, true, "int32");
        const auto w = check_packed(fn, po, co, n, xq.shape(1));
        if (out.shape(0) != xq.shape(0) || out.shape(1) != n)
          fail(fn, "argument 'out' must have shape (" + std::to_string(xq.shape(0)) + ", " +
                       std::to_string(n) + "), got " + shape_str(out) + " for xq " +
                       shape_str(xq));
        no_overlap(fn, "out", out, "xq", xq);
        no_overlap(fn, "out", out, "panels", py::reinterpret_borrow<py::array>(po));
        no_overlap(fn, "out", out, "comp", py::reinterpret_borrow<py::array>(co));
        const int8_t* px = static_cast<const int8_t*>(xq.data());
        int32_t* pc = static_cast<int32_t*>(out.mutable_data());
        const int64_t M = xq.shape(0);
        py::gil_scoped_release nogil;
        nnforge::qgemm_s8s32(px, M, w, pc);
      },
      py::arg("xq"), py::arg("panels"), py::arg("comp"), py::arg("n"), py::arg("out"),
      "out (int32, M x n) = xq (int8, M x K) @ W, W given packed (panels, comp).");

  m.def(
      "qdense_s8",
      [](py::object xo, py::object po, py::object co, int64_t n, py::object wso, py::object bo,
         int act, py::object x_scale, py::object out_scale, py::object oo) {
        const std::string fn = "qdense_s8";
        py::array x = arr(fn, "x", xo), out = arr(fn, "out", oo);
        check_f32(fn, "x", x, 2, false);
        const auto w = check_packed(fn, po, co, n, x.shape(1));
        py::array ws_keep, b_keep;
        const float* pws = vec_arg(fn, "w_scale", wso, n, false, ws_keep);
        const float* pb = vec_arg(fn, "bias", bo, n, true, b_keep);
        act_code(fn, act);
        const float xs = scale_arg(fn, "x_scale", x_scale);
        const float os = scale_arg(fn, "out_scale", out_scale);
        if (os > 0.0f)
          check_typed<int8_t>(fn, "out", out, 2, true, "int8 (out_scale is given)");
        else
          check_f32(fn, "out", out, 2, true);
        if (out.shape(0) != x.shape(0) || out.shape(1) != n)
          fail(fn, "argument 'out' must have shape (" + std::to_string(x.shape(0)) + ", " +
                       std::to_string(n) + "), got " + shape_str(out) + " for x " +
                       shape_str(x));
        no_overlap(fn, "out", out, "x", x);
        no_overlap(fn, "out", out, "w_scale", ws_keep);
        if (pb) no_overlap(fn, "out", out, "bias", b_keep);
        no_overlap(fn, "out", out, "panels", py::reinterpret_borrow<py::array>(po));
        no_overlap(fn, "out", out, "comp", py::reinterpret_borrow<py::array>(co));
        const float* px = fptr(x);
        void* pout = out.mutable_data();
        const int64_t M = x.shape(0);
        py::gil_scoped_release nogil;
        nnforge::qdense_s8(px, M, w, pws, pb, static_cast<nnforge::Act>(act), xs, os, pout);
      },
      py::arg("x"), py::arg("panels"), py::arg("comp"), py::arg("n"), py::arg("w_scale"),
      py::arg("bias"), py::arg("act"), py::arg("x_scale"), py::arg("out_scale"), py::arg("out"),
      "out = act(float(q(x) @ W) / (x_scale_row * w_scale) + bias); x_scale None: per-row "
      "dynamic; out_scale None: float32 out, else int8 requantized out.");

  m.def(
      "qconv2d_s8",
      [](py::object xo, py::object po, py::object co, int64_t n, py::object wso, py::object bo,
         int act, py::object x_scale, py::object kernel, py::object strides,
         py::object dilation, py::object pad, py::object yo) {
        const std::string fn = "qconv2d_s8";
        py::array x = arr(fn, "x", xo), y = arr(fn, "y", yo);
        check_f32(fn, "x", x, 4, false);
        check_f32(fn, "y", y, 4, true);
        const Pair k = pair_arg(fn, "kernel", kernel, 1);
        const Pair st = pair_arg(fn, "strides", strides, 1);
        const Pair dil = pair_arg(fn, "dilation", dilation, 1);
        const Pair pd = pair_arg(fn, "pad", pad, 0);
        const std::string desc = "x " + shape_str(x) + ", y " + shape_str(y) + ", kernel " +
                                 pair_str(k) + ", strides " + pair_str(st) + ", dilation " +
                                 pair_str(dil) + ", pad " + pair_str(pd);
        const int64_t N = x.shape(0), H = x.shape(1), W = x.shape(2), C = x.shape(3);
        const int64_t K = mul(fn, mul(fn, k[0], k[1], "KH*KW"), C, "KH*KW*C");
        const auto w = check_packed(fn, po, co, n, K);
        if (y.shape(0) != N || y.shape(3) != n)
          fail(fn, "argument 'y' must have shape (" + std::to_string(N) + ", OH, OW, " +
                       std::to_string(n) + "): " + desc);
        const int64_t OH = y.shape(1), OW = y.shape(2);
        if (N > 0 && (OH < 1 || OW < 1)) fail(fn, "output size must be >= 1: " + desc);
        // Every index the kernels form must fit in int64.
        const int64_t rows = mul(fn, mul(fn, N, OH, "N*OH"), OW, "N*OH*OW");
        mul(fn, rows, std::max<int64_t>(K, 1) + 4, "N*OH*OW*(KH*KW*C): " + desc);
        mul(fn, mul(fn, mul(fn, N, H, "N*H"), W, "N*H*W"), C, "N*H*W*C: " + desc);
        mul(fn, OH + k[0], st[0] + dil[0] + pd[0] + H, "rows span: " + desc);
        mul(fn, OW + k[1], st[1] + dil[1] + pd[1] + W, "cols span: " + desc);
        py::array ws_keep, b_keep;
        const float* pws = vec_arg(fn, "w_scale", wso, n, false, ws_keep);
        const float* pb = vec_arg(fn, "bias", bo, n, true, b_keep);
        act_code(fn, act);
        const float xs = scale_arg(fn, "x_scale", x_scale);
        no_overlap(fn, "y", y, "x", x);
        no_overlap(fn, "y", y, "w_scale", ws_keep);
        if (pb) no_overlap(fn, "y", y, "bias", b_keep);
        no_overlap(fn, "y", y, "panels", py::reinterpret_borrow<py::array>(po));
        no_overlap(fn, "y", y, "comp", py::reinterpret_borrow<py::array>(co));
        nnforge::Conv2DShape s;
        s.N = N; s.H = H; s.W = W; s.C = C;
        s.KH = k[0]; s.KW = k[1]; s.F = n;
        s.SH = st[0]; s.SW = st[1];
        s.DH = dil[0]; s.DW = dil[1];
        s.pad_top = pd[0]; s.pad_left = pd[1];
        s.OH = OH; s.OW = OW;
        const float* px = fptr(x);
        float* py_ = fmut(y);
        py::gil_scoped_release nogil;
        nnforge::qconv2d_s8(px, w, pws, pb, static_cast<nnforge::Act>(act), xs, s, py_);
      },
      py::arg("x"), py::arg("panels"), py::arg("comp"), py::arg("n"), py::arg("w_scale"),
      py::arg("bias"), py::arg("act"), py::arg("x_scale"), py::arg("kernel"),
      py::arg("strides"), py::arg("dilation"), py::arg("pad"), py::arg("y"),
      "y (N, OH, OW, n) = int8 conv2d of float32 NHWC x: im2col patches quantized per row "
      "(x_scale None) or with the static x_scale, then as qdense_s8.");

  m.def(
      "int8_isa", [] { return std::string(nnforge::int8_isa()); },
      "Instruction set of the int8 kernels: 'avx512_vnni', 'avx_vnni', 'avx2' or 'generic'.");
  m.def(
      "int8_isa_supported", [](const std::string& name) { return nnforge::int8_isa_supported(name.c_str()); },
      py::arg("name"), "Whether this CPU can run the int8 kernels of instruction set 'name'.");
  m.def(
      "set_int8_isa",
      [](const std::string& name) {
        if (!nnforge::set_int8_isa(name.c_str()))
          throw py::value_error("set_int8_isa: argument 'name' must be one of 'avx512_vnni', "
                                "'avx_vnni', 'avx2', 'generic' that this CPU supports, got '" +
                                name + "'");
      },
      py::arg("name"),
      "Force the int8 kernels' instruction set (tests, benchmarks); NNFORGE_INT8_ISA sets the "
      "default.");
}
