"""Target handling shared by every explanation method: which device the model lives on, which
output is explained (the model's or the logits before a final softmax), which scalar per sample
is differentiated (a class index or a callable on the outputs), and one batched forward (and
backward) pass that returns the gradient of that scalar."""
from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np

from nnforge import activations, backend
from nnforge.core import GradientTape, Tensor
from nnforge.layers import Activation, Layer, Softmax

from . import _graph

Target = Union[None, int, Sequence[int], np.ndarray, Callable]
OUTPUTS = ("model", "logits")


def model_backend(model: Layer):
    """The backend module (cpu or cuda) that holds the model's weights."""
    weights = model.weights
    return backend.of(weights[0].data) if weights else backend.current()


def to_device(be, x, name: str = "x"):
    """``x`` (NumPy, CuPy or Tensor) as a float32 array of backend ``be``."""
    if isinstance(x, Tensor):
        x = x.data
    if not backend.is_array(x):
        x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a numeric array, got dtype {x.dtype}")
    if backend.of(x) is not be:
        x = backend.to_numpy(x)
    return be.asarray(x, dtype=np.float32)


def check_batch(x, fn: str) -> None:
    if x.ndim < 2:
        raise ValueError(f"{fn}: x must be a batch with a leading sample axis (at least 2-D), got "
                         f"shape {tuple(x.shape)}; add one with x[None]")
    if x.shape[0] == 0:
        raise ValueError(f"{fn}: x is an empty batch (shape {tuple(x.shape)})")


def check_output(output: str, fn: str) -> None:
    if output not in OUTPUTS:
        raise ValueError(f"{fn}: output must be 'model' (the model's output) or 'logits' (the "
                         f"value before a final softmax), got {output!r}")


def check_batch_size(batch_size: int, fn: str) -> None:
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) \
            or batch_size < 1:
        raise ValueError(f"{fn}: batch_size must be a positive integer, got {batch_size!r}")


def _is_softmax(fn) -> bool:
    return fn is activations.softmax or getattr(fn, "__name__", "") == "softmax"


def select_output(model: Layer, y, capture: Optional[_graph.Capture], output: str, fn: str):
    """The tensor to explain: the model's output ``y`` or, for ``output='logits'``, the value
    before its final softmax."""
    if isinstance(y, (list, tuple)) and len(y) == 1:
        y = y[0]
    if output == "model":
        return y
    if isinstance(y, Tensor) and y._keras_logits is not None:  # Dense(..., "softmax")
        return y._keras_logits
    layer = _graph.final_layer(model)
    if layer is None or capture is None or capture.output is not y:
        raise ValueError(f"{fn}: output='logits' needs a model whose output comes from a known "
                         f"final layer; model '{model.name}' is subclassed or has several outputs")
    if isinstance(layer, Softmax) or (isinstance(layer, Activation)
                                      and _is_softmax(layer.activation)):
        return capture.inputs
    act = getattr(layer, "activation", None)
    if act is None or act is activations.linear or getattr(act, "__name__", "") == "linear":
        return y  # the model already outputs logits
    raise ValueError(
        f"{fn}: output='logits' explains the value before a final softmax, but the last layer "
        f"'{layer.name}' ({type(layer).__name__}) ends in activation "
        f"{getattr(act, '__name__', act)!r}; use output='model'")


def logits_probe(model: Layer, output: str):
    """The layer to probe so that ``select_output`` can find the logits (None when not needed)."""
    if output != "logits":
        return None
    return _graph.final_layer(model)


class Targets:
    """Resolved targets: either one class index per sample or a callable on the outputs."""

    def __init__(self, indices: Optional[np.ndarray], fn: Optional[Callable]):
        self.indices = indices
        self.fn = fn

    def take(self, rows: np.ndarray) -> "Targets":
        """The targets of batch rows ``rows`` (sample indices)."""
        return Targets(None if self.indices is None else self.indices[rows], self.fn)


def resolve_targets(target: Target, n: int, fn: str,
                    predict: Optional[Callable[[], np.ndarray]] = None) -> Targets:
    """Check ``target`` and turn it into a ``Targets`` for ``n`` samples. ``predict`` returns the
    model's outputs for the batch; it is called only for ``target=None`` (the predicted class)."""
    if callable(target):
        return Targets(None, target)
    if target is None:
        if predict is None:
            raise ValueError(f"{fn}: target=None needs the model's predictions")
        y = predict()
        if y.ndim != 2:
            raise ValueError(f"{fn}: target=None picks the predicted class of a (batch, classes) "
                             f"output, but the model's output has shape {y.shape}; pass a "
                             f"callable target")
        return Targets(np.argmax(y, axis=1).astype(np.int64), None)
    idx = np.asarray(target)
    if idx.dtype.kind not in "iu" and not (idx.dtype.kind == "f" and np.all(idx == np.round(idx))):
        raise TypeError(f"{fn}: target must be a class index, one index per sample, a callable or "
                        f"None, got {target!r}")
    idx = idx.astype(np.int64)
    if idx.ndim == 0:
        idx = np.full((n,), int(idx), dtype=np.int64)
    if idx.shape != (n,):
        raise ValueError(f"{fn}: target must give one class index per sample ({n}), got shape "
                         f"{idx.shape}")
    return Targets(idx, None)


