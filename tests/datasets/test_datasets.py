"""Tests of nnforge.datasets: the shipped MNIST, CIFAR-10 and IMDB loaders, the restricted
unpickler, and the safe download/extract helpers. No network is used: downloads are simulated
by replacing ``nnforge.utils.file_utils._urlopen``."""
import hashlib
import io
import json
import os
import pickle
import struct
import tarfile
import urllib.error
import zipfile

import numpy as np
import pytest

from nnforge.datasets import cifar10, imdb, mnist
from nnforge.datasets import _files
from nnforge.utils import file_utils
from nnforge.datasets._safe_pickle import UnsafePickleError, restricted_loads

MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
MNIST_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


# --------------------------------------------------------------------------- MNIST
def test_mnist_shipped_file_sha256():
    path = mnist.bundled_path()
    assert os.path.isfile(path)
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == MNIST_SHA256
    assert mnist.MNIST_SHA256 == MNIST_SHA256


def test_mnist_load_data_shapes_dtypes_counts():
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert np.bincount(y_train, minlength=10).tolist() == MNIST_COUNTS
    assert np.bincount(y_test, minlength=10).sum() == 10000
    assert set(np.unique(y_test).tolist()) == set(range(10))
    assert x_train.max() == 255 and x_train.min() == 0
    # Digits are drawn in the middle: the border is (nearly) empty, the centre is not.
    assert x_train[:, 0, :].mean() < 1 and x_train[:, 10:18, 10:18].mean() > 50


def test_mnist_keras_default_name_falls_back_to_shipped(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (_, y_train), _ = mnist.load_data(path="mnist.npz")
    assert np.bincount(y_train, minlength=10).tolist() == MNIST_COUNTS


def test_mnist_load_data_from_path(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 7).astype(np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3).astype(np.uint8),
    }
    p = tmp_path / "mine.npz"
    np.savez(p, **arrays)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=str(p))
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    # pathlib.Path works too
    (x2, _), _ = mnist.load_data(path=p)
    np.testing.assert_array_equal(x2, arrays["x_train"])


def test_mnist_missing_file(tmp_path, data_dir):
    missing = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        mnist.load_data(path=str(missing))


def test_mnist_missing_keys(tmp_path):
    p = tmp_path / "partial.npz"
    np.savez(p, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match=r"missing the key\(s\) \['x_test', 'y_test'\]"):
        mnist.load_data(path=str(p))


def test_mnist_refuses_pickled_arrays(tmp_path):
    p = tmp_path / "objects.npz"
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = [1], [2]
    np.savez(p, x_train=obj, y_train=obj, x_test=obj, y_test=obj)
    with pytest.raises(ValueError, match="without pickle"):
        mnist.load_data(path=str(p))


def test_mnist_not_an_npz(tmp_path):
    p = tmp_path / "garbage.npz"
    p.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        mnist.load_data(path=str(p))


