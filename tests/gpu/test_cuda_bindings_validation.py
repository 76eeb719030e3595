"""nnforge._cuda validates its array arguments in C++ before anything touches a device (#10):
called through objects that expose ``__cuda_array_interface__`` (``FakeCudaArray``), a wrong
dtype, shape, stride, a read-only output, overlapping buffers or a host array raise
ValueError/TypeError naming the function and the argument. These tests run on every machine: no
GPU, driver or CuPy is needed, because every check that needs no driver runs first. With valid
arguments the call reaches the launch, which raises RuntimeError without a device, or (with a
device) the last check refuses the fake arrays' pointers as host memory. Nothing is dereferenced
either way."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.no_gpu

_TYPESTR = {"float32": "<f4", "float64": "<f8", "int32": "<i4", "int64": "<i8", "uint8": "|u1",
            "bool": "|b1"}


class FakeCudaArray:
    """An object with a __cuda_array_interface__ (version 3) over a host buffer of its own, so
    distinct fakes never overlap. ``strides``/``readonly``/``ptr``/``interface`` override the
    interface's fields."""

    def __init__(self, shape, dtype="float32", strides=None, readonly=False, ptr=None,
                 **interface):
        self.shape = tuple(shape)
        self._buf = np.zeros(max(int(np.prod(self.shape)), 1) * 8 + 64, np.uint8)
        base = self._buf.ctypes.data
        data = (base + (-base) % 64) if ptr is None else ptr
        self.__cuda_array_interface__ = {"shape": self.shape, "typestr": _TYPESTR[dtype],
                                         "data": (data, readonly), "version": 3,
                                         "strides": strides, "descr": [("", _TYPESTR[dtype])]}
        self.__cuda_array_interface__.update(interface)


F = FakeCudaArray


def reaches_launch(c, call):
    """Valid arguments: RuntimeError from the launch without a device; with one, the pointer
    check refuses the fakes' host memory."""
    if c.device_count() == 0:
        with pytest.raises(RuntimeError, match="CUDA error"):
            call()
    else:
        with pytest.raises(ValueError, match="host memory"):
            call()


# ---- the array checks themselves (through activation_forward, the simplest binding) ----------

def test_valid_arrays_reach_the_launch(c):
    reaches_launch(c, lambda: c.activation_forward(F((4, 5)), F((4, 5)), 1))


@pytest.mark.parametrize("bad,match", [
    (np.zeros((4, 5), np.float32), r"argument 'x' must be a CUDA array .* ndarray in host memory"),
    ([[0.0] * 5] * 4, r"argument 'x' must be a CUDA array .* got list"),
    (None, r"argument 'x' must be a CUDA array, got None"),
])
def test_host_and_non_arrays_are_type_errors(c, bad, match):
    with pytest.raises(TypeError, match=match):
        c.activation_forward(bad, F((4, 5)), 1)


@pytest.mark.parametrize("x,match", [
    (F((4, 5), "float64"), r"argument 'x' must have dtype float32, got float64 with shape \(4, 5\)"),
    (F((4, 5), "int32"), r"argument 'x' must have dtype float32, got int32"),
    (F((4, 6)), r"arguments 'x' \(4, 6\) and 'y' \(4, 5\) must have the same shape"),
    (F((5, 4), strides=(4, 20)), r"argument 'x' must be C-contiguous, got shape \(5, 4\) "
                                 r"with strides \(4, 20\)"),
    (F((4, 5), strides=(40, 8)), r"argument 'x' must be C-contiguous"),
    (F((4, 5), ptr=0), r"argument 'x' is a null pointer"),
    (F((4, 5), ptr=4096 + 2), r"argument 'x' is not aligned to 4 bytes"),
    (F((4, 5), typestr=">f4"), r"argument 'x' is big-endian"),
    (F((4, 5), typestr="nonsense"), r"argument 'x' has an unreadable"),
    (F((4, 5), mask=object()), r"argument 'x' is a masked array"),
    (F((4, -5)), r"argument 'x' has a negative extent"),
])
def test_bad_input_array_is_value_error(c, x, match):
    with pytest.raises(ValueError, match=match):
        c.activation_forward(x, F((4, 5)), 1)


