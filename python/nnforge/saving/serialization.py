"""Objects to and from Keras 3's serialized form, through the registry.

An object serializes to ``{"module", "class_name", "config", "registered_name"}`` (plus
``build_config`` for a built layer); ``deserialize_keras_object`` finds the class by its
registered name (``custom_objects``, ``custom_object_scope``, ``register_keras_serializable``)
or, for nnforge's own classes, by ``module`` and ``class_name``, then calls
``cls.from_config(config)``. This module knows no family: every class says where it belongs
(``_keras_module``) and how to rebuild itself (``from_config``, ``build_from_config``)."""
from __future__ import annotations

import threading
from typing import Any, Dict, Optional

from .object_registration import (builtin_object, custom_object_scope, get_registered_name,
                                  get_registered_object)

_SAFE = threading.local()


class SafeModeScope:
    """Within the block, deserialization refuses (``True``) or allows (``False``) configs that
    would run code (Keras's ``__lambda__`` entries).

    Args:
        safe_mode: the mode inside the block; None keeps the current one.
    """

    def __init__(self, safe_mode: Optional[bool] = True):
        self.safe_mode = safe_mode

    def __enter__(self) -> "SafeModeScope":
        self._previous = in_safe_mode()
        if self.safe_mode is not None:
            _SAFE.mode = bool(self.safe_mode)
        return self

    def __exit__(self, *exc) -> None:
        _SAFE.mode = self._previous


def in_safe_mode() -> bool:
    """Whether deserialization currently refuses configs that would run code (default True)."""
    return getattr(_SAFE, "mode", True)


