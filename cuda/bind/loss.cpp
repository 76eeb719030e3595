// Bindings: categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
// mean_squared_error (docs/KERNELS.md), the twins of cpp/bind/loss.cpp with `stream`. Sparse
// labels live on the device, so their range is not scanned here (that would copy them to the
// host): a label outside [0, C) gives a NaN loss and gradient row, never a stray access;
// nnforge.backend.cuda checks the range first.
#include <pybind11/pybind11.h>

#include <string>

#include "bind/check.h"

namespace py = pybind11;
using namespace nnforge_cuda_bind;
namespace nc = nnforge::cuda;

namespace {

struct LossArgs {
  DevArray y_true, y_pred, losses, grad;
};

// y_pred (N, C), losses (N,), grad None or (N, C); y_true (when given) like y_pred.
LossArgs check_loss(const std::string& fn, const py::object* to, const py::object& po,
                    const py::object& lo, const py::object& go) {
  LossArgs a;
  a.y_pred = cuda_array(fn, "y_pred", po, "float32", 2, false);
  if (to) {
    a.y_true = cuda_array(fn, "y_true", *to, "float32", 2, false);
    same_shape(fn, a.y_true, a.y_pred);
  }
  a.losses = cuda_array(fn, "losses", lo, "float32", 1, true);
  want_shape(fn, a.losses, {a.y_pred.dim(0)}, "one loss per row of 'y_pred' " +
                                                   shape_str(a.y_pred));
  a.grad = optional_array(fn, "grad", go, "float32", 2, true);
  if (!go.is_none()) same_shape(fn, a.grad, a.y_pred);
  for (const DevArray* out : {&a.losses, &a.grad}) {
    no_overlap(fn, *out, a.y_pred);
    no_overlap(fn, *out, a.y_true);
  }
  no_overlap(fn, a.grad, a.losses);
  return a;
}

// categorical_crossentropy and binary_crossentropy: the same arguments, checks and kernel
// signature (y_true like y_pred, from_logits, scale).
using LogitLoss = cudaError_t (*)(const float* y_true, const float* y_pred, float* losses,
                                  float* grad, int64_t N, int64_t C, bool from_logits,
                                  float scale, cudaStream_t stream);

void def_logit_loss(py::module_& m, const char* name, LogitLoss kernel, const char* doc) {
  m.def(
      name,
      [name, kernel](py::object to, py::object po, py::object lo, py::object go, bool from_logits,
                     float scale, std::uintptr_t stream) {
        const std::string fn = name;
        const LossArgs a = check_loss(fn, &to, po, lo, go);
        on_device(fn, {&a.y_true, &a.y_pred, &a.losses, &a.grad});
        call_nogil(fn, [&] {
          return kernel(a.y_true.data<const float>(), a.y_pred.data<const float>(),
                        a.losses.data<float>(), a.grad.data<float>(), a.y_pred.dim(0),
                        a.y_pred.dim(1), from_logits, scale, as_stream(stream));
        });
      },
      py::arg("y_true"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"),
      py::arg("from_logits"), py::arg("scale"), py::arg("stream") = 0, doc);
}

}  // namespace

void bind_loss(py::module_& m) {
  def_logit_loss(
      m, "categorical_crossentropy", &nc::categorical_crossentropy,
      "Per-sample categorical cross-entropy (Keras); grad = scale * d loss_i / d y_pred.");

  m.def(
      "sparse_categorical_crossentropy",
      [](py::object lbo, py::object po, py::object lo, py::object go, bool from_logits,
         float scale, std::uintptr_t stream) {
        const std::string fn = "sparse_categorical_crossentropy";
        const DevArray labels = cuda_array(fn, "labels", lbo, "int64", 1, false);
        LossArgs a = check_loss(fn, nullptr, po, lo, go);
        want_shape(fn, labels, {a.y_pred.dim(0)}, "one label per row of 'y_pred' " +
                                                      shape_str(a.y_pred));
        if (a.y_pred.dim(0) > 0 && a.y_pred.dim(1) < 1)
          fail(fn, "'y_pred' " + shape_str(a.y_pred) + " has no class for the labels");
        no_overlap(fn, a.losses, labels);
        no_overlap(fn, a.grad, labels);
        on_device(fn, {&labels, &a.y_pred, &a.losses, &a.grad});
        call_nogil(fn, [&] {
          return nc::sparse_categorical_crossentropy(
              labels.data<const int64_t>(), a.y_pred.data<const float>(), a.losses.data<float>(),
              a.grad.data<float>(), a.y_pred.dim(0), a.y_pred.dim(1), from_logits, scale,
              as_stream(stream));
        });
      },
      py::arg("labels"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"),
      py::arg("from_logits"), py::arg("scale"), py::arg("stream") = 0,
      "Per-sample sparse categorical cross-entropy; labels int64 (N,) in [0, C) (a label outside\n"
      "gives NaN).");

  def_logit_loss(m, "binary_crossentropy", &nc::binary_crossentropy,
                 "Per-sample binary cross-entropy (mean over D), Keras semantics.");

  m.def(
      "mean_squared_error",
      [](py::object to, py::object po, py::object lo, py::object go, float scale,
         std::uintptr_t stream) {
        const std::string fn = "mean_squared_error";
        const LossArgs a = check_loss(fn, &to, po, lo, go);
        on_device(fn, {&a.y_true, &a.y_pred, &a.losses, &a.grad});
        call_nogil(fn, [&] {
          return nc::mean_squared_error(a.y_true.data<const float>(), a.y_pred.data<const float>(),
                                        a.losses.data<float>(), a.grad.data<float>(),
                                        a.y_pred.dim(0), a.y_pred.dim(1), scale,
                                        as_stream(stream));
        });
      },
      py::arg("y_true"), py::arg("y_pred"), py::arg("losses"), py::arg("grad"), py::arg("scale"),
      py::arg("stream") = 0, "Per-sample mean squared error (mean over D).");
}
