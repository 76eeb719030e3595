// nnforge._cpu: pybind11 bindings for the CPU kernels. Each kernel family binds itself in
// cpp/bind/<family>.cpp; this file only assembles the module.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_runtime(py::module_& m);     // bind/runtime.cpp: threads, ISA
void bind_gemm(py::module_& m);        // bind/gemm.cpp
void bind_activation(py::module_& m);  // bind/activation.cpp: activations, softmax, bias
void bind_conv(py::module_& m);        // bind/conv.cpp: im2col, col2im, conv2d
void bind_pool(py::module_& m);        // bind/pool.cpp
void bind_loss(py::module_& m);        // bind/loss.cpp
void bind_optim(py::module_& m);       // bind/optim.cpp
void bind_rnn(py::module_& m);         // bind/rnn.cpp: LSTM/GRU sequences, embedding gradient
void bind_qgemm(py::module_& m);       // bind/qgemm.cpp: int8 GEMM, Dense, Conv2D

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "nnforge CPU kernels (C++17, OpenMP; AVX-512/AVX2 chosen at run time)";
  bind_runtime(m);
  bind_gemm(m);
  bind_activation(m);
  bind_conv(m);
  bind_pool(m);
  bind_loss(m);
  bind_optim(m);
  bind_rnn(m);
  bind_qgemm(m);
}
