"""``SwapEMAWeights``: evaluate and predict with the optimizer's moving averages."""
from __future__ import annotations

from .callback import Callback


class SwapEMAWeights(Callback):
    """Swap the model's weights with the optimizer's exponential moving averages around
    evaluation and prediction (``keras.callbacks.SwapEMAWeights``); the optimizer needs
    ``use_ema=True``.

    With ``swap_on_epoch=True`` the averages are also swapped in at the end of each epoch (so
    the validation pass and other callbacks, such as ``ModelCheckpoint``, see them) and out at
    the start of the next one; after the last epoch the averages stay in the model.

    Args:
        swap_on_epoch: also swap at the epoch boundaries.

    Example:

    >>> model.compile(optimizer=nnforge.optimizers.SGD(use_ema=True), loss="mse")
    >>> model.fit(x, y, epochs=5, validation_data=(xv, yv),
    ...           callbacks=[nnforge.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizers(self):
        opt = self.model.optimizer
        opt = getattr(opt, "inner_optimizer", opt)
        inner = getattr(opt, "optimizers", None)
        if inner is not None:
            chosen = [o for o in inner if getattr(o, "use_ema", False)]
            if not chosen:
                raise ValueError("SwapEMAWeights must be used when at least one inner optimizer "
                                 "has `use_ema=True` set. Received a MultiOptimizer with all "
                                 "inner optimizers having `use_ema=False`.")
            return chosen
        if not getattr(opt, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the "
                             f"optimizer. Received: use_ema={getattr(opt, 'use_ema', None)}")
        return [opt]

    def _swap_variables(self):
        for opt in self._optimizers():
            for var, avg in opt._ema.values():
                tmp = var.data.copy()
                var.data[...] = avg.data
                avg.data[...] = tmp

    def _finalize_ema_values(self):
        for opt in self._optimizers():
            for var, avg in opt._ema.values():
                avg.data[...] = var.data

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            # the averages stay in the model after the last epoch
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        # Keras 3.15 tests `not self._ema_weights_in_model` here, so the averages stay in the
        # model after predict; nnforge does the same
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False
