"""A CNN with data augmentation, BatchNormalization and callbacks, on CIFAR-10 (or, with
`--synthetic` / when the files are absent, the generated CIFAR-shaped data of cifar10_cnn.py).

    python examples/augmented_cnn.py [--synthetic] [--epochs 5]
"""
import os
import tempfile

import nnforge as keras
from nnforge import layers

import example_args

from cifar10_cnn import synthetic_cifar


def main() -> float:
    args = example_args.parse_args(__doc__, epochs=5,
                                   synthetic_help="train on generated CIFAR-shaped data")

    if args.synthetic:
        (x_train, y_train), (x_test, y_test) = synthetic_cifar(n_train=6000, n_test=1000)
    else:
        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
        except (FileNotFoundError, OSError) as e:
            raise SystemExit(f"{e}\nRun with --synthetic to train on generated data instead.")

    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        layers.Rescaling(1.0 / 255),
        layers.RandomFlip("horizontal"),
        layers.RandomTranslation(0.1, 0.1),
        layers.RandomContrast(0.1),
        layers.Conv2D(32, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    checkpoint = os.path.join(tempfile.mkdtemp(prefix="nnforge-aug-"), "best.keras")
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_accuracy", save_best_only=True),
    ]
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, validation_split=0.1,
              callbacks=callbacks, verbose=args.verbose)
    best = keras.models.load_model(checkpoint)
    _, acc = best.evaluate(x_test, y_test, verbose=0)
    print(f"Best checkpoint: {checkpoint}")
    print(f"Test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
