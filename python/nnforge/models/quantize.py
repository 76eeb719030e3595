"""``Model.quantize``: Keras 3's ``model.quantize("int8")`` over the model's layers, plus
nnforge's static calibration (``calibration_data``): one per-tensor input scale per int8 layer,
fixed from representative data, so that inference skips the per-row abs-max reduction."""
from __future__ import annotations

import re
import warnings
from typing import Callable, Iterator, List, Optional

import numpy as np

from nnforge import backend
from nnforge.core.tensor import Tensor
from nnforge.layers.input_layer import InputLayer
from nnforge.layers.layer import Layer


def leaf_layers(model) -> Iterator[Layer]:
    """The layers of ``model`` that hold no other layers, depth first (nested models and
    wrappers are walked into; input layers are skipped)."""
    seen = set()

    def walk(layer):
        children = layer.layers if isinstance(getattr(layer, "layers", None), list) \
            else layer._layers
        if not children:
            if id(layer) not in seen and not isinstance(layer, InputLayer):
                seen.add(id(layer))
                yield layer
            return
        for child in children:
            yield from walk(child)
    yield from walk(model)


def should_quantize_layer(layer, filters) -> bool:
    """Keras's ``filters``: None (all), a regex matched against the layer's name, a list of
    regexes (any), or a callable ``filters(layer) -> bool``."""
    if filters is None:
        return True
    if isinstance(filters, str):
        return re.search(filters, layer.name) is not None
    if isinstance(filters, (list, tuple)):
        return any(re.search(f, layer.name) is not None for f in filters)
    return bool(filters(layer))


def _calibrate(model, layers: List[Layer], data, batch_size: Optional[int]) -> dict:
    """max|inputs| of each of ``layers`` over ``data`` (run through the float model)."""
    amax = {id(layer): 0.0 for layer in layers}
    originals = []
    for layer in layers:
        call = layer.call

        def recording(inputs, *args, __call=call, __key=id(layer), **kwargs):
            data_ = inputs.data if isinstance(inputs, Tensor) else inputs
            if backend.is_array(data_) and data_.size:
                amax[__key] = max(amax[__key], float(abs(data_).max()))
            return __call(inputs, *args, **kwargs)
        originals.append((layer, "call" in vars(layer)))
        object.__setattr__(layer, "call", recording)
    try:
        model.predict(data, batch_size=batch_size, verbose=0)
    finally:
        for layer, had_own in originals:
            if not had_own:
                object.__delattr__(layer, "call")
    return amax


def quantize_model(model, mode=None, config=None, filters=None, calibration_data=None,
                   calibration_batch_size: Optional[int] = None, type_check: bool = True) -> None:
    """What ``Model.quantize`` does (see there)."""
    if filters is not None and not isinstance(filters, (str, list, tuple, Callable)):
        raise ValueError("The `filters` argument must be a regex string, a list of regex "
                         f"strings, or a callable. Received: {type(filters)}")
    if not model.built:
        raise ValueError(f"Cannot quantize model '{model.name}': it is not built yet")
    targets = [layer for layer in leaf_layers(model) if should_quantize_layer(layer, filters)]
    amax = None
    if calibration_data is not None:
        if mode not in (None, "int8"):
            raise ValueError(f"quantize: calibration_data is for mode='int8', got mode={mode!r}")
        amax = _calibrate(model, [t for t in targets if t.quantization_mode is None
                                  and getattr(t, "_int8_calibrated", False)],
                          calibration_data, calibration_batch_size)
    modified = False
    for layer in targets:
        try:
            layer.quantize(mode, type_check=type_check, config=config)
            modified = True
        except NotImplementedError as e:
            warnings.warn(str(e))
            continue
        if amax is not None and layer.int8_activations and id(layer) in amax:
            peak = amax[id(layer)]
            layer.int8_inputs_scale = float(np.float32(127.0) / np.float32(peak + 1e-7))
    if modified:  # the train step's cached variable list held the float kernels
        model._step_variables = None
