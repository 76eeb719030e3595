// Argument validation for nnforge._cuda: the twin of cpp/bind/check.h for CUDA arrays.
//
// An array argument is any object exposing __cuda_array_interface__ (CuPy, Numba, PyTorch CUDA
// tensors): its pointer, shape, strides, typestr and version are read here and checked (dtype,
// ndim and shape, C-contiguity, alignment, writeability) before anything is enqueued. Errors name
// the function, the argument and the shapes: TypeError when the object is not a CUDA array at
// all (a NumPy array, a list, None where an array is required), ValueError otherwise.
//
// Order matters: every check that needs no driver runs first, so bad arguments are refused on a
// machine without a GPU or driver too. Only then does on_device() ask the driver
// (cudaPointerGetAttributes) whether each pointer is device memory of the current device; host
// memory dressed up with a __cuda_array_interface__ is refused there. Without a device that last
// check is skipped and the launch itself reports the missing device as RuntimeError.
#pragma once
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../cpp/bind/check.h"  // act_code, fail, mul, Pair, pair_arg, pair_str (shared)
#include "kernels.cuh"

namespace nnforge_cuda_bind {
namespace py = pybind11;
using nnforge_bind::act_code;
using nnforge_bind::fail;
using nnforge_bind::mul;
using nnforge_bind::Pair;
using nnforge_bind::pair_arg;
using nnforge_bind::pair_str;

[[noreturn]] inline void type_fail(const std::string& fn, const std::string& msg) {
  throw py::type_error(fn + ": " + msg);
}

// One CUDA array argument as described by its __cuda_array_interface__.
struct DevArray {
  std::string name;
  std::uintptr_t ptr = 0;
  std::vector<int64_t> shape;
  int64_t size = 0;      // number of elements
  int64_t itemsize = 0;  // bytes per element
  std::string dtype;     // "float32", "int64", ...
  bool readonly = false;
  int64_t ld = 0;        // 2-D: elements from one row to the next (== dim(1) when contiguous)

  int ndim() const { return static_cast<int>(shape.size()); }
  int64_t dim(int i) const { return shape[static_cast<size_t>(i)]; }
  int64_t nbytes() const { return size * itemsize; }
  // Bytes from the first to one past the last element (differs from nbytes() for row pitch).
  int64_t span_bytes() const {
    if (size == 0) return 0;
    return ndim() == 2 ? ((dim(0) - 1) * ld + dim(1)) * itemsize : nbytes();
  }
  template <class T>
  T* data() const {
    return size == 0 ? nullptr : reinterpret_cast<T*>(ptr);
  }
};

inline std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() == 1) out += ",";
  return out + ")";
}
inline std::string shape_str(const DevArray& a) { return shape_str(a.shape); }

inline std::string arg(const std::string& name) { return "argument '" + name + "'"; }

// NumPy-style name of a typestr such as "<f4" ("float32"); refuses big-endian data.
inline std::string dtype_name(const std::string& fn, const std::string& name,
                              const std::string& typestr, int64_t* itemsize) {
  if (typestr.size() < 3 || (typestr[0] != '<' && typestr[0] != '|' && typestr[0] != '=' &&
                             typestr[0] != '>'))
    fail(fn, arg(name) + " has an unreadable __cuda_array_interface__ typestr '" + typestr + "'");
  int64_t bytes = 0;
  try {
    bytes = std::stoll(typestr.substr(2));
  } catch (const std::exception&) {
    fail(fn, arg(name) + " has an unreadable __cuda_array_interface__ typestr '" + typestr + "'");
  }
  if (bytes < 1) fail(fn, arg(name) + " has a typestr with no item size: '" + typestr + "'");
  if (typestr[0] == '>' && bytes > 1)
    fail(fn, arg(name) + " is big-endian ('" + typestr + "'); only native byte order is supported");
  *itemsize = bytes;
  const char kind = typestr[1];
  const std::string bits = std::to_string(bytes * 8);
  switch (kind) {
    case 'f': return "float" + bits;
    case 'i': return "int" + bits;
    case 'u': return "uint" + bits;
    case 'b': return "bool";
    case 'c': return "complex" + bits;
    default: return typestr;
  }
}