def test_mnist_tampered_shipped_copy_is_detected(tmp_path, monkeypatch):
    p = tmp_path / "mnist.npz"
    np.savez(p, x_train=np.zeros((1, 28, 28), np.uint8), y_train=np.zeros(1, np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    monkeypatch.setattr(mnist, "_BUNDLED", str(p))
    with pytest.raises(ValueError, match="sha256"):
        mnist.load_data()


# --------------------------------------------------------------------------- CIFAR-10
def _py2_str(b: bytes) -> bytes:
    """A Python 2 ``str`` as cPickle protocol 2 writes it (SHORT_BINSTRING / BINSTRING)."""
    if len(b) < 256:
        return b"U" + bytes([len(b)]) + b
    return b"T" + struct.pack("<I", len(b)) + b


def _py2_int(i: int) -> bytes:
    if 0 <= i < 256:
        return b"K" + bytes([i])
    return b"J" + struct.pack("<i", i)


def py2_cifar_pickle(data: np.ndarray, labels, batch_label=b"training batch 1 of 5") -> bytes:
    """Byte-for-byte the structure of the real CIFAR-10 batch files, written by Python 2's
    cPickle (protocol 2) with NumPy 1.x: a dict whose uint8 'data' array is rebuilt by
    numpy.core.multiarray._reconstruct + BUILD, and whose strings are Python 2 str."""
    assert data.dtype == np.uint8 and data.ndim == 2
    n, m = data.shape
    arr = (
        b"cnumpy.core.multiarray\n_reconstruct\n"
        b"cnumpy\nndarray\n" + _py2_int(0) + b"\x85" + _py2_str(b"b") + b"\x87R"
        + b"(" + _py2_int(1) + _py2_int(n) + _py2_int(m) + b"\x86"
        + b"cnumpy\ndtype\n" + _py2_str(b"u1") + _py2_int(0) + _py2_int(1) + b"\x87R"
        + b"(" + _py2_int(3) + _py2_str(b"|") + b"NNN" + b"J\xff\xff\xff\xffJ\xff\xff\xff\xff"
        + _py2_int(0) + b"tb"
        + b"\x89" + _py2_str(data.tobytes()) + b"tb"
    )
    labels_p = b"](" + b"".join(_py2_int(int(v)) for v in labels) + b"e"
    filenames = b"](" + b"".join(_py2_str(b"img_%d.png" % i) for i in range(n)) + b"e"
    return (b"\x80\x02}(" + _py2_str(b"data") + arr + _py2_str(b"labels") + labels_p
            + _py2_str(b"batch_label") + _py2_str(batch_label)
            + _py2_str(b"filenames") + filenames + b"u.")


def _cifar_rows(n, offset):
    """n images in CIFAR's row layout: 1024 red, 1024 green, 1024 blue, each row-major 32x32.
    Pixel (r, c) of channel ch of image i holds (i*7 + ch*50 + r + c) % 256."""
    i = np.arange(n)[:, None, None, None] + offset
    ch = np.arange(3)[None, :, None, None]
    r = np.arange(32)[None, None, :, None]
    c = np.arange(32)[None, None, None, :]
    img = ((i * 7 + ch * 50 + r + c) % 256).astype(np.uint8)  # (n, 3, 32, 32)
    return img.reshape(n, 3072)


def write_cifar(root, per_batch=4, test_n=3, writer="py2"):
    folder = os.path.join(root, cifar10.DIRNAME)
    os.makedirs(folder, exist_ok=True)
    all_rows, all_labels = [], []
    for b in range(1, 7):
        name = f"data_batch_{b}" if b <= 5 else "test_batch"
        n = per_batch if b <= 5 else test_n
        rows = _cifar_rows(n, offset=b * 100)
        labels = [(b + k) % 10 for k in range(n)]
        if writer == "py2":
            payload = py2_cifar_pickle(rows, labels)
        else:
            payload = pickle.dumps({b"batch_label": b"x", b"labels": labels, b"data": rows,
                                    b"filenames": [b"f"] * n}, protocol=writer)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(payload)
        all_rows.append(rows)
        all_labels.append(labels)
    return all_rows, all_labels


@pytest.mark.parametrize("writer", ["py2", 2, 4, 5])
def test_cifar10_load_data(data_dir, writer):
    rows, labels = write_cifar(str(data_dir), writer=writer)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (20, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (20, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (3, 32, 32, 3) and x_test.dtype == np.uint8
    assert y_test.shape == (3, 1) and y_test.dtype == np.uint8
    assert y_train[:, 0].tolist() == [v for batch in labels[:5] for v in batch]
    assert y_test[:, 0].tolist() == labels[5]
    # Channel order and layout: x[i, r, c, ch] == row[ch*1024 + r*32 + c].
    train_rows = np.concatenate(rows[:5])
    for i, r, c, ch in [(0, 0, 0, 0), (0, 0, 1, 0), (3, 5, 7, 1), (19, 31, 30, 2), (7, 31, 0, 2)]:
        assert x_train[i, r, c, ch] == train_rows[i, ch * 1024 + r * 32 + c]
    expected = train_rows.reshape(20, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(x_train, expected)
    np.testing.assert_array_equal(x_test, rows[5].reshape(3, 3, 32, 32).transpose(0, 2, 3, 1))
    # red, green, blue of the same pixel differ by the 50 per channel of the encoding
    assert int(x_test[1, 2, 3, 1]) - int(x_test[1, 2, 3, 0]) == 50


def _malicious_pickle(marker):
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    return pickle.dumps({b"data": Evil(), b"labels": [0]}, protocol=2)


def test_cifar10_malicious_pickle_refused(data_dir, tmp_path):
    write_cifar(str(data_dir))
    marker = tmp_path / "PWNED"
    with open(data_dir / cifar10.DIRNAME / "data_batch_3", "wb") as f:
        f.write(_malicious_pickle(marker))
    with pytest.raises(ValueError, match="system") as info:
        cifar10.load_data()
    assert isinstance(info.value.__cause__, UnsafePickleError)
    assert not marker.exists()


@pytest.mark.parametrize("global_name", [b"builtins\neval\n", b"__builtin__\neval\n",
                                         b"subprocess\ncall\n", b"numpy\nload\n",
                                         b"numpy.core.multiarray\nscalar\n"])
def test_restricted_unpickler_refuses_other_globals(global_name):
    payload = b"\x80\x02c" + global_name + _py2_str(b"1+1") + b"\x85R."
    with pytest.raises(UnsafePickleError, match="refusing"):
        restricted_loads(payload)


def test_restricted_unpickler_refuses_object_arrays_and_subclasses():
    obj = np.empty(2, dtype=object)
    obj[:] = [1, 2]
    with pytest.raises(UnsafePickleError, match="dtype object"):
        restricted_loads(pickle.dumps(obj, protocol=2))
    with pytest.raises(UnsafePickleError, match="refusing"):
        restricted_loads(pickle.dumps(np.ma.masked_array([1, 2]), protocol=2))
    # but plain numeric arrays are rebuilt exactly
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(restricted_loads(pickle.dumps(a, protocol=4)), a)


def test_cifar10_offline_missing_names_folder(data_dir):
    with pytest.raises(FileNotFoundError) as info:
        cifar10.load_data()
    msg = str(info.value)
    assert os.path.join(str(data_dir), "cifar-10-batches-py") in msg
    assert "data_batch_1" in msg and "test_batch" in msg
    assert cifar10.ORIGIN in msg


def test_cifar10_partial_folder_reports_missing_files(data_dir):
    write_cifar(str(data_dir))
    os.remove(data_dir / cifar10.DIRNAME / "data_batch_4")
    with pytest.raises(FileNotFoundError, match="missing: data_batch_4"):
        cifar10.load_data()


def test_cifar10_download_failure_names_folder(data_dir, monkeypatch):
    monkeypatch.setenv("NNFORGE_OFFLINE", "0")

    def no_network(url):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(file_utils, "_urlopen", no_network)
    with pytest.raises(FileNotFoundError) as info:
        cifar10.load_data()
    assert os.path.join(str(data_dir), "cifar-10-batches-py") in str(info.value)
    assert "download failed" in str(info.value)
    assert not any(p.name.startswith(".download") for p in data_dir.iterdir())


def _cifar_targz(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_cifar(str(src), per_batch=2, test_n=2)
    (src / cifar10.DIRNAME / "readme.html").write_text("hi")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(str(src / cifar10.DIRNAME), arcname=cifar10.DIRNAME)
    return buf.getvalue()


def test_cifar10_download_verify_extract(data_dir, tmp_path, monkeypatch):
    blob = _cifar_targz(tmp_path)
    monkeypatch.setenv("NNFORGE_OFFLINE", "0")
    monkeypatch.setattr(cifar10, "ARCHIVE_MD5", hashlib.md5(blob).hexdigest())
    monkeypatch.setattr(cifar10, "ARCHIVE_SHA256", hashlib.sha256(blob).hexdigest())
    urls = []

    def fake_urlopen(url):
        urls.append(url)
        return io.BytesIO(blob)

    monkeypatch.setattr(file_utils, "_urlopen", fake_urlopen)
    (x_train, y_train), (x_test, _) = cifar10.load_data()
    assert urls == [cifar10.ORIGIN]
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1)
    assert x_test.shape == (2, 32, 32, 3)
    assert (data_dir / cifar10.ARCHIVE_NAME).is_file()
    # second call reads the extracted folder, no download
    cifar10.load_data()
    assert len(urls) == 1


def test_cifar10_download_with_wrong_digest_is_rejected(data_dir, tmp_path, monkeypatch):
    blob = _cifar_targz(tmp_path)
    monkeypatch.setenv("NNFORGE_OFFLINE", "0")
    monkeypatch.setattr(file_utils, "_urlopen", lambda url: io.BytesIO(blob))
    # the real md5/sha256 do not match our small archive
    with pytest.raises(ValueError, match="md5"):
        cifar10.load_data()
    assert list(data_dir.iterdir()) == []


def test_canonical_cifar_digest_constants():
    assert cifar10.ARCHIVE_MD5 == "c58f30108f718f92721af3b95e74349a"
    assert cifar10.ORIGIN == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def _tar_with(tmp_path, build):
    p = tmp_path / "evil.tar"
    with tarfile.open(p, "w") as tar:
        build(tar)
    return p


def _add_file(tar, name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name", ["../escape.txt", "/abs/escape.txt",
                                  "cifar-10-batches-py/../../escape.txt"])
def test_safe_extract_refuses_path_traversal(tmp_path, name):
    archive = _tar_with(tmp_path, lambda tar: (_add_file(tar, "cifar-10-batches-py/ok"),
                                               _add_file(tar, name)))
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(ValueError, match="unsafe member path"):
        _files.safe_extract_tar(str(archive), str(dest))
    assert not (tmp_path / "escape.txt").exists()
    assert list(dest.iterdir()) == []  # nothing written before the check failed


def test_safe_extract_refuses_links(tmp_path):
    def build(tar):
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    archive = _tar_with(tmp_path, build)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(ValueError, match="link or special file"):
        _files.safe_extract_tar(str(archive), str(dest))
    assert list(dest.iterdir()) == []


def test_safe_extract_only_prefix(tmp_path):
    archive = _tar_with(tmp_path, lambda tar: (_add_file(tar, "cifar-10-batches-py/a", b"A"),
                                               _add_file(tar, "other/b", b"B")))
    dest = tmp_path / "dest"
    _files.safe_extract_tar(str(archive), str(dest), only_prefix="cifar-10-batches-py")
    assert (dest / "cifar-10-batches-py" / "a").read_bytes() == b"A"
    assert not (dest / "other").exists()


def test_data_dir_default(monkeypatch):
    monkeypatch.delenv("NNFORGE_DATA_DIR", raising=False)
    assert _files.data_dir() == os.path.join(os.path.expanduser("~"), ".nnforge", "datasets")


# --------------------------------------------------------------------------- IMDB
def _obj_array(seqs):
    a = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        a[i] = s
    return a


TRAIN = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], [11], [2, 2]]
TEST = [[3, 1], [12, 13, 14], [5]]


@pytest.fixture
def imdb_files(data_dir):
    np.savez(data_dir / "imdb.npz", x_train=_obj_array(TRAIN), y_train=np.array([1, 0, 1, 0, 1]),
             x_test=_obj_array(TEST), y_test=np.array([0, 1, 1]))
    (data_dir / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2, "a": 3}))
    return data_dir


