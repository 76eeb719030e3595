"""nnforge.tuner: hyperparameter search with keras-tuner's API on Optuna's engine.

``RandomSearch`` and ``GridSearch`` need nothing else; ``BayesianOptimization``, ``Hyperband`` and
pruning (``pruner="median"`` / ``"hyperband"``) use Optuna (``pip install "nnforge[tune]"``),
imported only when such a tuner is made. A search keeps its state in ``directory/project_name``
and resumes where it stopped; several processes can work on one search at once.

Example::

    from nnforge import tuner as kt

    def build_model(hp):
        model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                                  layers.Dense(hp.Int("units", 64, 256, step=64),
                                               activation="relu"),
                                  layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2,
                                                               sampling="log")),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=10,
                            directory="runs", project_name="mnist")
    tuner.search(x, y, epochs=3, validation_split=0.1)
    best = tuner.get_best_models(1)[0]
"""
from .hypermodel import HyperModel
from .hyperparameters import Boolean, Choice, Fixed, Float, HyperParameter, HyperParameters, Int
from .objective import Objective
from .tuner import Tuner
from .tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch

__all__ = ["BayesianOptimization", "Boolean", "Choice", "Fixed", "Float", "GridSearch",
           "HyperModel", "HyperParameter", "HyperParameters", "Hyperband", "Int", "Objective",
           "RandomSearch", "Tuner"]