def _first_tensor(y) -> Tensor:
    while isinstance(y, (list, tuple, dict)):
        y = list(y.values())[0] if isinstance(y, dict) else y[0]
    return y


def _seed(be, y: Tensor, targets: Targets, fn: str):
    """(tensor to differentiate, output gradient) for the batch: a one-hot seed on ``y`` for class
    indices, or the callable's per-row scores with a seed of ones."""
    if targets.fn is not None:
        s = targets.fn(y)
        if not isinstance(s, Tensor):
            raise TypeError(f"{fn}: a callable target must return an nnforge Tensor computed with "
                            f"nnforge.ops from the outputs it is given, got {type(s).__name__}")
        rows = _first_tensor(y).shape[0]
        if s.shape != (rows,):
            raise ValueError(f"{fn}: a callable target must return one score per row, shape "
                             f"({rows},), got {s.shape}")
        return s, None
    if not isinstance(y, Tensor):
        raise ValueError(f"{fn}: the model returns {type(y).__name__} of several outputs; pass "
                         f"a callable target that takes them and returns one score per row")
    if y.ndim != 2:
        raise ValueError(f"{fn}: a class-index target needs a (batch, classes) output, got shape "
                         f"{y.shape}; pass a callable target instead")
    k = y.shape[1]
    idx = targets.indices
    if idx.min() < 0 or idx.max() >= k:
        raise ValueError(f"{fn}: target class indices must lie in [0, {k}) for an output of shape "
                         f"{y.shape}, got {sorted(set(idx.tolist()))}")
    onehot = np.zeros((len(idx), k), dtype=np.float32)
    onehot[np.arange(len(idx)), idx] = 1.0
    return y, be.asarray(onehot)


def _scores(be, y: Tensor, seed_target, seed) -> np.ndarray:
    data = seed_target.data
    if seed is None:
        return backend.to_numpy(data).astype(np.float64)
    return backend.to_numpy((data * seed).sum(axis=1)).astype(np.float64)


def forward(model: Layer, be, x, targets: Optional[Targets], output: str,
            fn: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """One inference pass on the rows ``x``: the explained output as NumPy and, when ``targets``
    is given, each row's target score."""
    last = logits_probe(model, output)
    t = Tensor(x)
    if last is not None:
        with _graph.probe(last) as cap:
            y = model(t, training=False)
    else:
        cap = None
        y = model(t, training=False)
    y = select_output(model, y, cap, output, fn)
    if targets is None:
        if not isinstance(y, Tensor):
            raise ValueError(f"{fn}: the model returns {type(y).__name__} of several outputs, so "
                             f"target=None has no predicted class; pass a callable target")
        return backend.to_numpy(y.data), None
    s, seed = _seed(be, y, targets, fn)
    return backend.to_numpy(y.data), _scores(be, y, s, seed)


def gradients(model: Layer, be, x, targets: Targets, output: str, fn: str,
              layer: Optional[Layer] = None):
    """One forward and backward pass on the rows ``x``.

    Returns ``(gradient, activations)``: the gradient of each row's target score with respect to
    the input (``layer=None``; activations None) or to ``layer``'s output (then activations is
    that output), as backend arrays.
    """
    last = logits_probe(model, output)
    with GradientTape(watch_accessed_variables=False) as tape:
        cut = {}
        if layer is None:
            src = Tensor(x)
            tape.watch(src)
        else:
            def replace(out):
                if not isinstance(out, Tensor):
                    raise ValueError(f"{fn}: layer '{layer.name}' returns "
                                     f"{type(out).__name__}, not a single tensor")
                fresh = Tensor(out.data)
                tape.watch(fresh)
                cut["t"] = fresh
                return fresh
            src = Tensor(x)
        with ExitStack() as stack:
            lcap = ocap = None
            if layer is not None:
                lcap = stack.enter_context(_graph.probe(layer, replace))
            if last is not None:
                ocap = lcap if last is layer else stack.enter_context(_graph.probe(last))
            y = model(src, training=False)
        if layer is not None:
            if lcap.calls == 0:
                raise ValueError(f"{fn}: layer '{layer.name}' is not called when model "
                                 f"'{model.name}' runs")
            if lcap.calls > 1:
                raise ValueError(f"{fn}: layer '{layer.name}' is called {lcap.calls} times in "
                                 f"one pass of model '{model.name}' (a shared layer); its "
                                 f"activation is ambiguous")
            src = cut["t"]
        y = select_output(model, y, ocap, output, fn)
        s, seed = _seed(be, y, targets, fn)
    g = tape.gradient(s, src, output_gradients=seed, unconnected_gradients="zero")
    return g.data, (None if layer is None else src.data)


def to_numpy32(a: Any) -> np.ndarray:
    return np.asarray(backend.to_numpy(a), dtype=np.float32)