// Reads and checks a CUDA array argument.
//   dtype: "float32", "int32", "int64", or "" for any (a workspace of raw bytes)
//   ndim:  required number of dimensions, -1 for any
//   row_pitch: a 2-D array may have rows further apart than their width (a[:, :k] of a wider
//     array; GEMM operands take it as the leading dimension); elements within a row are
//     contiguous either way.
// The object must stay alive for the call (it is the caller's argument, so it does).
inline DevArray cuda_array(const std::string& fn, const std::string& name, const py::handle& o,
                           const std::string& dtype, int ndim, bool writeable,
                           bool row_pitch = false) {
  if (o.is_none()) type_fail(fn, arg(name) + " must be a CUDA array, got None");
  if (!py::hasattr(o, "__cuda_array_interface__")) {
    const std::string tname = py::str(py::type::of(o).attr("__name__"));
    const bool host_array = py::hasattr(o, "__array_interface__") || py::hasattr(o, "__array__");
    type_fail(fn, arg(name) + " must be a CUDA array (an object with __cuda_array_interface__, "
                  "such as a CuPy array), got " + tname +
                  (host_array ? " in host memory" : ""));
  }
  py::object cai_obj = o.attr("__cuda_array_interface__");
  if (!py::isinstance<py::dict>(cai_obj))
    type_fail(fn, arg(name) + ": __cuda_array_interface__ must be a dict");
  py::dict cai = cai_obj.cast<py::dict>();
  for (const char* key : {"shape", "typestr", "data"})
    if (!cai.contains(key))
      type_fail(fn, arg(name) + ": __cuda_array_interface__ has no '" + key + "'");
  if (cai.contains("version") && !py::isinstance<py::int_>(cai["version"]))
    type_fail(fn, arg(name) + ": __cuda_array_interface__ 'version' must be an int");
  if (cai.contains("mask") && !cai["mask"].is_none())
    fail(fn, arg(name) + " is a masked array; masks are not supported");

  DevArray a;
  a.name = name;
  try {
    py::tuple shape = cai["shape"].cast<py::tuple>();
    for (py::handle d : shape) a.shape.push_back(d.cast<int64_t>());
    py::tuple data = cai["data"].cast<py::tuple>();
    if (data.size() != 2) throw py::cast_error("data");
    a.ptr = data[0].cast<std::uintptr_t>();
    a.readonly = data[1].cast<bool>();
  } catch (const py::cast_error&) {
    type_fail(fn, arg(name) + ": __cuda_array_interface__ 'shape' must be a tuple of ints and "
                  "'data' a (pointer, read_only) tuple");
  }
  const std::string typestr = py::str(cai["typestr"]);
  a.dtype = dtype_name(fn, name, typestr, &a.itemsize);

  a.size = 1;
  for (int64_t d : a.shape) {
    if (d < 0) fail(fn, arg(name) + " has a negative extent: shape " + shape_str(a));
    a.size = mul(fn, a.size, d, "the size of '" + name + "' " + shape_str(a));
  }
  mul(fn, a.size, a.itemsize, "the bytes of '" + name + "' " + shape_str(a));

  if (!dtype.empty() && a.dtype != dtype)
    fail(fn, arg(name) + " must have dtype " + dtype + ", got " + a.dtype + " with shape " +
                 shape_str(a));
  if (ndim >= 0 && a.ndim() != ndim)
    fail(fn, arg(name) + " must be " + std::to_string(ndim) + "-D, got shape " + shape_str(a));

  // C-contiguous: strides absent (None), or equal to the row-major ones wherever the extent
  // is above 1; an empty array is contiguous whatever its strides.
  if (cai.contains("strides") && !cai["strides"].is_none() && a.size > 0) {
    std::vector<int64_t> st;
    try {
      for (py::handle v : cai["strides"].cast<py::tuple>()) st.push_back(v.cast<int64_t>());
    } catch (const py::cast_error&) {
      type_fail(fn, arg(name) + ": __cuda_array_interface__ 'strides' must be None or ints");
    }
    if (st.size() != a.shape.size())
      fail(fn, arg(name) + " has " + std::to_string(st.size()) + " strides for shape " +
                   shape_str(a));
    const bool pitched = row_pitch && a.ndim() == 2 && (a.dim(1) <= 1 || st[1] == a.itemsize) &&
                         st[0] % a.itemsize == 0 && st[0] / a.itemsize >= a.dim(1);
    if (pitched && a.dim(0) > 1) {
      a.ld = st[0] / a.itemsize;
    } else if (!pitched) {
      int64_t want = a.itemsize;
      for (int i = a.ndim() - 1; i >= 0; --i) {
        if (a.dim(i) > 1 && st[static_cast<size_t>(i)] != want)
          fail(fn, arg(name) + " must be C-contiguous" +
                       (row_pitch ? " (or rows of contiguous elements)" : "") + ", got shape " +
                       shape_str(a) + " with strides " + shape_str(st));
        want *= a.dim(i);
      }
    }
  }
  if (a.ndim() == 2 && a.ld == 0) a.ld = a.dim(1);
  if (a.size > 0) {
    if (a.ptr == 0) fail(fn, arg(name) + " is a null pointer with shape " + shape_str(a));
    const std::uintptr_t align = dtype.empty() ? 16 : static_cast<std::uintptr_t>(a.itemsize);
    if (a.ptr % align != 0)
      fail(fn, arg(name) + " is not aligned to " + std::to_string(align) + " bytes");
  }
  if (writeable && a.readonly) fail(fn, arg(name) + " must be writeable (it is read-only)");
  return a;
}

// None -> no array (size 0, null data); anything else as cuda_array.
inline DevArray optional_array(const std::string& fn, const std::string& name,
                               const py::handle& o, const std::string& dtype, int ndim,
                               bool writeable) {
  if (o.is_none()) {
    DevArray none;
    none.name = name;
    return none;
  }
  return cuda_array(fn, name, o, dtype, ndim, writeable);
}

