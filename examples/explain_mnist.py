"""Explaining the keras.io MNIST convnet with nnforge.explain.

Trains the convnet of keras.io's "Simple MNIST convnet" example, then writes into OUTPUT_DIR:
saliency, integrated-gradients, Grad-CAM and Grad-CAM++ pictures for a few test digits (one PNG
per map and digit, plus grid.png with all of them), and sanity_check.txt: Adebayo et al.'s
cascading model-randomisation test for each method. Runs offline (MNIST ships with nnforge);
needs Pillow.

Usage:
    python examples/explain_mnist.py [OUTPUT_DIR] [--epochs 3] [--seed 0] [--digits 6] [--quick]

``--quick`` trains on 4000 images for 2 epochs and explains 4 digits (about half a minute).
"""
import argparse
import os
import time

import numpy as np
from PIL import Image

import nnforge as keras
from nnforge import explain, layers

SCALE = 4  # each 28x28 map is written 4x larger (nearest neighbour), 112x112 pixels


def build_model() -> keras.Model:
    """keras.io's "Simple MNIST convnet"."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def upscale(rgb: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(rgb, SCALE, axis=0), SCALE, axis=1)


def save_png(rgb: np.ndarray, path: str) -> None:
    Image.fromarray(upscale(rgb)).save(path)


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output_dir", nargs="?", default="explain_mnist_out")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--digits", type=int, default=6, help="test digits to explain")
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--quick", action="store_true",
                        help="4000 training images, 2 epochs, 4 digits, fewer IG steps")
    args = parser.parse_args()
    if args.quick:
        args.train_size, args.epochs, args.digits = min(args.train_size, 4000), 2, 4
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.output_dir, exist_ok=True)

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train[:args.train_size].astype("float32")[..., None] / 255.0
    x_test = x_test.astype("float32")[..., None] / 255.0
    y_train = keras.utils.to_categorical(y_train[:args.train_size], 10)

    model = build_model()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=args.epochs, validation_split=0.1,
              verbose=0 if args.quick else 2)
    train_s = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test[:2000], keras.utils.to_categorical(y_test[:2000], 10),
                                 verbose=0)
    print(f"trained {args.epochs} epoch(s) on {len(x_train)} images in {train_s:.1f} s; "
          f"test accuracy {accuracy:.4f} (first 2000 test images)")

    x = x_test[:args.digits]
    steps = 32 if args.quick else 64
    sal = explain.saliency(model, x, output="logits")
    ig, delta = explain.integrated_gradients(model, x, steps=steps, output="logits",
                                             return_convergence_delta=True)
    cam = explain.grad_cam(model, x, output="logits")
    campp = explain.grad_cam_plus_plus(model, x, output="logits")
    predicted = np.argmax(np.asarray(model.predict(x, verbose=0)), axis=1)
    print(f"integrated gradients ({steps} steps): largest |convergence delta| "
          f"{np.abs(delta).max():.2e}")

    rows = []
    for i in range(len(x)):
        image = np.round(x[i, ..., 0] * 255).astype(np.uint8)
        cells = {
            "input": np.stack([image] * 3, axis=-1),
            "saliency": explain.colorize(sal[i, ..., 0], "inferno"),
            "ig": explain.colorize(np.abs(ig[i, ..., 0]), "inferno"),
            "gradcam": explain.overlay(x[i], cam[i], alpha=0.5),
            "gradcampp": explain.overlay(x[i], campp[i], alpha=0.5),
        }
        for name, rgb in cells.items():
            save_png(rgb, os.path.join(args.output_dir, f"digit{i}_{name}.png"))
        rows.append(np.concatenate([upscale(c) for c in cells.values()], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(
        os.path.join(args.output_dir, "grid.png"))

    checks = [
        ("saliency, |gradient|", "saliency", {}, "absolute"),
        ("saliency, signed gradient", "saliency", {"absolute": False}, "signed"),
        ("grad_cam", "grad_cam", {}, "absolute"),
        ("grad_cam, relu=False", "grad_cam", {"relu": False}, "signed"),
        ("grad_cam_plus_plus", "grad_cam_plus_plus", {}, "absolute"),
        ("integrated_gradients", "integrated_gradients", {"steps": steps}, "absolute"),
    ]
    x_check = x_test[:16]
    lines = [f"Cascading randomisation (Adebayo et al. 2018) of the keras.io MNIST convnet, "
             f"{len(x_check)} test digits, output='logits', seed {args.seed}.", ""]
    finals = {}
    for title, method, kwargs, compare in checks:
        result = explain.sanity_check(method, model, x_check, output="logits", compare=compare,
                                      seed=args.seed, **kwargs)
        finals[title] = float(result.mean[-1])
        lines += [f"## {title} (compare={compare})", result.table(), ""]
    text = "\n".join(lines)
    with open(os.path.join(args.output_dir, "sanity_check.txt"), "w") as f:
        f.write(text)
    print(text)
    print(f"predicted classes {predicted.tolist()}; pictures and table in {args.output_dir}")
    return {"accuracy": accuracy, "final_correlations": finals}


if __name__ == "__main__":
    main()
