// nnforge._cuda: pybind11 bindings for the CUDA kernels (cuda/*.cu, host API in kernels.cuh).
// Each kernel family binds itself in cuda/bind/<family>.cpp, as cpp/bind/ does for nnforge._cpu;
// this file only assembles the module.
//
// Array arguments are CUDA arrays (anything with __cuda_array_interface__, e.g. CuPy arrays),
// validated in C++ before anything is enqueued (cuda/bind/check.h); `stream` is a cudaStream_t as
// an int (CuPy's `cupy.cuda.get_current_stream().ptr`; 0 = the legacy default stream). The GIL is
// released while kernels are enqueued; kernels run asynchronously on the stream, as CuPy's do.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_runtime(py::module_& m);     // bind/runtime.cpp: devices, versions, streams
void bind_gemm(py::module_& m);        // bind/gemm.cpp
void bind_activation(py::module_& m);  // bind/activation.cpp: activations, softmax, bias
void bind_conv(py::module_& m);        // bind/conv.cpp: im2col, col2im, conv2d
void bind_pool(py::module_& m);        // bind/pool.cpp
void bind_loss(py::module_& m);        // bind/loss.cpp
void bind_optim(py::module_& m);       // bind/optim.cpp
void bind_qgemm(py::module_& m);       // bind/qgemm.cpp: int8 GEMM, Dense
void bind_rnn(py::module_& m);         // bind/rnn.cpp: whole-sequence LSTM / GRU

PYBIND11_MODULE(_cuda, m) {
  m.doc() =
      "nnforge CUDA kernels on CUDA arrays (__cuda_array_interface__) and CuPy's stream; used "
      "only by nnforge.backend.cuda";
  bind_runtime(m);
  bind_gemm(m);
  bind_activation(m);
  bind_conv(m);
  bind_pool(m);
  bind_loss(m);
  bind_optim(m);
  bind_qgemm(m);
  bind_rnn(m);
}