def _keras_reference(seed=113, start_char=1, oov_char=2, index_from=3, num_words=None,
                     skip_top=0, maxlen=None):
    rng = np.random.RandomState(seed)
    tr = np.arange(len(TRAIN)); rng.shuffle(tr)
    te = np.arange(len(TEST)); rng.shuffle(te)
    ytr = np.array([1, 0, 1, 0, 1])[tr]; yte = np.array([0, 1, 1])[te]
    xtr = [[start_char] + [w + index_from for w in TRAIN[i]] for i in tr]
    xte = [[start_char] + [w + index_from for w in TEST[i]] for i in te]
    if maxlen:
        keep = [k for k, x in enumerate(xtr) if len(x) < maxlen]
        xtr, ytr = [xtr[k] for k in keep], ytr[keep]
        keep = [k for k, x in enumerate(xte) if len(x) < maxlen]
        xte, yte = [xte[k] for k in keep], yte[keep]
    xs = xtr + xte
    if not num_words:
        num_words = max(max(x) for x in xs)
    xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return (xs[:len(xtr)], ytr), (xs[len(xtr):], yte)


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 10}, {"maxlen": 5},
                                    {"num_words": 12, "skip_top": 5, "seed": 7}])
def test_imdb_load_data_matches_keras_semantics(imdb_files, kwargs):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(**kwargs)
    (rx_train, ry_train), (rx_test, ry_test) = _keras_reference(**kwargs)
    assert [list(x) for x in x_train] == rx_train
    assert [list(x) for x in x_test] == rx_test
    assert y_train.tolist() == ry_train.tolist()
    assert y_test.tolist() == ry_test.tolist()
    assert x_train.dtype == object and x_train.ndim == 1


