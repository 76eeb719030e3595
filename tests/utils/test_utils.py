"""Tests of nnforge.utils: to_categorical, normalize, pad_sequences, set_random_seed,
PyDataset and the Keras-format Progbar (output compared character for character)."""
import io
import os
import random
import sys

import numpy as np
import pytest

from nnforge import random_state
from nnforge.utils import (Progbar, PyDataset, normalize, pad_sequences, set_random_seed,
                           to_categorical)
from nnforge.utils import io_utils
from nnforge.utils import progbar as progbar_module

B, G, W, R = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
BAR = "\u2501"


# --------------------------------------------------------------------------- to_categorical
def test_to_categorical_basic():
    out = to_categorical([0, 1, 2, 3], num_classes=4)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32))
    out = to_categorical(np.array([2, 0]))
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])
    assert out.shape == (2, 3)


def test_to_categorical_shapes():
    # trailing dim of 1 is squeezed, as Keras
    assert to_categorical(np.array([[1], [0], [2]]), 5).shape == (3, 5)
    y = np.array([[0, 1, 2], [2, 1, 0]])
    out = to_categorical(y, 3)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.argmax(-1), y)
    # a scalar gives one row
    np.testing.assert_array_equal(to_categorical(1, 3), [0, 1, 0])
    # floats holding integers and uint8 labels (what the datasets return) work
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(to_categorical(np.array([[3]], np.uint8), 4), [[0, 0, 0, 1]])


@pytest.mark.parametrize("x,num_classes,match", [
    ([0, -1, 2], 3, "non-negative"),
    ([0, 3], 3, "out of range"),
    ([0.5, 1], 3, "non-integer"),
    ([np.nan], 3, "NaN"),
    (["a", "b"], 3, "integer class ids"),
    ([0, 1], 0, "num_classes"),
    ([0, 1], 2.5, "num_classes"),
])
def test_to_categorical_errors(x, num_classes, match):
    with pytest.raises(ValueError, match=match):
        to_categorical(x, num_classes)


# --------------------------------------------------------------------------- normalize
def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    out = normalize(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 0], [1, 0]], rtol=1e-6)
    assert out.dtype == np.float32
    out = normalize(x, axis=0, order=1)
    np.testing.assert_allclose(out[:, 0], [0.75, 0.0, 0.25])


# --------------------------------------------------------------------------- pad_sequences
def test_pad_sequences_keras_doc_examples():
    seq = [[1], [2, 3], [4, 5, 6]]
    out = pad_sequences(seq)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seq, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seq, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seq, maxlen=2), [[0, 1], [2, 3], [5, 6]])


def test_pad_sequences_truncating_and_dtype():
    seq = [[1, 2, 3, 4], [5]]
    np.testing.assert_array_equal(pad_sequences(seq, maxlen=2, truncating="post"), [[1, 2], [0, 5]])
    np.testing.assert_array_equal(
        pad_sequences(seq, maxlen=3, truncating="post", padding="post"), [[1, 2, 3], [5, 0, 0]])
    out = pad_sequences([[0.5, 1.5], []], dtype="float32", value=9.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.5, 1.5], [9.0, 9.0]])
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    assert pad_sequences([]).shape == (0, 0)
    # items with a shape (e.g. vectors per time step)
    out = pad_sequences([[[1, 1]], [[2, 2], [3, 3]]])
    assert out.shape == (2, 2, 2)
    np.testing.assert_array_equal(out[0], [[0, 0], [1, 1]])
    # strings need dtype=object
    out = pad_sequences([["a"], ["b", "c"]], dtype=object, value="")
    assert out.tolist() == [["", "a"], ["b", "c"]]


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="Padding type"):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="Truncating type"):
        pad_sequences([[1]], truncating="both")
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([[1], 2])
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


# --------------------------------------------------------------------------- set_random_seed
def _draws():
    return (random.random(), float(np.random.rand()), float(random_state.global_rng().random()),
            float(random_state.make_rng(None).random()))


