"""MultiHeadAttention, GroupQueryAttention, Attention, AdditiveAttention and EinsumDense:
outputs and gradients against Keras 3 (tests/golden/attn.npz), configs, masks, .keras round
trips and errors."""
import numpy as np
import pytest

import nnforge
from nnforge import layers
from tests.golden.attn_check import check_layer_case
from tests.helpers import check_layer_grads, run_layer_test

ATTENTION_CASES = ["mha_self", "mha_cross_key", "mha_causal_scores", "mha_causal_fast",
                   "mha_attention_mask", "mha_axes", "mha_gate_window", "gqa_causal",
                   "gqa_scores", "attention_dot", "attention_concat_causal",
                   "additive_attention", "einsum_dense_3d", "einsum_dense_ellipsis",
                   "einsum_dense_heads"]


@pytest.mark.parametrize("case", ATTENTION_CASES)
def test_matches_keras3(case):
    check_layer_case(case)


def _qv(seed=0, t=4, s=3, d=5, b=2):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((b, t, d)).astype(np.float32),
            rng.standard_normal((b, s, d)).astype(np.float32))


def test_mha_config_matches_keras_keys():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    config = layer.get_config()
    for key in ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "use_gate",
                "output_shape", "attention_axes", "sliding_window", "kernel_initializer",
                "bias_initializer", "kernel_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "bias_constraint", "seed"):
        assert key in config, key
    assert config["value_dim"] == 3 and config["dropout"] == 0.0
    clone = layers.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config


def test_mha_weights_shapes_and_initializer_fans():
    nnforge.utils.set_random_seed(1)
    layer = layers.MultiHeadAttention(num_heads=4, key_dim=16)
    q, _ = _qv(d=64, t=8)
    layer(q, q)
    shapes = [tuple(w.shape) for w in layer.weights]
    assert shapes == [(64, 4, 16), (4, 16)] * 3 + [(4, 16, 64), (64,)]
    # Keras's EinsumDense gives glorot the (in, out) fans: limit sqrt(6 / (64 + 64))
    kernel = layer.query_dense.kernel.numpy()
    limit = np.sqrt(6 / (64 + 64))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit


def test_mha_gradients_finite_differences():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    q, _ = _qv(t=3, d=3)

    class SelfAttention(layers.Layer):
        def __init__(self):
            super().__init__()
            self.mha = layer

        def call(self, x):
            return self.mha(x, x, use_causal_mask=True)

    check_layer_grads(SelfAttention(), q, eps=1e-2, atol=3e-3)


def test_mha_query_mask_from_embedding_and_padding():
    """Keras masks flow in: padded value steps are not attended, the query's mask flows out."""
    tokens = np.array([[3, 4, 0, 0], [5, 0, 0, 0]])
    emb = layers.Embedding(8, 6, mask_zero=True)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    x = emb(tokens)
    y = mha(x, x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), tokens != 0)
    # the output at a real step does not depend on the padded steps' embeddings
    x2 = emb(np.array([[3, 4, 0, 0], [5, 0, 0, 0]]))
    x2.data[:, 2:] = 7.0
    x2._keras_mask = x._keras_mask
    y2 = mha(x2, x2)
    np.testing.assert_allclose(y2.numpy()[0, :2], y.numpy()[0, :2], rtol=1e-5, atol=1e-6)


