"""Where data sets live, and how they are downloaded, verified and unpacked.

Data directory: ``$NNFORGE_DATA_DIR`` if set, else ``~/.nnforge/datasets``.
Downloads are attempted only when a file is missing; set ``NNFORGE_OFFLINE=1`` to never try.
The download/verify/extract machinery is ``nnforge.utils.file_utils`` (re-exported here).
"""
from __future__ import annotations

import os

from ..utils.file_utils import (download, file_digest, safe_extract_tar,  # noqa: F401
                                safe_extract_zip, verify_file)


class DatasetNotFoundError(FileNotFoundError):
    """A data set is not on disk and could not be downloaded."""


def data_dir() -> str:
    """The folder data sets are read from and downloaded to."""
    env = os.environ.get("NNFORGE_DATA_DIR")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    return os.path.join(os.path.expanduser("~"), ".nnforge", "datasets")


def offline() -> bool:
    return os.environ.get("NNFORGE_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