def test_contiguous_strides_and_unit_extents_are_accepted(c):
    # Explicit C strides, and any stride on an extent-1 dimension, are contiguous.
    reaches_launch(c, lambda: c.activation_forward(F((4, 5), strides=(20, 4)), F((4, 5)), 1))
    reaches_launch(c, lambda: c.activation_forward(F((1, 5), strides=(999, 4)), F((1, 5)), 1))


def test_read_only_output_is_refused(c):
    with pytest.raises(ValueError, match=r"argument 'y' must be writeable"):
        c.activation_forward(F((4, 5)), F((4, 5), readonly=True), 1)


def test_malformed_interface_is_type_error(c):
    class NoData:
        __cuda_array_interface__ = {"shape": (3,), "typestr": "<f4", "version": 3}

    class NotADict:
        __cuda_array_interface__ = [1, 2]

    with pytest.raises(TypeError, match=r"argument 'x': __cuda_array_interface__ has no 'data'"):
        c.activation_forward(NoData(), F((3,)), 1)
    with pytest.raises(TypeError, match=r"argument 'x': __cuda_array_interface__ must be a dict"):
        c.activation_forward(NotADict(), F((3,)), 1)


def test_partial_overlap_refused_exact_alias_allowed(c):
    x = F((4, 5))
    base = x.__cuda_array_interface__["data"][0]
    shifted = F((4, 5), ptr=base + 8)
    with pytest.raises(ValueError, match=r"arguments 'x' \(4, 5\) and 'y' \(4, 5\) overlap"):
        c.activation_forward(x, shifted, 1)
    reaches_launch(c, lambda: c.activation_forward(x, x, 1))  # in place is documented


def test_bad_act_code(c):
    with pytest.raises(ValueError, match=r"argument 'act' must be 0 \(linear\)"):
        c.activation_forward(F((3,)), F((3,)), 7)


# ---- every family: shapes between arguments --------------------------------------------------

def test_gemm_arguments(c):
    a, b = F((4, 5)), F((5, 3))
    with pytest.raises(ValueError, match=r"sgemm: inner dimensions of 'a' and 'b' differ"):
        c.sgemm(a, F((4, 3)), F((4, 3)))
    with pytest.raises(ValueError, match=r"sgemm: argument 'c' must have shape \(4, 3\)"):
        c.sgemm(a, b, F((3, 4)))
    with pytest.raises(ValueError, match=r"argument 'a' must be 2-D, got shape \(20,\)"):
        c.sgemm(F((20,)), b, F((4, 3)))
    with pytest.raises(ValueError, match=r"argument 'precision' must be 'fp32', 'tf32' or 'bf16'"):
        c.sgemm(a, b, F((4, 3)), precision="fp16")
    with pytest.raises(ValueError, match=r"argument 'bias' must have shape \(3,\)"):
        c.sgemm_bias_act(a, b, F((4,)), F((4, 3)), act=1)
    with pytest.raises(TypeError, match=r"argument 'bias' must be a CUDA array"):
        c.sgemm_bias_act(a, b, np.zeros(3, np.float32), F((4, 3)), act=1)
    reaches_launch(c, lambda: c.sgemm(a, b, F((4, 3)), precision="bf16"))


def test_gemm_output_must_not_alias_inputs(c):
    # c = a @ a^T with c written over a: refused (the kernel reads a while writing c).
    a = F((4, 4))
    with pytest.raises(ValueError, match=r"arguments 'c' \(4, 4\) and 'a' \(4, 4\) overlap"):
        c.sgemm(a, F((4, 4)), a)
    with pytest.raises(ValueError, match=r"arguments 'c' \(4, 4\) and 'b' \(4, 4\) overlap"):
        c.sgemm_bias_act(F((4, 4)), a, None, a, act=1)


