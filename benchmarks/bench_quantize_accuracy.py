"""int8 accuracy at full scale: the seed MLP (5 epochs, as examples/mnist_mlp.py) and the keras.io
MNIST convnet (trained as keras.io trains it: batch 128, validation_split 0.1; ~99%) on all of
MNIST, then Model.quantize("int8") dynamic and with static calibration (1,000 training images);
test accuracy of each and the drop in points. (tests/models/test_quantize_accuracy.py checks the
same bars on short runs in CI.)

    python benchmarks/bench_quantize_accuracy.py [--convnet-epochs 15] [--mlp-epochs 5]
"""
import argparse
import warnings

import nnforge as keras
from nnforge import layers


def mlp():
    m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                          layers.Dense(128, activation="relu"),
                          layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def convnet():
    m = keras.Sequential([keras.Input((28, 28, 1)),
                          layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                          layers.MaxPooling2D(pool_size=(2, 2)),
                          layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                          layers.MaxPooling2D(pool_size=(2, 2)),
                          layers.Flatten(), layers.Dropout(0.5),
                          layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def measure(name, make, x, y, xt, yt, epochs, batch_size, **fit_kwargs):
    keras.utils.set_random_seed(0)
    trained = make()
    trained.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, **fit_kwargs)
    weights = trained.get_weights()
    acc = {}
    for mode in ("float32", "int8 dynamic", "int8 static"):
        m = make()
        m.set_weights(weights)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if mode == "int8 dynamic":
                m.quantize("int8")
            elif mode == "int8 static":
                m.quantize("int8", calibration_data=x[:1000])
        acc[mode] = m.evaluate(xt, yt, verbose=0)[1]
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
    measure("seed MLP", mlp, x, y, xt, yt, args.mlp_epochs, 32)
    measure("keras.io convnet", convnet, x[..., None], y, xt[..., None], yt,
            args.convnet_epochs, 128, validation_split=0.1)


if __name__ == "__main__":
    main()
