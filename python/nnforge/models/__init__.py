"""nnforge.models: Model (functional and subclassed), Sequential, and model I/O helpers."""
from .model import Model
from .sequential import Sequential


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialised weights."""
    from nnforge.saving.serialization import clone_model as _clone
    return _clone(model, input_tensors, clone_function)


def model_from_json(json_string: str, custom_objects=None):
    import json
    from nnforge.saving.serialization import deserialize_layer
    return deserialize_layer(json.loads(json_string), custom_objects)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    from nnforge.saving.keras_file import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite: bool = True, **kwargs):
    model.save(filepath, overwrite=overwrite, **kwargs)
