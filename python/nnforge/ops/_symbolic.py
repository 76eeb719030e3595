"""Ops on symbolic tensors: ``ops.concatenate([a, b])``, ``ops.add``, ``x * 2`` ... called on
``keras.Input``-derived KerasTensors become nodes of the functional graph, as Keras 3's automatic
op layers do.

``ops`` sits below ``layers``, so it cannot make the layer itself: ``layers`` registers a
handler (``set_symbolic_handler``) that wraps the op in a layer and calls it on the KerasTensors.
Each public function of ``nnforge.ops`` is wrapped by ``symbolic_dispatch``: the eager path is a
plain call (ops reject a KerasTensor with a TypeError), and only when that fails on a symbolic
argument is the handler used."""
from __future__ import annotations

import functools
from typing import Callable, Optional

from nnforge.core.tensor import KerasTensor

_handler: Optional[Callable] = None


def set_symbolic_handler(handler: Callable) -> None:
    """Register ``handler(fn, name, args, kwargs)``, which returns the symbolic output of the op
    ``fn`` called on arguments holding KerasTensors (done by ``nnforge.layers``)."""
    global _handler
    _handler = handler


def any_symbolic(structure) -> bool:
    """Whether a (nested list/tuple/dict) argument holds a KerasTensor."""
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(any_symbolic(s) for s in structure)
    if isinstance(structure, dict):
        return any(any_symbolic(s) for s in structure.values())
    return False


def symbolic_dispatch(fn: Callable, name: Optional[str] = None) -> Callable:
    """``fn`` that also accepts KerasTensors (see the module docstring); ``name`` is the public
    name it is reached by (``true_divide`` for the alias of ``divide``), which says which Keras
    Operation the symbolic call records."""
    name = name or fn.__name__

    @functools.wraps(fn)
    def op(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError:
            if _handler is None or not (any_symbolic(args) or any_symbolic(kwargs)):
                raise
        return _handler(fn, name, args, kwargs)

    op.__wrapped_op__ = fn
    return op
