import os, sys, numpy as np, json
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
d = np.load(sys.argv[1], allow_pickle=False)
x = d["x"]
out = {}
for kind in ("SimpleRNN", "LSTM", "GRU"):
    for rs in (False, True):
        for gb in (False, True):
            layer = getattr(keras.layers, kind)(5, return_sequences=rs, go_backwards=gb)
            layer.build(x.shape)
            ws = [d[f"{kind}_{i}"] for i in range(len(layer.weights))]
            layer.set_weights(ws)
            out[f"{kind}_{rs}_{gb}"] = np.asarray(layer(x))
np.savez(sys.argv[2], **out)
