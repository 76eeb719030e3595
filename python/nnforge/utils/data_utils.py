"""``keras.utils.pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight`` (the functions live
with the data adapter in ``nnforge.models``; imported when called, since ``nnforge.ops`` imports
``nnforge.utils`` before the models exist)."""
from __future__ import annotations


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch as ``train_step`` receives it
    (``keras.utils.unpack_x_y_sample_weight``): ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``; missing entries are None.

    Args:
        data: the batch.

    Returns:
        The tuple ``(x, y, sample_weight)``.

    Example:

    >>> x, y, sample_weight = unpack_x_y_sample_weight((x_batch, y_batch))
    """
    from nnforge.models.data_adapter import unpack_x_y_sample_weight as impl
    return impl(data)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch as Keras hands it to ``train_step`` (``keras.utils.pack_x_y_sample_weight``):
    ``x`` alone (or ``(x,)`` when x is a tuple/list), ``(x, y)``, or ``(x, y, sample_weight)``.

    Args:
        x: the inputs.
        y: the targets, or None.
        sample_weight: the sample weights, or None.

    Returns:
        The packed batch.

    Example:

    >>> pack_x_y_sample_weight(x, y)
    (x, y)
    """
    from nnforge.models.data_adapter import pack_x_y_sample_weight as impl
    return impl(x, y, sample_weight)
