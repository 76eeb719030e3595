"""TextVectorization against Keras 3 goldens, the Keras .keras file, and a text model that
trains (adapt -> Embedding -> pooling -> Dense)."""
import os

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers

HERE = os.path.join(os.path.dirname(__file__), "..", "golden")
G = np.load(os.path.join(HERE, "prep.npz"))
TEXT = G["tv_text"]


def test_adapt_and_int_output_match_keras():
    tv = layers.TextVectorization(max_tokens=12, output_sequence_length=6)
    tv.adapt(TEXT)
    assert tv.get_vocabulary() == G["tv_vocab"].tolist()
    np.testing.assert_array_equal(tv(TEXT).numpy(), G["tv_int"])
    np.testing.assert_array_equal(
        tv(np.array(["an unseen cat", "dog dog dog dog dog dog dog dog"])).numpy(),
        G["tv_int_new"])
    assert tv(TEXT[:, None]).shape == (4, 6)
    tv5 = layers.TextVectorization(vocabulary=["cat", "mat", "dog"])
    np.testing.assert_array_equal(tv5(TEXT).numpy(), G["tv5_int"])


def test_ngrams_characters_tfidf_count_match_keras():
    tv2 = layers.TextVectorization(ngrams=2, output_mode="multi_hot")
    tv2.adapt(TEXT)
    assert tv2.get_vocabulary() == G["tv2_vocab"].tolist()
    np.testing.assert_array_equal(tv2(TEXT).numpy(), G["tv2_multi"])
    tv3 = layers.TextVectorization(output_mode="tf_idf", standardize="lower",
                                   split="character", max_tokens=10, pad_to_max_tokens=True)
    tv3.adapt(TEXT)
    assert tv3.get_vocabulary() == G["tv3_vocab"].tolist()
    np.testing.assert_allclose(tv3(TEXT).numpy(), G["tv3_tfidf"], rtol=1e-6)
    tv4 = layers.TextVectorization(output_mode="count", standardize=None,
                                   vocabulary=["cat", "The", "dog", "a"])
    np.testing.assert_array_equal(tv4(TEXT).numpy(), G["tv4_count"])


def test_callables_errors_and_config():
    tv = layers.TextVectorization(standardize=lambda a: np.char.upper(a),
                                  split=lambda s: s.split(","))
    tv.adapt(["a,b", "b,c"])
    assert tv.get_vocabulary() == ["", "[UNK]", "B", "C", "A"]
    with pytest.raises(ValueError, match="output_sequence_length"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="ngrams"):
        layers.TextVectorization(ngrams=[1, 2])
    with pytest.raises(ValueError, match="last shape dimension"):
        layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    tv = layers.TextVectorization(max_tokens=12, output_sequence_length=6, ngrams=(1, 2))
    tv.adapt(TEXT)
    cfg = tv.get_config()
    assert cfg["vocabulary"] is None and cfg["vocabulary_size"] == 12
    assert set(cfg) >= {"max_tokens", "standardize", "split", "ngrams", "output_mode",
                        "output_sequence_length", "pad_to_max_tokens", "sparse", "ragged",
                        "vocabulary", "idf_weights", "encoding", "vocabulary_size"}
    clone = layers.TextVectorization.from_config(cfg)
    # as in Keras, the adapted vocabulary travels as an asset, not in the config
    assert {**clone.get_config(), "vocabulary_size": 12} == cfg


def test_save_load_round_trip_and_keras_file(tmp_path):
    tv = layers.TextVectorization(max_tokens=12, output_sequence_length=6)
    tv.adapt(TEXT)
    model = keras.Sequential([keras.Input((1,), dtype="string"), tv])
    path = str(tmp_path / "tv.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.layers[-1](TEXT).numpy(), G["tv_int"])
    # the file written by Keras 3 itself (tests/golden/make_prep_golden.py)
    theirs = keras.saving.load_model(os.path.join(HERE, "prep_textvec.keras"))
    lay = theirs.layers[-1]
    assert lay.get_vocabulary() == G["tv_vocab"].tolist()
    np.testing.assert_array_equal(lay(TEXT).numpy(), G["tv_int"])


def test_text_classifier_trains_on_synthetic_text():
    rng = np.random.default_rng(0)
    pos = ["good", "great", "fine", "nice", "happy"]
    neg = ["bad", "awful", "poor", "sad", "ugly"]
    filler = ["the", "a", "movie", "was", "plot", "it"]
    texts, labels = [], []
    for _ in range(200):
        y = int(rng.integers(0, 2))
        words = list(rng.choice(filler, 4)) + list(rng.choice(pos if y else neg, 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(y)
    vec = layers.TextVectorization(max_tokens=30, output_sequence_length=8)
    vec.adapt(texts)
    ids = vec(np.array(texts)).numpy()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,), dtype="int64"),
                              layers.Embedding(vec.vocabulary_size(), 8),
                              layers.GlobalAveragePooling1D(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(ids, np.array(labels, np.float32), epochs=8, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.9


def test_end_to_end_string_model_fits_predicts_and_saves(tmp_path):
    texts = np.array(["good movie", "bad film", "great plot", "awful acting"] * 10)
    y = np.array([1, 0, 1, 0] * 10, np.float32)
    vec = layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vec.adapt(texts)
    keras.utils.set_random_seed(1)
    inp = keras.Input((1,), dtype="string")
    x = layers.Embedding(20, 4)(vec(inp))
    out = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    hist = model.fit(texts[:, None], y, epochs=10, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    pred = model.predict(texts[:4, None], verbose=0)
    path = str(tmp_path / "e2e.keras")
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).predict(texts[:4, None], verbose=0),
                               pred, rtol=1e-5, atol=1e-6)
