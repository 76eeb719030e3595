"""boston_housing, california_housing and reuters loaders on small synthetic files in Keras's
canonical formats (no network: NNFORGE_OFFLINE=1): Keras's shuffle and split, the word-id
transformations, the safety checks and the error messages."""
import json

import numpy as np
import pytest

from nnforge.datasets import _files, boston_housing, california_housing, reuters


def _keras_split(x, y, test_split, seed):
    idx = np.arange(len(x))
    np.random.RandomState(seed).shuffle(idx)
    x, y = x[idx], y[idx]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])


@pytest.mark.parametrize("module,name,features", [(boston_housing, "boston_housing.npz", 13),
                                                  (california_housing,
                                                   "california_housing.npz", 8)])
def test_housing_load_data(data_dir, module, name, features):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, features))
    y = rng.uniform(5, 50, size=50)
    np.savez(data_dir / name, x=x, y=y)
    (xt, yt), (xs, ys) = module.load_data()
    (wx, wy), (vx, vy) = _keras_split(x, y, 0.2, 113)
    assert xt.shape == (40, features) and xs.shape == (10, features)
    np.testing.assert_array_equal(xt, wx)
    np.testing.assert_array_equal(ys, vy)
    (xt, yt), (xs, ys) = module.load_data(test_split=0.3, seed=5)
    (wx, wy), (vx, vy) = _keras_split(x, y, 0.3, 5)
    np.testing.assert_array_equal(yt, wy)
    np.testing.assert_array_equal(xs, vx)
    with pytest.raises(ValueError, match="test_split"):
        module.load_data(test_split=1.0)


def test_california_small_version(data_dir):
    x = np.arange(700 * 8, dtype=np.float64).reshape(700, 8)
    y = np.arange(700, dtype=np.float64)
    np.savez(data_dir / "california_housing.npz", x=x, y=y)
    (xt, yt), (xs, ys) = california_housing.load_data(version="small")
    assert len(xt) + len(xs) == 600 and max(yt.max(), ys.max()) < 600
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium")


def test_housing_missing_file_and_bad_files(data_dir, tmp_path):
    with pytest.raises(_files.DatasetNotFoundError, match="boston_housing.npz"):
        boston_housing.load_data()
    np.savez(data_dir / "boston_housing.npz", x=np.ones((3, 13)))
    with pytest.raises(ValueError, match="missing the key"):
        boston_housing.load_data()
    np.savez(data_dir / "boston_housing.npz", x=np.array([[1, 2]], dtype=object),
             y=np.ones(1))
    with pytest.raises(ValueError):
        boston_housing.load_data()
    explicit = tmp_path / "mine.npz"
    np.savez(explicit, x=np.ones((10, 13)), y=np.arange(10.0))
    (xt, yt), _ = boston_housing.load_data(path=str(explicit))
    assert len(xt) == 8


def _write_reuters(path, seqs, labels):
    x = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        x[i] = list(s)
    np.savez(path, x=x, y=np.asarray(labels, np.int64))


def _keras_reuters(seqs, labels, num_words=None, skip_top=0, maxlen=None, test_split=0.2,
                   seed=113, start_char=1, oov_char=2, index_from=3):
    """Keras 3.15's reuters.load_data after reading the arrays (transcribed)."""
    xs = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        xs[i] = list(s)
    labels = np.asarray(labels)
    idx = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(idx)
    xs, labels = xs[idx], labels[idx]
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        keep = [i for i, x in enumerate(xs) if len(x) < maxlen]
        xs, labels = [xs[i] for i in keep], labels[keep]
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    n = int(len(xs) * (1 - test_split))
    return (xs[:n], labels[:n]), (xs[n:], labels[n:])


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 8, "skip_top": 2},
                                    {"maxlen": 6, "oov_char": None, "num_words": 10},
                                    {"start_char": None, "index_from": 0, "test_split": 0.5,
                                     "seed": 3}])
def test_reuters_load_data(data_dir, kwargs):
    rng = np.random.default_rng(1)
    seqs = [rng.integers(1, 15, size=rng.integers(1, 9)).tolist() for _ in range(20)]
    labels = rng.integers(0, 46, 20)
    _write_reuters(data_dir / "reuters.npz", seqs, labels)
    (xt, yt), (xs, ys) = reuters.load_data(**kwargs)
    (wx, wy), (vx, vy) = _keras_reuters(seqs, labels, **kwargs)
    assert [list(s) for s in xt] == wx and [list(s) for s in xs] == vx
    np.testing.assert_array_equal(yt, wy)
    np.testing.assert_array_equal(ys, vy)
    assert xt.dtype == object and xt.ndim == 1


def test_reuters_word_index_and_labels(data_dir):
    (data_dir / "reuters_word_index.json").write_text(json.dumps({"the": 1, "of": 2}))
    assert reuters.get_word_index() == {"the": 1, "of": 2}
    names = reuters.get_label_names()
    assert len(names) == 46 and names[3] == "earn" and names[-1] == "lead"
    (data_dir / "reuters_word_index.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        reuters.get_word_index()


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_reuters_refuses_malicious_pickle_and_bad_data(data_dir):
    with pytest.raises(_files.DatasetNotFoundError, match="reuters.npz"):
        reuters.load_data()
    x = np.empty(2, dtype=object)
    x[0], x[1] = [1, 2], _Evil()
    np.savez(data_dir / "reuters.npz", x=x, y=np.array([0, 1]))
    with pytest.raises(ValueError, match="refused|unreadable"):
        reuters.load_data()
    _write_reuters(data_dir / "reuters.npz", [[1, 2], [3]], [0, 1, 2])
    with pytest.raises(ValueError, match="differ in length"):
        reuters.load_data()
    _write_reuters(data_dir / "reuters.npz", [[1, -2], [3]], [0, 1])
    with pytest.raises(ValueError, match="word ids"):
        reuters.load_data()
