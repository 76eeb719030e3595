// Bindings: categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
// mean_squared_error (docs/KERNELS.md). Sparse labels are scanned for [0, C) before the kernel.
#include "nnforge/loss.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_bind;

namespace {

struct Out {
  float* losses;
  float* grad;
  int64_t N, C;
};

// y_pred (N, C), losses (N,), grad None or (N, C); y_true (when given) like y_pred.
Out check_common(const std::string& fn, const py::array* y_true, const py::array& y_pred,
                 const py::object& lo, const py::object& go, py::array& losses, py::array& grad) {
  check_f32(fn, "y_pred", y_pred, 2, false);
  if (y_true) {
    check_f32(fn, "y_true", *y_true, 2, false);
    check_same_shape(fn, "y_true", *y_true, "y_pred", y_pred);
  }
  losses = arr(fn, "losses", lo);
  check_f32(fn, "losses", losses, 1, true);
  if (losses.shape(0) != y_pred.shape(0))
    fail(fn, "argument 'losses' " + shape_str(losses) + " must have shape (N,) with N = " +
                 std::to_string(y_pred.shape(0)) + " from 'y_pred' " + shape_str(y_pred));
  no_overlap(fn, "losses", losses, "y_pred", y_pred);
  if (y_true) no_overlap(fn, "losses", losses, "y_true", *y_true);
  Out o{fmut(losses), nullptr, y_pred.shape(0), y_pred.shape(1)};
  if (!go.is_none()) {
    grad = arr(fn, "grad", go);
    check_f32(fn, "grad", grad, 2, true);
    check_same_shape(fn, "grad", grad, "y_pred", y_pred);
    no_overlap(fn, "grad", grad, "y_pred", y_pred);
    no_overlap(fn, "grad", grad, "losses", losses);
    if (y_true) no_overlap(fn, "grad", grad, "y_true", *y_true);
    o.grad = fmut(grad);
  }
  return o;
}

// categorical_crossentropy and binary_crossentropy: the same arguments, checks and kernel
// signature (y_true like y_pred, from_logits, scale).
using LogitLoss = void (*)(const float* y_true, const float* y_pred, float* losses, float* grad,
                           int64_t N, int64_t C, bool from_logits, float scale);

void def_logit_loss(py::module_& m, const char* name, LogitLoss kernel, const char* doc) {
  m.def(
      name,
      [name, kernel](py::object to, py::object po, py::object lo, py::object go, bool from_logits,
                     float scale) {
        const std::string fn = name;
        py::array t = arr(fn, "y_true", to), p = arr(fn, "y_pred", po), losses, grad;
        const Out o = check_common(fn, &t, p, lo, go, losses, grad);
        const float *pt = fptr(t), *pp = fptr(p);
        py::gil_scoped_release nogil;
        kernel(pt, pp, o.losses, o.grad, o.N, o.C, from_logits, scale);
      },
      py::arg("y_true"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"),
      py::arg("from_logits"), py::arg("scale"), doc);
}

}  // namespace

void bind_loss(py::module_& m) {
  def_logit_loss(
      m, "categorical_crossentropy", &nnforge::categorical_crossentropy,
      "Per-sample categorical cross-entropy (Keras); grad = scale * d loss_i / d y_pred.");

  m.def(
      "sparse_categorical_crossentropy",
      [](py::object lbo, py::object po, py::object lo, py::object go, bool from_logits,
         float scale) {
        const std::string fn = "sparse_categorical_crossentropy";
        py::array labels = arr(fn, "labels", lbo), p = arr(fn, "y_pred", po), losses, grad;
        check_i64(fn, "labels", labels, 1);
        if (reinterpret_cast<uintptr_t>(labels.data()) % alignof(int64_t) != 0)
          fail(fn, "argument 'labels' is not aligned for int64");
        const Out o = check_common(fn, nullptr, p, lo, go, losses, grad);
        if (labels.shape(0) != o.N)
          fail(fn, "argument 'labels' " + shape_str(labels) + " must have shape (N,) with N = " +
                       std::to_string(o.N) + " from 'y_pred' " + shape_str(p));
        const int64_t* pl = static_cast<const int64_t*>(labels.data());
        for (int64_t i = 0; i < o.N; ++i)
          if (pl[i] < 0 || pl[i] >= o.C)
            fail(fn, "label " + std::to_string(pl[i]) + " at index " + std::to_string(i) +
                         " is outside [0, C = " + std::to_string(o.C) + ") for 'y_pred' " +
                         shape_str(p));
        if (o.grad) no_overlap(fn, "grad", grad, "labels", labels);
        no_overlap(fn, "losses", losses, "labels", labels);
        const float* pp = fptr(p);
        py::gil_scoped_release nogil;
        nnforge::sparse_categorical_crossentropy(pl, pp, o.losses, o.grad, o.N, o.C, from_logits,
                                                 scale);
      },
      py::arg("labels"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"),
      py::arg("from_logits"), py::arg("scale"),
      "Per-sample sparse categorical cross-entropy; labels int64 (N,) in [0, C).");

  def_logit_loss(m, "binary_crossentropy", &nnforge::binary_crossentropy,
                 "Per-sample binary cross-entropy (mean over D), Keras semantics.");

  m.def(
      "mean_squared_error",
      [](py::object to, py::object po, py::object lo, py::object go, float scale) {
        const std::string fn = "mean_squared_error";
        py::array t = arr(fn, "y_true", to), p = arr(fn, "y_pred", po), losses, grad;
        const Out o = check_common(fn, &t, p, lo, go, losses, grad);
        const float *pt = fptr(t), *pp = fptr(p);
        py::gil_scoped_release nogil;
        nnforge::mean_squared_error(pt, pp, o.losses, o.grad, o.N, o.C, scale);
      },
      py::arg("y_true"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"), py::arg("scale"),
      "Per-sample mean squared error (mean over D).");
}
