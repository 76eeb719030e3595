"""MNIST multilayer perceptron (the seed's example 5.1), in Keras's API with nnforge's kernels.

Runs offline: the MNIST data ships inside the package. Usage:
    python examples/mnist_mlp.py [--epochs 5] [--batch-size 32] [--seed 0]
"""
import nnforge as keras
from nnforge import layers

import example_args


def load_data():
    """MNIST scaled to [0, 1], with one-hot labels: ``(x_train, y_train), (x_test, y_test)``."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    return (x_train, y_train), (x_test, y_test)


def build_model():
    """The seed MLP: 784 pixels -> 128 ReLU units -> 10 softmax classes (101,770 weights)."""
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def main() -> float:
    args = example_args.parse_args(__doc__, epochs=5, batch_size=32)

    # Load and prepare the data
    (x_train, y_train), (x_test, y_test) = load_data()

    # Build the model
    model = build_model()
    model.summary()

    # Compile, train, evaluate
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              validation_split=0.1, verbose=args.verbose)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {test_acc:.4f}")
    return test_acc


if __name__ == "__main__":
    main()
