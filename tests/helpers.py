"""Shared test helpers: finite-difference gradient checks through nnforge.GradientTape."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

import nnforge
from nnforge import ops

# The peers venv's Python, with real Keras 3 (tests that need it skip where it is missing).
PEERS = Path(os.environ.get("NNFORGE_PEERS_PYTHON", "/tmp/peers/bin/python"))


def run_keras3(script: str, *args, timeout: float = None) -> None:
    """Runs a Python script under real Keras 3 (the peers venv, TensorFlow backend on the CPU,
    without nnforge's PYTHONPATH) and asserts it exits 0.

    Args:
        script: the script's source (run as ``python -c script``).
        *args: its command-line arguments (paths are passed as strings).
        timeout: seconds before it is killed (None: no limit).

    Example:
        run_keras3("import sys, keras; keras.models.load_model(sys.argv[1])", tmp_path / "m.keras")
    """
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="")
    env.pop("PYTHONPATH", None)
    r = subprocess.run([str(PEERS), "-c", script, *map(str, args)], env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]


def tape_grads(fn: Callable, arrays: Sequence[np.ndarray], proj: np.ndarray):
    """Gradients of sum(fn(*tensors) * proj) with respect to each input array."""
    tensors = [ops.convert_to_tensor(a.astype(np.float32)) for a in arrays]
    with nnforge.GradientTape() as tape:
        tape.watch(tensors)
        out = fn(*tensors)
        loss = ops.sum(ops.multiply(out, proj.astype(np.float32)))
    grads = tape.gradient(loss, tensors)
    return [None if g is None else g.numpy().astype(np.float64) for g in grads]


def central_differences(f: Callable[[], float], arr: np.ndarray, eps: float) -> np.ndarray:
    """The gradient of the scalar ``f()`` with respect to ``arr`` by central differences.

    Args:
        f: computes the scalar from the current contents of ``arr`` (called twice per element).
        arr: a C-contiguous array ``f`` reads; each element is moved by +-eps in place and put
            back.
        eps: the step.

    Returns:
        A float64 array of ``arr``'s shape.

    Example:
        >>> a = np.array([1.0, 2.0])
        >>> np.round(central_differences(lambda: float(np.sum(a ** 2)), a, 1e-6), 4)
        array([2., 4.])
    """
    g = np.zeros(arr.shape, dtype=np.float64)
    flat, gf = arr.reshape(-1), g.reshape(-1)
    for j in range(flat.size):
        orig = flat[j]
        flat[j] = orig + eps
        fp = f()
        flat[j] = orig - eps
        fm = f()
        flat[j] = orig
        gf[j] = (fp - fm) / (2 * eps)
    return g


def numeric_grads(fn: Callable, arrays: Sequence[np.ndarray], proj: np.ndarray,
                  eps: float = 1e-2, which=None):
    """Central differences of sum(fn(*arrays) * proj), evaluated in float32 by our kernels."""
    def value() -> float:
        return float(np.sum(np.asarray(fn(*[ops.convert_to_tensor(x.astype(np.float32))
                                             for x in arrays]), dtype=np.float64) * proj))

    return [None if which is not None and i not in which else central_differences(value, a, eps)
            for i, a in enumerate(arrays)]


def check_grads(fn: Callable, arrays: Sequence[np.ndarray], seed: int = 0, eps: float = 1e-2,
                rtol: float = 2e-2, atol: float = 2e-3, which=None) -> None:
    """Assert tape gradients of fn match central finite differences for every input."""
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    out = np.asarray(fn(*[ops.convert_to_tensor(a.astype(np.float32)) for a in arrays]))
    proj = rng.standard_normal(out.shape)
    analytic = tape_grads(fn, arrays, proj)
    numeric = numeric_grads(fn, arrays, proj, eps, which)
    for i, (ga, gn) in enumerate(zip(analytic, numeric)):
        if gn is None:
            continue
        assert ga is not None, f"input {i}: no gradient from the tape"
        scale = max(1.0, float(np.abs(gn).max()))
        np.testing.assert_allclose(ga, gn, rtol=rtol, atol=atol * scale,
                                   err_msg=f"gradient of input {i} differs from finite differences")


def check_layer_grads(layer, x: np.ndarray, seed: int = 0, eps: float = 1e-3,
                      rtol: float = 2e-2, atol: float = 2e-3, training=None) -> None:
    """Assert the tape's gradients of a layer's output (randomly projected) with respect to its
    input and to each trainable weight match central finite differences."""
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float32)
    kwargs = {} if training is None else {"training": training}
    if not layer.built:
        # Weights drawn on the first call: seed them, so the check does not depend on what ran
        # before (a ReLU pre-activation within eps of 0 would make finite differences wrong).
        nnforge.utils.set_random_seed(seed)
    out = np.asarray(layer(x, **kwargs))
    proj = rng.standard_normal(out.shape).astype(np.float32)

    def value() -> float:
        return float(np.sum(np.asarray(layer(x, **kwargs), dtype=np.float64) * proj))

    xt = ops.convert_to_tensor(x)
    weights = layer.trainable_weights
    with nnforge.GradientTape() as tape:
        tape.watch(xt)
        loss = ops.sum(ops.multiply(layer(xt, **kwargs), proj))
    grads = tape.gradient(loss, [xt] + list(weights))
    targets = [x] + [w.data for w in weights]
    for i, (arr, g) in enumerate(zip(targets, grads)):
        assert g is not None, f"{layer.name}: no gradient for target {i}"
        num = central_differences(value, arr, eps)
        scale = max(1.0, float(np.abs(num).max()))
        name = "input" if i == 0 else weights[i - 1].path
        np.testing.assert_allclose(g.numpy(), num, rtol=rtol, atol=atol * scale,
                                   err_msg=f"{layer.name}: gradient of {name} differs from "
                                           "finite differences")


def run_layer_test(layer_cls, init_kwargs: dict, input_shape, expected_output_shape=None,
                   custom_objects=None, check_gradients: bool = True, seed: int = 0,
                   tmp_path=None):
    """The checks every layer passes (as Keras's ``testing.TestCase.run_layer_test``):

    1. build and call on random data of ``input_shape``; the output has
       ``expected_output_shape`` and equals the symbolic shape from ``keras.Input``;
    2. gradients of the input and of each trainable weight against finite differences;
    3. config round trip: ``from_config(get_config())`` has the same config and, with the same
       weights, the same output;
    4. saving round trip (when ``tmp_path`` is given): a model holding the layer, saved to
       ``.keras`` and loaded, predicts the same.

    Returns the built layer and its output (NumPy) for further assertions.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(input_shape)).astype(np.float32)
    nnforge.utils.set_random_seed(seed)
    layer = layer_cls(**init_kwargs)
    y = np.asarray(layer(x))
    if expected_output_shape is not None:
        assert y.shape == tuple(expected_output_shape), \
            f"{layer_cls.__name__}: output shape {y.shape}, expected {expected_output_shape}"
    symbolic = layer_cls(**init_kwargs)(nnforge.Input(tuple(input_shape[1:])))
    assert symbolic.shape == (None,) + y.shape[1:], \
        f"{layer_cls.__name__}: symbolic shape {symbolic.shape} vs eager {y.shape}"
    if check_gradients:
        check_layer_grads(layer_cls(**init_kwargs), x, seed=seed)
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, f"{layer_cls.__name__}: config round trip differs"
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x)), y, rtol=1e-6, atol=1e-6,
                               err_msg=f"{layer_cls.__name__}: clone from config differs")
    if tmp_path is not None:
        model = nnforge.Sequential([nnforge.Input(tuple(input_shape[1:])),
                                    layer_cls(**init_kwargs)])
        expected = model.predict(x, verbose=0)
        path = tmp_path / f"{layer_cls.__name__.lower()}.keras"
        model.save(path)
        restored = nnforge.saving.load_model(path, custom_objects=custom_objects)
        np.testing.assert_allclose(restored.predict(x, verbose=0), expected, rtol=1e-6,
                                   atol=1e-6,
                                   err_msg=f"{layer_cls.__name__}: .keras round trip differs")
    return layer, y


