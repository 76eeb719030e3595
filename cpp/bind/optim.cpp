// Bindings: sgd_update, adam_update (docs/KERNELS.md). In place on p and the slots.
#include "nnforge/optim.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

// Slots and the parameter are updated together: distinct ones must not share memory.
}  // namespace

void bind_optim(py::module_& m) {
  m.def(
      "sgd_update",
      [](py::object po, py::object go, py::object vo, float lr, float momentum, bool nesterov) {
        const std::string fn = "sgd_update";
        py::array p = arr(fn, "p", po), g = arr(fn, "g", go), v;
        check_f32(fn, "p", p, -1, true);
        check_f32(fn, "g", g, -1, false);
        check_same_shape(fn, "p", p, "g", g);
        no_overlap(fn, "p", p, "g", g);
        float* pv = nullptr;
        if (momentum == 0.0f) {
          if (!vo.is_none())
            fail(fn, "argument 'velocity' must be None when momentum == 0 (p " + shape_str(p) +
                         ")");
        } else {
          if (vo.is_none())
            fail(fn, "argument 'velocity' is required when momentum != 0 (got momentum " +
                         std::to_string(momentum) + ", p " + shape_str(p) + ")");
          v = arr(fn, "velocity", vo);
          check_f32(fn, "velocity", v, -1, true);
          check_same_shape(fn, "p", p, "velocity", v);
          no_overlap(fn, "p", p, "velocity", v);
          no_overlap(fn, "g", g, "velocity", v);
          pv = fmut(v);
        }
        float* pp = fmut(p);
        const float* pg = fptr(g);
        const int64_t n = static_cast<int64_t>(p.size());
        py::gil_scoped_release nogil;
        nnforge::sgd_update(pp, pg, pv, n, lr, momentum, nesterov);
      },
      py::arg("p"), py::arg("g"), py::arg("velocity"), py::arg("lr"), py::arg("momentum"),
      py::arg("nesterov"), "Keras SGD step in place (velocity None iff momentum == 0).");

  m.def(
      "adam_update",
      [](py::object po, py::object go, py::object mo, py::object vo, py::object vho, float lr,
         float beta1, float beta2, float epsilon, int64_t t) {
        const std::string fn = "adam_update";
        py::array p = arr(fn, "p", po), g = arr(fn, "g", go), mm = arr(fn, "m", mo),
                  v = arr(fn, "v", vo), vh;
        check_f32(fn, "p", p, -1, true);
        check_f32(fn, "g", g, -1, false);
        check_f32(fn, "m", mm, -1, true);
        check_f32(fn, "v", v, -1, true);
        check_same_shape(fn, "p", p, "g", g);
        check_same_shape(fn, "p", p, "m", mm);
        check_same_shape(fn, "p", p, "v", v);
        if (t < 1) fail(fn, "argument 't' (the step being taken) must be >= 1, got " + std::to_string(t));
        no_overlap(fn, "p", p, "g", g);
        no_overlap(fn, "p", p, "m", mm);
        no_overlap(fn, "p", p, "v", v);
        no_overlap(fn, "m", mm, "v", v);
        no_overlap(fn, "m", mm, "g", g);
        no_overlap(fn, "v", v, "g", g);
        float* pvh = nullptr;
        if (!vho.is_none()) {
          vh = arr(fn, "vhat", vho);
          check_f32(fn, "vhat", vh, -1, true);
          check_same_shape(fn, "p", p, "vhat", vh);
          no_overlap(fn, "vhat", vh, "p", p);
          no_overlap(fn, "vhat", vh, "g", g);
          no_overlap(fn, "vhat", vh, "m", mm);
          no_overlap(fn, "vhat", vh, "v", v);
          pvh = fmut(vh);
        }
        float *pp = fmut(p), *pm = fmut(mm), *pv = fmut(v);
        const float* pg = fptr(g);
        const int64_t n = static_cast<int64_t>(p.size());
        py::gil_scoped_release nogil;
        nnforge::adam_update(pp, pg, pm, pv, pvh, n, lr, beta1, beta2, epsilon, t);
      },
      py::arg("p"), py::arg("g"), py::arg("m"), py::arg("v"), py::arg("vhat"), py::arg("lr"),
      py::arg("beta1"), py::arg("beta2"), py::arg("epsilon"), py::arg("t"),
      "Keras 3 Adam step t >= 1 in place; vhat (AMSGrad) or None.");
}
