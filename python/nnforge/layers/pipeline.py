"""``Pipeline``: a sequence of layers applied one after the other, as one layer."""
from __future__ import annotations

from nnforge.saving import weights_file
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object

from .layer import Layer, _call_flags


class Pipeline(Layer):
    """Applies a list of layers in sequence (``keras.layers.Pipeline``), typically
    preprocessing layers; unlike ``Sequential`` it is a layer, not a model.

    Args:
        layers: the layers, in order.
        name: the layer's name.

    Call arguments: ``inputs``, ``training`` (default True, passed to the layers that take
    it), ``mask``.

    Example:

    >>> pipe = Pipeline([nnforge.layers.Rescaling(2.0), nnforge.layers.Identity()])
    >>> pipe(np.ones((1, 2), "float32")).numpy()
    array([[2., 2.]], dtype=float32)
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        self._pipeline_layers = list(layers)

    @property
    def layers(self):
        return self._pipeline_layers

    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            accepts_training, accepts_mask = _call_flags(type(layer))
            kwargs = {}
            if accepts_mask and mask is not None:
                kwargs["mask"] = mask
            if accepts_training and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    def _sublayer_groups(self):
        return [("layers/" + name, child)
                for name, child in weights_file.container_names(self._pipeline_layers)]

    def get_config(self) -> dict:
        return {"layers": serialize_keras_object(self._pipeline_layers), "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a list of "
                             f"serialized layers. Received config with layers={layers}.")
        config = dict(config)
        config["layers"] = [deserialize_keras_object(x, module=("keras.layers", "keras"),
                                                     kind="layer") for x in layers]
        return cls(**config)
