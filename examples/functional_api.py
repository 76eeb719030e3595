"""The functional API (the seed's example 3.1.2), trained on MNIST.

    python examples/functional_api.py [--epochs 3]
"""
import nnforge as keras
from nnforge import layers

import example_args


def main() -> float:
    args = example_args.parse_args(__doc__, epochs=3)

    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    model.summary()

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.reshape(60000, 784).astype("float32") / 255
    x_test = x_test.reshape(10000, 784).astype("float32") / 255

    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(),
                  optimizer=keras.optimizers.RMSprop(),
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs,
                        validation_split=0.2, verbose=args.verbose)
    test_scores = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", round(test_scores[0], 4))
    print(f"Test accuracy: {test_scores[1]:.4f}")
    return test_scores[1]


if __name__ == "__main__":
    main()
