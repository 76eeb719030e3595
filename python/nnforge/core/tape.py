"""Reverse-mode automatic differentiation with ``tf.GradientTape``'s semantics.

While a tape is active, every op whose inputs include a watched tensor (a trainable Variable, a
tensor passed to ``tape.watch``, or a tensor computed from one) stores a ``Node`` on its output:
the inputs and a backward function. ``tape.gradient`` walks those nodes in reverse topological
order. Backward functions work on raw backend arrays, so gradients are first-order only.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, List, Optional, Sequence

from nnforge import backend

from .tensor import Tensor, Variable

_tapes: List["GradientTape"] = []
_paused = 0
# While the built-in train step computes gradients: ids of the Variables whose gradient buffer
# has been handed out in this pass (see gradient_buffer); None otherwise.
_buffers_claimed: Optional[set] = None


class Node:
    """How a tensor was computed: its inputs, which of them need a gradient, and the function
    mapping the output's gradient to the inputs' gradients (None where not needed)."""

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
        needs = tuple(_tracked(i) for i in inputs)
        if any(needs):
            t.node = Node(tuple(inputs), backward, needs)
    return t


def gradient_buffer(source, shape, dtype, be):
    """Where a backward function may write ``source``'s gradient: the Variable's own gradient
    array, allocated on first use and reused by every later training step, when the built-in
    train step is differentiating and this is the first gradient of ``source`` in this pass.
    None otherwise (the caller allocates), so user tapes always get fresh arrays and a Variable
    used twice in one graph still gets its contributions summed into a new array."""
    claimed = _buffers_claimed
    if claimed is None or not isinstance(source, Variable) or id(source) in claimed:
        return None
    buf = source._grad_buffer
    if (buf is None or tuple(buf.shape) != tuple(shape) or buf.dtype != dtype
            or backend.of(buf) is not be):
        buf = source._grad_buffer = be.empty(tuple(shape), dtype)
    claimed.add(id(source))
    return buf


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

    def _gradient_into_buffers(self, target, sources) -> list:
        """``gradient`` for the built-in train step: parameter gradients are written into each
        Variable's preallocated gradient array where the op supports it (allocated once, not
        per step). The arrays are overwritten by the next step, so the result is only valid
        until then; user code gets ``gradient``'s fresh arrays."""
        global _buffers_claimed
        _buffers_claimed = set()
        try:
            return self.gradient(target, sources)
        finally:
            _buffers_claimed = None

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
        flat_sources = _flatten(sources)
        for s in flat_sources:
            if not isinstance(s, Tensor):
                raise ValueError(f"GradientTape.gradient: sources must be Variables or Tensors, "
                                 f"got {type(s).__name__}")

        # Post-order DFS from the targets: every tensor comes after its inputs.
        order: List[Tensor] = []
        visited = set()
        for tgt in targets:
            if not isinstance(tgt, Tensor):
                continue
            stack = [(tgt, False)]
            while stack:
                t, done = stack.pop()
                if done:
                    order.append(t)
                    continue
                if id(t) in visited:
                    continue
                visited.add(id(t))
                stack.append((t, True))
                node = t.node
                if node is not None:
                    for inp, need in zip(node.inputs, node.needs):
                        if need and id(inp) not in visited:
                            stack.append((inp, False))

        grads: dict = {}
        for tgt, seed in zip(targets, seeds):
            if not isinstance(tgt, Tensor):
                continue
            if seed is not None:
                g = seed.data if isinstance(seed, Tensor) else seed
            else:
                g = backend.of(tgt.data).xp.ones_like(tgt.data)
            k = id(tgt)
            grads[k] = g if k not in grads else grads[k] + g

        keep = {id(s) for s in flat_sources}
        for t in reversed(order):
            node = t.node
            k = id(t)
            if node is None:
                continue
            g = grads.get(k) if k in keep else grads.pop(k, None)
            if g is None:
                continue
            in_grads = node.backward(g, node.needs)
            for inp, need, ig in zip(node.inputs, node.needs, in_grads):
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
        return _pack_like(sources, out)
