// Bindings: thread count and instruction set.
#include <pybind11/pybind11.h>

#include "nnforge/common.h"

namespace py = pybind11;

void bind_runtime(py::module_& m) {
  m.def("get_num_threads", &nnforge::get_num_threads,
        "Number of threads the OpenMP kernels use (default: cores this process may run on).");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1)
          throw py::value_error("set_num_threads: argument 'n' must be >= 1, got " +
                                std::to_string(n));
        nnforge::set_num_threads(n);
      },
      py::arg("n"), "Set the number of threads the OpenMP kernels use (n >= 1).");
  m.def(
      "cpu_isa", [] { return std::string(nnforge::cpu_isa()); },
      "Instruction set chosen at run time: 'avx512', 'avx2' or 'generic' (NNFORGE_ISA may force "
      "a lower one).");
}
