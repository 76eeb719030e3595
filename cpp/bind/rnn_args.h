// The argument rules of the whole-sequence recurrent bindings, shared by nnforge._cpu
// (cpp/bind/rnn.cpp) and nnforge._cuda (cuda/bind/rnn.cpp): the geometry comes from x (N, T, D)
// and recurrent_kernel (H, G*H), and every other argument must have the exact shape derived from
// it. The rules are written once, over a "binder" that each module supplies for its own array
// type (NumPy or __cuda_array_interface__):
//   RnnShape shape(const char* name, const py::object& o, int ndim)
//       checks a float32 array of ndim dimensions and returns its shape;
//   float* f32(const char* name, const py::object& o, const RnnShape& shape, bool out,
//              bool optional)
//       checks a float32 array of exactly `shape` (None allowed when optional: nullptr) and
//       records it (an output must be writeable and must not overlap any other argument);
//   const uint8_t* mask(const py::object& o, int64_t N, int64_t T)   bool (N, T) or None;
//   void check_overlaps()                                           after the last argument;
//   const std::string fn                                            the binding's name.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "check.h"
#include "nnforge/rnn.h"

// The parameters (and their pybind11 names) of the rnn bindings, one list for nnforge._cpu and
// nnforge._cuda: the inputs every binding starts with, the saved forward buffers, the incoming
// gradients and the backward's outputs. NNF_RNN_INPUT_NAMES passes the inputs on (rnn_common).
#define NNF_RNN_INPUT_PARAMS                                                                    \
  int cell, bool reset_after, const pybind11::object &x, const pybind11::object &kernel,       \
      const pybind11::object &recurrent_kernel, const pybind11::object &bias,                  \
      const pybind11::object &h0, const pybind11::object &c0, const pybind11::object &mask,    \
      bool go_backwards, bool zero_output_for_mask
#define NNF_RNN_INPUT_ARGS                                                                      \
  pybind11::arg("cell"), pybind11::arg("reset_after"), pybind11::arg("x"),                     \
      pybind11::arg("kernel"), pybind11::arg("recurrent_kernel"), pybind11::arg("bias"),       \
      pybind11::arg("h0"), pybind11::arg("c0"), pybind11::arg("mask"),                         \
      pybind11::arg("go_backwards"), pybind11::arg("zero_output_for_mask")
#define NNF_RNN_INPUT_NAMES \
  cell, reset_after, x, kernel, recurrent_kernel, bias, h0, c0, mask, go_backwards, \
      zero_output_for_mask
#define NNF_RNN_SAVED_PARAMS                                                                \
  const pybind11::object &gates, const pybind11::object &aux, const pybind11::object &h_all, \
      const pybind11::object &c_all
#define NNF_RNN_SAVED_ARGS \
  pybind11::arg("gates"), pybind11::arg("aux"), pybind11::arg("h_all"), pybind11::arg("c_all")
#define NNF_RNN_GRAD_PARAMS                                                                     \
  const pybind11::object &dy_seq, const pybind11::object &dy_last, const pybind11::object &dh_T, \
      const pybind11::object &dc_T, const pybind11::object &dx, const pybind11::object &dkernel, \
      const pybind11::object &drecurrent_kernel, const pybind11::object &dbias,                   \
      const pybind11::object &dh0, const pybind11::object &dc0
#define NNF_RNN_GRAD_ARGS                                                                       \
  pybind11::arg("dy_seq"), pybind11::arg("dy_last"), pybind11::arg("dh_T"),                    \
      pybind11::arg("dc_T"), pybind11::arg("dx"), pybind11::arg("dkernel"),                    \
      pybind11::arg("drecurrent_kernel"), pybind11::arg("dbias"), pybind11::arg("dh0"),        \
      pybind11::arg("dc0")

