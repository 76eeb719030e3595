"""Reverse-mode automatic differentiation with ``tf.GradientTape``'s semantics.

While a tape is active, every op whose inputs include a watched tensor (a trainable Variable, a
tensor passed to ``tape.watch``, or a tensor computed from one) stores an ``OpRecord`` on its
output (``tensor.node``): the inputs and a backward function. ``tape.gradient`` walks those nodes in reverse topological
order. Backward functions work on raw backend arrays, so gradients are first-order only.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, List, Optional, Sequence

import numpy as np

from nnforge import backend

from .tensor import Tensor, Variable

_tapes: List["GradientTape"] = []
_paused = 0
# The gradient pass of ``GradientTape.gradient_into_buffers`` in progress, if any: backward
# functions ask it (through ``gradient_buffer``) where to write a parameter's gradient.
_buffer_pass: Optional["_BufferPass"] = None


class OpRecord:
    """How a tensor was computed: its inputs, which of them need a gradient, and the function
    mapping the output's gradient to the inputs' gradients (None where not needed).

    Not to be confused with ``layers.node.Node``, one call of a layer in a functional graph."""

    __slots__ = ("inputs", "backward", "needs")

    def __init__(self, inputs: Sequence[Any], backward: Callable, needs: Sequence[bool]):
        self.inputs = inputs
        self.backward = backward
        self.needs = needs


def is_recording() -> bool:
    return bool(_tapes) and not _paused


def _tracked(x: Any) -> bool:
    if not isinstance(x, Tensor):
        return False
    if x.node is not None:
        return True
    k = id(x)
    for t in _tapes:
        if k in t._watched:
            return True
        if t._watch_accessed and isinstance(x, Variable) and x.trainable:
            return True
    return False


def record(out, inputs: Sequence[Any], backward: Callable) -> Tensor:
    """Wrap array ``out`` in a Tensor and, when a tape is recording and some input is watched,
    attach the node that ``tape.gradient`` will differentiate through."""
    t = Tensor(out)
    if _tapes and not _paused:
        # (an input computed on the tape, the usual case, answers without a call)
        needs = tuple([(i.node is not None or _tracked(i)) if isinstance(i, Tensor) else False
                       for i in inputs])
        if True in needs:
            t.node = OpRecord(tuple(inputs), backward, needs)
    return t


class _BufferPass:
    """One ``gradient_into_buffers`` pass: the Variables whose gradient array was handed out."""

    __slots__ = ("claimed",)

    def __init__(self):
        self.claimed: set = set()

    def claim(self, source, shape, dtype, be):
        if not isinstance(source, Variable) or id(source) in self.claimed:
            return None
        buf = source._grad_buffer
        if (buf is None or tuple(buf.shape) != tuple(shape) or buf.dtype != dtype
                or backend.of(buf) is not be):
            buf = source._grad_buffer = be.empty(tuple(shape), dtype)
        self.claimed.add(id(source))
        return buf


def gradient_buffer(source, shape, dtype, be):
    """Where a backward function may write ``source``'s gradient: the Variable's own gradient
    array, allocated on first use and reused by every later pass, while
    ``GradientTape.gradient_into_buffers`` runs and this is the first gradient of ``source`` in
    that pass. None otherwise (the caller allocates), so ``gradient`` always returns fresh arrays
    and a Variable used twice in one graph still gets its contributions summed into a new array.

    Args:
        source: the tensor whose gradient is about to be computed (only Variables get buffers).
        shape, dtype: the gradient's shape and dtype.
        be: the backend module of the gradient's arrays.

    Returns:
        A backend array to write the gradient into, or None.
    """
    bp = _buffer_pass
    return None if bp is None else bp.claim(source, shape, dtype, be)


@contextmanager
def stop_recording():
    """Ops run inside this block are not recorded (``tape.stop_recording()``)."""
    global _paused
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1


def _flatten(structure):
    if isinstance(structure, dict):
        out = []
        for k in structure:
            out.extend(_flatten(structure[k]))
        return out
    if isinstance(structure, (list, tuple)):
        out = []
        for s in structure:
            out.extend(_flatten(s))
        return out
    return [structure]


def _flat_tensor_list(structure) -> bool:
    """Whether ``structure`` is a plain list of tensors (the usual ``sources``), which
    ``_flatten`` and ``_pack_like`` leave as it is."""
    return type(structure) is list and all(isinstance(s, Tensor) for s in structure)


def _pack_like(structure, flat: list):
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            return {k: build(s[k]) for k in s}
        if isinstance(s, (list, tuple)):
            return type(s)(build(v) for v in s) if isinstance(s, list) or type(s) is tuple \
                else [build(v) for v in s]
        return next(it)

    return build(structure)


class GradientTape:
    """Records operations for automatic differentiation (``tf.GradientTape``).

    Args:
        persistent: whether ``gradient`` may be called more than once.
        watch_accessed_variables: watch every trainable Variable used while recording.

    Example:

    >>> w = nnforge.Variable(np.ones((3, 2), "float32"))
    >>> with nnforge.GradientTape() as tape:
    ...     y = nnforge.ops.sum(nnforge.ops.matmul(x, w))
    >>> dw = tape.gradient(y, w)
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._watched: dict = {}
        self._used = False
        self._recording = False

    def __enter__(self) -> "GradientTape":
        _tapes.append(self)
        self._recording = True
        return self

    def __exit__(self, *exc) -> None:
        if self._recording:
            _tapes.remove(self)
            self._recording = False

    def watch(self, tensor) -> None:
        """Track ``tensor`` (a Tensor or Variable, or a nested structure of them)."""
        for t in _flatten(tensor):
            if not isinstance(t, Tensor):
                raise ValueError(
                    f"GradientTape.watch: expected an nnforge Tensor or Variable, got "
                    f"{type(t).__name__}; convert arrays with nnforge.ops.convert_to_tensor first")
            self._watched[id(t)] = t

    def watched_variables(self) -> list:
        return [t for t in self._watched.values() if isinstance(t, Variable)]

    @contextmanager
    def stop_recording(self):
        with stop_recording():
            yield

    def reset(self) -> None:
        self._watched.clear()

    def gradient_into_buffers(self, target, sources) -> list:
        """``gradient``, with each parameter gradient written into an array its Variable keeps
        from one call to the next (nnforge's extension, used by the built-in train step).

        Dense and Conv2D backward passes write there instead of allocating per step. The arrays
        are overwritten by the next call, so the result is only valid until then: apply it (as
        ``optimizer.apply`` does) before computing the next one. ``gradient`` itself always
        returns fresh arrays.

        Args:
            target: the tensor to differentiate (as in ``gradient``).
            sources: a list of Variables/Tensors.

        Returns:
            The gradients, shaped like ``sources`` (None for unconnected sources).

        Example:

        >>> with nnforge.GradientTape() as tape:
        ...     loss = loss_fn(y, model(x, training=True))
        >>> grads = tape.gradient_into_buffers(loss, model.trainable_weights)
        >>> optimizer.apply(grads, model.trainable_weights)
        """
        global _buffer_pass
        _buffer_pass = _BufferPass()
        try:
            return self.gradient(target, sources)
        finally:
            _buffer_pass = None

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients: str = "none"):
        """Gradients of ``target`` (a tensor, or a list whose sum is differentiated) with respect
        to ``sources`` (a Variable/Tensor or a nested list/dict of them), shaped like sources."""
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set "
                               "of gradients; create it with persistent=True for more.")
        self._used = True
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError("GradientTape.gradient: unconnected_gradients must be 'none' or "
                             f"'zero', got {unconnected_gradients!r}")
        targets = _flatten(target)
        seeds = _flatten(output_gradients) if output_gradients is not None else [None] * len(targets)
        if len(seeds) != len(targets):
            raise ValueError("GradientTape.gradient: output_gradients must match target's structure")
        plain_list = _flat_tensor_list(sources)
        flat_sources = list(sources) if plain_list else _flatten(sources)
        if not plain_list:
            for s in flat_sources:
                if not isinstance(s, Tensor):
                    raise ValueError(f"GradientTape.gradient: sources must be Variables or "
                                     f"Tensors, got {type(s).__name__}")

        # Post-order DFS from the targets: every tensor comes after its inputs.
        order: List[Tensor] = []
        visited = set()
        seen, append = visited.add, order.append
        for tgt in targets:
            if not isinstance(tgt, Tensor):
                continue
            stack = [(tgt, False)]
            pop, push = stack.pop, stack.append
            while stack:
                t, done = pop()
                if done:
                    append(t)
                    continue
                k = id(t)
                if k in visited:
                    continue
                seen(k)
                push((t, True))
                node = t.node
                if node is not None:
                    for inp, need in zip(node.inputs, node.needs):
                        if need and id(inp) not in visited:
                            push((inp, False))

        grads: dict = {}
        for tgt, seed in zip(targets, seeds):
            if not isinstance(tgt, Tensor):
                continue
            if seed is not None:
                g = seed.data if isinstance(seed, Tensor) else seed
            elif isinstance(tgt.data, (np.ndarray, np.generic)) and tgt.data.ndim == 0:
                g = np.array(1, dtype=tgt.data.dtype)  # a scalar loss: ones_like without its wrapper
            else:
                g = backend.of(tgt.data).xp.ones_like(tgt.data)
            k = id(tgt)
            grads[k] = g if k not in grads else grads[k] + g

        keep = {id(s) for s in flat_sources}
        for t in reversed(order):
            node = t.node
            if node is None:
                continue
            k = id(t)
            g = grads.get(k) if k in keep else grads.pop(k, None)
            if g is None:
                continue
            needs = node.needs
            in_grads = node.backward(g, needs)
            for inp, need, ig in zip(node.inputs, needs, in_grads):
                if need and ig is not None:
                    ki = id(inp)
                    prev = grads.get(ki)
                    grads[ki] = ig if prev is None else prev + ig

        out = []
        for s in flat_sources:
            g = grads.get(id(s))
            if g is None:
                if unconnected_gradients == "zero":
                    g = s.data * 0
                else:
                    out.append(None)
                    continue
            out.append(Tensor(g))
        if isinstance(sources, Tensor):
            return out[0]
        if plain_list:
            return out  # what _pack_like builds for a plain list of tensors
        return _pack_like(sources, out)
