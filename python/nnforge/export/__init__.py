"""nnforge.export: write models for inference elsewhere (``model.export``); ONNX for now."""
from __future__ import annotations

from typing import Optional

from .onnx_export import build_onnx_model, export_onnx
from .onnx_layers import UnsupportedLayerError

SUPPORTED_FORMATS = ("onnx",)


def export_model(model, filepath, format: str = "tf_saved_model", verbose: Optional[bool] = None,
                 input_signature=None, **kwargs) -> None:
    """Export ``model`` as an inference artifact (Keras 3's ``Model.export``).

    Args:
        model: a built Sequential or functional model.
        filepath: the file to write.
        format: ``"onnx"``. Keras's other formats (``"tf_saved_model"``, ``"openvino"``,
            ``"litert"``, ``"torch"``) need their frameworks and raise a ValueError here.
        verbose: print a line about the written file (default: True).
        input_signature: optional list of specs (objects with ``shape`` and ``dtype``, such as
            ``keras.Input(...)`` tensors), one per model input.
        **kwargs: ``opset_version`` (int) for ``format="onnx"``.

    Example:

    >>> model.export("model.onnx", format="onnx")
    """
    if format != "onnx":
        raise ValueError(f"Model.export: format {format!r} is not available in nnforge; "
                         f"supported formats: {list(SUPPORTED_FORMATS)} "
                         "(call model.export(path, format='onnx'))")
    opset = kwargs.pop("opset_version", None)
    if kwargs:
        raise ValueError(f"Model.export: unrecognized keyword arguments for format='onnx': "
                         f"{sorted(kwargs)}")
    export_onnx(model, filepath, verbose=verbose, input_signature=input_signature,
                opset_version=opset)


__all__ = ["SUPPORTED_FORMATS", "UnsupportedLayerError", "build_onnx_model", "export_model",
           "export_onnx"]
