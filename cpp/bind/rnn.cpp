// Bindings: rnn_forward, rnn_infer, rnn_backward (whole-sequence LSTM / GRU) and
// embedding_backward.
// Every array's dtype, contiguity, alignment and exact shape is checked against the geometry taken
// from x (N, T, D) and recurrent_kernel (H, G*H); outputs must be writeable and must not share
// memory with any other argument. Failures raise ValueError naming the argument and the shapes.
#include "nnforge/rnn.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

using Shape = std::vector<int64_t>;

std::string shape_of(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// Collects the arrays of one call so that outputs can be checked against every other argument.
struct Args {
  std::string fn;
  std::vector<std::pair<const char*, py::array>> all;
  std::vector<std::pair<const char*, py::array>> outs;

  // A float32 array of exactly `shape` (or None when optional). Returns its data pointer.
  float* f32(const char* name, const py::object& o, const Shape& shape, bool out, bool optional) {
    if (o.is_none()) {
      if (!optional) fail(fn, std::string("argument '") + name + "' is required, got None");
      return nullptr;
    }
    py::array a = arr(fn, name, o);
    check_f32(fn, name, a, static_cast<int>(shape.size()), out);
    for (size_t i = 0; i < shape.size(); ++i)
      if (a.shape(i) != shape[i])
        fail(fn, std::string("argument '") + name + "' must have shape " + shape_of(shape) +
                     ", got " + shape_str(a));
    all.emplace_back(name, a);
    if (out) outs.emplace_back(name, a);
    return static_cast<float*>(a.mutable_data());
  }

  void check_overlaps() {
    for (auto& o : outs)
      for (auto& x : all)
        if (o.second.ptr() != x.second.ptr()) no_overlap(fn, o.first, o.second, x.first, x.second);
  }
};

const uint8_t* mask_arg(Args& A, const py::object& o, int64_t N, int64_t T) {
  if (o.is_none()) return nullptr;
  py::array m = arr(A.fn, "mask", o);
  if (!m.dtype().is(py::dtype::of<bool>()))
    fail(A.fn, "argument 'mask' must have dtype bool, got " + std::string(py::str(m.dtype())));
  if (!(m.flags() & py::array::c_style)) fail(A.fn, "argument 'mask' must be C-contiguous");
  if (m.ndim() != 2 || m.shape(0) != N || m.shape(1) != T)
    fail(A.fn, "argument 'mask' must have shape " + shape_of({N, T}) + " (batch, steps), got " +
                   shape_str(m));
  A.all.emplace_back("mask", m);
  return static_cast<const uint8_t*>(m.data());
}

// Reads the geometry from x and recurrent_kernel and fills the forward arguments shared by the
// forward and backward bindings (inputs and saved buffers).
nnforge::RnnForwardArgs common(Args& A, int cell, bool reset_after, const py::object& x,
                               const py::object& kernel, const py::object& recurrent,
                               const py::object& bias, const py::object& h0,
                               const py::object& c0, const py::object& mask, bool go_backwards,
                               bool zero_output_for_mask) {
  const std::string& fn = A.fn;
  if (cell != 0 && cell != 1) fail(fn, "argument 'cell' must be 0 (LSTM) or 1 (GRU), got " +
                                           std::to_string(cell));
  nnforge::RnnForwardArgs a;
  a.cell = static_cast<nnforge::RnnCell>(cell);
  a.reset_after = reset_after;
  const int64_t G = cell == 0 ? 4 : 3;
  py::array xa = arr(fn, "x", x), ua = arr(fn, "recurrent_kernel", recurrent);
  check_f32(fn, "x", xa, 3, false);
  check_f32(fn, "recurrent_kernel", ua, 2, false);
  a.N = xa.shape(0);
  a.T = xa.shape(1);
  a.D = xa.shape(2);
  a.H = ua.shape(0);
  if (a.T < 1) fail(fn, "the input must have at least one step, got x " + shape_str(xa));
  if (a.D < 1) fail(fn, "the input must have at least one feature, got x " + shape_str(xa));
  if (a.H < 1) fail(fn, "recurrent_kernel must have at least one unit, got " + shape_str(ua));
  const int64_t GH = mul(fn, G, a.H, "G*units");
  mul(fn, mul(fn, mul(fn, a.N, a.T, "N*T"), GH, "N*T*G*H"), 1, "");
  mul(fn, mul(fn, a.N, a.T, "N*T"), a.D, "N*T*D");
  a.x = A.f32("x", x, {a.N, a.T, a.D}, false, false);
  a.kernel = A.f32("kernel", kernel, {a.D, GH}, false, false);
  a.recurrent = A.f32("recurrent_kernel", recurrent, {a.H, GH}, false, false);
  const Shape bshape = (cell == 1 && reset_after) ? Shape{2, GH} : Shape{GH};
  a.bias = A.f32("bias", bias, bshape, false, true);
  a.h0 = A.f32("h0", h0, {a.N, a.H}, false, true);
  if (cell == 0) a.c0 = A.f32("c0", c0, {a.N, a.H}, false, true);
  else if (!c0.is_none()) fail(fn, "argument 'c0' must be None for a GRU");
  a.mask = mask_arg(A, mask, a.N, a.T);
  a.go_backwards = go_backwards;
  a.zero_output_for_mask = zero_output_for_mask;
  return a;
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def(
      "rnn_forward",
      [](int cell, bool reset_after, const py::object& x, const py::object& kernel,
         const py::object& recurrent_kernel, const py::object& bias, const py::object& h0,
         const py::object& c0, const py::object& mask, bool go_backwards,
         bool zero_output_for_mask, const py::object& gates, const py::object& aux,
         const py::object& h_all, const py::object& c_all, const py::object& y_seq,
         const py::object& y_last) {
        Args A{"rnn_forward", {}, {}};
        nnforge::RnnForwardArgs a = common(A, cell, reset_after, x, kernel, recurrent_kernel,
                                           bias, h0, c0, mask, go_backwards,
                                           zero_output_for_mask);
        const int64_t G = cell == 0 ? 4 : 3;
        a.gates = A.f32("gates", gates, {a.N, a.T, G * a.H}, true, false);
        if (cell == 1) a.aux = A.f32("aux", aux, {a.N, a.T, a.H}, true, false);
        else if (!aux.is_none()) fail(A.fn, "argument 'aux' must be None for an LSTM");
        a.h_all = A.f32("h_all", h_all, {a.N, a.T, a.H}, true, false);
        if (cell == 0) a.c_all = A.f32("c_all", c_all, {a.N, a.T, a.H}, true, false);
        else if (!c_all.is_none()) fail(A.fn, "argument 'c_all' must be None for a GRU");
        a.y_seq = A.f32("y_seq", y_seq, {a.N, a.T, a.H}, true, true);
        a.y_last = A.f32("y_last", y_last, {a.N, a.H}, true, false);
        A.check_overlaps();
        py::gil_scoped_release nogil;
        nnforge::rnn_forward(a);
      },
      py::arg("cell"), py::arg("reset_after"), py::arg("x"), py::arg("kernel"),
      py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"), py::arg("c0"),
      py::arg("mask"), py::arg("go_backwards"), py::arg("zero_output_for_mask"),
      py::arg("gates"), py::arg("aux"), py::arg("h_all"), py::arg("c_all"), py::arg("y_seq"),
      py::arg("y_last"),
      "Whole-sequence LSTM (cell=0) or GRU (cell=1) forward; see cpp/include/nnforge/rnn.h.");

  m.def(
      "rnn_infer",
      [](int cell, bool reset_after, const py::object& x, const py::object& kernel,
         const py::object& recurrent_kernel, const py::object& bias, const py::object& h0,
         const py::object& c0, const py::object& mask, bool go_backwards,
         bool zero_output_for_mask, const py::object& y_seq, const py::object& y_last,
         const py::object& h_last, const py::object& c_last) {
        Args A{"rnn_infer", {}, {}};
        nnforge::RnnForwardArgs a = common(A, cell, reset_after, x, kernel, recurrent_kernel,
                                           bias, h0, c0, mask, go_backwards,
                                           zero_output_for_mask);
        a.y_seq = A.f32("y_seq", y_seq, {a.N, a.T, a.H}, true, true);
        a.y_last = A.f32("y_last", y_last, {a.N, a.H}, true, false);
        a.h_last = A.f32("h_last", h_last, {a.N, a.H}, true, true);
        if (cell == 0) a.c_last = A.f32("c_last", c_last, {a.N, a.H}, true, true);
        else if (!c_last.is_none()) fail(A.fn, "argument 'c_last' must be None for a GRU");
        A.check_overlaps();
        py::gil_scoped_release nogil;
        nnforge::rnn_infer(a);
      },
      py::arg("cell"), py::arg("reset_after"), py::arg("x"), py::arg("kernel"),
      py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"), py::arg("c0"),
      py::arg("mask"), py::arg("go_backwards"), py::arg("zero_output_for_mask"),
      py::arg("y_seq"), py::arg("y_last"), py::arg("h_last"), py::arg("c_last"),
      "Whole-sequence LSTM (cell=0) or GRU (cell=1) forward for inference (nothing saved for a\n"
      "backward); y_seq, h_last, c_last may be None. See cpp/include/nnforge/rnn.h.");

  m.def(
      "rnn_backward",
      [](int cell, bool reset_after, const py::object& x, const py::object& kernel,
         const py::object& recurrent_kernel, const py::object& bias, const py::object& h0,
         const py::object& c0, const py::object& mask, bool go_backwards,
         bool zero_output_for_mask, const py::object& gates, const py::object& aux,
         const py::object& h_all, const py::object& c_all, const py::object& dy_seq,
         const py::object& dy_last, const py::object& dh_T, const py::object& dc_T,
         const py::object& dx, const py::object& dkernel, const py::object& drecurrent_kernel,
         const py::object& dbias, const py::object& dh0, const py::object& dc0) {
        Args A{"rnn_backward", {}, {}};
        nnforge::RnnBackwardArgs b;
        b.fwd = common(A, cell, reset_after, x, kernel, recurrent_kernel, bias, h0, c0, mask,
                       go_backwards, zero_output_for_mask);
        nnforge::RnnForwardArgs& a = b.fwd;
        const int64_t G = cell == 0 ? 4 : 3, GH = G * a.H;
        const Shape seq{a.N, a.T, a.H}, state{a.N, a.H};
        a.gates = A.f32("gates", gates, {a.N, a.T, GH}, false, false);
        if (cell == 1) a.aux = A.f32("aux", aux, seq, false, false);
        a.h_all = A.f32("h_all", h_all, seq, false, false);
        if (cell == 0) a.c_all = A.f32("c_all", c_all, seq, false, false);
        b.dy_seq = A.f32("dy_seq", dy_seq, seq, false, true);
        b.dy_last = A.f32("dy_last", dy_last, state, false, true);
        b.dh_T = A.f32("dh_T", dh_T, state, false, true);
        if (cell == 0) b.dc_T = A.f32("dc_T", dc_T, state, false, true);
        b.dx = A.f32("dx", dx, {a.N, a.T, a.D}, true, true);
        b.dkernel = A.f32("dkernel", dkernel, {a.D, GH}, true, false);
        b.drecurrent = A.f32("drecurrent_kernel", drecurrent_kernel, {a.H, GH}, true, false);
        if (a.bias) {
          const Shape bshape = (cell == 1 && reset_after) ? Shape{2, GH} : Shape{GH};
          b.dbias = A.f32("dbias", dbias, bshape, true, true);
        } else if (!dbias.is_none()) {
          fail(A.fn, "argument 'dbias' must be None when there is no bias");
        }
        b.dh0 = A.f32("dh0", dh0, state, true, true);
        if (cell == 0) b.dc0 = A.f32("dc0", dc0, state, true, true);
        A.check_overlaps();
        py::gil_scoped_release nogil;
        nnforge::rnn_backward(b);
      },
      py::arg("cell"), py::arg("reset_after"), py::arg("x"), py::arg("kernel"),
      py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"), py::arg("c0"),
      py::arg("mask"), py::arg("go_backwards"), py::arg("zero_output_for_mask"),
      py::arg("gates"), py::arg("aux"), py::arg("h_all"), py::arg("c_all"), py::arg("dy_seq"),
      py::arg("dy_last"), py::arg("dh_T"), py::arg("dc_T"), py::arg("dx"), py::arg("dkernel"),
      py::arg("drecurrent_kernel"), py::arg("dbias"), py::arg("dh0"), py::arg("dc0"),
      "Backward through time of rnn_forward: dx, dkernel, drecurrent_kernel, dbias, dh0, dc0.");

  m.def(
      "embedding_backward",
      [](const py::object& ids, const py::object& dy, const py::object& dtable) {
        const std::string fn = "embedding_backward";
        py::array ia = arr(fn, "ids", ids), ga = arr(fn, "dy", dy), ta = arr(fn, "dtable", dtable);
        check_i64(fn, "ids", ia, 1);
        check_f32(fn, "dy", ga, 2, false);
        check_f32(fn, "dtable", ta, 2, true);
        const int64_t n = ia.shape(0), dim = ta.shape(1), rows = ta.shape(0);
        if (ga.shape(0) != n || ga.shape(1) != dim)
          fail(fn, "argument 'dy' must have shape " + shape_of({n, dim}) + " for ids " +
                       shape_str(ia) + " and dtable " + shape_str(ta) + ", got " + shape_str(ga));
        no_overlap(fn, "dtable", ta, "dy", ga);
        no_overlap(fn, "dtable", ta, "ids", ia);
        const int64_t* p = static_cast<const int64_t*>(ia.data());
        for (int64_t i = 0; i < n; ++i)
          if (p[i] < 0 || p[i] >= rows)
            fail(fn, "ids must be in [0, " + std::to_string(rows) + "), got " +
                         std::to_string(p[i]) + " at position " + std::to_string(i));
        const float* pg = fptr(ga);
        float* pt = fmut(ta);
        py::gil_scoped_release nogil;
        nnforge::embedding_backward(p, n, pg, dim, pt, rows);
      },
      py::arg("ids"), py::arg("dy"), py::arg("dtable"),
      "dtable = 0, then dtable[ids[i]] += dy[i] (ids int64 (n,), dy (n, dim), dtable (rows, dim)).");
}
