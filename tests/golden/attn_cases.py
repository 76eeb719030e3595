"""The cases of ``attn.npz`` (plain data, and the few functions that build and call a case with
either framework's ``layers``/``ops`` module: imported by the generator under Keras 3 and by the
tests under nnforge).

Layer cases: ``layer`` (class name in ``keras.layers``), ``kwargs``, ``inputs`` (shapes of the
float inputs; ``int_inputs`` for token ids), ``call`` ("args": ``layer(*inputs)``, "list":
``layer(inputs)``), ``call_kwargs``, ``bool_kwargs`` (name -> shape of a random boolean mask
passed to the call; every row keeps at least one True). Op cases: ``op`` (name in
``keras.ops``), ``args`` (shapes of float arguments, differentiated), ``kwargs``,
``bool_kwargs``; ``subscripts`` for einsum."""

LAYER_CASES = {
    "mha_self": dict(layer="MultiHeadAttention", kwargs=dict(num_heads=2, key_dim=3),
                     inputs=[(2, 4, 5), (2, 4, 5)]),
    "mha_cross_key": dict(layer="MultiHeadAttention",
                          kwargs=dict(num_heads=3, key_dim=2, value_dim=4),
                          inputs=[(2, 4, 5), (2, 3, 6), (2, 3, 7)]),
    "mha_causal_scores": dict(layer="MultiHeadAttention", kwargs=dict(num_heads=2, key_dim=3),
                              inputs=[(2, 4, 5), (2, 4, 5)],
                              call_kwargs=dict(use_causal_mask=True,
                                               return_attention_scores=True)),
    "mha_causal_fast": dict(layer="MultiHeadAttention", kwargs=dict(num_heads=2, key_dim=3),
                            inputs=[(2, 4, 5), (2, 4, 5)],
                            call_kwargs=dict(use_causal_mask=True)),
    "mha_attention_mask": dict(layer="MultiHeadAttention",
                               kwargs=dict(num_heads=2, key_dim=2, output_shape=6,
                                           use_bias=False),
                               inputs=[(2, 4, 5), (2, 3, 5)],
                               bool_kwargs=dict(attention_mask=(2, 4, 3))),
    "mha_axes": dict(layer="MultiHeadAttention",
                     kwargs=dict(num_heads=2, key_dim=2, attention_axes=(2,)),
                     inputs=[(2, 3, 4, 5), (2, 3, 4, 5)]),
    "mha_gate_window": dict(layer="MultiHeadAttention",
                            kwargs=dict(num_heads=2, key_dim=2, use_gate=True, sliding_window=2),
                            inputs=[(2, 4, 5), (2, 4, 5)]),
    "gqa_causal": dict(layer="GroupQueryAttention",
                       kwargs=dict(head_dim=3, num_query_heads=4, num_key_value_heads=2),
                       inputs=[(2, 4, 5), (2, 3, 5)],
                       call_kwargs=dict(use_causal_mask=True)),
    "gqa_scores": dict(layer="GroupQueryAttention",
                       kwargs=dict(head_dim=2, num_query_heads=2, num_key_value_heads=1),
                       inputs=[(2, 4, 5), (2, 3, 5)],
                       call_kwargs=dict(return_attention_scores=True),
                       bool_kwargs=dict(attention_mask=(2, 4, 3))),
    "attention_dot": dict(layer="Attention", kwargs=dict(use_scale=True), call="list",
                          inputs=[(2, 4, 5), (2, 3, 5)],
                          call_kwargs=dict(return_attention_scores=True)),
    "attention_concat_causal": dict(layer="Attention",
                                    kwargs=dict(use_scale=True, score_mode="concat"),
                                    call="list", inputs=[(2, 4, 5), (2, 4, 5), (2, 4, 5)],
                                    call_kwargs=dict(use_causal_mask=True)),
    "additive_attention": dict(layer="AdditiveAttention", kwargs=dict(), call="list",
                               inputs=[(2, 4, 5), (2, 3, 5)]),
    "layer_norm": dict(layer="LayerNormalization", kwargs=dict(), inputs=[(3, 4, 6)]),
    "layer_norm_axes": dict(layer="LayerNormalization",
                            kwargs=dict(axis=[1, 2], epsilon=1e-5), inputs=[(3, 4, 6)]),
    "layer_norm_noscale": dict(layer="LayerNormalization",
                               kwargs=dict(axis=1, center=False), inputs=[(3, 5, 2)]),
    "rms_norm": dict(layer="RMSNormalization", kwargs=dict(), inputs=[(3, 4, 6)]),
    "group_norm": dict(layer="GroupNormalization", kwargs=dict(groups=2),
                       inputs=[(2, 3, 5, 4)]),
    "group_norm_axis1": dict(layer="GroupNormalization", kwargs=dict(groups=3, axis=1),
                             inputs=[(2, 6, 5)]),
    "unit_norm": dict(layer="UnitNormalization", kwargs=dict(axis=[1, 2]), inputs=[(2, 3, 4)]),
    "einsum_dense_3d": dict(layer="EinsumDense",
                            kwargs=dict(equation="abc,cd->abd", output_shape=(None, 4),
                                        bias_axes="d"), inputs=[(2, 3, 5)]),
    "einsum_dense_ellipsis": dict(layer="EinsumDense",
                                  kwargs=dict(equation="...b,bc->...c", output_shape=3,
                                              bias_axes="c", activation="tanh"),
                                  inputs=[(2, 3, 4)]),
    "einsum_dense_heads": dict(layer="EinsumDense",
                               kwargs=dict(equation="ab,bcd->acd", output_shape=(2, 3),
                                           bias_axes="cd"), inputs=[(4, 5)]),
    "dot_axes": dict(layer="Dot", kwargs=dict(axes=(1, 2)), call="list",
                     inputs=[(2, 3, 5), (2, 4, 3)]),
    "dot_normalize": dict(layer="Dot", kwargs=dict(axes=-1, normalize=True), call="list",
                          inputs=[(3, 4), (3, 4)]),
    "spectral_norm": dict(layer="SpectralNormalization", wrapped=("Dense", dict(units=3)),
                          kwargs=dict(power_iterations=2), inputs=[(2, 4)],
                          call_kwargs=dict(training=True)),
    "reversible_embedding": dict(layer="ReversibleEmbedding",
                                 kwargs=dict(input_dim=7, output_dim=4, tie_weights=False,
                                             logit_soft_cap=2.0),
                                 inputs=[(2, 3, 4)], call_kwargs=dict(reverse=True),
                                 build_shape=(2, 3)),
}

