"""Golden outputs of Keras 3's int8 quantization, for tests/layers/test_quantized.py.

Writes tests/golden/int8py.npz (float weights, Keras's int8 weights and scales, outputs) and
tests/golden/int8py_dense.keras and int8py_embedding.keras (quantized models saved by Keras 3). Run with the peers
venv from the repository root:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_int8py_golden.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def main():
    rng = np.random.default_rng(1234)
    out = {}
    # -- a quantized Dense model ---------------------------------------------------------------
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(4)], name="int8_dense_model")
    for i, layer in enumerate(model.layers):
        k = rng.normal(0, 0.5, layer.kernel.shape).astype("float32")
        b = rng.normal(0, 0.1, layer.bias.shape).astype("float32")
        layer.set_weights([k, b])
        out[f"dense{i}_kernel"], out[f"dense{i}_bias"] = k, b
    x = rng.normal(0, 1, (6, 8)).astype("float32")
    out["dense_x"] = x
    out["dense_float_y"] = np.asarray(model.predict(x, verbose=0))
    model.quantize("int8")
    for i, layer in enumerate(model.layers):
        out[f"dense{i}_kernel_q"] = np.asarray(layer._kernel.numpy())
        out[f"dense{i}_kernel_scale"] = np.asarray(layer.kernel_scale.numpy())
    out["dense_int8_y"] = np.asarray(model.predict(x, verbose=0))
    model.save(HERE / "int8py_dense.keras")
    # -- a quantized Embedding -----------------------------------------------------------------
    emb = keras.layers.Embedding(10, 6)
    emb.build((None,))
    table = rng.normal(0, 1, (10, 6)).astype("float32")
    emb.set_weights([table])
    ids = np.array([[0, 3, 9], [5, 5, 1]], dtype="int32")
    emb.quantize("int8")
    out["emb_table"], out["emb_ids"] = table, ids
    out["emb_table_q"] = np.asarray(emb._embeddings.numpy())
    out["emb_scale"] = np.asarray(emb.embeddings_scale.numpy())
    out["emb_y"] = np.asarray(emb(ids))
    # -- a quantized Embedding model saved by Keras ----------------------------------------------
    emodel = keras.Sequential([keras.Input((3,), dtype="int32"), keras.layers.Embedding(10, 6),
                               keras.layers.Flatten(), keras.layers.Dense(2)],
                              name="int8_embedding_model")
    emodel.layers[0].set_weights([table])
    emodel.quantize("int8")
    out["emb_model_y"] = np.asarray(emodel.predict(ids, verbose=0))
    out["emb_model_dense_kernel_q"] = np.asarray(emodel.layers[2]._kernel.numpy())
    emodel.save(HERE / "int8py_embedding.keras")
    np.savez_compressed(HERE / "int8py.npz", **out)
    print("wrote", HERE / "int8py.npz", "and", HERE / "int8py_dense.keras")


if __name__ == "__main__":
    main()
