// Argument validation shared by the binding files. Everything a kernel relies on is checked here,
// before the GIL is released and before any kernel runs; failures raise ValueError (TypeError for
// a wrong type), naming the function, the argument and the shapes involved.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "nnforge/common.h"

namespace nnforge_bind {
namespace py = pybind11;

// A float32 array as received: py::array (no implicit conversion; we check and refuse instead).
using farray = py::array;

inline std::string shape_str(const py::array& a) {
  std::ostringstream os;
  os << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) os << (i ? ", " : "") << a.shape(i);
  if (a.ndim() == 1) os << ",";
  os << ")";
  return os.str();
}

[[noreturn]] inline void fail(const std::string& fn, const std::string& msg) {
  throw py::value_error(fn + ": " + msg);
}

// Checks dtype float32, C-contiguity, alignment, optional writeability and ndim (-1: any).
inline void check_f32(const std::string& fn, const char* name, const py::array& a, int ndim,
                      bool writeable) {
  if (!a.dtype().is(py::dtype::of<float>()))
    fail(fn, std::string("argument '") + name + "' must have dtype float32, got " +
                 std::string(py::str(a.dtype())) + " with shape " + shape_str(a));
  if (!(a.flags() & py::array::c_style))
    fail(fn, std::string("argument '") + name + "' must be C-contiguous, got shape " +
                 shape_str(a) + " with other strides");
  if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(float) != 0)
    fail(fn, std::string("argument '") + name + "' is not aligned for float32");
  if (writeable && !a.writeable())
    fail(fn, std::string("argument '") + name + "' must be writeable");
  if (ndim >= 0 && a.ndim() != ndim)
    fail(fn, std::string("argument '") + name + "' must be " + std::to_string(ndim) +
                 "-D, got shape " + shape_str(a));
}

inline void check_i64(const std::string& fn, const char* name, const py::array& a, int ndim) {
  if (!a.dtype().is(py::dtype::of<int64_t>()))
    fail(fn, std::string("argument '") + name + "' must have dtype int64, got " +
                 std::string(py::str(a.dtype())));
  if (!(a.flags() & py::array::c_style))
    fail(fn, std::string("argument '") + name + "' must be C-contiguous");
  if (ndim >= 0 && a.ndim() != ndim)
    fail(fn, std::string("argument '") + name + "' must be " + std::to_string(ndim) +
                 "-D, got shape " + shape_str(a));
}

inline void check_i32(const std::string& fn, const char* name, const py::array& a, int ndim,
                      bool writeable) {
  if (!a.dtype().is(py::dtype::of<int32_t>()))
    fail(fn, std::string("argument '") + name + "' must have dtype int32, got " +
                 std::string(py::str(a.dtype())));
  if (!(a.flags() & py::array::c_style))
    fail(fn, std::string("argument '") + name + "' must be C-contiguous");
  if (writeable && !a.writeable()) fail(fn, std::string("argument '") + name + "' must be writeable");
  if (ndim >= 0 && a.ndim() != ndim)
    fail(fn, std::string("argument '") + name + "' must be " + std::to_string(ndim) +
                 "-D, got shape " + shape_str(a));
}

inline void check_same_shape(const std::string& fn, const char* na, const py::array& a,
                             const char* nb, const py::array& b) {
  bool same = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == b.shape(i);
  if (!same)
    fail(fn, std::string("arguments '") + na + "' " + shape_str(a) + " and '" + nb + "' " +
                 shape_str(b) + " must have the same shape");
}

// An argument that must be a NumPy array (TypeError otherwise: the bindings convert nothing).
inline py::array arr(const std::string& fn, const char* name, const py::object& o) {
  if (!py::isinstance<py::array>(o))
    throw py::type_error(fn + ": argument '" + name + "' must be a numpy.ndarray, got " +
                         std::string(py::str(py::type::of(o).attr("__name__"))));
  return py::reinterpret_borrow<py::array>(o);
}

// Refuses two arrays whose memory overlaps (an output must not alias an input).
inline void no_overlap(const std::string& fn, const char* na, const py::array& a, const char* nb,
                       const py::array& b) {
  if (a.size() == 0 || b.size() == 0) return;
  const auto lo_a = reinterpret_cast<std::uintptr_t>(a.data()), hi_a = lo_a + a.nbytes();
  const auto lo_b = reinterpret_cast<std::uintptr_t>(b.data()), hi_b = lo_b + b.nbytes();
  if (lo_a < hi_b && lo_b < hi_a)
    fail(fn, std::string("arguments '") + na + "' " + shape_str(a) + " and '" + nb + "' " +
                 shape_str(b) + " must not share memory");
}

