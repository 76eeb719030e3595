"""CIFAR-10 convolutional network (the seed's example 5.2).

Reads the canonical `cifar-10-batches-py` files (see `nnforge.datasets.cifar10.load_data`). With
`--synthetic`, or when the files are absent and `--synthetic` is allowed, it trains on generated
CIFAR-shaped images whose class decides a colour and a stripe pattern, so learning is visible.

    python examples/cifar10_cnn.py [--synthetic] [--epochs 10]
"""
import numpy as np

import nnforge as keras
from nnforge import layers

import example_args


def synthetic_cifar(n_train=10000, n_test=2000, seed=0):
    rng = np.random.default_rng(seed)

    def make(n):
        y = rng.integers(0, 10, n)
        x = rng.normal(0.5, 0.2, (n, 32, 32, 3))
        colour = np.stack([(y % 3) / 2, ((y // 3) % 3) / 2, (y >= 5) * 1.0], axis=1)
        x += 0.3 * (colour[:, None, None, :] - 0.5)
        stripes = (np.arange(32)[None, :] % (2 + y[:, None] % 4) == 0)
        x[:, :, :, 0] += 0.3 * stripes[:, None, :]
        return (np.clip(x, 0, 1) * 255).astype("uint8"), y.reshape(-1, 1).astype("uint8")

    return make(n_train), make(n_test)


def main() -> float:
    args = example_args.parse_args(__doc__, epochs=10,
                                   synthetic_help="train on generated CIFAR-shaped data")

    if args.synthetic:
        (x_train, y_train), (x_test, y_test) = synthetic_cifar()
    else:
        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
        except (FileNotFoundError, OSError) as e:
            raise SystemExit(f"{e}\nRun with --synthetic to train on generated data instead.")
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, validation_split=0.1,
              verbose=args.verbose)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {test_acc:.4f}")
    return test_acc


if __name__ == "__main__":
    main()
