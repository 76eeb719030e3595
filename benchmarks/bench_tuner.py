"""Pruned against unpruned hyperparameter search on the seed MLP (issue #14's bar).

The same 20 configurations (Optuna's random sampler, one seed) of the seed MLP (784-128-10 with
its hidden width, a dropout rate and Adam's learning rate tuned) are trained on an MNIST subset
three times: without pruning (Optuna's NopPruner), with median pruning and with Hyperband
pruning. Printed: epochs spent, best validation accuracy, wall time. Bar: a pruned search spends
<= 50% of the unpruned search's epochs, and its best validation accuracy is within 1 point.
    python benchmarks/bench_tuner.py [--trials 20] [--epochs 9] [--samples 10000]
"""
import argparse
import json
import tempfile
import time

import optuna

import nnforge as keras
from nnforge import layers
from nnforge import tuner as kt


def build_model(hp):
    model = keras.Sequential([
        keras.Input(shape=(28, 28)), layers.Flatten(),
        layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"),
        layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-5, 1e-1,
                                                           sampling="log")),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def run(name, pruner, data, args, folder):
    keras.utils.set_random_seed(0)
    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=args.trials,
                            seed=args.seed, pruner=pruner, directory=folder, project_name=name)
    x, y, xv, yv = data
    t0 = time.time()
    tuner.search(x, y, epochs=args.epochs, batch_size=32, validation_data=(xv, yv), verbose=0)
    trials = tuner.trials
    return {"search": name, "epochs_spent": sum(t["epochs"] for t in trials),
            "pruned_trials": sum(t["status"] == "PRUNED" for t in trials),
            "best_val_accuracy": max(t["score"] for t in trials if t["score"] is not None),
            "best_hyperparameters": tuner.get_best_hyperparameters(1)[0].values,
            "wall_s": round(time.time() - t0, 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--epochs", type=int, default=9)
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    (x, y), _ = keras.datasets.mnist.load_data()
    x = x.astype("float32") / 255
    y = keras.utils.to_categorical(y, 10)
    data = (x[:args.samples], y[:args.samples], x[-5000:], y[-5000:])
    with tempfile.TemporaryDirectory() as folder:
        rows = [run("unpruned", optuna.pruners.NopPruner(), data, args, folder),
                run("median", optuna.pruners.MedianPruner(n_startup_trials=5,
                                                          n_warmup_steps=1), data, args, folder),
                run("hyperband", optuna.pruners.HyperbandPruner(
                    min_resource=1, max_resource=args.epochs, reduction_factor=3),
                    data, args, folder)]
    base = rows[0]
    print(f"{'search':<10} {'epochs':>6} {'of unpruned':>11} {'pruned':>6} {'best val acc':>12} "
          f"{'diff (points)':>13} {'wall s':>7}")
    for r in rows:
        r["epochs_ratio"] = round(r["epochs_spent"] / base["epochs_spent"], 3)
        r["acc_diff_points"] = round(100 * (r["best_val_accuracy"] - base["best_val_accuracy"]),
                                     2)
        print(f"{r['search']:<10} {r['epochs_spent']:>6} {r['epochs_ratio']:>11.0%} "
              f"{r['pruned_trials']:>6} {r['best_val_accuracy']:>12.4f} "
              f"{r['acc_diff_points']:>13.2f} {r['wall_s']:>7}")
    for r in rows[1:]:
        ok = r["epochs_ratio"] <= 0.5 and r["acc_diff_points"] >= -1.0
        print(f"bar ({r['search']}): epochs <= 50% and best val acc within 1 point: "
              f"{'MET' if ok else 'NOT MET'}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
