"""Downloading, verifying and unpacking files: ``get_file`` as ``keras.utils.get_file``.

Every archive is extracted member by member after all member names were checked: only
regular files and folders are written, and an absolute path, a ``..`` component, a link, a
device or a FIFO makes the whole extraction fail before anything is written.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import warnings
import zipfile

DOWNLOAD_TIMEOUT_S = 30


def default_cache_dir() -> str:
    return os.path.join(os.path.expanduser("~"), ".nnforge")


def file_digest(path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _resolve_algorithm(file_hash: str, hash_algorithm: str) -> str:
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    if hash_algorithm != "auto":
        raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5'; got {hash_algorithm!r}")
    return "sha256" if len(file_hash) == 64 else "md5"


def validate_file(fpath, file_hash: str, algorithm: str = "auto") -> bool:
    """Whether ``fpath`` has the digest ``file_hash`` (md5 or sha256, picked by its length)."""
    return file_digest(fpath, _resolve_algorithm(file_hash, algorithm)) == file_hash.lower()


def verify_file(path, md5: str | None = None, sha256: str | None = None) -> None:
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


def download(url: str, dest, md5: str | None = None, sha256: str | None = None) -> str:
    """Download ``url`` to ``dest`` through a temporary file, verify it, then move it in place.

    Raises ``OSError`` (incl. ``urllib.error.URLError``) when the network is unreachable and
    ``ValueError`` when a digest does not match; no partial file is left behind."""
    dest = os.fspath(dest)
    folder = os.path.dirname(dest) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".download-", dir=folder)
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


def _safe_member_path(name: str):
    """The normalised relative path of an archive member, or None when it is unsafe."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return None
    norm = posixpath.normpath(name)
    if posixpath.isabs(norm) or ":" in norm.split("/")[0]:
        return None
    if any(part == ".." for part in norm.split("/")):
        return None
    return norm


def _check_target(dest: str, rel: str, archive, name) -> str:
    target = os.path.abspath(os.path.join(dest, *rel.split("/")))
    if os.path.commonpath([dest, target]) != dest:
        raise ValueError(f"{archive}: member {name!r} escapes {dest}; refusing to extract")
    return target


def _wanted(rel: str, only_prefix) -> bool:
    return not only_prefix or rel == only_prefix or rel.startswith(only_prefix + "/")


def _plan_extraction(archive, dest: str, only_prefix, entries) -> list:
    """Check every member before anything is written: ``(member, is_dir, target)`` for the
    wanted ones. ``entries`` yields ``(member, name, path, is_dir, plain)``: the member's
    name, its path inside the archive, whether it is a folder, and whether it is a regular
    file or folder (not a link or special file)."""
    plan = []
    for member, name, path, is_dir, plain in entries:
        rel = _safe_member_path(path)
        if rel is None:
            raise ValueError(f"{archive}: unsafe member path {name!r}; refusing to extract")
        if not plain:
            raise ValueError(f"{archive}: member {name!r} is a link or special file; refusing "
                             "to extract")
        if rel == "." or not _wanted(rel, only_prefix):
            continue
        plan.append((member, is_dir, _check_target(dest, rel, archive, name)))
    return plan


def _write_plan(plan: list, open_member) -> None:
    """Create the planned folders and copy the planned files (``open_member(member)`` gives a
    readable file object)."""
    for member, is_dir, target in plan:
        if is_dir:
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open_member(member) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)


def safe_extract_tar(archive, dest, only_prefix: str | None = None) -> None:
    """Extract a tar archive into ``dest`` without trusting its member names.

    ``only_prefix`` restricts extraction to members under that folder."""
    dest = os.path.abspath(os.fspath(dest))
    with tarfile.open(archive, "r:*") as tar:
        plan = _plan_extraction(archive, dest, only_prefix,
                                ((m, m.name, m.name, m.isdir(), m.isfile() or m.isdir())
                                 for m in tar.getmembers()))

        def open_member(m):
            src = tar.extractfile(m)
            if src is None:
                raise ValueError(f"{archive}: cannot read member {m.name!r}")
            return src

        _write_plan(plan, open_member)


