"""int8 accuracy at full scale: the seed MLP (5 epochs, as examples/mnist_mlp.py) and the keras.io
MNIST convnet (trained as keras.io trains it: batch 128, validation_split 0.1; ~99%) on all of
MNIST, then Model.quantize("int8") dynamic and with static calibration (1,000 training images);
test accuracy of each and the drop in points. (tests/models/test_quantize_accuracy.py checks the
same bars on short runs in CI.)

    python benchmarks/bench_quantize_accuracy.py [--convnet-epochs 15] [--mlp-epochs 5]
"""
import argparse
import sys
from pathlib import Path

import nnforge as keras


# the CI test's model builders and int8 evaluation, run here at full scale
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.models.test_quantize_accuracy import accuracies, mnist_convnet, seed_mlp  # noqa: E402

LABELS = {"float": "float32", "dynamic": "int8 dynamic", "static": "int8 static"}


def measure(name, make, x, y, xt, yt, epochs, batch_size, **fit_kwargs):
    keras.utils.set_random_seed(0)
    trained = make()
    trained.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, **fit_kwargs)
    acc = {LABELS[k]: v for k, v in
           accuracies(make, trained.get_weights(), xt, yt, calibration=x[:1000]).items()}
    base = acc["float32"]
    print(f"{name} ({epochs} epochs): " + ", ".join(
        f"{k} {v * 100:.2f}%" + ("" if k == "float32" else f" ({(v - base) * 100:+.2f} points)")
        for k, v in acc.items()), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mlp-epochs", type=int, default=5)
    ap.add_argument("--convnet-epochs", type=int, default=15)
    args = ap.parse_args()
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    x, xt = x.astype("float32") / 255, xt.astype("float32") / 255
    measure("seed MLP", seed_mlp, x, y, xt, yt, args.mlp_epochs, 32)
    measure("keras.io convnet", mnist_convnet, x[..., None], y, xt[..., None], yt,
            args.convnet_epochs, 128, validation_split=0.1)


if __name__ == "__main__":
    main()
