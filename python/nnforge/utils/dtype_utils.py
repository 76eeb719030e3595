"""``keras.utils.standardize_dtype``: a dtype's canonical Keras name."""
from __future__ import annotations

ALLOWED_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8",
                  "int16", "int32", "int64", "bfloat16", "bool", "string", "float8_e4m3fn",
                  "float8_e5m2", "complex64", "complex128")
# Keras's map on its default (TensorFlow) backend
_PYTHON_DTYPES = {bool: "bool", int: "int64", float: "float32", str: "string", "int": "int64",
                  complex: "complex128"}


def standardize_dtype(dtype) -> str:
    """The canonical name of ``dtype`` (``keras.utils.standardize_dtype``).

    Args:
        dtype: None (the float type, "float32"), a name, a Python type, a NumPy/CuPy dtype or
            type, or a torch/jax dtype.

    Returns:
        A name such as ``"float32"`` or ``"int64"``.

    Raises:
        ValueError: for a dtype Keras does not know.

    Example:

    >>> standardize_dtype(np.float32), standardize_dtype(int), standardize_dtype(None)
    ('float32', 'int64', 'float32')
    """
    if dtype is None:
        from nnforge import config
        return config.floatx()
    try:
        dtype = _PYTHON_DTYPES.get(dtype, dtype)
    except TypeError:  # unhashable
        pass
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    elif "torch" in str(dtype) or "jax.numpy" in str(dtype):
        dtype = str(dtype).split(".")[-1]
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype
