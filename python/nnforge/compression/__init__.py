"""nnforge.compression: make trained models smaller and faster (a tool on top of models).

- int8 quantization is ``model.quantize("int8")`` (Keras 3's API; ``calibration_data=`` for
  static scales), implemented in the layers.
- pruning: ``prune_low_magnitude`` with ``PolynomialDecay``/``ConstantSparsity`` schedules,
  the ``UpdatePruningStep`` callback and ``strip_pruning`` (the TensorFlow Model Optimization
  Toolkit's names).
- distillation: ``Distiller``, keras.io's knowledge-distillation recipe.
"""
from .distillation import Distiller
from .pruning import (ConstantSparsity, PolynomialDecay, PruningSchedule, UpdatePruningStep,
                      get_sparsity, prunable_layers, prune_low_magnitude, strip_pruning)

__all__ = ["ConstantSparsity", "Distiller", "PolynomialDecay", "PruningSchedule",
           "UpdatePruningStep", "get_sparsity", "prunable_layers", "prune_low_magnitude",
           "strip_pruning"]
