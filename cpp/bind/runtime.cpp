// Bindings: thread count, instruction set, cache sizes and the GEMM's blocking.
#include <pybind11/pybind11.h>

#include <string>

#include "nnforge/common.h"
#include "nnforge/gemm.h"

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
  m.def(
      "cache_sizes",
      [] {
        const nnforge::CacheSizes& c = nnforge::cpu_cache_sizes();
        py::dict d;
        d["l1d"] = c.l1d;
        d["l2"] = c.l2;
        d["l3"] = c.l3;
        return d;
      },
      "Per-core data cache sizes in bytes read at run time (sysfs, else CPUID; 0 where unknown);\n"
      "NNFORGE_L1D_BYTES / NNFORGE_L2_BYTES override them.");
  m.def(
      "gemm_blocking",
      [] {
        const nnforge::GemmBlocking b = nnforge::gemm_blocking();
        py::dict d;
        d["isa"] = std::string(b.isa);
        d["MR"] = b.MR;
        d["NR"] = b.NR;
        d["KC"] = b.KC;
        d["NC"] = b.NC;
        d["MC"] = b.MC;
        return d;
      },
      "The sgemm blocking chosen at run time: micro-tile MR x NR, K block KC, N block NC (from\n"
      "the L2 size), M chunk MC.");
}
