"""The registry of serializable classes: nnforge's own (registered by class when they are
defined) and users' (``register_keras_serializable``, ``custom_objects``, ``custom_object_scope``).

nnforge's classes register under the Keras module of their family (``"keras.layers"``,
``"keras.losses"``, ...), read from the class attribute ``_keras_module`` that each family's base
class sets; a user's class registers under ``"<package>><name>"`` as in Keras 3. Looking a class
up never imports ``nnforge.layers`` or ``nnforge.models`` by name in the code: when a family has
not been loaded yet, the module that defines it is imported from the table below (as Keras
imports the ``module`` written in a config).
"""
from __future__ import annotations

import importlib
import inspect
import threading
from typing import Any, Callable, Dict, Optional

# Keras module -> class name -> class (nnforge's own classes).
_BUILTIN_OBJECTS: Dict[str, Dict[str, Any]] = {}
# "package>name" -> object registered by register_keras_serializable, and the reverse map.
_GLOBAL_CUSTOM_OBJECTS: Dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: Dict[Any, str] = {}
_SCOPE = threading.local()

# Module names that Keras 3 writes for one family (models), mapped to the one we register under.
_MODULE_ALIASES = {"keras.models": "keras", "keras.src.models.functional": "keras",
                   "keras.src.models.sequential": "keras", "keras.src.models.model": "keras"}
# The nnforge module that defines each family, imported on a lookup that finds nothing yet.
_PROVIDERS = {"keras.layers": "nnforge.layers", "keras": "nnforge.models",
              "keras.losses": "nnforge.losses", "keras.metrics": "nnforge.metrics",
              "keras.optimizers": "nnforge.optimizers",
              "keras.optimizers.schedules": "nnforge.optimizers.schedules",
              "keras.initializers": "nnforge.initializers",
              "keras.regularizers": "nnforge.regularizers",
              "keras.constraints": "nnforge.constraints"}
# Keras 3's Operations (raw ops in a functional model), loaded by nnforge.layers.op_layer.
_PROVIDERS.update({f"keras.src.ops.{m}": "nnforge.layers.op_layer"
                   for m in ("numpy", "math", "nn", "core", "linalg", "image")})


def canonical_module(module: Optional[str]) -> Optional[str]:
    """The registry key for a Keras module name as written in a config."""
    return _MODULE_ALIASES.get(module, module)


def register_builtin(cls: type) -> None:
    """Register one of nnforge's own classes under its family's Keras module.

    Called by ``KerasSaveable.__init_subclass__`` for every subclass defined inside the
    ``nnforge`` package; users' classes are not registered (they use
    ``register_keras_serializable`` or ``custom_objects``, as in Keras).
    """
    module = getattr(cls, "_keras_module", None)
    if not module or not cls.__module__.startswith("nnforge.") or cls.__name__.startswith("_"):
        return
    table = _BUILTIN_OBJECTS.setdefault(canonical_module(module), {})
    for name in (cls.__name__,) + tuple(cls.__dict__.get("_keras_aliases", ())):
        table[name] = cls


def builtin_object(module: Optional[str], name: str) -> Any:
    """The nnforge class registered as ``name`` under the Keras ``module``, or None."""
    module = canonical_module(module)
    table = _BUILTIN_OBJECTS.get(module)
    if (table is None or name not in table) and module in _PROVIDERS:
        importlib.import_module(_PROVIDERS[module])
        table = _BUILTIN_OBJECTS.get(module)
    return None if table is None else table.get(name)


class custom_object_scope:
    """Make objects visible to deserialization by name within a ``with`` block.

    Args:
        custom_objects: a dict mapping names (class names or registered names) to classes or
            functions; several dicts may be given.

    Example:

    >>> with nnforge.saving.custom_object_scope({"MyLayer": MyLayer}):
    ...     model = nnforge.saving.load_model("model.keras")
    """

    def __init__(self, *custom_objects: Optional[Dict[str, Any]]):
        self.custom_objects: Dict[str, Any] = {}
        for objects in custom_objects:
            if objects:
                self.custom_objects.update(objects)

    def __enter__(self) -> "custom_object_scope":
        stack = getattr(_SCOPE, "stack", None)
        if stack is None:
            stack = _SCOPE.stack = []
        stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc) -> None:
        _SCOPE.stack.pop()


CustomObjectScope = custom_object_scope


def _scoped_objects() -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    for objects in getattr(_SCOPE, "stack", None) or ():
        merged.update(objects)
    return merged


def get_custom_objects() -> Dict[str, Any]:
    """The global dict of registered custom objects (``"package>name" -> object``).

    Adding an entry to it makes the object known to deserialization everywhere; prefer
    ``register_keras_serializable``.

    Returns:
        The live global dict (not a copy).

    Example:

    >>> nnforge.saving.get_custom_objects()["Custom>MyLayer"] = MyLayer
    """
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom",
                                name: Optional[str] = None) -> Callable[[Any], Any]:
    """Register a class or function so that ``.keras`` files and configs find it by name.

    Args:
        package: the package part of the registered name (``"Custom"`` by default).
        name: the name part; defaults to the class's or function's ``__name__``.

    Returns:
        A decorator that registers its argument as ``"<package>><name>"`` and returns it.

    Example:

    >>> @nnforge.saving.register_keras_serializable(package="MyLayers")
    ... class Scale(nnforge.layers.Layer):
    ...     ...
    >>> nnforge.saving.get_registered_name(Scale)
    'MyLayers>Scale'
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without '>', "
                         f"got {package!r}")

    def decorator(arg):
        class_name = name if name is not None else getattr(arg, "__name__", None)
        if not class_name:
            raise ValueError(f"register_keras_serializable: cannot name {arg!r}; pass name=")
        if inspect.isclass(arg) and not callable(getattr(arg, "get_config", None)):
            raise ValueError(f"register_keras_serializable: class {arg.__name__} must implement "
                             "get_config() to be serializable")
        registered = f"{package}>{class_name}"
        _GLOBAL_CUSTOM_OBJECTS[registered] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered
        return arg

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name under which ``obj`` (a class or function) is registered.

    Args:
        obj: a class or function.

    Returns:
        ``"<package>><name>"`` when it was registered with ``register_keras_serializable``,
        else its ``__name__``.

    Example:

    >>> nnforge.saving.get_registered_name(nnforge.layers.Dense)
    'Dense'
    """
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", str(obj)))


def get_registered_object(name: str, custom_objects: Optional[Dict[str, Any]] = None,
                          module_objects: Optional[Dict[str, Any]] = None) -> Any:
    """The object registered as ``name``, or None.

    Looks in ``custom_objects``, then the active ``custom_object_scope``s, then the global
    registrations (``register_keras_serializable``), then ``module_objects``.

    Args:
        name: a registered name (``"Custom>MyLayer"``) or a plain class name.
        custom_objects: extra name -> object entries, searched first.
        module_objects: name -> object entries searched last (a module's own names).

    Returns:
        The object, or None where no table holds ``name``.

    Example:

    >>> nnforge.saving.get_registered_object("MyLayers>Scale")
    <class 'Scale'>
    """
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    scoped = _scoped_objects()
    if name in scoped:
        return scoped[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
