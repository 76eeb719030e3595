"""Golden outputs of keras.applications produced by real Keras 3, for tests/applications.

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_applications_golden.py
    ... make_applications_golden.py --names InceptionV3 Xception   # refresh only these entries

Writes, next to this file:
- applications.json: for every architecture nnforge implements, built with weights=None at its
  default input size: the parameter count and, per layer with weights in model.layers order,
  (class name, weight shapes), which is what a Keras 3 weights file is keyed by; plus the same
  for a few non-default arguments (include_top=False with pooling, alpha, input_shape).
- applications_mobilenet_v2.weights.h5 and applications_io.npz: a small MobileNetV2
  (alpha 0.35, 32x32 inputs, 10 classes) with seeded random weights saved by Keras 3, random
  images, its predictions and the preprocessed images; grouped Conv2D outputs and gradients.
"""
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402

HERE = Path(__file__).resolve().parent
A = keras.applications
NAMES = ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
         "DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1",
         "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5",
         "EfficientNetB6", "EfficientNetB7", "EfficientNetV2B0", "EfficientNetV2B1",
         "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2S", "EfficientNetV2M",
         "EfficientNetV2L", "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Small",
         "MobileNetV3Large", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
         "ResNet152V2", "VGG16", "VGG19", "Xception"]
VARIANTS = {
    "ResNet50_notop_avg": ("ResNet50", dict(include_top=False, pooling="avg",
                                            input_shape=(64, 64, 3))),
    "MobileNetV2_a035_96": ("MobileNetV2", dict(alpha=0.35, input_shape=(96, 96, 3))),
    "MobileNet_a05_max": ("MobileNet", dict(alpha=0.5, include_top=False, pooling="max")),
    "MobileNetV3Small_min": ("MobileNetV3Small", dict(minimalistic=True, alpha=0.75)),
    "EfficientNetB0_c10": ("EfficientNetB0", dict(classes=10, input_shape=(64, 64, 3))),
    "DenseNet121_notop": ("DenseNet121", dict(include_top=False)),
    "ConvNeXtTiny_notop": ("ConvNeXtTiny", dict(include_top=False, pooling="avg",
                                                input_shape=(64, 64, 3))),
    "Xception_c5": ("Xception", dict(classes=5, input_shape=(96, 96, 3))),
}


def layer_signature(model):
    out = []
    for layer in model.layers:
        if layer.weights:
            out.append([type(layer).__name__, [list(w.shape) for w in layer.weights]])
    return out


def describe(fn, kwargs):
    keras.utils.clear_session()
    m = fn(weights=None, **kwargs)
    return {"params": int(m.count_params()), "layers": layer_signature(m),
            "output_shape": list(m.output_shape)}


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", nargs="*", help="only (re)describe these architectures")
    args = ap.parse_args()
    if args.names:
        path = HERE / "applications.json"
        golden = json.loads(path.read_text())
        for name in args.names:
            golden[name] = describe(getattr(A, name), {})
        path.write_text(json.dumps(golden, indent=0, sort_keys=True))
        return
    golden = {}
    for name in NAMES:
        golden[name] = describe(getattr(A, name), {})
        print(name, golden[name]["params"], flush=True)
    for key, (name, kwargs) in VARIANTS.items():
        golden[key] = dict(describe(getattr(A, name), kwargs), builder=name,
                           kwargs={k: list(v) if isinstance(v, tuple) else v
                                   for k, v in kwargs.items()})
        print(key, golden[key]["params"], flush=True)
    (HERE / "applications.json").write_text(json.dumps(golden, indent=0, sort_keys=True))

    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(1)
    keras.utils.clear_session()
    m = A.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10)
    # give the BatchNormalization statistics non-trivial values, as trained weights have
    for layer in m.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            mean, var = layer.moving_mean, layer.moving_variance
            mean.assign(rng.normal(0, 0.1, mean.shape).astype("float32"))
            var.assign(rng.uniform(0.5, 1.5, var.shape).astype("float32"))
    m.save_weights(str(HERE / "applications_mobilenet_v2.weights.h5"))
    images = rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    x = A.mobilenet_v2.preprocess_input(images.copy())
    io = {"images": images, "mobilenet_v2_x": x,
          "mobilenet_v2_y": np.asarray(m.predict(x, verbose=0)),
          "resnet_pre": A.resnet50.preprocess_input(images.copy()),
          "densenet_pre": A.densenet.preprocess_input(images.copy())}
    # grouped convolutions: outputs and input/kernel gradients of a sum of squares
    import tensorflow as tf
    for tag, (groups, filters) in {"g2": (2, 4), "g3": (3, 6), "gdw": (6, 12)}.items():
        keras.utils.set_random_seed(2)
        layer = keras.layers.Conv2D(filters, 3, groups=groups, padding="same", strides=1)
        xin = tf.constant(rng.standard_normal((2, 7, 7, 6)).astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch(xin)
            y = layer(xin)
            loss = tf.reduce_sum(y * y)
        dx, dk = tape.gradient(loss, [xin, layer.kernel])
        io.update({f"{tag}_x": xin.numpy(), f"{tag}_kernel": layer.kernel.numpy(),
                   f"{tag}_bias": layer.bias.numpy(), f"{tag}_y": y.numpy(),
                   f"{tag}_dx": dx.numpy(), f"{tag}_dk": dk.numpy()})
    np.savez_compressed(HERE / "applications_io.npz", **io)


if __name__ == "__main__":
    main()