def serialize_keras_object(obj: Any) -> Any:
    """The serialized form (JSON-compatible) of ``obj``.

    Args:
        obj: a layer, model, loss, metric, optimizer, schedule, initializer, regularizer or
            constraint (anything with ``get_config``), a registered function, or a plain value
            (None, bool, int, float, str, list, tuple, dict of those).

    Returns:
        ``{"module", "class_name", "config", "registered_name"}`` (and ``build_config`` for a
        built layer) for an object; the value itself, recursively, for plain values; the
        registered name of a function.

    Example:

    >>> nnforge.saving.serialize_keras_object(nnforge.layers.Dense(3))["class_name"]
    'Dense'
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if not callable(getattr(obj, "get_config", None)):
        if callable(obj) and hasattr(obj, "__name__"):
            return get_registered_name(obj)
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config()")
    cls = type(obj)
    identity = getattr(obj, "_keras_class_and_module", None)
    class_name, module = identity() if identity else (cls.__name__, cls.__module__)
    registered_name = None
    if not cls.__module__.startswith("nnforge.") or not module:
        registered_name = get_registered_name(cls)
        if registered_name == cls.__name__:
            registered_name = f"Custom>{cls.__name__}"
        module = cls.__module__
    out = {"module": module, "class_name": class_name,
           "config": _serialize_nested(obj.get_config()), "registered_name": registered_name}
    get_build_config = getattr(obj, "get_build_config", None)
    if callable(get_build_config):
        build_config = get_build_config()
        if build_config is not None:
            out["build_config"] = build_config
    return out


def _serialize_nested(value: Any) -> Any:
    """``value`` (a ``get_config()`` result) with the Keras objects found in it (a layer passed
    to ``__init__`` and returned as is by a custom ``get_config``) replaced by their serialized
    form, as Keras 3 does; everything else (tuples included) is left as it is."""
    if isinstance(value, dict):
        return {k: _serialize_nested(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_serialize_nested(v) for v in value)
    if not isinstance(value, type) and callable(getattr(value, "get_config", None)):
        return serialize_keras_object(value)
    return value


def deserialize_keras_object(config: Any, custom_objects: Optional[Dict[str, Any]] = None,
                             safe_mode: bool = True, module: Any = None,
                             kind: str = "object") -> Any:
    """The object described by a serialized ``config``.

    Args:
        config: a dict from ``serialize_keras_object`` (or a Keras 3 ``config.json`` entry);
            None and plain values are returned unchanged.
        custom_objects: name -> class entries searched first (class names or registered names).
        safe_mode: refuse configs that would run code (Keras's lambda entries).
        module: the Keras module (or a tuple of them) to search for nnforge's own classes
            after the one ``config`` names (e.g. ``"keras.layers"``).
        kind: what is being rebuilt, for error messages (``"layer"``, ``"loss"``, ...).

    Returns:
        The rebuilt object (``cls.from_config(config["config"])``, built from
        ``build_config`` where the config has one).

    Example:

    >>> layer = nnforge.saving.deserialize_keras_object(
    ...     {"module": "keras.layers", "class_name": "Dense", "config": {"units": 3}})
    """
    if config is None or isinstance(config, (bool, int, float, str)):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, safe_mode, module, kind)
                for c in config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Invalid {kind} config (needs 'class_name' and 'config'): {config!r}")
    class_name = config["class_name"]
    if class_name == "__lambda__":
        if safe_mode and in_safe_mode():
            raise ValueError(f"Refusing to deserialize a Python lambda from a {kind} config in "
                             "safe mode: it would run code from the file. Pass safe_mode=False "
                             "only for files you trust.")
        raise ValueError("nnforge cannot rebuild Python lambdas from configs")
    cls = _find_class(config, custom_objects, module)
    if cls is None:
        raise ValueError(
            f"Unknown {kind} class '{class_name}' in the config (module "
            f"{config.get('module')!r}). If it is a custom {kind}, register it with "
            f"@nnforge.saving.register_keras_serializable() or pass it in "
            f"custom_objects={{'{class_name}': {class_name}}}.")
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise ValueError(f"Invalid {kind} config for '{class_name}': 'config' must be a dict, "
                         f"got {type(inner).__name__}")
    with custom_object_scope(custom_objects), SafeModeScope(safe_mode and in_safe_mode()):
        obj = cls.from_config(dict(inner))
        build_config = config.get("build_config")
        if build_config and callable(getattr(obj, "build_from_config", None)):
            obj.build_from_config(build_config)
    return obj


def get_family_object(identifier: Any, base: type, class_named, module: str, kind: str) -> Any:
    """What a family's ``get`` returns (``keras.initializers.get``, ``keras.constraints.get``,
    ...): None and instances of ``base`` as they are, a name as a new instance of the class
    ``class_named(name)`` finds (it raises for an unknown name), a serialized dict rebuilt, and
    a plain callable as it is.

    Args:
        identifier: None, an instance, a name, a config dict or a callable.
        base: the family's base class.
        class_named: the family's lookup of a class by name.
        module: the family's Keras module (``"keras.constraints"``).
        kind: the family's member, for error messages (``"constraint"``).

    Returns:
        The object.

    Raises:
        TypeError: for anything else.

    Example:

    >>> def get(identifier):  # nnforge.constraints.get
    ...     return get_family_object(identifier, Constraint, _class_named,
    ...                              "keras.constraints", "constraint")
    >>> get("max_norm")
    <nnforge.constraints.MaxNorm object at ...>
    """
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        return class_named(identifier)()
    if isinstance(identifier, dict):
        return deserialize_keras_object(identifier, module=module, kind=kind)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret {kind} {identifier!r}")


def deserialize_family_object(config: Any, get, custom_objects: Optional[Dict[str, Any]],
                              module: str, kind: str) -> Any:
    """What a family's ``deserialize`` returns (``keras.regularizers.deserialize``, ...): a
    name through the family's ``get``, a config dict rebuilt with ``custom_objects``.

    Args:
        config: a name or a serialized dict.
        get: the family's ``get``.
        custom_objects: name -> class entries for user-defined classes.
        module: the family's Keras module (``"keras.regularizers"``).
        kind: the family's member, for error messages (``"regularizer"``).

    Returns:
        The object.

    Example:

    >>> deserialize_family_object("l2", nnforge.regularizers.get, None,
    ...                           "keras.regularizers", "regularizer")
    <nnforge.regularizers.L2 object at ...>
    """
    if isinstance(config, str):
        return get(config)
    return deserialize_keras_object(config, custom_objects=custom_objects, module=module,
                                    kind=kind)


def _find_class(config: dict, custom_objects: Optional[Dict[str, Any]], module: Any):
    class_name = config["class_name"]
    for name in (config.get("registered_name"), class_name):
        if name:
            cls = get_registered_object(name, custom_objects)
            if cls is not None:
                return cls
    modules = (module,) if isinstance(module, str) else tuple(module or ())
    for mod in (config.get("module"),) + modules:
        if mod:
            cls = builtin_object(mod, class_name)
            if cls is not None:
                return cls
    return None


# The names the package used before the registry; layers and models call these.
def serialize_layer(layer) -> dict:
    """``serialize_keras_object`` for a layer or model (kept for existing callers)."""
    return serialize_keras_object(layer)


def deserialize_layer(config: dict, custom_objects: Optional[Dict[str, Any]] = None):
    """A layer or model from its config: ``deserialize_keras_object`` searching the layers and
    the models, with ``kind="layer"`` in messages."""
    return deserialize_keras_object(config, custom_objects, module=("keras.layers", "keras"),
                                    kind="layer")
