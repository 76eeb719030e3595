"""``keras.utils.clear_session``."""
from __future__ import annotations

import gc


def clear_session(free_memory: bool = True) -> None:
    """Reset nnforge's global state (``keras.utils.clear_session``): the default layer names
    start again from scratch.

    Args:
        free_memory: also run Python's garbage collector (and release CuPy's cached GPU blocks
            when CuPy is in use), as Keras frees memory here.

    Example:

    >>> for _ in range(100):
    ...     nnforge.utils.clear_session()
    ...     model = build_model()
    """
    from nnforge import backend
    backend.clear_session()
    if free_memory:
        gc.collect()
        import sys
        cupy = sys.modules.get("cupy")
        if cupy is not None:
            try:
                cupy.get_default_memory_pool().free_all_blocks()
            except Exception:  # no device: nothing cached
                pass
