"""nnforge.saving: configs (Keras 3 layout), the registry of serializable classes, ``.keras``
files and ``.weights.h5`` files. Nothing here imports ``nnforge.layers`` or ``nnforge.models``:
classes register themselves (see ``keras_saveable.py``)."""
from .file_editor import KerasFileEditor
from .object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                                  get_registered_name, get_registered_object,
                                  register_keras_serializable)
from .serialization import (deserialize_keras_object, deserialize_layer, serialize_keras_object,
                            serialize_layer)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Load a model from a Keras 3 ``.keras`` file (written by nnforge or by Keras).

    Args:
        filepath: path of the ``.keras`` file.
        custom_objects: name -> class entries for custom layers, losses, metrics, ... that are
            not registered with ``register_keras_serializable``.
        compile: compile the model with the saved optimizer, loss and metrics (if any).
        safe_mode: refuse configs that would run code (Keras's lambda entries).

    Returns:
        The model, with its weights (and optimizer state when compiled).

    Example:

    >>> model.save("model.keras")
    >>> restored = nnforge.saving.load_model("model.keras", custom_objects={"Scale": Scale})
    """
    from .keras_file import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite: bool = True, **kwargs) -> None:
    """Save ``model`` to a Keras 3 ``.keras`` file (``model.save``).

    Args:
        model: a built model.
        filepath: path ending in ``.keras``.
        overwrite: replace an existing file.
        **kwargs: ``include_optimizer`` (default True).

    Example:

    >>> nnforge.saving.save_model(model, "model.keras")
    """
    from .keras_file import save_model as _save
    _save(model, filepath, overwrite=overwrite, **kwargs)


def save_weights(model, filepath, overwrite: bool = True, max_shard_size=None, **kwargs) -> None:
    """Save ``model``'s weights to a ``.weights.h5`` file (``keras.saving.save_weights``; the
    same as ``model.save_weights``).

    Args:
        model: a built model.
        filepath: a path ending in ``.weights.h5``.
        overwrite: replace an existing file (else FileExistsError).
        max_shard_size: Keras's sharded ``.weights.json`` format; not supported by nnforge
            (must be None).

    Example:

    >>> nnforge.saving.save_weights(model, "model.weights.h5")
    """
    if max_shard_size is not None:
        raise ValueError("save_weights: sharded weights (max_shard_size) are not supported by "
                         "nnforge; save to a single '.weights.h5' file")
    if kwargs:
        raise ValueError(f"save_weights: invalid keyword arguments: {kwargs}")
    model.save_weights(filepath, overwrite=overwrite)


def load_weights(model, filepath, skip_mismatch: bool = False, **kwargs) -> None:
    """Load weights into ``model`` from a ``.weights.h5`` or ``.keras`` file
    (``keras.saving.load_weights``; the same as ``model.load_weights``).

    Args:
        model: a built model with the saved architecture.
        filepath: a ``.weights.h5`` or ``.keras`` file.
        skip_mismatch: skip layers whose weights do not match instead of raising.

    Example:

    >>> nnforge.saving.load_weights(model, "model.weights.h5")
    """
    if kwargs:
        raise ValueError(f"load_weights: invalid keyword arguments: {kwargs}")
    model.load_weights(filepath, skip_mismatch=skip_mismatch)


__all__ = ["KerasFileEditor", "load_weights", "save_weights",
"CustomObjectScope", "custom_object_scope", "deserialize_keras_object",
           "get_custom_objects", "get_registered_name", "get_registered_object", "load_model",
           "register_keras_serializable", "save_model", "serialize_keras_object"]
