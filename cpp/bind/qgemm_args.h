// Argument rules of the int8 bindings shared by nnforge._cpu (cpp/bind/qgemm.cpp) and
// nnforge._cuda (cuda/bind/qgemm.cpp): the packed kernel's geometry and the optional scales.
#pragma once
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "check.h"
#include "nnforge/qgemm.h"

namespace nnforge_bind {

struct QPackedDims {
  int64_t NP, KG;  // 16-column panels, 4-deep k-groups
};

// The packed-panel dimensions of an int8 (K, N) kernel, refusing N < 0 and a K whose int32 sums
// could overflow (nnforge::kQGemmMaxK).
inline QPackedDims qpacked_dims(const std::string& fn, int64_t N, int64_t K) {
  if (N < 0) fail(fn, "argument 'n' must be >= 0, got " + std::to_string(N));
  if (K > nnforge::kQGemmMaxK)
    fail(fn, "K = " + std::to_string(K) + " is larger than the int8 kernels allow (" +
                 std::to_string(nnforge::kQGemmMaxK) + ": the int32 sum could overflow)");
  return QPackedDims{(N + 15) / 16, (K + 3) / 4};
}

// None -> -1 (dynamic scales / float output); else a finite float > 0.
inline float scale_arg(const std::string& fn, const char* name, const pybind11::object& o) {
  if (o.is_none()) return -1.0f;
  double v;
  try {
    v = o.cast<double>();
  } catch (const pybind11::cast_error&) {
    throw pybind11::type_error(fn + ": argument '" + name + "' must be a float or None");
  }
  const float f = static_cast<float>(v);
  if (!std::isfinite(f) || !(f > 0.0f))
    fail(fn, std::string("argument '") + name + "' must be a finite float > 0 or None, got " +
                 std::to_string(v));
  return f;
}

}  // namespace nnforge_bind