namespace nnforge_bind {

using RnnShape = std::vector<int64_t>;

inline std::string rnn_shape_str(const RnnShape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// The geometry from x and recurrent_kernel, and the forward arguments shared by every rnn
// binding: inputs, initial states, mask, flags.
template <class Binder>
nnforge::RnnForwardArgs rnn_common(Binder& A, int cell, bool reset_after,
                                   const pybind11::object& x,
                                   const pybind11::object& kernel,
                                   const pybind11::object& recurrent,
                                   const pybind11::object& bias, const pybind11::object& h0,
                                   const pybind11::object& c0, const pybind11::object& mask,
                                   bool go_backwards, bool zero_output_for_mask) {
  const std::string& fn = A.fn;
  if (cell != 0 && cell != 1)
    fail(fn, "argument 'cell' must be 0 (LSTM) or 1 (GRU), got " + std::to_string(cell));
  const RnnShape xs = A.shape("x", x, 3), us = A.shape("recurrent_kernel", recurrent, 2);
  nnforge::RnnForwardArgs a;
  a.cell = static_cast<nnforge::RnnCell>(cell);
  a.reset_after = reset_after;
  const int64_t G = cell == 0 ? 4 : 3;
  a.N = xs[0];
  a.T = xs[1];
  a.D = xs[2];
  a.H = us[0];
  if (a.T < 1) fail(fn, "the input must have at least one step, got x " + rnn_shape_str(xs));
  if (a.D < 1) fail(fn, "the input must have at least one feature, got x " + rnn_shape_str(xs));
  if (a.H < 1)
    fail(fn, "recurrent_kernel must have at least one unit, got " + rnn_shape_str(us));
  const int64_t GH = mul(fn, G, a.H, "G*units");
  mul(fn, mul(fn, a.N, a.T, "N*T"), GH, "N*T*G*H");
  mul(fn, mul(fn, a.N, a.T, "N*T"), a.D, "N*T*D");
  a.x = A.f32("x", x, {a.N, a.T, a.D}, false, false);
  a.kernel = A.f32("kernel", kernel, {a.D, GH}, false, false);
  a.recurrent = A.f32("recurrent_kernel", recurrent, {a.H, GH}, false, false);
  const RnnShape bshape = (cell == 1 && reset_after) ? RnnShape{2, GH} : RnnShape{GH};
  a.bias = A.f32("bias", bias, bshape, false, true);
  a.h0 = A.f32("h0", h0, {a.N, a.H}, false, true);
  if (cell == 0) a.c0 = A.f32("c0", c0, {a.N, a.H}, false, true);
  else if (!c0.is_none()) fail(fn, "argument 'c0' must be None for a GRU");
  a.mask = A.mask(mask, a.N, a.T);
  a.go_backwards = go_backwards;
  a.zero_output_for_mask = zero_output_for_mask;
  return a;
}

// rnn_forward's outputs (the buffers the backward reads, and the outputs).
template <class Binder>
void rnn_forward_outputs(Binder& A, nnforge::RnnForwardArgs& a, const pybind11::object& gates,
                         const pybind11::object& aux, const pybind11::object& h_all,
                         const pybind11::object& c_all, const pybind11::object& y_seq,
                         const pybind11::object& y_last) {
  const bool lstm = a.cell == nnforge::RnnCell::LSTM;
  const int64_t G = lstm ? 4 : 3;
  a.gates = A.f32("gates", gates, {a.N, a.T, G * a.H}, true, false);
  if (!lstm) a.aux = A.f32("aux", aux, {a.N, a.T, a.H}, true, false);
  else if (!aux.is_none()) fail(A.fn, "argument 'aux' must be None for an LSTM");
  a.h_all = A.f32("h_all", h_all, {a.N, a.T, a.H}, true, false);
  if (lstm) a.c_all = A.f32("c_all", c_all, {a.N, a.T, a.H}, true, false);
  else if (!c_all.is_none()) fail(A.fn, "argument 'c_all' must be None for a GRU");
  a.y_seq = A.f32("y_seq", y_seq, {a.N, a.T, a.H}, true, true);
  a.y_last = A.f32("y_last", y_last, {a.N, a.H}, true, false);
  A.check_overlaps();
}

// rnn_infer's outputs.
template <class Binder>
void rnn_infer_outputs(Binder& A, nnforge::RnnForwardArgs& a, const pybind11::object& y_seq,
                       const pybind11::object& y_last, const pybind11::object& h_last,
                       const pybind11::object& c_last) {
  a.y_seq = A.f32("y_seq", y_seq, {a.N, a.T, a.H}, true, true);
  a.y_last = A.f32("y_last", y_last, {a.N, a.H}, true, false);
  a.h_last = A.f32("h_last", h_last, {a.N, a.H}, true, true);
  if (a.cell == nnforge::RnnCell::LSTM) a.c_last = A.f32("c_last", c_last, {a.N, a.H}, true, true);
  else if (!c_last.is_none()) fail(A.fn, "argument 'c_last' must be None for a GRU");
  A.check_overlaps();
}

// rnn_backward's saved buffers, incoming gradients and outputs (b.fwd already from rnn_common).
template <class Binder>
void rnn_backward_args(Binder& A, nnforge::RnnBackwardArgs& b, const pybind11::object& gates,
                       const pybind11::object& aux, const pybind11::object& h_all,
                       const pybind11::object& c_all, const pybind11::object& dy_seq,
                       const pybind11::object& dy_last, const pybind11::object& dh_T,
                       const pybind11::object& dc_T, const pybind11::object& dx,
                       const pybind11::object& dkernel, const pybind11::object& drecurrent,
                       const pybind11::object& dbias, const pybind11::object& dh0,
                       const pybind11::object& dc0) {
  nnforge::RnnForwardArgs& a = b.fwd;
  const bool lstm = a.cell == nnforge::RnnCell::LSTM;
  const int64_t GH = (lstm ? 4 : 3) * a.H;
  const RnnShape seq{a.N, a.T, a.H}, state{a.N, a.H};
  a.gates = A.f32("gates", gates, {a.N, a.T, GH}, false, false);
  if (!lstm) a.aux = A.f32("aux", aux, seq, false, false);
  a.h_all = A.f32("h_all", h_all, seq, false, false);
  if (lstm) a.c_all = A.f32("c_all", c_all, seq, false, false);
  b.dy_seq = A.f32("dy_seq", dy_seq, seq, false, true);
  b.dy_last = A.f32("dy_last", dy_last, state, false, true);
  b.dh_T = A.f32("dh_T", dh_T, state, false, true);
  if (lstm) b.dc_T = A.f32("dc_T", dc_T, state, false, true);
  b.dx = A.f32("dx", dx, {a.N, a.T, a.D}, true, true);
  b.dkernel = A.f32("dkernel", dkernel, {a.D, GH}, true, false);
  b.drecurrent = A.f32("drecurrent_kernel", drecurrent, {a.H, GH}, true, false);
  if (a.bias) {
    const RnnShape bshape = (!lstm && a.reset_after) ? RnnShape{2, GH} : RnnShape{GH};
    b.dbias = A.f32("dbias", dbias, bshape, true, true);
  } else if (!dbias.is_none()) {
    fail(A.fn, "argument 'dbias' must be None when there is no bias");
  }
  b.dh0 = A.f32("dh0", dh0, state, true, true);
  if (lstm) b.dc0 = A.f32("dc0", dc0, state, true, true);
  A.check_overlaps();
}

}  // namespace nnforge_bind