def test_gemm_row_pitch_is_a_leading_dimension(c):
    # a[:, :5] of a (4, 8) array: rows 32 bytes apart, elements contiguous: accepted.
    reaches_launch(c, lambda: c.sgemm(F((4, 5), strides=(32, 4)), F((5, 3)), F((4, 3))))
    with pytest.raises(ValueError, match=r"argument 'a' must be C-contiguous \(or rows of "
                                         r"contiguous elements\)"):
        c.sgemm(F((4, 5), strides=(4, 16)), F((5, 3)), F((4, 3)))  # a transposed view


def test_activation_family_arguments(c):
    with pytest.raises(ValueError, match=r"softmax_forward: argument 'x' must be 2-D"):
        c.softmax_forward(F((2, 3, 4)), F((2, 3, 4)))
    with pytest.raises(ValueError, match=r"softmax_backward: arguments 'y' \(2, 3\) and 'dx' "
                                         r"\(2, 3\) overlap"):
        y = F((2, 3))
        c.softmax_backward(y, F((2, 3)), y)
    with pytest.raises(ValueError, match=r"bias_add: argument 'bias' must have shape \(5,\)"):
        c.bias_add(F((4, 5)), F((4,)))
    with pytest.raises(ValueError, match=r"bias_grad: argument 'db' must have shape \(5,\)"):
        c.bias_grad(F((4, 5)), F((6,)))
    # Above 1024 rows the partial sums need a workspace (from CuPy, never allocated inside).
    need = c.bias_grad_workspace_bytes(5000, 5)
    assert need == 5 * 5 * 4 and c.bias_grad_workspace_bytes(1024, 5) == 0
    with pytest.raises(ValueError, match=r"argument 'workspace' must hold at least 100 bytes, "
                                         r"got None"):
        c.bias_grad(F((5000, 5)), F((5,)))
    with pytest.raises(ValueError, match=r"argument 'workspace' must hold at least 100 bytes, "
                                         r"got 64 bytes"):
        c.bias_grad(F((5000, 5)), F((5,)), F((64,), "uint8"))
    reaches_launch(c, lambda: c.bias_grad(F((5000, 5)), F((5,)), F((100,), "uint8")))


def test_conv_arguments(c):
    x, w, y = F((1, 5, 5, 3)), F((3, 3, 3, 4)), F((1, 3, 3, 4))
    geo = ((1, 1), (1, 1), (0, 0))
    need = c.conv2d_workspace_bytes((1, 5, 5, 3), (3, 3, 3, 4), *geo, (3, 3), 1 << 20)
    assert need == 3 * 3 * 27 * 4  # one image of im2col rows
    ws = F((need,), "uint8")
    with pytest.raises(ValueError, match=r"'w' input channels \(shape\[2\]\) must equal "
                                         r"x.shape\[3\]"):
        c.conv2d_forward(x, F((3, 3, 2, 4)), None, y, 0, *geo, workspace=ws)
    with pytest.raises(ValueError, match=r"argument 'strides' entries must be in \[1, "):
        c.conv2d_forward(x, w, None, y, 0, (0, 1), (1, 1), (0, 0), workspace=ws)
    with pytest.raises(ValueError, match=r"argument 'bias' must have shape \(4,\)"):
        c.conv2d_forward(x, w, F((3,)), y, 0, *geo, workspace=ws)
    with pytest.raises(ValueError, match=r"argument 'workspace' must hold at least 972 bytes"):
        c.conv2d_forward(x, w, None, y, 0, *geo, workspace=F((16,), "uint8"))
    with pytest.raises(ValueError, match=r"argument 'x' must be 4-D"):
        c.conv2d_forward(F((5, 5, 3)), w, None, y, 0, *geo, workspace=ws)
    with pytest.raises(ValueError, match=r"batch sizes of 'dx' and 'dy' differ"):
        c.conv2d_backward_input(F((2, 3, 3, 4)), w, x, *geo, workspace=ws)
    with pytest.raises(ValueError, match=r"argument 'db' must have shape \(4,\)"):
        c.conv2d_backward_filter(x, y, F((3, 3, 3, 4)), F((5,)), *geo, workspace=ws)
    with pytest.raises(ValueError, match=r"argument 'cols' must have shape \(9, 27\)"):
        c.im2col(x, F((9, 26)), (3, 3), *geo, (3, 3))
    reaches_launch(c, lambda: c.conv2d_forward(x, w, F((4,)), y, 1, *geo, workspace=ws))
    # A 1x1, stride-1, unpadded convolution is a plain GEMM: no workspace.
    reaches_launch(c, lambda: c.conv2d_forward(x, F((1, 1, 3, 4)), None, F((1, 5, 5, 4)), 0,
                                               *geo))


