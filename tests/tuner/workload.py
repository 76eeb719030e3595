"""A tiny tuning workload shared by the tuner tests and their child processes.

Run as a script it searches one project and exits:
    python workload.py DIRECTORY PROJECT TUNER MAX_TRIALS [--hang-in-trial N] [--epochs E]
``--hang-in-trial N`` writes DIRECTORY/hanging (holding the trial id) at the end of the first
epoch of the N-th trial this process runs, then sleeps, so a test can SIGKILL it mid-trial.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def data(n: int = 256, seed: int = 0):
    """A separable 2-class problem on 8 features: (x, one-hot y)."""
    import nnforge as keras
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = keras.utils.to_categorical((x[:, 0] + x[:, 1] > 0).astype(int), 2)
    return x, y


def build_model(hp):
    import nnforge as keras
    from nnforge import layers
    model = keras.Sequential([keras.Input((8,)),
                              layers.Dense(hp.Int("units", 4, 32, step=4), activation="relu"),
                              layers.Dense(2, activation="softmax")])
    lr = hp.Float("lr", 1e-4, 1e-1, sampling="log")
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def make_tuner(kind: str, directory: str, project: str, max_trials: int, **kwargs):
    from nnforge import tuner as kt
    cls = {"random": kt.RandomSearch, "bayes": kt.BayesianOptimization}[kind]
    return cls(build_model, objective="val_accuracy", max_trials=max_trials,
               directory=directory, project_name=project, **kwargs)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("directory")
    p.add_argument("project")
    p.add_argument("kind")
    p.add_argument("max_trials", type=int)
    p.add_argument("--hang-in-trial", type=int, default=None)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    import nnforge as keras
    callbacks = []
    if args.hang_in_trial is not None:
        state = {"trials": 0}

        class Hang(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                state["trials"] += 1

            def on_epoch_end(self, epoch, logs=None):
                if state["trials"] == args.hang_in_trial:
                    with open(os.path.join(args.directory, "hanging"), "w") as f:
                        f.write("1")
                    time.sleep(600)

        callbacks.append(Hang())
    tuner = make_tuner(args.kind, args.directory, args.project, args.max_trials)
    x, y = data()
    tuner.search(x, y, epochs=args.epochs, validation_split=0.25, callbacks=callbacks,
                 verbose=0)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    main()
