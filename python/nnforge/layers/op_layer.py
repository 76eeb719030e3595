"""``OpLayer``: an ``nnforge.ops`` function called on symbolic tensors, as one node of a
functional model (Keras 3 makes the same automatic nodes for ``ops.*`` on KerasTensors).

Saved as Keras 3 saves its Operations: the config names Keras's op class and module (e.g.
``{"module": "keras.src.ops.numpy", "class_name": "Mean", "config": {"name": "mean", "axis": 1,
"keepdims": true}}``), holding the arguments Keras passes to the Operation's constructor, and
the node holds those Keras passes to ``symbolic_call`` (``keras_op_specs.json``, generated from
Keras's source by ``tests/golden/make_opser_table.py``, says which are which), so ``.keras``
files with raw ops load in either library.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import numpy as np

from nnforge.core.tensor import KerasTensor
from nnforge.ops import _output_spec, _symbolic

from .layer import Layer
from .node import map_structure


def _load_specs() -> Dict[str, dict]:
    """The generated table ``keras_op_specs.json``: keras.ops function name -> its Keras
    Operation (module, class), the function's parameters, its constructor arguments ("init":
    config key -> ``("param", name)`` or ``("const", value)``) and its ``symbolic_call``
    arguments. JSON keeps tuples as lists: the init pairs and the defaults come back as tuples,
    as Keras's source writes them."""
    with open(Path(__file__).with_name("keras_op_specs.json"), encoding="utf-8") as f:
        specs = json.load(f)
    for spec in specs.values():
        spec["init"] = {k: tuple(v) for k, v in spec["init"].items()}
        spec["defaults"] = {k: _tuples(v) for k, v in spec["defaults"].items()}
    return specs


def _tuples(v: Any) -> Any:
    """JSON lists in a loaded config back to tuples (axis=[1, 2] -> (1, 2))."""
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


SPECS = _load_specs()
# Keras (module, class) -> the keras.ops function names that make it.
_BY_CLASS: Dict[tuple, list] = {}
for _fname, _spec in sorted(SPECS.items()):
    _BY_CLASS.setdefault((_spec["module"], _spec["class_name"]), []).append(_fname)
# Functions that reach their Operation through another function (``abs`` -> ``absolute``) or
# through KerasTensor.__getitem__ (``GetItem``).
SPECS["abs"] = SPECS["absolute"]
SPECS["getitem"] = {"module": "keras.src.ops.numpy", "class_name": "GetItem",
                    "params": ["x", "key"], "init": {}, "call_args": ["x", "key"],
                    "call_kwargs": {}}
_BY_CLASS.setdefault(("keras.src.ops.numpy", "GetItem"), ["getitem"])
# einsum(subscripts, *operands): Einsum(subscripts).symbolic_call(*operands)
SPECS["einsum"] = {"module": "keras.src.ops.numpy", "class_name": "Einsum",
                   "params": ["subscripts"], "init": {"subscripts": ("param", "subscripts")},
                   "call_args": [], "call_kwargs": {}, "varargs": "operands"}
_BY_CLASS.setdefault(("keras.src.ops.numpy", "Einsum"), ["einsum"])

_OPS_MODULES = ("keras.src.ops.numpy", "keras.src.ops.math", "keras.src.ops.nn",
                "keras.src.ops.core", "keras.src.ops.linalg", "keras.src.ops.image")


