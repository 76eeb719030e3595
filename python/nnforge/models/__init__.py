"""nnforge.models: Model (functional and subclassed), Sequential, and model I/O helpers."""
from .model import Model
from .sequential import Sequential
from .cloning import clone_model


def model_from_json(json_string: str, custom_objects=None):
    """A model from ``model.to_json()``'s output (architecture only, new weights).

    Args:
        json_string: the JSON text.
        custom_objects: name -> class entries for custom layers that are not registered.

    Returns:
        The model.

    Example:

    >>> clone = nnforge.models.model_from_json(model.to_json())
    """
    import json
    from nnforge.saving.serialization import deserialize_layer
    return deserialize_layer(json.loads(json_string), custom_objects)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """``nnforge.saving.load_model``: a model from a Keras 3 ``.keras`` file."""
    from nnforge.saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite: bool = True, **kwargs):
    """``nnforge.saving.save_model``: ``model`` to a Keras 3 ``.keras`` file."""
    from nnforge.saving import save_model as _save
    _save(model, filepath, overwrite=overwrite, **kwargs)
