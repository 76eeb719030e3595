"""California housing price regression data set, as ``keras.datasets.california_housing``.

File: Keras's ``california_housing.npz`` (keys ``x``: float (20640, 8), ``y``: float (20640,))
in the data directory (``$NNFORGE_DATA_DIR`` or ``~/.nnforge/datasets``); downloaded from
Keras's bucket when missing (unless ``NNFORGE_OFFLINE=1``) and checked against Keras's sha256.
Read without pickle.

Data: Pace & Barry, "Sparse Spatial Autoregressions", 1997, from the StatLib archive (see
DATA_LICENSES.md).
"""
from __future__ import annotations

from ._fetch import fetch, load_numeric_npz, shuffle_split

NPZ_NAME = "california_housing.npz"
NPZ_SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version: str = "large", path=NPZ_NAME, test_split: float = 0.2, seed: int = 113):
    """Loads the California housing data set (Keras semantics).

    Args:
        version: ``"large"`` (all 20640 samples) or ``"small"`` (the first 600).
        path: file name inside the data directory, or an existing path.
        test_split: the fraction of the data kept for the test set, in [0, 1).
        seed: the seed of the shuffle before the split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: 8 features per block, the target the median
        house value in dollars.

    Example:

    >>> (x_train, y_train), _ = nnforge.datasets.california_housing.load_data(version="small")
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and "
                         "1 (exclusive of 1).")
    if version not in ("small", "large"):
        raise ValueError("Argument `version` must be one of 'small', 'large'. Received: "
                         f"version={version}")
    arrays = load_numeric_npz(fetch("California housing", path, NPZ_NAME, sha256=NPZ_SHA256),
                              ("x", "y"))
    x, y = arrays["x"], arrays["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffle_split(x, y, test_split, seed)
