// Bindings: int8 quantized inference on the GPU (cuda/qgemm.cuh), the twins of cpp/bind/qgemm.cpp
// with `workspace` and `stream`: quantize_rows_s8, qgemm_s8, qdense_s8, qdense_workspace_bytes.
// The packed weights arrive as the panels array of nnforge.backend.quantized.Int8PackedWeights
// (moved to the device) plus N; its shape is checked against K and N.
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>

#include "../../cpp/bind/qgemm_args.h"  // qpacked_dims, scale_arg (shared with _cpu)
#include "bind/check.h"
#include "qgemm.cuh"

namespace py = pybind11;
using namespace nnforge_cuda_bind;
using nnforge_bind::scale_arg;

namespace {

DevArray check_panels(const std::string& fn, const py::handle& o, int64_t N, int64_t K) {
  DevArray p = cuda_array(fn, "panels", o, "int8", 4, false);
  const nnforge_bind::QPackedDims d = nnforge_bind::qpacked_dims(fn, N, K);
  want_shape(fn, p, {d.NP, d.KG, 16, 4}, "the packing of a (" + std::to_string(K) + ", " +
                                         std::to_string(N) + ") int8 kernel");
  if (p.size > 0 && p.ptr % 4 != 0) fail(fn, "argument 'panels' must be 4-byte aligned");
  return p;
}

size_t dense_ws(int64_t M, int64_t K) {
  return static_cast<size_t>((M * K + 15) / 16 * 16 + M * 4);
}

}  // namespace

void bind_qgemm(py::module_& m) {
  m.def(
      "quantize_rows_s8",
      [](py::object xo, py::object qo, py::object so, py::object x_scale, std::uintptr_t stream) {
        const std::string fn = "quantize_rows_s8";
        const DevArray x = cuda_array(fn, "x", xo, "float32", 2, false);
        const DevArray q = cuda_array(fn, "q", qo, "int8", 2, true);
        const DevArray s = cuda_array(fn, "scale", so, "float32", 1, true);
        want_shape(fn, q, x.shape, "as x");
        want_shape(fn, s, {x.dim(0)}, "one scale per row of x " + shape_str(x));
        const float xs = scale_arg(fn, "x_scale", x_scale);
        no_overlap(fn, q, x);
        no_overlap(fn, s, x);
        no_overlap(fn, s, q);
        on_device(fn, {&x, &q, &s});
        call_nogil(fn, [&] {
          return nnforge::cuda::quantize_rows_s8(x.data<const float>(), x.dim(0), x.dim(1), xs,
                                                 q.data<int8_t>(), s.data<float>(),
                                                 as_stream(stream));
        });
      },
      py::arg("x"), py::arg("q"), py::arg("scale"), py::arg("x_scale") = py::none(),
      py::arg("stream") = 0,
      "q, scale = int8 quantization of float32 x (M, K): per row (x_scale None) or static.");

  m.def(
      "qgemm_s8",
      [](py::object xo, py::object po, int64_t n, py::object oo, std::uintptr_t stream) {
        const std::string fn = "qgemm_s8";
        const DevArray xq = cuda_array(fn, "xq", xo, "int8", 2, false);
        const DevArray p = check_panels(fn, po, n, xq.dim(1));
        const DevArray out = cuda_array(fn, "out", oo, "int32", 2, true);
        want_shape(fn, out, {xq.dim(0), n}, "xq " + shape_str(xq) + " @ W (K, " +
                                                std::to_string(n) + ")");
        no_overlap(fn, out, xq);
        no_overlap(fn, out, p);
        on_device(fn, {&xq, &p, &out});
        call_nogil(fn, [&] {
          return nnforge::cuda::qgemm_s8(xq.data<const int8_t>(), xq.dim(0), xq.dim(1),
                                         p.data<const int8_t>(), n, 0, nullptr, nullptr, nullptr,
                                         nnforge::Act::Linear, 0.f, out.data<void>(),
                                         as_stream(stream));
        });
      },
      py::arg("xq"), py::arg("panels"), py::arg("n"), py::arg("out"), py::arg("stream") = 0,
      "out (int32, M x n) = xq (int8, M x K) @ W, W given as its packed panels.");

  m.def(
      "qdense_workspace_bytes", [](int64_t M, int64_t K) { return dense_ws(M, K); },
      py::arg("m"), py::arg("k"), "Bytes of workspace qdense_s8 needs for x of shape (m, k).");

  m.def(
      "qdense_s8",
      [](py::object xo, py::object po, int64_t n, py::object wso, py::object bo, int64_t act,
         py::object x_scale, py::object out_scale, py::object oo, py::object wso_ws,
         std::uintptr_t stream) {
        const std::string fn = "qdense_s8";
        const DevArray x = cuda_array(fn, "x", xo, "float32", 2, false);
        const DevArray p = check_panels(fn, po, n, x.dim(1));
        const DevArray ws = cuda_array(fn, "w_scale", wso, "float32", 1, false);
        want_shape(fn, ws, {n}, "one scale per output column");
        const DevArray bias = optional_array(fn, "bias", bo, "float32", 1, false);
        if (!bo.is_none()) want_shape(fn, bias, {n}, "one bias per output column");
        const nnforge::Act a = act_code(fn, act);
        const float xs = scale_arg(fn, "x_scale", x_scale);
        const float os = scale_arg(fn, "out_scale", out_scale);
        const DevArray out = cuda_array(fn, "out", oo, os > 0.f ? "int8" : "float32", 2, true);
        want_shape(fn, out, {x.dim(0), n}, "x " + shape_str(x) + " @ W");
        const int64_t M = x.dim(0), K = x.dim(1);
        mul(fn, M, K + 4, "the workspace size");
        DevArray wsa;
        unsigned char* w = static_cast<unsigned char*>(workspace(fn, wso_ws, dense_ws(M, K), &wsa));
        const DevArray& wsc = wsa;
        for (const DevArray* in : {&x, &p, &ws, &bias, &wsc}) no_overlap(fn, out, *in);
        for (const DevArray* in : {&x, &p, &ws, &bias}) no_overlap(fn, wsc, *in);
        on_device(fn, {&x, &p, &ws, &bias, &out, &wsc});
        if (M > 0 && n > 0) call_nogil(fn, [&] {
          int8_t* xq = reinterpret_cast<int8_t*>(w);
          float* scales = reinterpret_cast<float*>(w + (M * K + 15) / 16 * 16);
          cudaError_t e = nnforge::cuda::quantize_rows_s8(x.data<const float>(), M, K, xs, xq,
                                                          scales, as_stream(stream));
          if (e == cudaSuccess)
            e = nnforge::cuda::qgemm_s8(xq, M, K, p.data<const int8_t>(), n, os > 0.f ? 2 : 1,
                                        scales, ws.data<const float>(), bias.data<const float>(),
                                        a, os, out.data<void>(), as_stream(stream));
          return e;
        });
      },
      py::arg("x"), py::arg("panels"), py::arg("n"), py::arg("w_scale"), py::arg("bias"),
      py::arg("act"), py::arg("x_scale"), py::arg("out_scale"), py::arg("out"),
      py::arg("workspace"), py::arg("stream") = 0,
      "out = act(float(q(x) @ W) / (x_scale_row * w_scale) + bias) (float32), or int8 "
      "requantized with out_scale; workspace: qdense_workspace_bytes(M, K) bytes.");
}
