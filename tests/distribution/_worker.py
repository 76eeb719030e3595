"""Runs one distributed-training scenario in this process; the tests launch it with
``mpiexec -n P`` (or plainly, for the single-process reference) and compare what each process
writes to ``--out``: ``rank{r}_{model}.npz`` with the weights after every epoch, the weight hash
after every epoch, the logs, evaluate/predict results and how many files this process wrote.
"""
import argparse
import json
import os
import signal
import sys
import time

import numpy as np

import nnforge as keras
from nnforge import layers


def data(model_name: str, rows: int):
    if model_name.startswith("cnn"):
        rng = np.random.default_rng(1)
        x = rng.random((rows + 50, 32, 32, 3), dtype=np.float32)
        y = keras.utils.to_categorical(rng.integers(0, 10, rows + 50), 10)
    else:
        (x, y), _ = keras.datasets.mnist.load_data()
        x = x[:rows + 50].astype("float32") / 255
        y = keras.utils.to_categorical(y[:rows + 50], 10)
    return (x[:rows], y[:rows]), (x[rows:], y[rows:])


def build(model_name: str, optimizer: str = "adam"):
    """``mlp``, ``cnn`` or ``bnmlp``; a suffix ``_sgd`` compiles with SGD instead of Adam."""
    if "_" in model_name:
        model_name, optimizer = model_name.split("_")
    if model_name == "cnn":
        m = keras.Sequential([
            keras.Input((32, 32, 3)), layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    elif model_name == "bnmlp":  # synchronized BatchNormalization must match one process
        m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(32, use_bias=False),
                              layers.BatchNormalization(synchronized=True),
                              layers.Activation("relu"), layers.Dense(10, activation="softmax")])
    else:
        m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    m.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return m


class Recorder(keras.callbacks.Callback):
    """Weights and weight hash after every epoch; optionally kills, fails or stalls this
    process at (epoch, batch)."""

    def __init__(self, distributed: bool, fault=None, at=(0, 0), out="."):
        super().__init__()
        self.distributed, self.fault, self.at, self.out = distributed, fault, at, out
        self.weights, self.hashes = [], []
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.fault and (self.epoch, batch) == self.at and keras.distribution.process_id() == 1:
            with open(os.path.join(self.out, "fault_time"), "w") as f:
                f.write(repr(time.time()))
            if self.fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.fault == "raise":
                raise RuntimeError("injected failure on process 1")
            if self.fault == "stall":
                time.sleep(600)

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])
        if self.distributed:
            self.hashes.append(keras.distribution.assert_replicas_in_sync(self.model))
        else:
            self.hashes.append(keras.distribution.weights_hash(self.model))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="mlp")
    p.add_argument("--rows", type=int, default=194)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--distributed", type=int, default=1)
    p.add_argument("--verbose", type=int, default=0)
    p.add_argument("--checkpoint", type=int, default=0)
    p.add_argument("--fault", default=None)
    p.add_argument("--fault-at", default="0,0")
    p.add_argument("--timeout", type=float, default=25.0)
    p.add_argument("--resume", default=None, help="a checkpoint to resume from")
    p.add_argument("--shuffle", type=int, default=1)
    p.add_argument("--optimizer", default="adam")
    args = p.parse_args()

    if args.distributed:
        keras.distribution.initialize()
        keras.distribution.set_distribution(keras.distribution.DataParallel(
            timeout=args.timeout))
    rank = keras.distribution.process_id()

    # Count the files this process really writes.
    from nnforge.saving import keras_file
    writes = {"n": 0}
    real_save = keras_file.save_model

    def counting_save(*a, **k):
        writes["n"] += 1
        return real_save(*a, **k)
    keras_file.save_model = counting_save

    for name in args.models.split(","):
        writes["n"] = 0
        keras.utils.set_random_seed(0)
        (x, y), (xv, yv) = data(name, args.rows)
        if args.resume:
            model = keras.saving.load_model(args.resume)
        else:
            model = build(name, args.optimizer)
        at = tuple(int(v) for v in args.fault_at.split(","))
        rec = Recorder(bool(args.distributed), args.fault, at, args.out)
        cbs = [rec]
        if args.checkpoint:
            cbs.append(keras.callbacks.ModelCheckpoint(
                os.path.join(args.out, f"{name}-ckpt-{{epoch}}.keras")))
        hist = model.fit(x, y, batch_size=args.batch, epochs=args.epochs, verbose=args.verbose,
                         validation_data=(xv, yv), callbacks=cbs, shuffle=bool(args.shuffle),
                         initial_epoch=model.epochs_trained if args.resume else 0)
        ev = model.evaluate(xv, yv, batch_size=args.batch, verbose=0, return_dict=True)
        pred = model.predict(xv, batch_size=args.batch, verbose=0)
        np.savez(os.path.join(args.out, f"rank{rank}_{name}.npz"),
                 pred=pred, hashes=np.array(rec.hashes),
                 **{f"w{e}_{i}": w for e, ws in enumerate(rec.weights) for i, w in enumerate(ws)})
        with open(os.path.join(args.out, f"rank{rank}_{name}.json"), "w") as f:
            json.dump({"history": hist.history, "evaluate": ev, "writes": writes["n"],
                       "epochs": len(rec.weights),
                       "mpi4py_imported": "mpi4py" in sys.modules}, f)


if __name__ == "__main__":
    main()
