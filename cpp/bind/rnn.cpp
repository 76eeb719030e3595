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
#include "bind/rnn_args.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

// nnforge_bind::rnn_* over NumPy arrays (the binder contract of bind/rnn_args.h).
struct Args {
  std::string fn;
  std::vector<std::pair<const char*, py::array>> all;
  std::vector<std::pair<const char*, py::array>> outs;

  RnnShape shape(const char* name, const py::object& o, int ndim) {
    py::array a = arr(fn, name, o);
    check_f32(fn, name, a, ndim, false);
    return RnnShape(a.shape(), a.shape() + a.ndim());
  }

  float* f32(const char* name, const py::object& o, const RnnShape& shape, bool out,
             bool optional) {
    if (o.is_none()) {
      if (!optional) fail(fn, std::string("argument '") + name + "' is required, got None");
      return nullptr;
    }
    py::array a = arr(fn, name, o);
    check_f32(fn, name, a, static_cast<int>(shape.size()), out);
    for (size_t i = 0; i < shape.size(); ++i)
      if (a.shape(i) != shape[i])
        fail(fn, std::string("argument '") + name + "' must have shape " + rnn_shape_str(shape) +
                     ", got " + shape_str(a));
    all.emplace_back(name, a);
    if (out) outs.emplace_back(name, a);
    return static_cast<float*>(a.mutable_data());
  }

  const uint8_t* mask(const py::object& o, int64_t N, int64_t T) {
    if (o.is_none()) return nullptr;
    py::array m = arr(fn, "mask", o);
    if (!m.dtype().is(py::dtype::of<bool>()))
      fail(fn, "argument 'mask' must have dtype bool, got " + std::string(py::str(m.dtype())));
    if (!(m.flags() & py::array::c_style)) fail(fn, "argument 'mask' must be C-contiguous");
    if (m.ndim() != 2 || m.shape(0) != N || m.shape(1) != T)
      fail(fn, "argument 'mask' must have shape " + rnn_shape_str({N, T}) +
                   " (batch, steps), got " + shape_str(m));
    all.emplace_back("mask", m);
    return static_cast<const uint8_t*>(m.data());
  }

  void check_overlaps() {
    for (auto& o : outs)
      for (auto& x : all)
        if (o.second.ptr() != x.second.ptr()) no_overlap(fn, o.first, o.second, x.first, x.second);
  }
};

}  // namespace

void bind_rnn(py::module_& m) {
  m.def(
      "rnn_forward",
      [](NNF_RNN_INPUT_PARAMS, NNF_RNN_SAVED_PARAMS, const py::object& y_seq,
         const py::object& y_last) {
        Args A{"rnn_forward", {}, {}};
        nnforge::RnnForwardArgs a = rnn_common(A, NNF_RNN_INPUT_NAMES);
        rnn_forward_outputs(A, a, gates, aux, h_all, c_all, y_seq, y_last);
        py::gil_scoped_release nogil;
        nnforge::rnn_forward(a);
      },
      NNF_RNN_INPUT_ARGS, NNF_RNN_SAVED_ARGS, py::arg("y_seq"),
      py::arg("y_last"),
      "Whole-sequence LSTM (cell=0) or GRU (cell=1) forward; see cpp/include/nnforge/rnn.h.");

  m.def(
      "rnn_infer",
      [](NNF_RNN_INPUT_PARAMS, const py::object& y_seq, const py::object& y_last,
         const py::object& h_last, const py::object& c_last) {
        Args A{"rnn_infer", {}, {}};
        nnforge::RnnForwardArgs a = rnn_common(A, NNF_RNN_INPUT_NAMES);
        rnn_infer_outputs(A, a, y_seq, y_last, h_last, c_last);
        py::gil_scoped_release nogil;
        nnforge::rnn_infer(a);
      },
      NNF_RNN_INPUT_ARGS, py::arg("y_seq"), py::arg("y_last"), py::arg("h_last"),
      py::arg("c_last"),
      "Whole-sequence LSTM (cell=0) or GRU (cell=1) forward for inference (nothing saved for a\n"
      "backward); y_seq, h_last, c_last may be None. See cpp/include/nnforge/rnn.h.");

  m.def(
      "rnn_backward",
      [](NNF_RNN_INPUT_PARAMS, NNF_RNN_SAVED_PARAMS, NNF_RNN_GRAD_PARAMS) {
        Args A{"rnn_backward", {}, {}};
        nnforge::RnnBackwardArgs b;
        b.fwd = rnn_common(A, NNF_RNN_INPUT_NAMES);
        rnn_backward_args(A, b, gates, aux, h_all, c_all, dy_seq, dy_last, dh_T, dc_T, dx,
                          dkernel, drecurrent_kernel, dbias, dh0, dc0);
        py::gil_scoped_release nogil;
        nnforge::rnn_backward(b);
      },
      NNF_RNN_INPUT_ARGS, NNF_RNN_SAVED_ARGS, NNF_RNN_GRAD_ARGS,
      "Backward through time of rnn_forward: dx, dkernel, drecurrent_kernel, dbias, dh0, dc0.");

  m.def(
      "embedding_gather",
      [](const py::object& ids, const py::object& table, const py::object& out) {
        const std::string fn = "embedding_gather";
        py::array ia = arr(fn, "ids", ids), ta = arr(fn, "table", table), oa = arr(fn, "out", out);
        check_i64(fn, "ids", ia, 1);
        check_f32(fn, "table", ta, 2, false);
        check_f32(fn, "out", oa, 2, true);
        const int64_t n = ia.shape(0), rows = ta.shape(0), dim = ta.shape(1);
        if (oa.shape(0) != n || oa.shape(1) != dim)
          fail(fn, "argument 'out' must have shape " + rnn_shape_str({n, dim}) + " for ids " +
                       shape_str(ia) + " and table " + shape_str(ta) + ", got " + shape_str(oa));
        no_overlap(fn, "out", oa, "table", ta);
        no_overlap(fn, "out", oa, "ids", ia);
        const int64_t* p = static_cast<const int64_t*>(ia.data());
        for (int64_t i = 0; i < n; ++i)
          if (p[i] < 0 || p[i] >= rows)
            fail(fn, "ids must be in [0, " + std::to_string(rows) + "), got " +
                         std::to_string(p[i]) + " at position " + std::to_string(i));
        const float* pt = fptr(ta);
        float* po = fmut(oa);
        py::gil_scoped_release nogil;
        nnforge::embedding_gather(pt, rows, dim, p, n, po);
      },
      py::arg("ids"), py::arg("table"), py::arg("out"),
      "out[i] = table[ids[i]] (ids int64 (n,), table (rows, dim), out (n, dim)).");

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
          fail(fn, "argument 'dy' must have shape " + rnn_shape_str({n, dim}) + " for ids " +
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
