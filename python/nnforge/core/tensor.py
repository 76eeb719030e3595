"""``Tensor`` (an array plus the tape node that produced it), ``Variable`` (a named, assignable
array that layers own) and ``KerasTensor`` (a symbolic placeholder for the functional API)."""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from nnforge import backend


class _Operators:
    """Python's arithmetic, matmul, indexing and ordering operators as calls of ``nnforge.ops``
    (shared by eager Tensors, where they are recorded on the tape, and symbolic KerasTensors,
    where they become nodes of the functional graph)."""

    __slots__ = ()

    def __add__(self, o): return _ops().add(self, o)
    def __radd__(self, o): return _ops().add(o, self)
    def __sub__(self, o): return _ops().subtract(self, o)
    def __rsub__(self, o): return _ops().subtract(o, self)
    def __mul__(self, o): return _ops().multiply(self, o)
    def __rmul__(self, o): return _ops().multiply(o, self)
    def __truediv__(self, o): return _ops().true_divide(self, o)
    def __rtruediv__(self, o): return _ops().true_divide(o, self)
    def __matmul__(self, o): return _ops().matmul(self, o)
    def __rmatmul__(self, o): return _ops().matmul(o, self)
    def __pow__(self, o): return _ops().power(self, o)
    def __neg__(self): return _ops().negative(self)
    def __abs__(self): return _ops().abs(self)
    def __getitem__(self, idx): return _ops().getitem(self, idx)
    def __lt__(self, o): return _ops().less(self, o)
    def __le__(self, o): return _ops().less_equal(self, o)
    def __gt__(self, o): return _ops().greater(self, o)
    def __ge__(self, o): return _ops().greater_equal(self, o)


class Tensor(_Operators):
    """An eager tensor: a NumPy (CPU) or CuPy (GPU) array, plus the tape's ``OpRecord`` that
    made it (``node``; None for a constant).

    Behaves like ``tf.Tensor`` in eager mode: ``.numpy()``, ``.shape``, ``.dtype``, arithmetic
    operators (recorded on an active ``GradientTape``) and ``np.asarray(t)``.
    """

    __slots__ = ("data", "node", "_keras_logits", "_keras_mask", "__weakref__")
    __array_priority__ = 100

    def __init__(self, data, node=None):
        self.data = data
        self.node = node
        self._keras_logits = None
        self._keras_mask = None

    # -- array protocol ------------------------------------------------------------------------
    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> str:
        return str(self.data.dtype)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        return backend.to_numpy(self.data)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a.astype(dtype) if dtype is not None else a

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<nnforge.Tensor shape={self.shape} dtype={self.dtype}>\n{self.numpy()!r}"

    def __float__(self) -> float:
        return float(self.numpy())

    def __int__(self) -> int:
        return int(self.numpy())

    def __bool__(self) -> bool:
        return bool(self.numpy())

    def item(self):
        return self.numpy().item()

    # -- operators: recorded ops (inherited from _Operators) --------------------------------
    # element-wise, as Keras tensors compare; identity still decides ``in`` and list equality
    def __eq__(self, o): return _ops().equal(self, o)  # type: ignore[override]
    def __ne__(self, o): return _ops().not_equal(self, o)  # type: ignore[override]

    __hash__ = object.__hash__


class Variable(Tensor):
    """A named, assignable tensor owned by a layer or an optimizer (``keras.Variable``).

    Trainable variables are watched by ``GradientTape`` automatically.
    """

    __slots__ = ("name", "trainable", "_path", "regularizer", "constraint", "_grad_buffer")

    def __init__(self, initializer, shape=None, dtype="float32", trainable: bool = True,
                 name: Optional[str] = None):
        if callable(initializer) and not isinstance(initializer, np.ndarray):
            if shape is None:
                raise ValueError(f"Variable {name!r}: a callable initializer needs a shape")
            value = initializer(tuple(shape), dtype=dtype)
        else:
            value = unwrap(initializer)
        be = backend.current()
        arr = be.asarray(backend.to_numpy(value) if not backend.is_array(value)
                         else value, dtype=np.dtype(dtype))
        if arr.ndim != np.ndim(value):  # ascontiguousarray makes a 0-d value 1-d
            arr = arr.reshape(np.shape(value))
        super().__init__(arr)
        self.name = name or "variable"
        self._path = self.name
        self.trainable = trainable
        self.regularizer = None
        self.constraint = None
        self._grad_buffer = None  # the built-in train step's gradient array (core.tape)

    @property
    def value(self):
        return self.data

    @property
    def path(self) -> str:
        return self._path

    def assign(self, value) -> "Variable":
        value = unwrap(value)
        shape = tuple(getattr(value, "shape", np.shape(value)))
        if shape != self.shape:
            raise ValueError(f"Variable {self.name!r}.assign: expected shape {self.shape}, "
                             f"got {shape}")
        be = backend.of(self.data)
        self.data[...] = be.asarray(value, dtype=self.data.dtype) if backend.is_array(value) \
            else be.asarray(np.asarray(value), dtype=self.data.dtype)
        return self

    def assign_add(self, value) -> "Variable":
        self.data += unwrap(value)
        return self

    def assign_sub(self, value) -> "Variable":
        self.data -= unwrap(value)
        return self

    def __repr__(self) -> str:
        return (f"<nnforge.Variable path={self._path!r} shape={self.shape} dtype={self.dtype}>")


class KerasTensor(_Operators):
    """Symbolic tensor of the functional API: a shape (batch dimension ``None``), a dtype, and the
    layer call that produces it (``_keras_history = (layer, node_index, tensor_index)``)."""

    __array_ufunc__ = None  # NumPy defers to our operators (which build graph nodes)

    def __init__(self, shape, dtype: str = "float32", name: Optional[str] = None,
                 history=None, sparse: bool = False):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = str(dtype)
        self.name = name
        self._keras_history = history
        self.sparse = sparse
        self._keras_mask: Optional["KerasTensor"] = None  # a symbolic bool mask, if any

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # operators (inherited from _Operators): each becomes a node of the functional graph

    def __array__(self, *a, **k):
        raise TypeError(
            "A symbolic KerasTensor (from keras.Input) cannot be converted to a NumPy array: it "
            "has no value. Use it to build a Model, then call the model on real data.")

    __hash__ = object.__hash__


def unwrap(x: Any):
    """The backing array of a Tensor/Variable; anything else is returned unchanged."""
    return x.data if isinstance(x, Tensor) else x


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


_OPS = None


def _ops():
    global _OPS
    if _OPS is None:
        from nnforge import ops as _o
        _OPS = _o
    return _OPS
