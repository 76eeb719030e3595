"""nnforge.explain: argument errors name the argument and what was wrong."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import explain, layers


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=(2, 4)).astype("float32")


def test_output_target_and_batch_errors(mlp, x):
    with pytest.raises(ValueError, match="output must be 'model'.*'logits'"):
        explain.saliency(mlp, x, output="probs")
    with pytest.raises(ValueError, match=r"one class index per sample \(2\)"):
        explain.saliency(mlp, x, target=[0, 1, 2])
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\).*\[5\]"):
        explain.saliency(mlp, x, target=5)
    with pytest.raises(TypeError, match="class index"):
        explain.saliency(mlp, x, target="cat")
    with pytest.raises(ValueError, match="at least 2-D"):
        explain.saliency(mlp, x[0])
    with pytest.raises(ValueError, match="empty batch"):
        explain.saliency(mlp, x[:0])
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        explain.saliency(mlp, x, batch_size=0)
    with pytest.raises(TypeError, match="model must be an nnforge Model"):
        explain.saliency(lambda a: a, x)


def test_callable_target_errors(mlp, x):
    with pytest.raises(ValueError, match=r"one score per row, shape \(2,\), got \(2, 3\)"):
        explain.saliency(mlp, x, target=lambda y: y)
    with pytest.raises(TypeError, match="must return an nnforge Tensor"):
        explain.saliency(mlp, x, target=lambda y: np.ones(2))


def test_method_argument_errors(mlp, x):
    with pytest.raises(ValueError, match="method must be one of"):
        explain.integrated_gradients(mlp, x, method="simpson")
    with pytest.raises(ValueError, match="trapezoid rule needs steps >= 2"):
        explain.integrated_gradients(mlp, x, steps=1)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        explain.integrated_gradients(mlp, x, steps=0)
    with pytest.raises(ValueError, match=r"baseline must be .*\(4,\).*got shape \(3,\)"):
        explain.integrated_gradients(mlp, x, baseline=np.zeros(3))
    with pytest.raises(ValueError, match="samples must be a positive integer"):
        explain.smoothgrad(mlp, x, samples=0)
    with pytest.raises(ValueError, match="noise_level must be a finite number >= 0"):
        explain.smoothgrad(mlp, x, noise_level=-1.0)
    with pytest.raises(ValueError, match="window must be positive and the window no larger|"
                                         "no larger than"):
        explain.occlusion(mlp, x, window=5)
    with pytest.raises(ValueError, match="stride .* as many sizes as window"):
        explain.occlusion(mlp, x, window=(2,), stride=(1, 1))


def test_grad_cam_layer_errors(mlp, x):
    with pytest.raises(ValueError, match="has no convolution layer"):
        explain.grad_cam(mlp, x)
    with pytest.raises(ValueError, match="No layer named 'conv9'.*nested models searched"):
        explain.grad_cam(mlp, x, layer="conv9")
    with pytest.raises(ValueError, match="Grad-CAM needs .* spatial axes"):
        explain.grad_cam(mlp, x, layer=mlp.layers[0].name)
    other = layers.Conv2D(2, 3)
    other(np.zeros((1, 5, 5, 1), "float32"))
    with pytest.raises(ValueError, match="is not called when model"):
        explain.grad_cam(mlp, x, layer=other)


def test_logits_need_a_final_softmax(x):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="sigmoid",
                                                              name="out")])
    with pytest.raises(ValueError, match="last layer 'out' \\(Dense\\) ends in activation "
                                         "'sigmoid'"):
        explain.saliency(model, x, output="logits")
    linear = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    np.testing.assert_array_equal(explain.saliency(linear, x, output="logits"),
                                  explain.saliency(linear, x))


def test_target_none_needs_class_outputs(x):
    model = keras.Sequential([keras.Input((4,)), layers.Reshape((2, 2))])
    with pytest.raises(ValueError, match=r"output has shape \(2, 2, 2\); pass a callable target"):
        explain.saliency(model, x)


def test_sanity_check_and_overlay_errors(mlp, x):
    with pytest.raises(ValueError, match="unknown method 'lime'"):
        explain.sanity_check("lime", mlp, x)
    with pytest.raises(ValueError, match="compare must be 'absolute' or 'signed'"):
        explain.sanity_check("saliency", mlp, x, compare="abs")
    with pytest.raises(TypeError, match="method must be a function or a method name"):
        explain.sanity_check(3, mlp, x)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\]"):
        explain.overlay(np.zeros((4, 4)), np.zeros((2, 2)), alpha=2)
    with pytest.raises(ValueError, match="colormap must be one of"):
        explain.overlay(np.zeros((4, 4)), np.zeros((2, 2)), colormap="hot")
    with pytest.raises(ValueError, match="image must be"):
        explain.overlay(np.zeros((4, 4, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="expected a 2-D map"):
        explain.overlay(np.zeros((4, 4)), np.zeros(5))


def test_several_outputs_need_a_callable_target(x):
    inp = keras.Input((4,))
    model = keras.Model(inp, [layers.Dense(2)(inp), layers.Dense(3)(inp)])
    with pytest.raises(ValueError, match="several outputs; pass a callable target"):
        explain.saliency(model, x, target=0)
    with pytest.raises(ValueError, match="target=None has no predicted class"):
        explain.saliency(model, x)
    got = explain.saliency(model, x, target=lambda ys: ys[1][:, 2], absolute=False)
    np.testing.assert_allclose(got, np.broadcast_to(model.layers[2].kernel.numpy()[:, 2], x.shape),
                               rtol=1e-6)
