"""``LambdaCallback``: a callback made of plain functions."""
from __future__ import annotations

from .callback import Callback

_HOOKS = frozenset({
    "on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
    "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
    "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
    "on_predict_begin", "on_predict_end",
})


class LambdaCallback(Callback):
    """Callback for creating simple, custom callbacks on-the-fly.

    The functions are called with the hook's arguments: ``on_epoch_begin``/``on_epoch_end``
    get ``(epoch, logs)``, ``on_train_begin``/``on_train_end`` get ``(logs)``, batch hooks get
    ``(batch, logs=...)``. Any other hook can be given by name as a keyword argument, e.g.
    ``LambdaCallback(on_test_end=fn)``.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - _HOOKS)
        if unknown:
            raise ValueError(f"LambdaCallback: unknown hook name(s) {unknown}")
        self.__dict__.update({k: v for k, v in kwargs.items() if v is not None})
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end),
                         ("on_train_batch_begin", on_train_batch_begin),
                         ("on_train_batch_end", on_train_batch_end)):
            if fn is not None:
                setattr(self, name, fn)
