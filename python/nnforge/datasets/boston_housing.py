"""Boston housing price regression data set, as ``keras.datasets.boston_housing``.

File: Keras's ``boston_housing.npz`` (keys ``x``: float (506, 13), ``y``: float (506,)) in the
data directory (``$NNFORGE_DATA_DIR`` or ``~/.nnforge/datasets``); downloaded from Keras's
bucket when missing (unless ``NNFORGE_OFFLINE=1``) and checked against Keras's sha256. Read
without pickle.

Data: Harrison & Rubinfeld, "Hedonic prices and the demand for clean air", 1978, from the
StatLib archive (see DATA_LICENSES.md). Note the data set's known ethical problem (the ``B``
feature); Keras keeps it for reproducibility and so does nnforge.
"""
from __future__ import annotations

from ._fetch import fetch, load_numeric_npz, shuffle_split

NPZ_NAME = "boston_housing.npz"
NPZ_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path=NPZ_NAME, test_split: float = 0.2, seed: int = 113):
    """Loads the Boston housing data set (Keras semantics).

    Args:
        path: file name inside the data directory, or an existing path.
        test_split: the fraction of the data kept for the test set, in [0, 1).
        seed: the seed of the shuffle before the split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: for the real file 404 and 102 samples of 13
        features, the targets in thousands of dollars.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = nnforge.datasets.boston_housing.load_data()
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and "
                         "1 (exclusive of 1).")
    arrays = load_numeric_npz(fetch("Boston housing", path, NPZ_NAME, sha256=NPZ_SHA256),
                              ("x", "y"))
    return shuffle_split(arrays["x"], arrays["y"], test_split, seed)
