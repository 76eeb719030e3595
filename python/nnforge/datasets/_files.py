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


def missing_folder_message(name: str, root: str, folder: str, needed, missing, origin: str,
                           digest: str) -> str:
    return (
        f"{name} not found: expected the folder {folder} containing {', '.join(needed)} "
        f"(missing: {', '.join(missing)}). Download {origin} ({digest}) and extract it into "
        f"{root} so that {folder} exists, or set NNFORGE_DATA_DIR to the folder that "
        f"contains {os.path.basename(folder)}."
    )


def ensure_extracted(name: str, dirname: str, needed, origin: str, archive_name: str,
                     md5: str | None = None, sha256: str | None = None) -> str:
    """The folder ``data_dir()/dirname`` holding all ``needed`` files, downloading and safely
    extracting ``origin`` (verified by md5/sha256) when the folder is absent and we are
    online. A partially present folder is never overwritten."""
    root = data_dir()
    folder = os.path.join(root, dirname)
    needed = tuple(needed)
    digest = ", ".join(f"{a} {d}" for a, d in (("md5", md5), ("sha256", sha256)) if d)

    def missing_files():
        return [n for n in needed if not os.path.isfile(os.path.join(folder, n))]

    missing = missing_files()
    if not missing:
        return folder
    message = missing_folder_message(name, root, folder, needed, missing, origin, digest)
    if os.path.isdir(folder) or offline():
        raise DatasetNotFoundError(message)
    archive = os.path.join(root, archive_name)
    try:
        if os.path.isfile(archive):
            verify_file(archive, md5=md5, sha256=sha256)
        else:
            download(origin, archive, md5=md5, sha256=sha256)
    except OSError as e:
        raise DatasetNotFoundError(message + f" (download failed: {e})") from e
    safe_extract_tar(archive, root, only_prefix=dirname)
    missing = missing_files()
    if missing:
        raise DatasetNotFoundError(
            missing_folder_message(name, root, folder, needed, missing, origin, digest))
    return folder