def test_mha_symbolic_and_keras_round_trip(tmp_path):
    nnforge.utils.set_random_seed(0)
    inp = nnforge.Input((4, 5))
    out, scores = layers.MultiHeadAttention(num_heads=2, key_dim=3)(
        inp, inp, return_attention_scores=True)
    assert out.shape == (None, 4, 5) and scores.shape == (None, 2, 4, 4)
    y = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, output_shape=7)(inp, inp)
    assert y.shape == (None, 4, 7)
    model = nnforge.Model(inp, [out, scores, y])
    q, _ = _qv(t=4)
    expected = model.predict(q, verbose=0)
    path = tmp_path / "mha.keras"
    model.save(path)
    restored = nnforge.saving.load_model(path)
    for a, b in zip(restored.predict(q, verbose=0), expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_gqa_round_trip_and_config(tmp_path):
    inp = nnforge.Input((4, 8))
    ctx = nnforge.Input((3, 8))
    out = layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)(
        inp, ctx)
    model = nnforge.Model([inp, ctx], out)
    q, v = _qv(d=8)
    expected = model.predict([q, v], verbose=0)
    model.save(tmp_path / "gqa.keras")
    restored = nnforge.saving.load_model(tmp_path / "gqa.keras")
    np.testing.assert_allclose(restored.predict([q, v], verbose=0), expected, rtol=1e-6,
                               atol=1e-6)
    config = model.layers[-1].get_config()
    assert config["num_query_heads"] == 4 and config["num_key_value_heads"] == 2


def test_gqa_rejects_indivisible_heads():
    with pytest.raises(ValueError, match="divisible"):
        layers.GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)


def test_mha_argument_errors():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(num_heads=2, key_dim=-1)
    with pytest.raises(ValueError, match="sliding_window"):
        layers.MultiHeadAttention(num_heads=2, key_dim=2, sliding_window=0)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    q, _ = _qv()
    with pytest.raises(ValueError, match="value"):
        layer(q, np.zeros((2, 3, 5), np.float32), key=np.zeros((2, 4, 5), np.float32))


def test_mha_dropout_training_only():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, dropout=0.5, seed=3)
    q, v = _qv()
    a = layer(q, v).numpy()
    np.testing.assert_allclose(layer(q, v, training=False).numpy(), a)
    assert not np.allclose(layer(q, v, training=True).numpy(), a)


def test_attention_mask_and_causal():
    q, v = _qv(t=4, s=4)
    layer = layers.Attention()
    vmask = np.array([[True, True, False, False], [True, True, True, True]])
    qmask = np.array([[True, False, True, True], [True, True, True, True]])
    out, w = layer([q, v], mask=[qmask, vmask], return_attention_scores=True)
    assert np.all(w.numpy()[0, :, 2:] < 1e-6)
    assert np.all(out.numpy()[0, 1] == 0)
    _, wc = layer([q, v], use_causal_mask=True, return_attention_scores=True)
    assert np.all(np.triu(wc.numpy()[0], 1) < 1e-6)


def test_attention_validation_and_config():
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="bad")
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Attention()(np.zeros((1, 2, 3), np.float32))
    config = layers.AdditiveAttention(dropout=0.1).get_config()
    assert "score_mode" not in config and config["use_scale"] is True
    assert layers.Attention(use_scale=True, score_mode="concat").get_config()["score_mode"] == \
        "concat"


def test_attention_symbolic_round_trip(tmp_path):
    q_in, v_in = nnforge.Input((4, 5)), nnforge.Input((3, 5))
    out = layers.Attention(use_scale=True)([q_in, v_in])
    out2 = layers.AdditiveAttention()([q_in, v_in])
    model = nnforge.Model([q_in, v_in], [out, out2])
    q, v = _qv()
    expected = model.predict([q, v], verbose=0)
    model.save(tmp_path / "att.keras")
    restored = nnforge.saving.load_model(tmp_path / "att.keras")
    for a, b in zip(restored.predict([q, v], verbose=0), expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_einsum_dense_layer_contract(tmp_path):
    run_layer_test(layers.EinsumDense, dict(equation="abc,cd->abd", output_shape=(3, 4),
                                            bias_axes="d", activation="relu"),
                   input_shape=(2, 3, 5), expected_output_shape=(2, 3, 4), tmp_path=tmp_path)
    run_layer_test(layers.EinsumDense, dict(equation="...b,bc->...c", output_shape=3),
                   input_shape=(2, 4), expected_output_shape=(2, 3), tmp_path=tmp_path)


def test_einsum_dense_errors():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab->b", output_shape=3)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="Bias dimension 'x'"):
        layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="x")(
            np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="lora"):
        layers.EinsumDense("ab,bc->ac", output_shape=3, lora_rank=2)
