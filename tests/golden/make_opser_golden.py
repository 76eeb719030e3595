"""Goldens for raw ops in functional models (issue #17, ``opser``).

Run with the peers venv from the repository root:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_opser_golden.py

Writes ``tests/golden/opser_keras.keras`` (Keras 3's save of ``opser_cases.build(keras)``, its
Dense weights fixed by a seed), ``tests/golden/opser_more_keras.keras`` (``build_more``) and
``tests/golden/opser.npz`` (the inputs ``a``, ``s``, ``x_more`` and Keras's outputs
``out_<name>`` and ``more_<name>``)."""
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import opser_cases  # noqa: E402


def main():
    keras.utils.set_random_seed(7)
    model = opser_cases.build(keras)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(2,) + opser_cases.INPUT_SHAPE).astype("float32")
    s = rng.normal(size=(2,) + opser_cases.SQUARE).astype("float32")
    outs = model.predict({"a": a, "s": s}, verbose=0)
    model.save(HERE / "opser_keras.keras")
    arrays = {"a": a, "s": s}
    arrays.update({f"out_{k}": np.asarray(v) for k, v in outs.items()})
    more = opser_cases.build_more(keras)
    more_a = rng.normal(size=(2,) + opser_cases.MORE_SHAPE).astype("float32")
    more_out = more.predict(more_a, verbose=0)
    more.save(HERE / "opser_more_keras.keras")
    arrays["x_more"] = more_a
    arrays.update({f"more_{k}": np.asarray(v) for k, v in more_out.items()})
    np.savez_compressed(HERE / "opser.npz", **arrays)
    print("wrote", sorted(arrays))


if __name__ == "__main__":
    main()
