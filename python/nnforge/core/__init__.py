"""Tensors, variables and the gradient tape: the autodiff core under ``nnforge.ops``."""
from .tensor import Tensor, Variable, KerasTensor, unwrap, is_tensor
from .tape import GradientTape, record, is_recording, stop_recording

__all__ = ["Tensor", "Variable", "KerasTensor", "GradientTape", "record", "is_recording",
           "stop_recording", "unwrap", "is_tensor"]
