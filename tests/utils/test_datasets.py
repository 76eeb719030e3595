"""timeseries_dataset_from_array, text_dataset_from_directory, audio_dataset_from_directory
against Keras 3 goldens (the inputs and directory trees are tests/golden/prep_cases.py, shared
with the generator tests/golden/make_prep_golden.py)."""
import os

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from tests.golden.prep_cases import (SERIES, TARGETS, TIMESERIES_CASES, write_text_tree,
                                      write_wav_tree)

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))


@pytest.mark.parametrize("name,kw", list(TIMESERIES_CASES.items()))
def test_timeseries_matches_keras(name, kw):
    ds = keras.utils.timeseries_dataset_from_array(SERIES, TARGETS, **kw)
    xs, ys = zip(*list(ds))
    assert len(ds) == int(G[name + "_nb"])
    stack = np.concatenate if kw["batch_size"] else np.stack
    np.testing.assert_array_equal(stack(xs), G[name + "_x"])
    np.testing.assert_array_equal(stack(ys), G[name + "_y"])


def test_timeseries_shuffle_and_errors():
    ds = keras.utils.timeseries_dataset_from_array(SERIES, TARGETS, sequence_length=5,
                                                   batch_size=8, shuffle=True, seed=3)
    xs, ys = zip(*list(ds))
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = np.argsort(y)
    np.testing.assert_array_equal(x[order], G["ts_basic_x"])
    assert not np.array_equal(y, np.sort(y))
    again = np.concatenate([b[1] for b in keras.utils.timeseries_dataset_from_array(
        SERIES, TARGETS, sequence_length=5, batch_size=8, shuffle=True, seed=3)])
    np.testing.assert_array_equal(again, y)
    with pytest.raises(ValueError, match="start_index"):
        keras.utils.timeseries_dataset_from_array(SERIES, None, 3, start_index=60)
    with pytest.raises(ValueError, match="sampling_rate"):
        keras.utils.timeseries_dataset_from_array(SERIES, None, 3, sampling_rate=0)


def test_text_dataset_matches_keras(tmp_path):
    write_text_tree(str(tmp_path))
    ds = keras.utils.text_dataset_from_directory(str(tmp_path), batch_size=4, shuffle=False,
                                                 max_length=20, verbose=False)
    assert ds.class_names == G["txt_classes"].tolist()
    xs, ys = zip(*list(ds))
    np.testing.assert_array_equal(np.concatenate(xs).astype(str), G["txt_x"])
    np.testing.assert_array_equal(np.concatenate(ys), G["txt_y"])
    tr, va = keras.utils.text_dataset_from_directory(
        str(tmp_path), batch_size=3, validation_split=0.25, subset="both", seed=7,
        label_mode="categorical", verbose=False)
    for d, key in ((tr, "txt_train"), (va, "txt_val")):
        texts = sorted(t for x, _ in d for t in x)
        assert texts == G[key].tolist()
    x, y = tr[0]
    assert y.shape == (3, 3) and y.dtype == np.float32
    with pytest.raises(ValueError, match="seed"):
        keras.utils.text_dataset_from_directory(str(tmp_path), validation_split=0.2,
                                                subset="training")


def test_audio_dataset_matches_keras(tmp_path):
    write_wav_tree(str(tmp_path))
    ds = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=2, shuffle=False,
                                                  verbose=False)
    for i, (x, y) in enumerate(ds):
        np.testing.assert_allclose(x, G[f"wav_x{i}"], atol=1e-7)
        np.testing.assert_array_equal(y, G[f"wav_y{i}"])
    ds = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=3, shuffle=False,
                                                  output_sequence_length=60,
                                                  label_mode="binary", verbose=False)
    for i, (x, y) in enumerate(ds):
        np.testing.assert_allclose(x, G[f"wav_fixed_x{i}"], atol=1e-7)
        np.testing.assert_array_equal(y, G[f"wav_fixed_y{i}"])
    with pytest.raises(ValueError, match="resampling"):
        keras.utils.audio_dataset_from_directory(str(tmp_path), sampling_rate=16000)


def test_text_dataset_feeds_a_model(tmp_path):
    write_text_tree(str(tmp_path))
    ds = keras.utils.text_dataset_from_directory(str(tmp_path), batch_size=4, seed=1,
                                                 verbose=False)
    vec = layers.TextVectorization(max_tokens=20, output_sequence_length=8)
    vec.adapt(x for x, _ in ds)  # an iterable of batches
    x, y = ds[0]
    assert vec(x).shape == (len(x), 8)