def safe_extract_zip(archive, dest, only_prefix: str | None = None) -> None:
    """Extract a zip archive into ``dest`` with the same checks as :func:`safe_extract_tar`
    (zip entries whose Unix mode says symlink are refused)."""
    dest = os.path.abspath(os.fspath(dest))
    with zipfile.ZipFile(archive) as zf:
        plan = _plan_extraction(
            archive, dest, only_prefix,
            ((info, info.filename,
              info.filename.rstrip("/") if info.is_dir() else info.filename, info.is_dir(),
              (info.external_attr >> 16) & 0o170000 in (0, 0o100000, 0o040000))
             for info in zf.infolist()))
        _write_plan(plan, zf.open)


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Safely extract a tar (any compression) or zip archive into ``path``.

    Returns True when ``file_path`` was an archive of an accepted format and was extracted."""
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    elif isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path, path = os.fspath(file_path), os.fspath(path)
    for fmt in archive_format:
        if fmt == "tar" and tarfile.is_tarfile(file_path):
            safe_extract_tar(file_path, path)
            return True
        if fmt == "zip" and zipfile.is_zipfile(file_path):
            safe_extract_zip(file_path, path)
            return True
    return False


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Downloads a file from a URL if it is not already in the cache (Keras semantics).

    The file goes to ``cache_dir/cache_subdir/fname`` (default ``~/.nnforge/datasets``, or
    ``$NNFORGE_DATA_DIR`` when set and the defaults are used). A cached file whose digest
    does not match ``file_hash`` is downloaded again; a download whose digest does not
    match raises ``ValueError``. Archives are extracted with path-traversal checks.

    Args:
        fname: file name (an absolute path is used as is); default the URL's basename.
        origin: URL of the file.
        untar: deprecated Keras 2 form: ``fname`` names the folder a ``.tar.gz`` unpacks to;
            returns that folder.
        md5_hash: deprecated, use ``file_hash``.
        file_hash: expected sha256 or md5 (picked by length when ``hash_algorithm='auto'``).
        cache_subdir: subfolder of ``cache_dir``.
        hash_algorithm: ``'auto'``, ``'sha256'`` or ``'md5'``.
        extract: extract the archive into ``<fname>_extracted`` next to it and return that
            folder.
        archive_format: ``'auto'``, ``'tar'``, ``'zip'`` or a list of those.
        cache_dir: base folder.
        force_download: download even when a cached file exists.

    Returns:
        Path to the downloaded file (or the extracted folder).
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if cache_dir is None:
        env = os.environ.get("NNFORGE_DATA_DIR")
        if env and cache_subdir == "datasets":
            cache_dir, cache_subdir = os.path.expanduser(env), ""
        else:
            cache_dir = default_cache_dir()
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    cache_dir = os.path.expanduser(os.fspath(cache_dir))
    datadir = os.path.join(cache_dir, cache_subdir) if cache_subdir else cache_dir
    os.makedirs(datadir, exist_ok=True)

    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                             "Please specify the `fname` argument.")
    fname = os.fspath(fname)
    if untar:
        if fname.endswith(".tar.gz"):
            fname = fname[: -len(".tar.gz")]
        untar_fpath = os.path.join(datadir, fname)
        fpath = untar_fpath + ".tar.gz"
    else:
        fpath = os.path.join(datadir, fname)

    download_needed = force_download or not os.path.exists(fpath)
    if not download_needed and file_hash is not None:
        if not validate_file(fpath, file_hash, hash_algorithm):
            warnings.warn(
                f"A local file was found, but it seems to be incomplete or outdated because "
                f"the {_resolve_algorithm(file_hash, hash_algorithm)} file hash does not match "
                f"the original value of {file_hash} so we will re-download the data.",
                stacklevel=2,
            )
            download_needed = True
    if download_needed:
        kwargs = {}
        if file_hash is not None:
            kwargs[_resolve_algorithm(file_hash, hash_algorithm)] = file_hash
        try:
            download(origin, fpath, **kwargs)
        except OSError as e:
            raise OSError(f"URL fetch failure on {origin}: {e}") from e

    if untar:
        if not os.path.exists(untar_fpath):
            safe_extract_tar(fpath, datadir)
        return untar_fpath
    if extract:
        extracted = fpath
        for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip"):
            if extracted.endswith(suffix):
                extracted = extracted[: -len(suffix)]
                break
        extracted += "_extracted"
        if force_download or download_needed or not os.path.exists(extracted):
            if os.path.exists(extracted):
                shutil.rmtree(extracted)
            if not extract_archive(fpath, extracted, archive_format):
                raise ValueError(f"{fpath} is not a {archive_format} archive")
        return extracted
    return fpath
