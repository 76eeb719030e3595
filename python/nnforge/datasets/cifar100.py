"""CIFAR-100 small images classification data set, as ``keras.datasets.cifar100``.

Files: the canonical ``cifar-100-python`` folder (``train``, ``test``) in the data directory
(``$NNFORGE_DATA_DIR`` or ``~/.nnforge/datasets``); downloaded, verified (sha256) and safely
extracted when missing and online. Parsed with the restricted unpickler, as CIFAR-10.
"""
from __future__ import annotations

import os

import numpy as np

from . import _files
from .cifar10 import load_batch

DIRNAME = "cifar-100-python"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
ARCHIVE_NAME = "cifar-100-python.tar.gz"
ARCHIVE_SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine"):
    """Loads the CIFAR-100 data set.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 super-classes).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` uint8 (N, 32, 32, 3) channels last,
        ``y`` uint8 (N, 1).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    folder = _files.ensure_extracted("CIFAR-100", DIRNAME, ("train", "test"), ORIGIN,
                                     ARCHIVE_NAME, sha256=ARCHIVE_SHA256)
    key = label_mode + "_labels"
    x_train, y_train = load_batch(os.path.join(folder, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(folder, "test"), label_key=key)
    y_train = y_train.reshape(len(y_train), 1)
    y_test = y_test.reshape(len(y_test), 1)
    x_train = np.ascontiguousarray(x_train.transpose(0, 2, 3, 1))
    x_test = np.ascontiguousarray(x_test.transpose(0, 2, 3, 1))
    return (x_train, y_train), (x_test, y_test)
