"""The built-in train step writes Dense/Conv2D parameter gradients into arrays allocated once per
variable; user tapes keep getting fresh arrays, and shared weights are still summed correctly."""
import numpy as np

import nnforge as keras
from nnforge import layers


def _cnn():
    return keras.Sequential([
        keras.Input((8, 8, 3)), layers.Conv2D(4, (3, 3), activation="relu"),
        layers.Flatten(), layers.Dense(5, activation="softmax")])


def _data(n=16):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 8, 8, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 5, n), 5)
    return x, y


def test_train_step_reuses_one_gradient_array_per_variable():
    keras.utils.set_random_seed(0)
    m = _cnn()
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y = _data()
    m.train_on_batch(x, y)
    bufs = [v._grad_buffer for v in m.trainable_weights]
    assert all(b is not None for b in bufs)
    for v, b in zip(m.trainable_weights, bufs):
        assert b.shape == v.shape and b.dtype == np.float32
    m.train_on_batch(x, y)
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert all(v._grad_buffer is b for v, b in zip(m.trainable_weights, bufs))


def test_buffered_gradients_equal_fresh_ones():
    keras.utils.set_random_seed(1)
    m = _cnn()
    x, y = _data()
    loss_fn = keras.losses.CategoricalCrossentropy()
    with keras.GradientTape(persistent=True) as tape:
        loss = loss_fn(y, m(x, training=True))
    fresh = tape.gradient(loss, m.trainable_weights)
    buffered = tape.gradient_into_buffers(loss, m.trainable_weights)
    for f, b, v in zip(fresh, buffered, m.trainable_weights):
        np.testing.assert_array_equal(np.asarray(f), np.asarray(b))
        assert b.data is v._grad_buffer  # written in place
        assert f.data is not v._grad_buffer  # user tapes never see the shared array


def test_user_tape_after_fit_gets_independent_arrays():
    keras.utils.set_random_seed(2)
    m = _cnn()
    m.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = _data()
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    loss_fn = keras.losses.CategoricalCrossentropy()
    kept = []
    for i in range(2):
        with keras.GradientTape() as tape:
            sl = slice(i * 8, (i + 1) * 8)
            loss = loss_fn(y[sl], m(x[sl], training=True))
        kept.append([np.array(g) for g in tape.gradient(loss, m.trainable_weights)])
        # a gradient the user keeps is not overwritten by later training steps
        snapshot = [g.copy() for g in kept[-1]]
        m.train_on_batch(x, y)
        for a, b in zip(kept[-1], snapshot):
            np.testing.assert_array_equal(a, b)


def test_shared_dense_layer_sums_both_uses():
    keras.utils.set_random_seed(3)
    dense = layers.Dense(4)
    inp = keras.Input((4,))
    out = dense(dense(inp))  # the same kernel used twice in one graph
    m = keras.Model(inp, out)
    x = np.random.default_rng(3).standard_normal((6, 4)).astype("float32")
    with keras.GradientTape(persistent=True) as tape:
        loss = keras.ops.sum(keras.ops.square(m(x)))
    fresh = tape.gradient(loss, m.trainable_weights)
    buffered = tape.gradient_into_buffers(loss, m.trainable_weights)
    for f, b in zip(fresh, buffered):
        np.testing.assert_allclose(np.asarray(b), np.asarray(f), rtol=1e-6, atol=1e-6)
    # and against finite differences of the same loss, for the kernel
    k = m.trainable_weights[0]
    base = k.numpy().copy()
    eps, num = 1e-3, np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        for sgn in (1, -1):
            w = base.copy()
            w[idx] += sgn * eps
            k.assign(w)
            num[idx] += sgn * float(np.sum(np.square(np.asarray(m(x))))) / (2 * eps)
    k.assign(base)
    np.testing.assert_allclose(np.asarray(buffered[0]), num, rtol=2e-2, atol=2e-2)