def test_imdb_oov_none_drops_words(imdb_files):
    (x_train, _), _ = imdb.load_data(num_words=8, oov_char=None)
    assert all(all(w < 8 for w in x) for x in x_train)
    assert sum(len(x) for x in x_train) < sum(len(s) + 1 for s in TRAIN)


def test_imdb_word_index(imdb_files):
    assert imdb.get_word_index() == {"the": 1, "and": 2, "a": 3}


def test_imdb_offline_missing_message(data_dir):
    with pytest.raises(FileNotFoundError) as info:
        imdb.load_data()
    assert os.path.join(str(data_dir), "imdb.npz") in str(info.value)
    with pytest.raises(FileNotFoundError, match="imdb_word_index.json"):
        imdb.get_word_index()


def test_imdb_malicious_object_array_refused(data_dir, tmp_path):
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    header = {"descr": "|O", "fortran_order": False, "shape": (1,)}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    evil_npy = buf.getvalue() + pickle.dumps(_obj_array([Evil()]), protocol=3)
    with zipfile.ZipFile(data_dir / "imdb.npz", "w") as zf:
        zf.writestr("x_train.npy", evil_npy)
        for k, v in (("y_train", np.array([1])), ("x_test", _obj_array([[1]])),
                     ("y_test", np.array([1]))):
            b = io.BytesIO()
            np.save(b, v, allow_pickle=True)
            zf.writestr(k + ".npy", b.getvalue())
    with pytest.raises(ValueError, match="refused or unreadable") as info:
        imdb.load_data()
    assert "system" in str(info.value)
    assert not marker.exists()


