"""The conv family's public layers and ops have Keras 3's signatures: every Keras parameter,
in Keras's order, with Keras's default (nnforge may add trailing ``**kwargs`` and, on
``ops.conv``, its fused ``bias``/``activation`` extension)."""
import json

import pytest

import nnforge
from tests.golden.make_conv_golden import signatures
from tests.layers.conv_golden import golden

KERAS = json.loads(str(golden()["signatures"]))
OURS = signatures(nnforge)
EXTENSIONS = {"ops.conv": {"bias", "activation"}}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_signature_is_keras(name):
    keras_params, ours = KERAS[name], OURS[name]
    assert ours[:len(keras_params)] == keras_params, \
        f"{name}: signature {ours} differs from Keras's {keras_params}"
    extra = {p for p, _, kind in ours[len(keras_params):] if kind != "VAR_KEYWORD"}
    assert extra <= EXTENSIONS.get(name, set()), f"{name}: extra parameters {extra}"
