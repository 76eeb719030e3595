"""Text classification (sentiment) with Embedding + Conv1D, on IMDB or a synthetic stand-in.

Reads Keras's IMDB files (see `nnforge.datasets.imdb.load_data`) when they are present;
otherwise, or with `--synthetic`, it generates reviews of random word ids in which a handful of
"positive" and "negative" words decide the label, so the model has something real to learn.

    python examples/text_classification.py [--synthetic] [--epochs 3]
"""
import numpy as np

import nnforge as keras
from nnforge import layers

import example_args

VOCAB, MAXLEN = 10000, 200


def synthetic_reviews(n, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(40, MAXLEN, n)
    labels = rng.integers(0, 2, n)
    positive, negative = np.arange(10, 20), np.arange(20, 30)
    reviews = []
    for length, label in zip(lengths, labels):
        words = rng.integers(30, VOCAB, length)
        k = rng.integers(2, 6)
        pos = rng.choice(length, k, replace=False)
        words[pos] = rng.choice(positive if label else negative, k)
        noise = rng.choice(length, 1)
        words[noise] = rng.choice(negative if label else positive, 1)
        reviews.append(list(words))
    return reviews, labels


def main() -> float:
    args = example_args.parse_args(__doc__, epochs=3, synthetic_help="train on generated reviews")

    if not args.synthetic:
        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=VOCAB)
        except (FileNotFoundError, OSError, ValueError) as e:
            print(f"IMDB not available ({str(e).splitlines()[0]}); using synthetic reviews")
            args.synthetic = True
    if args.synthetic:
        x_train, y_train = synthetic_reviews(8000, 0)
        x_test, y_test = synthetic_reviews(2000, 1)
    x_train = keras.utils.pad_sequences(x_train, maxlen=MAXLEN)
    x_test = keras.utils.pad_sequences(x_test, maxlen=MAXLEN)

    model = keras.Sequential([
        keras.Input(shape=(MAXLEN,), dtype="int32"),
        layers.Embedding(VOCAB, 32, mask_zero=False),
        layers.Conv1D(64, 5, activation="relu"),
        layers.GlobalMaxPooling1D(),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.summary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, np.asarray(y_train), epochs=args.epochs, batch_size=64,
              validation_split=0.1, verbose=args.verbose)
    _, acc = model.evaluate(x_test, np.asarray(y_test), verbose=0)
    print(f"Test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
