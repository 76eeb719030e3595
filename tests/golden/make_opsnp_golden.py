"""Golden outputs of Keras 3 (TensorFlow backend) for the NumPy-style, linalg and fft ops
(tests/ops/test_numpy_ops.py). The inputs and calls are in tests/golden/opsnp_cases.py.

Run from the repository root with the peers venv:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_opsnp_golden.py

It writes tests/golden/opsnp.npz: for case KEY, output number i is ``KEY/i`` (a single output
is ``KEY/0``), its dtype name ``KEY/i/dtype``; istft outputs are computed from the stft cases;
``result_type/*`` holds Keras's dtype promotion table."""
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras  # noqa: E402
from opsnp_cases import (CASES, SIG, SWEEP_BINARY, SWEEP_DTYPES, SWEEP_PARTNERS,  # noqa: E402
                         SWEEP_UNARY, GRAD_CASES, flat, grad_projection, sweep_args,
                         sweep_input, sweep_partner, watch_float32_args)


def main():
    store = {}
    for key, name, args, kwargs, _ in CASES:
        fn = getattr(keras.ops, name)
        try:
            out = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - report and skip what Keras rejects
            print(f"skip {key}: {type(e).__name__}: {e}")
            continue
        for i, o in enumerate(flat(out)):
            store[f"{key}/{i}"] = (np.asarray(o) if isinstance(o, (int, float))
                                   else keras.ops.convert_to_numpy(o))
            dt = keras.backend.standardize_dtype(o.dtype) if hasattr(o, "dtype") else type(o).__name__
            store[f"{key}/{i}/dtype"] = np.asarray(dt)
    # result dtypes over input dtypes ("error" where Keras rejects the combination)
    def outdt(call):
        try:
            out = flat(call())
            return ",".join(keras.backend.standardize_dtype(o.dtype) if hasattr(o, "dtype")
                            else type(o).__name__ for o in out)
        except Exception:  # noqa: BLE001
            return "error"
    store["sweep/unary"] = np.asarray(
        [[outdt(lambda: getattr(keras.ops, n)(*sweep_args(d, n))) for d in SWEEP_DTYPES]
         for n in SWEEP_UNARY])
    # ... and the values: per op, every output over the dtypes Keras accepts, flattened into
    # one complex vector (cast to complex128)
    for n in SWEEP_UNARY:
        vals = []
        for d in SWEEP_DTYPES:
            try:
                outs = flat(getattr(keras.ops, n)(*sweep_args(d, n)))
            except Exception:  # noqa: BLE001
                continue
            vals += [np.asarray(keras.ops.convert_to_numpy(o) if hasattr(o, "dtype") else o,
                                np.complex128).ravel() for o in outs]
        store[f"sweep/values/{n}"] = np.concatenate(vals) if vals else np.zeros(0, complex)
    store["sweep/binary"] = np.asarray(
        [[[outdt(lambda: getattr(keras.ops, n)(sweep_input(d, n), sweep_partner(p, d, n)))
           for p in SWEEP_PARTNERS] for d in SWEEP_DTYPES] for n in SWEEP_BINARY])
    # gradients under tf.GradientTape
    import tensorflow as tf

    for key, name, args, kwargs in GRAD_CASES:
        targs, leaves = watch_float32_args(args, tf.constant)
        with tf.GradientTape(persistent=True) as tape:
            for t in leaves:
                tape.watch(t)
            outs = flat(getattr(keras.ops, name)(*targs, **kwargs))
            loss = sum(tf.reduce_sum(tf.cast(o, tf.float32) * grad_projection(tuple(o.shape), i))
                       for i, o in enumerate(outs) if o.dtype.is_floating)
        try:
            grads = tape.gradient(loss, leaves)
        except Exception as e:  # noqa: BLE001 - no (or a failing) TensorFlow gradient
            print(f"skip grad/{key}: {e}")
            continue
        for i, o in enumerate(outs):  # the outputs too: eigen/singular vector signs
            store[f"grad/{key}/out{i}"] = keras.ops.convert_to_numpy(o)
        for j, g in enumerate(grads):
            store[f"grad/{key}/{j}"] = (np.full(leaves[j].shape, np.nan, np.float32) if g is None
                                        else g.numpy())
    # Keras's dtype promotion table (keras.backend.result_type) for pairs and with Python scalars
    names = ["bool", "uint8", "uint16", "uint32", "int8", "int16", "int32", "int64", "float16",
             "bfloat16", "float32", "float64", "int", "float"]
    py = {"int": int, "float": float}
    store["result_type/names"] = np.asarray(names)
    store["result_type/table"] = np.asarray(
        [[keras.backend.result_type(py.get(a, a), py.get(b, b)) for b in names] for a in names])
    store["result_type/with_float"] = np.asarray(
        [keras.backend.result_type(py.get(a, a), float) for a in names])
    # istft round trips of stft
    for key, seq, stride, nfft, kw in [("istft", 8, 4, 16, {}),
                                       ("istft_hamming", 10, 3, 10, {"window": "hamming",
                                                                      "center": False}),
                                       ("istft_len", 8, 2, 8, {"length": 30})]:
        skw = {k: v for k, v in kw.items() if k != "length"}
        spec = keras.ops.stft(SIG, seq, stride, nfft, **skw)
        y = keras.ops.istft(spec, seq, stride, nfft, **kw)
        store[f"{key}/in0"] = keras.ops.convert_to_numpy(spec[0])
        store[f"{key}/in1"] = keras.ops.convert_to_numpy(spec[1])
        store[f"{key}/0"] = keras.ops.convert_to_numpy(y)
        store[f"{key}/0/dtype"] = np.asarray(keras.backend.standardize_dtype(y.dtype))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "opsnp.npz")
    np.savez_compressed(path, **store)
    print(f"wrote {path}: {len(store)} arrays, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