def test_imdb_rejects_non_integer_reviews(data_dir):
    np.savez(data_dir / "imdb.npz", x_train=_obj_array([["a", "b"]]), y_train=np.array([1]),
             x_test=_obj_array([[1]]), y_test=np.array([1]))
    with pytest.raises(ValueError, match="word ids"):
        imdb.load_data()


# --------------------------------------------------------------------------- CIFAR-100
from nnforge.datasets import cifar100, fashion_mnist  # noqa: E402


def _write_cifar100(root, n_train=5, n_test=2):
    folder = os.path.join(root, cifar100.DIRNAME)
    os.makedirs(folder, exist_ok=True)
    out = {}
    for name, n in (("train", n_train), ("test", n_test)):
        rows = _cifar_rows(n, offset=len(name))
        fine = [(7 * k + 3) % 100 for k in range(n)]
        coarse = [f // 5 for f in fine]
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({b"data": rows, b"fine_labels": fine, b"coarse_labels": coarse,
                         b"filenames": [b"x"] * n}, f, protocol=2)
        out[name] = (rows, fine, coarse)
    return out


def test_cifar100_fine_and_coarse(data_dir):
    ref = _write_cifar100(str(data_dir))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data()
    assert x_train.shape == (5, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert y_train.shape == (5, 1) and y_train.dtype == np.uint8
    assert y_train[:, 0].tolist() == ref["train"][1]
    np.testing.assert_array_equal(x_test, ref["test"][0].reshape(2, 3, 32, 32).transpose(0, 2, 3, 1))
    (_, y_train_c), (_, y_test_c) = cifar100.load_data(label_mode="coarse")
    assert y_train_c[:, 0].tolist() == ref["train"][2] and y_test_c[:, 0].tolist() == ref["test"][2]
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


def test_cifar100_offline_message(data_dir):
    with pytest.raises(FileNotFoundError) as info:
        cifar100.load_data()
    assert os.path.join(str(data_dir), "cifar-100-python") in str(info.value)


# --------------------------------------------------------------------------- Fashion-MNIST
def _idx_bytes(arr):
    header = struct.pack(">HBB", 0, 8, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def _write_fashion(root, n_train=6, n_test=4):
    import gzip
    folder = os.path.join(root, fashion_mnist.DIRNAME)
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(3)
    ref = {"x_train": rng.integers(0, 256, (n_train, 28, 28)), "y_train": rng.integers(0, 10, n_train),
           "x_test": rng.integers(0, 256, (n_test, 28, 28)), "y_test": rng.integers(0, 10, n_test)}
    names = {"y_train": "train-labels-idx1-ubyte.gz", "x_train": "train-images-idx3-ubyte.gz",
             "y_test": "t10k-labels-idx1-ubyte.gz", "x_test": "t10k-images-idx3-ubyte.gz"}
    for key, name in names.items():
        with gzip.open(os.path.join(folder, name), "wb") as f:
            f.write(_idx_bytes(ref[key]))
    return ref, folder


def test_fashion_mnist_from_idx_files(data_dir):
    ref, _ = _write_fashion(str(data_dir))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                     (y_test, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, ref[key])
    assert x_train.shape == (6, 28, 28) and y_test.shape == (4,)


def test_fashion_mnist_bad_idx_and_offline(data_dir):
    import gzip
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        fashion_mnist.load_data()
    _, folder = _write_fashion(str(data_dir))
    with gzip.open(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(_idx_bytes(np.zeros((2, 2))))  # 2 dims where labels need 1
    with pytest.raises(ValueError, match="IDX"):
        fashion_mnist.load_data()
    with gzip.open(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(_idx_bytes(np.zeros(4))[:-1])  # truncated
    with pytest.raises(ValueError, match="header says 4 bytes"):
        fashion_mnist.load_data()