inline void same_shape(const std::string& fn, const DevArray& a, const DevArray& b) {
  if (a.shape != b.shape)
    fail(fn, "arguments '" + a.name + "' " + shape_str(a) + " and '" + b.name + "' " +
                 shape_str(b) + " must have the same shape");
}

inline void want_shape(const std::string& fn, const DevArray& a,
                       const std::vector<int64_t>& shape, const std::string& why) {
  if (a.shape != shape)
    fail(fn, arg(a.name) + " must have shape " + shape_str(shape) + ", got " + shape_str(a) +
                 (why.empty() ? "" : ": " + why));
}

// Refuses two arrays whose memory overlaps (an output must not alias an input); exact_ok allows
// the very same buffer where the kernel documents in-place use.
inline void no_overlap(const std::string& fn, const DevArray& a, const DevArray& b,
                       bool exact_ok = false) {
  if (a.size == 0 || b.size == 0) return;
  const std::uintptr_t lo_a = a.ptr, hi_a = a.ptr + static_cast<std::uintptr_t>(a.span_bytes());
  const std::uintptr_t lo_b = b.ptr, hi_b = b.ptr + static_cast<std::uintptr_t>(b.span_bytes());
  if (exact_ok && lo_a == lo_b && hi_a == hi_b) return;
  if (lo_a < hi_b && lo_b < hi_a)
    fail(fn, "arguments '" + a.name + "' " + shape_str(a) + " and '" + b.name + "' " +
                 shape_str(b) + " overlap in memory" +
                 (exact_ok ? " (only the very same buffer is allowed)" : ""));
}

// Number of CUDA devices; 0 (no exception) without a driver or a device.
inline int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

// The last check: every non-empty array is device (or managed) memory on the current device.
inline void on_device(const std::string& fn, std::initializer_list<const DevArray*> arrays) {
  static const bool have_device = device_count() > 0;
  if (!have_device) return;  // nothing to ask; the launch reports the missing device
  int current = -1;
  if (cudaGetDevice(&current) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  for (const DevArray* a : arrays) {
    if (a->size == 0) continue;
    cudaPointerAttributes attr{};
    const cudaError_t e = cudaPointerGetAttributes(&attr, reinterpret_cast<void*>(a->ptr));
    if (e != cudaSuccess) {
      cudaGetLastError();
      fail(fn, arg(a->name) + " is not memory CUDA knows (" + cudaGetErrorString(e) + ")");
    }
    switch (attr.type) {
      case cudaMemoryTypeDevice:
        if (attr.device != current)
          fail(fn, arg(a->name) + " lives on device " + std::to_string(attr.device) +
                       " but the current device is " + std::to_string(current));
        break;
      case cudaMemoryTypeManaged:
        break;
      case cudaMemoryTypeHost:
        fail(fn, arg(a->name) + " is page-locked host memory, not device memory");
      default:
        fail(fn, arg(a->name) + " is host memory, not device memory (shape " + shape_str(*a) +
                     ")");
    }
  }
}

inline cudaStream_t as_stream(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

// Raises RuntimeError with the CUDA error's name and text.
inline void check_cuda(const std::string& fn, cudaError_t e) {
  if (e != cudaSuccess)
    throw std::runtime_error(fn + ": CUDA error " + cudaGetErrorName(e) + ": " +
                             cudaGetErrorString(e));
}

// Calls f() -> cudaError_t (kernel launches, a stream call) with the GIL released, then raises
// its error as check_cuda does. Arguments are checked before, with the GIL held.
template <class F>
void call_nogil(const std::string& fn, F&& f) {
  cudaError_t e;
  {
    py::gil_scoped_release nogil;
    e = f();
  }
  check_cuda(fn, e);
}

inline nnforge::cuda::Precision precision_code(const std::string& fn, const std::string& p) {
  if (p == "fp32" || p == "float32" || p == "highest") return nnforge::cuda::Precision::FP32;
  if (p == "tf32" || p == "high") return nnforge::cuda::Precision::TF32;
  if (p == "bf16" || p == "bfloat16" || p == "medium") return nnforge::cuda::Precision::BF16;
  fail(fn, "argument 'precision' must be 'fp32', 'tf32' or 'bf16', got '" + p + "'");
}

// An optional scratch array (any dtype, C-contiguous, writeable, 16-byte aligned) of at least
// `need` bytes; None is accepted only when need == 0. Returns its pointer (null for None).
inline void* workspace(const std::string& fn, const py::handle& o, size_t need, DevArray* out) {
  *out = optional_array(fn, "workspace", o, "", -1, true);
  if (static_cast<size_t>(out->nbytes()) < need)
    fail(fn, "argument 'workspace' must hold at least " + std::to_string(need) + " bytes, got " +
                 (o.is_none() ? std::string("None") : std::to_string(out->nbytes()) + " bytes"));
  return out->size == 0 ? nullptr : reinterpret_cast<void*>(out->ptr);
}

}  // namespace nnforge_cuda_bind
