import os, sys, numpy as np
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
d = np.load(sys.argv[1]); x = d["x"]; out = {}
specs = {"t_valid2": ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="valid")),
         "t_same2": ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same")),
         "t_same1": ("Conv2DTranspose", dict(filters=4, kernel_size=(2, 3), padding="same")),
         "d_same": ("DepthwiseConv2D", dict(kernel_size=3, padding="same", depth_multiplier=2)),
         "d_valid2": ("DepthwiseConv2D", dict(kernel_size=3, strides=2)),
         "s_same": ("SeparableConv2D", dict(filters=5, kernel_size=3, padding="same", depth_multiplier=2))}
for key, (cls, kw) in specs.items():
    layer = getattr(keras.layers, cls)(**kw); layer.build(x.shape)
    layer.set_weights([d[f"{key}_{i}"] for i in range(len(layer.weights))])
    out[key] = np.asarray(layer(x))
np.savez(sys.argv[2], **out)
