"""Tune the seed MLP on MNIST (units, dropout, learning rate) with nnforge.tuner, then train the
best configuration on the full training set and report its test accuracy.

Runs offline (MNIST ships inside the package). With Optuna installed (pip install
"nnforge[tune]") the search is BayesianOptimization (TPE) with median pruning; without it, a
RandomSearch. The search keeps its state in --directory: run the script again and it resumes.
    python examples/tune_mnist.py [--trials 10] [--search-samples 20000] [--epochs 8]
"""
import argparse
import importlib.util
import time

import nnforge as keras
from nnforge import layers
from nnforge import tuner as kt


def build_model(hp):
    """The seed MLP with its hidden width, a dropout rate and Adam's learning rate tuned."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(hp.Int("units", 64, 512, step=64), activation="relu"),
        layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)),
        layers.Dense(10, activation="softmax"),
    ])
    lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--search-samples", type=int, default=20000,
                        help="training samples each trial uses (the search's budget)")
    parser.add_argument("--search-epochs", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=8, help="epochs of the final training")
    parser.add_argument("--directory", default="tuner_runs")
    parser.add_argument("--overwrite", action="store_true", help="start the search over")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    t0 = time.time()

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    x_val, y_val = x_train[-6000:], y_train[-6000:]       # as validation_split=0.1 would hold out
    x_fit, y_fit = x_train[:-6000], y_train[:-6000]

    if importlib.util.find_spec("optuna") is not None:
        tuner = kt.BayesianOptimization(build_model, objective="val_accuracy",
                                        max_trials=args.trials, num_initial_points=4,
                                        seed=args.seed, pruner="median",
                                        directory=args.directory, project_name="tune_mnist",
                                        overwrite=args.overwrite)
    else:
        tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=args.trials,
                                seed=args.seed, directory=args.directory,
                                project_name="tune_mnist", overwrite=args.overwrite)
    tuner.search_space_summary()
    n = args.search_samples
    tuner.search(x_fit[:n], y_fit[:n], epochs=args.search_epochs, batch_size=32,
                 validation_data=(x_val, y_val))
    tuner.results_summary(3)

    best_hp = tuner.get_best_hyperparameters(1)[0]
    print(f"Best hyperparameters: {best_hp.values}; training them on all "
          f"{len(x_fit)} samples for {args.epochs} epochs")
    model = build_model(best_hp)
    model.fit(x_fit, y_fit, epochs=args.epochs, batch_size=32, validation_data=(x_val, y_val),
              verbose=2)
    _, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {test_acc:.4f} (wall time {time.time() - t0:.0f}s)")
    return test_acc


if __name__ == "__main__":
    main()
