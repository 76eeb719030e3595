// Bindings: sgd_update, adam_update, adam_update_multi (docs/KERNELS.md). In place on p and the
// slots.
#include "nnforge/optim.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

// One Adam update's operands, validated (slots and the parameter are updated together: distinct
// ones must not share memory).
struct AdamArgs {
  py::array p, g, m, v, vh;
  float *pp = nullptr, *pm = nullptr, *pv = nullptr, *pvh = nullptr;
  const float* pg = nullptr;
  int64_t n = 0;
};

// `at` names the entry in error messages ("" for the single-tensor call, " (entry 3)" for the
// lists of adam_update_multi).
AdamArgs adam_args(const std::string& fn, const std::string& at, py::handle po, py::handle go,
                   py::handle mo, py::handle vo, py::handle vho) {
  const std::string f = fn + at;
  AdamArgs a;
  a.p = arr(f, "p", py::reinterpret_borrow<py::object>(po));
  a.g = arr(f, "g", py::reinterpret_borrow<py::object>(go));
  a.m = arr(f, "m", py::reinterpret_borrow<py::object>(mo));
  a.v = arr(f, "v", py::reinterpret_borrow<py::object>(vo));
  check_f32(f, "p", a.p, -1, true);
  check_f32(f, "g", a.g, -1, false);
  check_f32(f, "m", a.m, -1, true);
  check_f32(f, "v", a.v, -1, true);
  check_same_shape(f, "p", a.p, "g", a.g);
  check_same_shape(f, "p", a.p, "m", a.m);
  check_same_shape(f, "p", a.p, "v", a.v);
  no_overlap(f, "p", a.p, "g", a.g);
  no_overlap(f, "p", a.p, "m", a.m);
  no_overlap(f, "p", a.p, "v", a.v);
  no_overlap(f, "m", a.m, "v", a.v);
  no_overlap(f, "m", a.m, "g", a.g);
  no_overlap(f, "v", a.v, "g", a.g);
  if (!vho.is_none()) {
    a.vh = arr(f, "vhat", py::reinterpret_borrow<py::object>(vho));
    check_f32(f, "vhat", a.vh, -1, true);
    check_same_shape(f, "p", a.p, "vhat", a.vh);
    no_overlap(f, "vhat", a.vh, "p", a.p);
    no_overlap(f, "vhat", a.vh, "g", a.g);
    no_overlap(f, "vhat", a.vh, "m", a.m);
    no_overlap(f, "vhat", a.vh, "v", a.v);
    a.pvh = fmut(a.vh);
  }
  a.pp = fmut(a.p);
  a.pm = fmut(a.m);
  a.pv = fmut(a.v);
  a.pg = fptr(a.g);
  a.n = static_cast<int64_t>(a.p.size());
  return a;
}

void check_step(const std::string& fn, int64_t t) {
  if (t < 1) fail(fn, "argument 't' (the step being taken) must be >= 1, got " + std::to_string(t));
}

py::sequence as_list(const std::string& fn, const char* name, const py::object& o) {
  if (!py::isinstance<py::list>(o) && !py::isinstance<py::tuple>(o))
    throw py::type_error(fn + ": argument '" + name + "' must be a list or tuple of arrays, got " +
                         std::string(py::str(py::type::handle_of(o).attr("__name__"))));
  return py::reinterpret_borrow<py::sequence>(o);
}
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
        AdamArgs a = adam_args(fn, "", po, go, mo, vo, vho);
        check_step(fn, t);
        py::gil_scoped_release nogil;
        nnforge::adam_update(a.pp, a.pg, a.pm, a.pv, a.pvh, a.n, lr, beta1, beta2, epsilon, t);
      },
      py::arg("p"), py::arg("g"), py::arg("m"), py::arg("v"), py::arg("vhat"), py::arg("lr"),
      py::arg("beta1"), py::arg("beta2"), py::arg("epsilon"), py::arg("t"),
      "Keras 3 Adam step t >= 1 in place; vhat (AMSGrad) or None.");

  m.def(
      "adam_update_multi",
      [](py::object ps, py::object gs, py::object ms, py::object vs, py::object vhs, float lr,
         float beta1, float beta2, float epsilon, int64_t t) {
        const std::string fn = "adam_update_multi";
        py::sequence pl = as_list(fn, "p", ps), gl = as_list(fn, "g", gs),
                     ml = as_list(fn, "m", ms), vl = as_list(fn, "v", vs);
        const size_t count = pl.size();
        const bool ams = !vhs.is_none();
        py::sequence vhl = ams ? as_list(fn, "vhat", vhs) : py::sequence(py::list());
        if (gl.size() != count || ml.size() != count || vl.size() != count ||
            (ams && vhl.size() != count))
          fail(fn, "the lists must have one entry per parameter: got " + std::to_string(count) +
                       " p, " + std::to_string(gl.size()) + " g, " + std::to_string(ml.size()) +
                       " m, " + std::to_string(vl.size()) + " v" +
                       (ams ? ", " + std::to_string(vhl.size()) + " vhat" : std::string()));
        check_step(fn, t);
        std::vector<AdamArgs> args;
        args.reserve(count);
        for (size_t i = 0; i < count; ++i)
          args.push_back(adam_args(fn, " (entry " + std::to_string(i) + ")", pl[i], gl[i], ml[i],
                                   vl[i], ams ? py::handle(vhl[i]) : py::handle(py::none())));
        py::gil_scoped_release nogil;
        // One parameter after the other, each exactly as adam_update updates it.
        for (const AdamArgs& a : args)
          nnforge::adam_update(a.pp, a.pg, a.pm, a.pv, a.pvh, a.n, lr, beta1, beta2, epsilon, t);
      },
      py::arg("p"), py::arg("g"), py::arg("m"), py::arg("v"), py::arg("vhat"), py::arg("lr"),
      py::arg("beta1"), py::arg("beta2"), py::arg("epsilon"), py::arg("t"),
      "adam_update on lists of parameters, gradients and slots (vhat: a list or None), in one "
      "call: the same result as one adam_update per entry.");
}
