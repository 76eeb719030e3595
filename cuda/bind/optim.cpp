// Bindings: sgd_update, adam_update (docs/KERNELS.md), the twins of cpp/bind/optim.cpp with
// `stream`. In place on p and the slots; distinct ones must not share memory.
#include <pybind11/pybind11.h>

#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;
namespace nc = nnforge::cuda;

void bind_optim(py::module_& m) {
  m.def(
      "sgd_update",
      [](py::object po, py::object go, py::object vo, float lr, float momentum, bool nesterov,
         std::uintptr_t stream) {
        const std::string fn = "sgd_update";
        const DevArray p = cuda_array(fn, "p", po, "float32", -1, true);
        const DevArray g = cuda_array(fn, "g", go, "float32", -1, false);
        same_shape(fn, p, g);
        no_overlap(fn, p, g);
        if (momentum == 0.0f && !vo.is_none())
          fail(fn, "argument 'velocity' must be None when momentum == 0 (p " + shape_str(p) + ")");
        if (momentum != 0.0f && vo.is_none())
          fail(fn, "argument 'velocity' is required when momentum != 0 (got momentum " +
                       std::to_string(momentum) + ", p " + shape_str(p) + ")");
        const DevArray v = optional_array(fn, "velocity", vo, "float32", -1, true);
        if (!vo.is_none()) {
          same_shape(fn, p, v);
          no_overlap(fn, p, v);
          no_overlap(fn, g, v);
        }
        on_device(fn, {&p, &g, &v});
        call_nogil(fn, [&] {
          return nc::sgd_update(p.data<float>(), g.data<const float>(), v.data<float>(), p.size, lr,
                                momentum, nesterov, as_stream(stream));
        });
      },
      py::arg("p"), py::arg("g"), py::arg("velocity"), py::arg("lr"), py::arg("momentum"),
      py::arg("nesterov"), py::arg("stream") = 0,
      "Keras SGD step in place (velocity None iff momentum == 0).");

  m.def(
      "adam_update",
      [](py::object po, py::object go, py::object mo, py::object vo, py::object vho, float lr,
         float beta1, float beta2, float epsilon, int64_t t, std::uintptr_t stream) {
        const std::string fn = "adam_update";
        const DevArray p = cuda_array(fn, "p", po, "float32", -1, true);
        const DevArray g = cuda_array(fn, "g", go, "float32", -1, false);
        const DevArray mm = cuda_array(fn, "m", mo, "float32", -1, true);
        const DevArray v = cuda_array(fn, "v", vo, "float32", -1, true);
        const DevArray vh = optional_array(fn, "vhat", vho, "float32", -1, true);
        same_shape(fn, p, g);
        same_shape(fn, p, mm);
        same_shape(fn, p, v);
        if (!vho.is_none()) same_shape(fn, p, vh);
        if (t < 1)
          fail(fn, "argument 't' (the step being taken) must be >= 1, got " + std::to_string(t));
        const DevArray* all[] = {&p, &g, &mm, &v, &vh};
        for (int i = 0; i < 5; ++i)
          for (int j = i + 1; j < 5; ++j) no_overlap(fn, *all[i], *all[j]);
        on_device(fn, {&p, &g, &mm, &v, &vh});
        call_nogil(fn, [&] {
          return nc::adam_update(p.data<float>(), g.data<const float>(), mm.data<float>(),
                                 v.data<float>(), vh.data<float>(), p.size, lr, beta1, beta2,
                                 epsilon, t, as_stream(stream));
        });
      },
      py::arg("p"), py::arg("g"), py::arg("m"), py::arg("v"), py::arg("vhat"), py::arg("lr"),
      py::arg("beta1"), py::arg("beta2"), py::arg("epsilon"), py::arg("t"), py::arg("stream") = 0,
      "Keras 3 Adam step t >= 1 in place; vhat (AMSGrad) or None.");
}
