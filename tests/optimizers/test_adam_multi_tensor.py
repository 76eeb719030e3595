"""Adam's one-call update of every variable (``_update_all``, the backend's
``adam_update_multi_``) against the same optimizer updating one variable at a time."""
import numpy as np
import pytest

import nnforge as keras
from nnforge.core.tensor import Variable
from nnforge.optimizers.adam import Adam


class OneByOneAdam(Adam):
    """Adam that never takes the multi-tensor path."""

    def _update_all(self, pairs, learning_rate, step):
        return False


def _variables(seed, constraint=None):
    rng = np.random.default_rng(seed)
    out = []
    for i, shape in enumerate([(20, 8), (8,), (8, 3), (3,)]):
        v = Variable(rng.standard_normal(shape).astype(np.float32), name=f"v{i}")
        v.constraint = constraint if i == 0 else None
        out.append(v)
    return out


@pytest.mark.parametrize("kwargs", [{}, {"amsgrad": True},
                                    {"learning_rate": keras.optimizers.schedules.ExponentialDecay(
                                        0.01, 3, 0.5)}])
@pytest.mark.parametrize("constrained", [False, True])
def test_multi_tensor_update_equals_one_by_one(kwargs, constrained):
    constraint = keras.constraints.MaxNorm(0.5) if constrained else None
    fused, plain = Adam(**kwargs), OneByOneAdam(**kwargs)
    vf, vp = _variables(0, constraint), _variables(0, constraint)
    rng = np.random.default_rng(1)
    calls = []
    orig = fused._update_all
    fused._update_all = lambda *a: calls.append(orig(*a)) or calls[-1]
    for _ in range(5):
        grads = [rng.standard_normal(v.shape).astype(np.float32) for v in vf]
        fused.apply(grads, vf)
        plain.apply([g.copy() for g in grads], vp)
    assert calls == [True] * 5
    for a, b in zip(vf, vp):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(fused.variables, plain.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert [s.path for s in fused.variables] == [s.path for s in plain.variables]
    assert fused.iterations == plain.iterations == 5


def test_repeated_variable_and_subclass_use_one_by_one_updates():
    v = _variables(0)[1]
    opt = Adam()
    g = np.ones(v.shape, np.float32)
    assert opt._update_all([(g, v), (g, v)], 0.001, 1) is False  # the same variable twice

    class MyAdam(Adam):
        def update_step(self, gradient, variable, learning_rate, step, slots):
            variable.data -= gradient  # a user's own rule is honoured

    vs = _variables(0)
    before = [x.numpy().copy() for x in vs]
    MyAdam().apply([np.ones(x.shape, np.float32) for x in vs], vs)
    for x, b in zip(vs, before):
        np.testing.assert_array_equal(x.numpy(), b - 1)