// a * b, refusing int64 overflow.
inline int64_t mul(const std::string& fn, int64_t a, int64_t b, const std::string& what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail(fn, "size overflow computing " + what);
  return r;
}

// Geometry arguments (kernel, strides, dilation, padding, pool, out_hw): two ints each.
using Pair = std::array<int64_t, 2>;
constexpr int64_t kMaxGeom = std::numeric_limits<int32_t>::max();

inline std::string pair_str(const Pair& p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

// A tuple/list of exactly two ints, each in [lo, 2^31 - 1].
inline Pair pair_arg(const std::string& fn, const char* name, const py::object& o, int64_t lo) {
  const std::string what = std::string("argument '") + name + "'";
  if (!(py::isinstance<py::tuple>(o) || py::isinstance<py::list>(o)))
    fail(fn, what + " must be a tuple of 2 ints, got " +
                 std::string(py::str(py::type::of(o).attr("__name__"))));
  py::sequence seq = py::reinterpret_borrow<py::sequence>(o);
  if (seq.size() != 2)
    fail(fn, what + " must have 2 entries, got " + std::to_string(seq.size()));
  Pair p{};
  for (size_t i = 0; i < 2; ++i) {
    py::object v = seq[i];
    if (!py::isinstance<py::int_>(v) && !py::hasattr(v, "__index__"))
      fail(fn, what + " must hold ints, got " + std::string(py::str(o)));
    try {
      p[i] = py::int_(v).cast<int64_t>();
    } catch (const py::error_already_set&) {
      fail(fn, what + " holds an int out of range: " + std::string(py::str(o)));
    } catch (const py::cast_error&) {
      fail(fn, what + " holds an int out of range: " + std::string(py::str(o)));
    }
    if (p[i] < lo || p[i] > kMaxGeom)
      fail(fn, what + " entries must be in [" + std::to_string(lo) + ", " +
                   std::to_string(kMaxGeom) + "], got " + std::string(py::str(o)));
  }
  return p;
}

// The sizes of C = op(A) @ op(B) (op: transpose where trans_*) from the 2-D shapes of a, b and
// c, checking that the inner dimensions agree and that c is M x N. `desc` receives the arrays'
// description, for the caller's later messages.
struct GemmSizes {
  int64_t M, N, K;
};

inline GemmSizes gemm_sizes(const std::string& fn, const Pair& a, const Pair& b, const Pair& c,
                            bool trans_a, bool trans_b, std::string& desc) {
  const int64_t M = trans_a ? a[1] : a[0];
  const int64_t Ka = trans_a ? a[0] : a[1];
  const int64_t Kb = trans_b ? b[1] : b[0];
  const int64_t N = trans_b ? b[0] : b[1];
  desc = "a " + pair_str(a) + (trans_a ? " (trans_a)" : "") + ", b " + pair_str(b) +
         (trans_b ? " (trans_b)" : "") + ", c " + pair_str(c);
  if (Ka != Kb)
    fail(fn, "inner dimensions of 'a' and 'b' differ (" + std::to_string(Ka) + " vs " +
                 std::to_string(Kb) + "): " + desc);
  if (c[0] != M || c[1] != N)
    fail(fn, "argument 'c' must have shape (" + std::to_string(M) + ", " + std::to_string(N) +
                 "): " + desc);
  return GemmSizes{M, N, Ka};
}

// The activation code of a kernel call (nnforge::Act): 0 linear, 1 relu, 2 sigmoid, 3 tanh.
inline nnforge::Act act_code(const std::string& fn, int64_t act) {
  if (act < 0 || act > 3)
    fail(fn, "argument 'act' must be 0 (linear), 1 (relu), 2 (sigmoid) or 3 (tanh), got " +
                 std::to_string(act));
  return static_cast<nnforge::Act>(act);
}

inline const float* fptr(const py::array& a) { return static_cast<const float*>(a.data()); }
inline float* fmut(py::array& a) { return static_cast<float*>(a.mutable_data()); }

// Optional array argument: None -> nullptr.
inline bool is_none(const py::object& o) { return o.is_none(); }

}  // namespace nnforge_bind