OP_CASES = {
    "dpa": dict(op="dot_product_attention", args=[(2, 4, 3, 5), (2, 6, 3, 5), (2, 6, 3, 5)]),
    "dpa_gqa_causal_bias": dict(op="dot_product_attention",
                                args=[(2, 4, 4, 3), (2, 4, 2, 3), (2, 4, 2, 3), (1, 4, 4, 4)],
                                names=["query", "key", "value", "bias"],
                                kwargs=dict(is_causal=True, scale=0.3)),
    "dpa_mask": dict(op="dot_product_attention", args=[(2, 3, 2, 4), (2, 5, 2, 4),
                                                       (2, 5, 2, 4)],
                     bool_kwargs=dict(mask=(2, 1, 3, 5))),
    "layer_normalization": dict(op="layer_normalization", args=[(3, 4, 5), (5,), (5,)],
                                names=["x", "gamma", "beta"], kwargs=dict(epsilon=1e-3)),
    "layer_normalization_axes": dict(op="layer_normalization", args=[(3, 4, 5), (4, 5)],
                                     names=["x", "gamma"], kwargs=dict(axis=(1, 2))),
    "rms_normalization": dict(op="rms_normalization", args=[(3, 4, 5), (5,)],
                              names=["x", "scale"], kwargs=dict(epsilon=1e-6)),
    "einsum_matmul": dict(op="einsum", subscripts="ij,jk->ik", args=[(3, 4), (4, 5)]),
    "einsum_batch": dict(op="einsum", subscripts="bqhd,bkhd->bhqk",
                         args=[(2, 3, 2, 4), (2, 5, 2, 4)]),
    "einsum_ellipsis": dict(op="einsum", subscripts="...ij,...jk->...ik",
                            args=[(2, 3, 4), (2, 4, 2)]),
    "einsum_implicit_trace": dict(op="einsum", subscripts="ii", args=[(4, 4)]),
    "einsum_outer_sum": dict(op="einsum", subscripts="i,j->j", args=[(3,), (4,)]),
    "einsum_three": dict(op="einsum", subscripts="ab,bc,cd->ad", args=[(2, 3), (3, 4), (4, 2)]),
}


def make_layer(layers, spec):
    """The layer of a layer case, named "top" (a wrapper's inner layer "inner"), built from the
    ``layers`` module given (``keras.layers`` or ``nnforge.layers``)."""
    cls = getattr(layers, spec["layer"])
    if "wrapped" in spec:
        inner_cls, inner_kwargs = spec["wrapped"]
        return cls(getattr(layers, inner_cls)(name="inner", **inner_kwargs), name="top",
                   **spec["kwargs"])
    return cls(name="top", **spec["kwargs"])


def call_layer(layer, spec, xs, call_kwargs):
    """Calls a layer case's layer on its inputs ``xs`` as the case says (positionally or as one
    list)."""
    if spec.get("call", "args") == "list":
        return layer(list(xs), **call_kwargs)
    return layer(*xs, **call_kwargs)


def call_op(ops, spec, xs, kwargs):
    """Calls an op case's op from the ``ops`` module given on its float arguments ``xs``
    (einsum after its subscripts; by keyword where the case names its arguments)."""
    fn = getattr(ops, spec["op"])
    if spec["op"] == "einsum":
        return fn(spec["subscripts"], *xs)
    if "names" in spec:
        return fn(**dict(zip(spec["names"], xs)), **kwargs)
    return fn(*xs, **kwargs)


def rel_path(path: str) -> str:
    """A weight's path below the top layer ("top/query/kernel" -> "query/kernel")."""
    parts = path.split("/")
    return "/".join(parts[1:]) if parts[0] == "top" else path