def seed_mlp(hidden: int = 128) -> "nnforge.Sequential":
    """The seed program's MNIST MLP (uncompiled): Flatten -> Dense(hidden, relu) -> Dense(10)."""
    from nnforge import layers
    return nnforge.Sequential([nnforge.Input((28, 28)), layers.Flatten(),
                               layers.Dense(hidden, activation="relu"),
                               layers.Dense(10, activation="softmax")])


def seed_cnn() -> "nnforge.Sequential":
    """The seed program's CIFAR-10 CNN (uncompiled): two Conv2D + MaxPooling2D, Dense(10)."""
    from nnforge import layers
    return nnforge.Sequential([
        nnforge.Input((32, 32, 3)), layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(10, activation="softmax")])


def check_inference_model_saves(layer, x: np.ndarray, cfg: dict, tmp_path) -> None:
    """Assert a random augmentation layer leaves ``x`` untouched at inference inside a
    ``Sequential`` model, and that the model saves to ``.keras`` and loads back with the layer's
    config equal to ``cfg`` (compared as JSON).

    Args:
        layer: the layer under test (its input shape is ``x.shape[1:]``).
        x: a batch of images.
        cfg: ``layer.get_config()`` as the test took it.
        tmp_path: a folder to save the model into.

    Example:
        check_inference_model_saves(layer, x, layer.get_config(), tmp_path)
    """
    model = nnforge.Sequential([nnforge.Input(x.shape[1:]), layer])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    model.save(str(tmp_path / "m.keras"))
    loaded = nnforge.saving.load_model(str(tmp_path / "m.keras")).layers[-1].get_config()
    assert json.loads(json.dumps(loaded)) == json.loads(json.dumps(cfg))