def _plain(v: Any) -> Any:
    """NumPy scalars and dtypes in a config as Python values (JSON-friendly)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return np.dtype(v).name
    if isinstance(v, tuple):
        return tuple(_plain(x) for x in v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _nnforge_fn(name: str, module: str) -> Optional[Callable]:
    from nnforge import ops
    if module.endswith(".image"):
        return getattr(ops.image, name, None)
    if name == "getitem":
        return getattr(ops, "getitem", None) or ops.core.getitem
    return getattr(ops, name, None)


class _Binding:
    """How one op's arguments travel: Keras parameter name -> nnforge parameter name, and
    which Keras parameters are constructor (config) and which call (node) arguments."""

    def __init__(self, fn: Callable, op_name: str):
        self.op_name = op_name
        self.spec = SPECS.get(op_name)
        self.fn = fn
        raw = getattr(fn, "__wrapped_op__", fn)
        try:
            self.signature = inspect.signature(raw)
        except (TypeError, ValueError):
            self.signature = None
        self.to_nnforge: Dict[str, str] = {}
        self.missing: Dict[str, Any] = {}
        self.varargs: Optional[str] = None
        if self.spec is None or self.signature is None:
            self.spec = None
            return
        params = self.signature.parameters
        self.varargs = self.spec.get("varargs")
        allowed = {self.varargs, "kwargs"} if self.varargs else set()
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in allowed
               for p in params.values()):
            self.spec = None
            return
        names = list(params)
        for i, kp in enumerate(self.spec["params"]):
            if kp in params:
                self.to_nnforge[kp] = kp
            elif i < len(names) and names[i] not in self.spec["params"]:
                self.to_nnforge[kp] = names[i]
            else:
                # a Keras argument nnforge's op lacks (max's initial): Keras's default
                self.missing[kp] = self.spec.get("defaults", {}).get(kp)

    def bind(self, args: tuple, kwargs: dict) -> Optional[Dict[str, Any]]:
        """The call's arguments by nnforge parameter name, defaults applied."""
        if self.signature is None:
            return None
        try:
            b = self.signature.bind(*args, **kwargs)
        except TypeError:
            return None
        b.apply_defaults()
        return dict(b.arguments)

    def split(self, bound: Dict[str, Any]):
        """``(config, call args, call kwargs)`` in Keras's layout."""
        keras_vals = {kp: bound[np_] for kp, np_ in self.to_nnforge.items()}
        keras_vals.update(self.missing)
        config = {k: _plain(keras_vals[p]) for k, (kind, p) in self.spec["init"].items()
                  if kind == "param"}
        call_args = [keras_vals[p] for p in self.spec["call_args"]]
        if self.varargs:
            call_args += list(bound.get(self.varargs, ()))
            if bound.get("kwargs"):
                raise ValueError(f"ops.{self.op_name}: keyword arguments {sorted(bound['kwargs'])}"
                                 " have no Keras 3 serialization")
        call_kwargs = {k: keras_vals[p] for k, p in self.spec["call_kwargs"].items()}
        return config, call_args, call_kwargs

    def join(self, config: dict, call_args: tuple, call_kwargs: dict) -> Dict[str, Any]:
        """nnforge keyword arguments from a Keras config and node arguments."""
        keras_vals: Dict[str, Any] = {}
        for k, (kind, p) in self.spec["init"].items():
            if kind == "param" and k in config:
                keras_vals[p] = config[k]
        if self.varargs:
            n = len(self.spec["call_args"])
            keras_vals[self.varargs] = tuple(call_args[n:])
            call_args = call_args[:n]
        if len(call_args) > len(self.spec["call_args"]):
            raise ValueError(f"ops.{self.op_name}: the node has {len(call_args)} positional "
                             f"arguments, Keras's {self.spec['class_name']} takes "
                             f"{len(self.spec['call_args'])}")
        for p, v in zip(self.spec["call_args"], call_args):
            keras_vals[p] = v
        for k, v in call_kwargs.items():
            keras_vals[self.spec["call_kwargs"].get(k, k)] = v
        if self.spec["class_name"] == "GetItem" and isinstance(keras_vals.get("key"), list):
            keras_vals["key"] = tuple(keras_vals["key"])  # a tuple key, written as a JSON list
        out = {}
        for kp, v in keras_vals.items():
            if kp == self.varargs:
                continue
            if kp in self.to_nnforge:
                param = self.signature.parameters[self.to_nnforge[kp]]
                if v is None and param.default not in (None, inspect.Parameter.empty):
                    continue  # Keras's None for "the default" (pad's constant_values)
                out[self.to_nnforge[kp]] = v
            elif v is not None and v != self.missing.get(kp):
                raise ValueError(f"ops.{self.op_name}: nnforge's op has no argument '{kp}' "
                                 f"(Keras's {self.spec['class_name']} got {kp}={v!r})")
        return out


