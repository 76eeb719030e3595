"""``TerminateOnNaN``: stop training when the loss becomes NaN or infinite."""
from __future__ import annotations

import math

from ..utils import io_utils
from .callback import Callback


class TerminateOnNaN(Callback):
    """Callback that terminates training when a NaN or Inf loss is encountered.

    Args:
        raise_error: False (default): print ``Batch {i}: Invalid loss, terminating training``
            and set ``model.stop_training = True`` (the loop ends after this batch and the
            other callbacks still get ``on_train_end``). True: raise ``RuntimeError``
            immediately.
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None:
            return
        try:
            loss_value = float(loss)
        except (TypeError, ValueError):
            return
        if math.isnan(loss_value) or math.isinf(loss_value):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            io_utils.print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
