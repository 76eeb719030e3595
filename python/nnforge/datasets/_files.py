"""Where data sets live, how they are downloaded, verified and unpacked.

Data directory: ``$NNFORGE_DATA_DIR`` if set, else ``~/.nnforge/datasets``.
Downloads are attempted only when a file is missing; set ``NNFORGE_OFFLINE=1`` to never try.
Every download is checked against a known digest before it is used, and archives are
extracted member by member (regular files and folders only, no absolute paths, no ``..``,
no links), so a tampered archive cannot write outside the data directory.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request

DOWNLOAD_TIMEOUT_S = 30


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


def file_digest(path: str, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: str, md5: str | None = None, sha256: str | None = None) -> None:
    """Raise ``ValueError`` when ``path`` does not have the given digests."""
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected is None:
            continue
        actual = file_digest(path, algorithm)
        if actual != expected.lower():
            raise ValueError(
                f"{path}: {algorithm} is {actual}, expected {expected}; the file is corrupt "
                "or not the expected data set. Delete it and try again."
            )


def _urlopen(url: str):
    """Indirection so tests can simulate a network without touching one."""
    return urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S)


def download(url: str, dest: str, md5: str | None = None, sha256: str | None = None) -> str:
    """Download ``url`` to ``dest`` through a temporary file, verify it, then move it in place.

    Raises ``OSError`` (incl. ``urllib.error.URLError``) when the network is unreachable and
    ``ValueError`` when the digest does not match (the partial file is removed)."""
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".download-", dir=os.path.dirname(dest) or ".")
    try:
        with os.fdopen(fd, "wb") as out, _urlopen(url) as response:
            shutil.copyfileobj(response, out, 1 << 20)
        verify_file(tmp, md5=md5, sha256=sha256)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return dest


def _safe_member_path(name: str) -> str | None:
    """The normalised relative path of an archive member, or None if it is unsafe."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return None
    norm = posixpath.normpath(name)
    if norm == "." :
        return norm
    if norm.startswith("../") or norm == ".." or posixpath.isabs(norm) or ":" in norm.split("/")[0]:
        return None
    if any(part == ".." for part in norm.split("/")):
        return None
    return norm


def safe_extract_tar(archive: str, dest: str, only_prefix: str | None = None) -> None:
    """Extract a tar archive into ``dest`` without trusting its member names.

    Only regular files and folders are written; any absolute path, ``..`` component, link,
    device or FIFO makes the whole extraction fail with ``ValueError`` before anything is
    written. ``only_prefix`` restricts extraction to members under that folder."""
    dest = os.path.abspath(dest)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        plan = []
        for m in members:
            rel = _safe_member_path(m.name)
            if rel is None:
                raise ValueError(f"{archive}: unsafe member path {m.name!r}; refusing to extract")
            if not (m.isfile() or m.isdir()):
                raise ValueError(
                    f"{archive}: member {m.name!r} is a link or special file; refusing to extract"
                )
            if only_prefix and not (rel == only_prefix or rel.startswith(only_prefix + "/")):
                continue
            target = os.path.abspath(os.path.join(dest, *rel.split("/")))
            if os.path.commonpath([dest, target]) != dest:
                raise ValueError(f"{archive}: member {m.name!r} escapes {dest}; refusing")
            plan.append((m, target))
        for m, target in plan:
            if m.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            src = tar.extractfile(m)
            if src is None:
                raise ValueError(f"{archive}: cannot read member {m.name!r}")
            with src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