def test_set_random_seed_reproducible():
    set_random_seed(1234)
    a = _draws()
    set_random_seed(1234)
    b = _draws()
    set_random_seed(4321)
    c = _draws()
    assert a == b
    assert all(x != y for x, y in zip(a, c))
    set_random_seed(np.int64(7))  # numpy integers are integers too


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None, True, 2**32])
def test_set_random_seed_validation(bad):
    with pytest.raises(ValueError, match="seed"):
        set_random_seed(bad)


# --------------------------------------------------------------------------- PyDataset
class _Squares(PyDataset):
    def __init__(self, n, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x = np.arange(n)
        self.batch_size = batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise IndexError(idx)
        xb = self.x[idx * self.batch_size:(idx + 1) * self.batch_size]
        return xb, xb ** 2

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_py_dataset_subclass():
    ds = _Squares(10, 4, workers=2, use_multiprocessing=False, max_queue_size=5)
    assert len(ds) == 3 and ds.num_batches == 3
    assert ds.workers == 2 and ds.use_multiprocessing is False and ds.max_queue_size == 5
    x, y = ds[2]
    np.testing.assert_array_equal(x, [8, 9])
    np.testing.assert_array_equal(y, [64, 81])
    assert sum(len(b[0]) for b in ds) == 10  # sequence protocol stops at IndexError
    ds.on_epoch_end()
    assert ds.epochs_ended == 1


def test_py_dataset_defaults_and_errors():
    class Infinite(PyDataset):
        def __getitem__(self, idx):
            return np.full(2, idx), np.zeros(2)

    ds = Infinite()
    assert ds.num_batches is None
    assert ds.workers == 1 and ds.max_queue_size == 10 and ds.use_multiprocessing is False
    with pytest.raises(NotImplementedError, match="__getitem__"):
        PyDataset()[0]
    with pytest.raises(ValueError, match="workers"):
        PyDataset(workers=0)
    with pytest.raises(ValueError, match="max_queue_size"):
        PyDataset(max_queue_size=0)


# --------------------------------------------------------------------------- Progbar
class FakeClock:
    def __init__(self, t=0.0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(progbar_module, "_now", c)
    return c


def _run_bar(clock, pb):
    clock.t = 0.25
    pb.update(1, [("loss", 0.5)])
    clock.t = 0.75
    pb.update(5, [("loss", 0.3)])
    clock.t = 1.5
    pb.update(10, [("loss", 0.25)])


def test_progbar_dynamic_output_matches_keras(clock, capsys):
    pb = Progbar(10)
    pb._dynamic_display = True  # as on a terminal
    _run_bar(clock, pb)
    out = capsys.readouterr().out
    line1 = (f"\r{B} 1/10{R} {G}{BAR * 2}{R}{W}{BAR * 18}{R} {B}2s{R} 250ms/step"
             " - loss: 0.5000")
    # steps 2..5 cover 4 steps: (0.5*1 + 0.3*4) / 5 = 0.34; 0.125 s/step, ETA 0.625 s
    line2 = ("\b" * 55 + f"\r{B} 5/10{R} {G}{BAR * 10}{R}{W}{BAR * 10}{R} {B}0s{R} 125ms/step"
             " - loss: 0.3400")
    # final: value shown as given, elapsed time instead of ETA, newline
    line3 = ("\b" * 55 + f"\r{B}10/10{R} {G}{BAR * 20}{R}{W}{R} {B}2s{R} 139ms/step"
             " - loss: 0.2500\n")
    assert out == line1 + line2 + line3


def test_progbar_non_dynamic_prints_final_line_only(clock, capsys):
    pb = Progbar(10)
    pb._dynamic_display = False  # a pipe / log file
    clock.t = 0.25
    pb.update(1, [("loss", 0.5)])
    clock.t = 0.75
    pb.update(5, [("loss", 0.3)])
    assert capsys.readouterr().out == ""
    clock.t = 1.5
    pb.update(10, [("loss", 0.25)])
    assert capsys.readouterr().out == f"10/10 {BAR * 20} 2s 139ms/step - loss: 0.2500\n"


def test_progbar_is_not_dynamic_under_capture(capsys):
    assert Progbar(3)._dynamic_display is False


def test_progbar_verbose_2(clock, capsys):
    pb = Progbar(10, verbose=2)
    _run_bar(clock, pb)
    assert capsys.readouterr().out == "10/10 - 2s - 139ms/step - loss: 0.2500\n"


def test_progbar_verbose_0_silent(clock, capsys):
    _run_bar(clock, Progbar(10, verbose=0))
    assert capsys.readouterr().out == ""


def test_progbar_averaging_stateful_and_small_values(clock, capsys):
    pb = Progbar(4, stateful_metrics=["acc"])
    pb._dynamic_display = False
    clock.t = 1.0
    pb.update(1, [("acc", 0.1), ("loss", 1.0), ("tiny", 0.0005)])
    clock.t = 2.0
    pb.update(3, [("acc", 0.7), ("loss", 4.0), ("tiny", 0.0005)])
    # loss: (1*1 + 4*2) / 3 = 3.0 (weighted by the steps covered); acc stateful: last value
    pb.update(4, None, finalize=True)
    out = capsys.readouterr().out
    assert out == (f"4/4 {BAR * 20} 2s 333ms/step - acc: 0.7000 - loss: 3.0000"
                   " - tiny: 5.0000e-04\n")


def test_progbar_eta_formats(clock, capsys):
    pb = Progbar(10000)
    pb._dynamic_display = True
    clock.t = 1.0
    pb.update(1)  # 1 s/step, 9999 s left
    assert f"{B}2:46:39{R} 1s/step" in capsys.readouterr().out
    pb = Progbar(10000)
    pb._dynamic_display = True
    clock.t = 1.01  # started at 1.0: 10 ms/step, 99.99 s left
    pb.update(1)
    assert f"{B}1:39{R} 10ms/step" in capsys.readouterr().out
    pb = Progbar(3, unit_name="sample")
    pb._dynamic_display = True
    clock.t = 1.01 + 2e-6
    pb.update(1)
    assert f"{B}0s{R} 2us/sample" in capsys.readouterr().out


def test_progbar_unknown_target_and_interval(clock, capsys):
    pb = Progbar(None, interval=10.0)
    pb._dynamic_display = True
    clock.t = 1.0
    pb.update(3, [("loss", 2.0)])
    first = capsys.readouterr().out
    assert first.startswith("\r      3/Unknown " + f"{B}1s{R}")
    clock.t = 2.0
    pb.update(4, [("loss", 2.0)])  # within the interval: skipped
    assert capsys.readouterr().out == ""
    pb.update(5, [("loss", 2.0)], finalize=True)
    assert capsys.readouterr().out.endswith("\n")


def test_progbar_add(clock, capsys):
    pb = Progbar(4, verbose=2)
    clock.t = 1.0
    pb.add(2, [("x", 1.0)])
    clock.t = 2.0
    pb.add(2, [("x", 3.0)])
    assert capsys.readouterr().out == "4/4 - 2s - 500ms/step - x: 3.0000\n"


def test_progbar_validation():
    with pytest.raises(ValueError, match="verbose"):
        Progbar(3, verbose=3)
    with pytest.raises(ValueError, match="target"):
        Progbar(-1)


def test_print_msg_ascii_terminal(monkeypatch):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    io_utils.print_msg(f"1/2 {BAR * 3} ok")
    stream.flush()
    assert raw.getvalue() == b"1/2 === ok\n"


# --------------------------------------------------------------------------- get_file
import hashlib  # noqa: E402
import tarfile  # noqa: E402
import zipfile  # noqa: E402
import urllib.error  # noqa: E402

from nnforge.utils import Sequence, extract_archive, get_file, validate_file  # noqa: E402
from nnforge.utils import file_utils  # noqa: E402


@pytest.fixture
def fake_net(monkeypatch):
    """A dict url -> bytes served instead of the network; records the URLs fetched."""
    served, fetched = {}, []

    def urlopen(url):
        fetched.append(url)
        if url not in served:
            raise urllib.error.URLError("unreachable")
        return io.BytesIO(served[url])

    monkeypatch.setattr(file_utils, "_urlopen", urlopen)
    return served, fetched


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_sequence_alias():
    assert Sequence is PyDataset


def test_get_file_download_cache_and_hash(tmp_path, fake_net):
    served, fetched = fake_net
    url = "https://example.invalid/files/data.bin"
    served[url] = b"hello"
    sha = hashlib.sha256(b"hello").hexdigest()
    path = get_file(origin=url, file_hash=sha, cache_dir=str(tmp_path))
    assert path == str(tmp_path / "datasets" / "data.bin")
    assert _read(path) == b"hello" and fetched == [url]
    assert get_file("data.bin", url, file_hash=sha, cache_dir=str(tmp_path)) == path
    assert fetched == [url]  # cached and valid: no second download
    assert validate_file(path, sha) and validate_file(path, hashlib.md5(b"hello").hexdigest())
    # a corrupted cached copy is fetched again, with a warning
    with open(path, "wb") as f:
        f.write(b"junk")
    with pytest.warns(UserWarning, match="re-download"):
        get_file("data.bin", url, file_hash=sha, cache_dir=str(tmp_path))
    assert _read(path) == b"hello" and len(fetched) == 2


def test_get_file_rejects_bad_digest_and_reports_network_errors(tmp_path, fake_net):
    served, _ = fake_net
    url = "https://example.invalid/x.bin"
    served[url] = b"tampered"
    with pytest.raises(ValueError, match="sha256"):
        get_file(origin=url, file_hash="0" * 64, cache_dir=str(tmp_path))
    assert list((tmp_path / "datasets").iterdir()) == []
    with pytest.raises(OSError, match="URL fetch failure"):
        get_file(origin="https://example.invalid/missing.bin", cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="origin"):
        get_file("x.bin")


def test_get_file_extract_and_untar(tmp_path, fake_net):
    served, _ = fake_net
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"content"
        info = tarfile.TarInfo("pkg/inner.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    served["https://example.invalid/pkg.tar.gz"] = buf.getvalue()
    out = get_file(origin="https://example.invalid/pkg.tar.gz", extract=True,
                   cache_dir=str(tmp_path))
    assert out == str(tmp_path / "datasets" / "pkg_extracted")
    assert _read(os.path.join(out, "pkg", "inner.txt")) == b"content"
    out = get_file("pkg", origin="https://example.invalid/pkg.tar.gz", untar=True,
                   cache_dir=str(tmp_path), cache_subdir="other")
    assert out == str(tmp_path / "other" / "pkg")
    assert _read(os.path.join(out, "inner.txt")) == b"content"


def test_extract_archive_zip_refuses_traversal(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("a/b.txt", "B")
    assert extract_archive(str(good), str(tmp_path / "out"))
    assert (tmp_path / "out" / "a" / "b.txt").read_text() == "B"
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../../escaped.txt", "bad")
    with pytest.raises(ValueError, match="unsafe member path"):
        extract_archive(str(evil), str(tmp_path / "out2"))
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "out2").exists()
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("l")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ValueError, match="link or special file"):
        extract_archive(str(link), str(tmp_path / "out3"))
    plain = tmp_path / "plain.txt"
    plain.write_text("not an archive")
    assert extract_archive(str(plain), str(tmp_path / "out4")) is False
