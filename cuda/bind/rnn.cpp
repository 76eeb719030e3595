// Bindings: rnn_workspace_bytes, rnn_forward, rnn_backward (whole-sequence LSTM / GRU), the twins
// of cpp/bind/rnn.cpp with `precision`, `workspace` and `stream`. The argument rules (geometry
// from x and recurrent_kernel, the exact shape of every other argument, outputs writeable and
// overlapping nothing) are the CPU bindings' own (cpp/bind/rnn_args.h), applied here to CUDA
// arrays; inference runs rnn_forward into scratch buffers (the backend's rnn_infer).
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "../../cpp/bind/rnn_args.h"  // rnn_common, rnn_forward_outputs, rnn_backward_args
#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;
using nnforge_bind::RnnShape;
namespace nc = nnforge::cuda;

namespace {

// nnforge_bind::rnn_* over CUDA arrays (the binder contract of cpp/bind/rnn_args.h).
struct DevArgs {
  std::string fn;
  std::vector<DevArray> all;
  std::vector<size_t> outs;  // indices into all

  RnnShape shape(const char* name, const py::object& o, int ndim) {
    return cuda_array(fn, name, o, "float32", ndim, false).shape;
  }

  float* f32(const char* name, const py::object& o, const RnnShape& shape, bool out,
             bool optional) {
    if (o.is_none()) {
      if (!optional) fail(fn, std::string("argument '") + name + "' is required, got None");
      return nullptr;
    }
    DevArray a = cuda_array(fn, name, o, "float32", static_cast<int>(shape.size()), out);
    want_shape(fn, a, shape, "");
    all.push_back(a);
    if (out) outs.push_back(all.size() - 1);
    return a.data<float>();
  }

  const uint8_t* mask(const py::object& o, int64_t N, int64_t T) {
    if (o.is_none()) return nullptr;
    DevArray m = cuda_array(fn, "mask", o, "bool", 2, false);
    want_shape(fn, m, {N, T}, "(batch, steps)");
    all.push_back(m);
    return m.data<uint8_t>();
  }

  void check_overlaps() {
    for (size_t o : outs)
      for (size_t i = 0; i < all.size(); ++i)
        if (i != o) no_overlap(fn, all[o], all[i]);
  }

  // Every array on the current device, then the workspace checked against `need` bytes.
  void* finish(const py::object& ws, size_t need, DevArray* wsa) {
    void* p = workspace(fn, ws, need, wsa);
    for (const DevArray& a : all) no_overlap(fn, *wsa, a);
    for (const DevArray& a : all) on_device(fn, {&a});
    on_device(fn, {wsa});
    return p;
  }
};

nnforge::RnnForwardArgs sizes_only(int cell, bool reset_after, int64_t N, int64_t T, int64_t H) {
  nnforge::RnnForwardArgs a;
  a.cell = static_cast<nnforge::RnnCell>(cell);
  a.reset_after = reset_after;
  a.N = N;
  a.T = T;
  a.H = H;
  return a;
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def(
      "rnn_workspace_bytes",
      [](int cell, bool reset_after, int64_t N, int64_t T, int64_t H, bool backward,
         bool with_bias) -> size_t {
        const std::string fn = "rnn_workspace_bytes";
        if (cell != 0 && cell != 1)
          fail(fn, "argument 'cell' must be 0 (LSTM) or 1 (GRU), got " + std::to_string(cell));
        if (N < 0 || T < 1 || H < 1)
          fail(fn, "sizes must be N >= 0, T >= 1, H >= 1, got N " + std::to_string(N) + ", T " +
                       std::to_string(T) + ", H " + std::to_string(H));
        const int64_t G = cell == 0 ? 4 : 3;
        mul(fn, mul(fn, mul(fn, N, T, "N*T"), mul(fn, G, H, "G*H"), "N*T*G*H"), 8, "bytes");
        const nnforge::RnnForwardArgs a = sizes_only(cell, reset_after, N, T, H);
        return backward ? nc::rnn_backward_workspace_bytes(a, with_bias)
                        : nc::rnn_forward_workspace_bytes(a);
      },
      py::arg("cell"), py::arg("reset_after"), py::arg("N"), py::arg("T"), py::arg("H"),
      py::arg("backward"), py::arg("with_bias"),
      "Bytes of workspace rnn_forward (backward=False) or rnn_backward needs.");

  m.def(
      "rnn_forward",
      [](NNF_RNN_INPUT_PARAMS, NNF_RNN_SAVED_PARAMS, const py::object& y_seq,
         const py::object& y_last, const std::string& precision, const py::object& ws,
         std::uintptr_t stream) {
        DevArgs A{"rnn_forward", {}, {}};
        nnforge::RnnForwardArgs a = nnforge_bind::rnn_common(A, NNF_RNN_INPUT_NAMES);
        nnforge_bind::rnn_forward_outputs(A, a, gates, aux, h_all, c_all, y_seq, y_last);
        const auto prec = precision_code(A.fn, precision);
        DevArray wsa;
        void* w = A.finish(ws, nc::rnn_forward_workspace_bytes(a), &wsa);
        call_nogil(A.fn, [&] {
          return nc::rnn_forward(a, prec, w, static_cast<size_t>(wsa.nbytes()), as_stream(stream));
        });
      },
      NNF_RNN_INPUT_ARGS, NNF_RNN_SAVED_ARGS, py::arg("y_seq"),
      py::arg("y_last"), py::arg("precision") = "fp32", py::arg("workspace") = py::none(),
      py::arg("stream") = 0,
      "Whole-sequence LSTM (cell=0) or GRU (cell=1) forward; see cpp/include/nnforge/rnn.h.");

  m.def(
      "rnn_backward",
      [](NNF_RNN_INPUT_PARAMS, NNF_RNN_SAVED_PARAMS, NNF_RNN_GRAD_PARAMS,
         const std::string& precision, const py::object& ws, std::uintptr_t stream) {
        DevArgs A{"rnn_backward", {}, {}};
        nnforge::RnnBackwardArgs b;
        b.fwd = nnforge_bind::rnn_common(A, NNF_RNN_INPUT_NAMES);
        nnforge_bind::rnn_backward_args(A, b, gates, aux, h_all, c_all, dy_seq, dy_last, dh_T,
                                        dc_T, dx, dkernel, drecurrent_kernel, dbias, dh0, dc0);
        const auto prec = precision_code(A.fn, precision);
        DevArray wsa;
        void* w = A.finish(ws, nc::rnn_backward_workspace_bytes(b.fwd, b.dbias != nullptr), &wsa);
        call_nogil(A.fn, [&] {
          return nc::rnn_backward(b, prec, w, static_cast<size_t>(wsa.nbytes()), as_stream(stream));
        });
      },
      NNF_RNN_INPUT_ARGS, NNF_RNN_SAVED_ARGS, NNF_RNN_GRAD_ARGS,
      py::arg("precision") = "fp32", py::arg("workspace") = py::none(), py::arg("stream") = 0,
      "Backward through time of rnn_forward: dx, dkernel, drecurrent_kernel, dbias, dh0, dc0.");
}