def test_pool_arguments(c):
    x, y = F((1, 4, 4, 2)), F((1, 2, 2, 2))
    with pytest.raises(ValueError, match=r"some pooling windows hold only padding"):
        c.max_pool2d_forward(F((1, 4, 4, 1)), F((1, 3, 3, 1)), None, (2, 2), (2, 2), (2, 2))
    with pytest.raises(ValueError, match=r"argument 'argmax' must have dtype int32, got int64"):
        c.max_pool2d_forward(x, y, F((1, 2, 2, 2), "int64"), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match=r"channel counts differ"):
        c.avg_pool2d_forward(x, F((1, 2, 2, 3)), (2, 2), (2, 2), (0, 0))
    # The gather needs the forward's geometry.
    with pytest.raises(ValueError, match=r"'pool', 'strides' and 'pad' .* are required"):
        c.max_pool2d_backward(y, F((1, 2, 2, 2), "int32"), x, None, None, None)
    reaches_launch(c, lambda: c.max_pool2d_backward(y, F((1, 2, 2, 2), "int32"), x, (2, 2),
                                                    (2, 2), (0, 0)))


def test_loss_arguments(c):
    t, p, losses = F((8, 3)), F((8, 3)), F((8,))
    with pytest.raises(ValueError, match=r"arguments 'y_true' \(8, 4\) and 'y_pred' \(8, 3\) "
                                         r"must have the same shape"):
        c.categorical_crossentropy(F((8, 4)), p, losses, None, False, 1.0)
    with pytest.raises(ValueError, match=r"argument 'losses' must have shape \(8,\)"):
        c.binary_crossentropy(t, p, F((7,)), None, False, 1.0)
    with pytest.raises(ValueError, match=r"argument 'labels' must have dtype int64, got int32"):
        c.sparse_categorical_crossentropy(F((8,), "int32"), p, losses, None, True, 1.0)
    with pytest.raises(ValueError, match=r"arguments 'grad' \(8, 3\) and 'y_pred' \(8, 3\) "
                                         r"overlap"):
        c.mean_squared_error(t, p, losses, p, 1.0)
    reaches_launch(c, lambda: c.sparse_categorical_crossentropy(F((8,), "int64"), p, losses,
                                                                F((8, 3)), True, 0.5))


def test_optimizer_arguments(c):
    p, g = F((10,)), F((10,))
    with pytest.raises(ValueError, match=r"'velocity' is required when momentum != 0"):
        c.sgd_update(p, g, None, 0.1, 0.9, False)
    with pytest.raises(ValueError, match=r"arguments 'p' \(10,\) and 'velocity' \(9,\) must "
                                         r"have the same shape"):
        c.sgd_update(p, g, F((9,)), 0.1, 0.9, False)
    with pytest.raises(ValueError, match=r"argument 't' \(the step being taken\) must be >= 1"):
        c.adam_update(p, g, F((10,)), F((10,)), None, 1e-3, 0.9, 0.999, 1e-7, 0)
    with pytest.raises(ValueError, match=r"arguments 'm' \(10,\) and 'v' \(10,\) overlap"):
        m = F((10,))
        c.adam_update(p, g, m, m, None, 1e-3, 0.9, 0.999, 1e-7, 1)
    reaches_launch(c, lambda: c.adam_update(p, g, F((10,)), F((10,)), F((10,)), 1e-3, 0.9,
                                            0.999, 1e-7, 3))
