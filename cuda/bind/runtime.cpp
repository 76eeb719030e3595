// Bindings: devices, versions, streams and which GEMM arithmetic runs (docs/KERNELS.md). None of
// these needs a device to answer except get_device/set_device/compute_capability/
// stream_synchronize, which raise (never crash) without one.
#include <pybind11/pybind11.h>

#include <string>
#include <tuple>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;

#ifndef NNFORGE_CUDA_MIN_CC
#define NNFORGE_CUDA_MIN_CC 75  // set by cuda/CMakeLists.txt from CMAKE_CUDA_ARCHITECTURES
#endif

void bind_runtime(py::module_& m) {
  m.def("is_built", []() { return true; }, "True: this module was compiled with nvcc.");
  m.def("device_count", &device_count,
        "Number of CUDA devices; 0 (no exception) without a driver or a device. A driver too old "
        "for runtime_version() also gives 0.");
  m.def(
      "runtime_version",
      []() {
        int v = 0;
        cudaRuntimeGetVersion(&v);
        return v;
      },
      "Version of the statically linked CUDA runtime (e.g. 13000).");
  m.def(
      "driver_version",
      []() {
        int v = 0;
        if (cudaDriverGetVersion(&v) != cudaSuccess) {
          cudaGetLastError();
          return 0;
        }
        return v;
      },
      "CUDA version the installed driver supports (e.g. 12040); 0 without a driver.");
  m.def(
      "min_compute_capability",
      []() { return std::make_tuple(NNFORGE_CUDA_MIN_CC / 10, NNFORGE_CUDA_MIN_CC % 10); },
      "Oldest compute capability this build has code for (major, minor); older devices fail "
      "every launch.");
  m.def("get_device", []() {
    int d = 0;
    check_cuda("get_device", cudaGetDevice(&d));
    return d;
  });
  m.def(
      "set_device",
      [](int d) {
        const int n = device_count();
        if (d < 0 || d >= n)
          fail("set_device", "device " + std::to_string(d) + " does not exist (" +
                                 std::to_string(n) + " devices)");
        check_cuda("set_device", cudaSetDevice(d));
      },
      py::arg("device"));
  m.def(
      "compute_capability",
      [](int d) {
        if (d < 0 || d >= device_count())
          fail("compute_capability", "device " + std::to_string(d) + " does not exist");
        int major = 0, minor = 0;
        check_cuda("compute_capability",
                   cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d));
        check_cuda("compute_capability",
                   cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d));
        return std::make_tuple(major, minor);
      },
      py::arg("device") = 0);
  m.def(
      "tensor_cores_used",
      [](const std::string& precision) {
        return nnforge::cuda::tensor_cores_used(precision_code("tensor_cores_used", precision));
      },
      py::arg("precision"),
      "Whether sgemm with this precision runs on tensor cores on the current device (TF32/BF16 "
      "need compute capability 8.0; below it they run in FP32).");
  m.def(
      "stream_synchronize",
      [](std::uintptr_t stream) {
        call_nogil("stream_synchronize", [&] {
          return cudaStreamSynchronize(as_stream(stream));
        });
      },
      py::arg("stream"));
}
