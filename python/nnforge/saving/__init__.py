"""nnforge.saving: configs (Keras 3 layout), .keras files and .weights.h5 files."""
from .serialization import deserialize_layer, serialize_layer


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    from .keras_file import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite: bool = True, **kwargs):
    model.save(filepath, overwrite=overwrite, **kwargs)
