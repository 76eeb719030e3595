"""``CallbackList``: dispatches every hook to a list of callbacks."""
from __future__ import annotations

from .callback import Callback
from .history import History
from .progbar_logger import ProgbarLogger


def _flatten(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    out = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out.extend(_flatten(cb))
        else:
            out.append(cb)
    return out


class CallbackList(Callback):
    """Container that calls every hook on each of its callbacks, in order.

    Args:
        callbacks: list of ``Callback`` instances.
        add_history: append a ``History`` unless the list already has one; it becomes
            ``model.history``.
        add_progbar: append a ``ProgbarLogger`` unless the list already has one.
        model: the model the callbacks act on (``set_model`` is called on each).
        **params: passed to every callback's ``set_params`` (``verbose``, ``epochs``,
            ``steps``).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        super().__init__()
        self.callbacks = _flatten(callbacks)
        from nnforge import distribution as distribution_lib
        if distribution_lib.process_id() != 0:  # distribution: only process 0 prints and logs
            self.callbacks = [cb for cb in self.callbacks
                              if not getattr(cb, "first_process_only", False)]
            add_progbar = False
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not all(
                    hasattr(cb, h) for h in ("set_model", "set_params", "on_epoch_end")):
                raise TypeError(
                    f"callbacks must be keras-style Callback instances; got {cb!r}"
                )
        self._add_default_callbacks(add_history, add_progbar)
        self.set_model(model)
        self.set_params(params)

    def _add_default_callbacks(self, add_history, add_progbar):
        self._progbar = None
        self._history = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def append(self, callback):
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)

    def set_params(self, params):
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    @staticmethod
    def _pythonify_logs(logs):
        """Sorted copy of ``logs`` with scalar values as Python floats (nested dicts
        flattened), as Keras hands batch logs to callbacks."""
        result = {}
        for key, value in sorted(logs.items()):
            if isinstance(value, dict):
                result.update(CallbackList._pythonify_logs(value))
            else:
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    pass
                result[key] = value
        return result

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    # ---------------------------------------------------------------- batch hooks
    def on_batch_begin(self, batch, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_batch_begin(batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        logs = self._pythonify_logs(logs or {})
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        logs = self._pythonify_logs(logs or {})
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_test_batch_begin(batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        logs = self._pythonify_logs(logs or {})
        for cb in self.callbacks:
            cb.on_test_batch_end(batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_predict_batch_begin(batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        logs = logs or {}  # holds prediction outputs: not converted
        for cb in self.callbacks:
            cb.on_predict_batch_end(batch, logs=logs)

    # ---------------------------------------------------------------- epoch hooks
    def on_epoch_begin(self, epoch, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    # ---------------------------------------------------------------- begin/end hooks
    def on_train_begin(self, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_test_begin(self, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_test_begin(logs)

    def on_test_end(self, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_test_end(logs)

    def on_predict_begin(self, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_predict_begin(logs)

    def on_predict_end(self, logs=None):
        logs = logs or {}
        for cb in self.callbacks:
            cb.on_predict_end(logs)