def op_case_gradients(name: str, args, kwargs: dict, to_tensor: Callable, projection: Callable):
    """The tape's gradients of a gradient case of tests/golden/opsnp_cases.py (``GRAD_CASES``):
    ``ops.<name>(*args, **kwargs)`` with every float32 array argument made a watched tensor by
    ``to_tensor``, differentiating the sum over the float outputs ``o`` (number ``i``) of
    ``o * projection(i, o)``.

    Args:
        name: the op's name in ``nnforge.ops``.
        args: the case's arguments (float32 arrays are differentiated, also inside tuples).
        kwargs: the case's keyword arguments.
        to_tensor: makes a tensor of a float32 array (e.g. on a device).
        projection: ``(i, o) -> weights`` of output ``i``, an array of ``o``'s shape.

    Returns:
        The gradients, one per differentiated array in order (None: no gradient).

    Example:
        op_case_gradients("sin", (x,), {}, ops.convert_to_tensor,
                          lambda i, o: grad_projection(tuple(o.shape), i))
    """
    from tests.golden.opsnp_cases import flat, watch_float32_args
    targs, leaves = watch_float32_args(args, to_tensor)
    with nnforge.GradientTape() as tape:
        tape.watch(leaves)
        outs = flat(getattr(ops, name)(*targs, **kwargs))
        loss = None
        for i, o in enumerate(outs):
            if o.dtype.startswith("float"):
                term = ops.sum(ops.multiply(o, projection(i, o)))
                loss = term if loss is None else ops.add(loss, term)
    return tape.gradient(loss, leaves)


def at_thread_counts(fn: Callable, counts=(1, 2, 3)) -> list:
    """Runs ``fn()`` once with nnforge's CPU kernels at each thread count, for tests that the
    results do not depend on it.

    Args:
        fn: computes the results to compare (called with no arguments).
        counts: the thread counts, in order.

    Returns:
        ``[fn() at counts[0], fn() at counts[1], ...]``; the thread count in force before is
        restored (also when ``fn`` raises).

    Example:
        first, *others = at_thread_counts(lambda: model.predict(x, verbose=0))
    """
    from nnforge import _cpu
    old = _cpu.get_num_threads()
    try:
        out = []
        for t in counts:
            _cpu.set_num_threads(t)
            out.append(fn())
        return out
    finally:
        _cpu.set_num_threads(old)


def check_serialize_round_trip(module, obj) -> None:
    """Assert ``module.deserialize(module.serialize(obj))`` gives an object of ``obj``'s class
    with ``obj``'s config.

    Args:
        module: the object's namespace with ``serialize``/``deserialize`` (e.g.
            ``nnforge.losses``, ``nnforge.metrics``, ``nnforge.optimizers``).
        obj: the object.

    Example:
        check_serialize_round_trip(nnforge.losses, nnforge.losses.Dice())
    """
    again = module.deserialize(module.serialize(obj))
    assert type(again) is type(obj)
    assert again.get_config() == obj.get_config()