class OpLayer(Layer):
    """One call of an op on KerasTensors, recorded as a node of the functional graph.

    The output shape and dtype come from the op's shape rule (``ops/_output_spec.py``), as
    Keras's ``compute_output_spec`` gives them; ops without one run once on a small stand-in.
    Saved and loaded in Keras 3's format (its op class, module and arguments).

    Args:
        fn: the op (an ``nnforge.ops`` function).
        op_name: its name (the layer is named after it).
        config: the op's constructor arguments in Keras's layout (its config without "name").

    Example:

    >>> a, b = nnforge.Input((3,)), nnforge.Input((3,))
    >>> c = nnforge.ops.concatenate([a, b], axis=-1)  # an OpLayer's output, shape (None, 6)
    """

    def __init__(self, fn: Callable, op_name: str, config: Optional[dict] = None,
                 **layer_kwargs):
        from nnforge import naming
        layer_kwargs.setdefault("name", naming.unique_name(op_name))
        super().__init__(**layer_kwargs)
        self.fn = fn
        self.op_name = op_name
        self.binding = _Binding(fn, op_name)
        self.op_config = dict(config or {})
        self.built = True
        self._output_shape: Any = None
        self._output_dtypes: Any = None

    # ---- calling ---------------------------------------------------------------------------
    def _op_kwargs(self, args: tuple, kwargs: dict):
        """``(args, kwargs)`` for ``fn``: the node's arguments joined with the config."""
        if self.binding.spec is None:
            return args, kwargs
        joined = self.binding.join(self.op_config, args, kwargs)
        var = self.binding.varargs
        if var:  # positional parameters before *operands, then the operands
            names = [p.name for p in self.binding.signature.parameters.values()
                     if p.kind == p.POSITIONAL_OR_KEYWORD]
            n = len(self.binding.spec["call_args"])
            return (tuple(joined.pop(p) for p in names) + tuple(args[n:])), joined
        return (), joined

    def call(self, *args, **kwargs) -> Any:
        kwargs.pop("training", None)
        if self.binding.spec is None or "mask" not in self.binding.spec["call_kwargs"]:
            kwargs.pop("mask", None)
        a, k = self._op_kwargs(args, kwargs)
        return self.fn(*a, **k)

    def _symbolic_call(self, inputs, args, kwargs):
        kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        a, k = self._op_kwargs((inputs,) + tuple(args), kwargs)
        raw = getattr(self.fn, "__wrapped_op__", self.fn)
        spec = None
        bound = self.binding.bind(a, k)
        if bound is not None:
            spec = _output_spec.rule_spec(self.op_name, bound)
        if spec is not None:
            self._output_shape, self._output_dtypes = spec
        else:
            self._output_shape, self._output_dtypes = _output_spec.stand_in_spec(
                raw, a, k, map_structure)
        out = super()._symbolic_call(inputs, args, kwargs)
        _set_dtypes(out, self._output_dtypes)
        return out

    def compute_output_shape(self, input_shape):
        return self._output_shape

    # ---- saving ----------------------------------------------------------------------------
    def _keras_class_and_module(self):
        if self.binding.spec is None:
            raise ValueError(
                f"Cannot save the op layer '{self.name}': ops.{self.op_name} on symbolic "
                "tensors has no Keras 3 serialization in nnforge (no matching Keras Operation "
                "or a call Keras records differently); wrap the op in a Layer subclass to save "
                "the model's architecture")
        return self.binding.spec["class_name"], self.binding.spec["module"]

    def get_config(self) -> dict:
        self._keras_class_and_module()  # refuses ops without a Keras serialization
        config = {"name": self.name}
        config.update(self.op_config)
        return config

    def get_build_config(self):
        return None

    @classmethod
    def from_config(cls, config: dict):
        raise ValueError(
            f"OpLayer '{config.get('name')}' has no Keras op class to rebuild from: configs of "
            "raw ops name the Keras class (e.g. module 'keras.src.ops.numpy', class 'Add')")


def _set_dtypes(out, dtypes) -> None:
    if isinstance(out, KerasTensor):
        if isinstance(dtypes, str):
            out.dtype = dtypes
        return
    if isinstance(out, (list, tuple)) and isinstance(dtypes, (list, tuple)):
        for t, d in zip(out, dtypes):
            _set_dtypes(t, d)
    elif isinstance(out, dict) and isinstance(dtypes, dict):
        for key in out:
            _set_dtypes(out[key], dtypes.get(key))


def _op_class(module: str, class_name: str) -> type:
    """The class that rebuilds Keras's ``module.class_name`` Operation from its config."""
    names = _BY_CLASS[(module, class_name)]

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        name = config.pop("name", None)
        if isinstance(config.get("dtype"), dict):  # a DTypePolicy, not an op argument
            config.pop("dtype")
        for fname in cls._op_functions:
            fn = _nnforge_fn(fname, cls._keras_module)
            if fn is not None:
                break
        else:
            raise ValueError(f"Keras op {cls._keras_module}.{cls.__name__} "
                             f"(keras.ops.{cls._op_functions[0]}) is not implemented in nnforge")
        spec_name = fname if fname in SPECS else cls._op_functions[0]
        layer = OpLayer(fn, spec_name, {k: _tuples(v) for k, v in config.items()},
                        **({"name": name} if name else {}))
        if layer.binding.spec is None:
            raise ValueError(f"Keras op {cls._keras_module}.{cls.__name__}: nnforge's "
                             f"ops.{fname} takes different arguments, cannot rebuild it")
        return layer

    return type(class_name, (OpLayer,), {"_keras_module": module, "__module__": __name__,
                                         "_op_functions": names, "from_config": from_config,
                                         "__doc__": f"Loads Keras's {module}.{class_name}."})


# One loader class per Keras Operation, registered under Keras's op module (the registry finds
# it by the "module" and "class_name" that Keras writes).
_OP_CLASSES = {key: _op_class(*key) for key in _BY_CLASS}


def _symbolic_op(fn: Callable, name: str, args: tuple, kwargs: dict):
    if not args:
        raise ValueError(f"ops.{name}: called with keyword arguments only on symbolic tensors")
    layer = OpLayer(fn, name)
    b = layer.binding
    bound = b.bind(args, kwargs) if b.spec is not None else None
    if bound is not None:
        config, call_args, call_kwargs = b.split(bound)
        layer.op_config = config
        if call_args:
            return layer(*call_args, **call_kwargs)
        b.spec = None
    elif b.spec is not None:
        b.spec = None
    return layer(*args, **kwargs)


_symbolic.set_symbolic_handler(_symbolic_op)
