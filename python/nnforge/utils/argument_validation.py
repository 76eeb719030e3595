"""Checks of the arguments that convolution and pooling layers and ops share (Keras 3's
``keras/src/utils/argument_validation.py``): one place, so that every layer and op accepts and
refuses the same values with the same messages."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np

IntOrInts = Union[int, Sequence[int]]


def standardize_tuple(value: IntOrInts, n: int, name: str, where: str = "",
                      allow_zero: bool = False) -> Tuple[int, ...]:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints, each >= 1 (>= 0 with
    ``allow_zero``).

    Args:
        value: an int (repeated ``n`` times) or a sequence of ``n`` ints.
        n: the number of values wanted (the rank of the convolution or pooling).
        name: the argument's name, for messages (``"strides"``).
        where: who is asking, for messages (``"Conv2D 'conv2d'"``).
        allow_zero: accept 0 (e.g. for padding amounts).

    Returns:
        A tuple of ``n`` Python ints.

    Raises:
        TypeError: ``value`` is neither an int nor a sequence of ints.
        ValueError: wrong length, or a value below the minimum.

    Example:

    >>> standardize_tuple(3, 2, "kernel_size")
    (3, 3)
    >>> standardize_tuple([1, 2], 2, "strides")
    (1, 2)
    """
    prefix = f"{where}: " if where else ""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        result = (int(value),) * n
    else:
        try:
            result = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise TypeError(f"{prefix}'{name}' must be an int or a tuple of {n} ints, "
                            f"got {value!r}") from None
        if len(result) != n:
            raise ValueError(f"{prefix}'{name}' must have {n} values, got {value!r}")
    low = 0 if allow_zero else 1
    if any(v < low for v in result):
        raise ValueError(f"{prefix}'{name}' values must be >= {low}, got {value!r}")
    return result


def standardize_padding(value: str, allow_causal: bool = False, where: str = "") -> str:
    """``"valid"``, ``"same"`` (or ``"causal"`` where allowed), case-insensitive.

    Args:
        value: the padding argument.
        allow_causal: accept ``"causal"`` (1-D convolutions).
        where: who is asking, for messages.

    Returns:
        The padding in lower case.

    Raises:
        ValueError: any other value.

    Example:

    >>> standardize_padding("SAME")
    'same'
    """
    padding = str(value).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        prefix = f"{where}: " if where else ""
        names = ", ".join(repr(a) for a in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{prefix}padding must be {names}, got {value!r}")
    return padding


def standardize_data_format(value: Optional[str], where: str = "") -> str:
    """``"channels_last"`` (the only layout nnforge computes in) for None or that value.

    Args:
        value: the data_format argument.
        where: who is asking, for messages.

    Returns:
        ``"channels_last"``.

    Raises:
        ValueError: any other value (``"channels_first"`` is not supported).

    Example:

    >>> standardize_data_format(None)
    'channels_last'
    """
    if value not in (None, "channels_last"):
        prefix = f"{where}: " if where else ""
        raise ValueError(f"{prefix}only data_format='channels_last' (NHWC) is supported, got "
                         f"{value!r}")
    return "channels_last"


def conv_output_length(size: int, kernel: int, stride: int, dilation: int, padding: str,
                       where: str = "conv", dim: str = "size") -> Tuple[int, int]:
    """Output length and leading pad of one spatial dimension, as TensorFlow computes them.

    Args:
        size: the input length along the dimension.
        kernel: the window size; stride, dilation: as the layer's.
        padding: ``"valid"`` or ``"same"`` (the extra pad of 'same' goes at the end).
        where, dim: who is asking and which dimension, for messages.

    Returns:
        (output length, pad before the first element).

    Raises:
        ValueError: a 'valid' window larger than the input, or an empty input.

    Example:

    >>> conv_output_length(5, 3, 2, 1, "same")
    (3, 1)
    """
    eff = (kernel - 1) * dilation + 1
    if padding == "valid":
        out = (size - eff) // stride + 1 if size >= eff else 0
        if out < 1:
            raise ValueError(f"{where}: with padding='valid' the {dim} of the input ({size}) is "
                             f"smaller than the (dilated) window ({eff})")
        return out, 0
    if padding == "same":
        if size < 1:
            raise ValueError(f"{where}: the input {dim} must be >= 1, got {size}")
        out = -(-size // stride)
        total = max((out - 1) * stride + eff - size, 0)
        return out, total // 2
    raise ValueError(f"{where}: padding must be 'valid' or 'same', got {padding!r}")


def conv_transpose_output_length(size: int, kernel: int, stride: int, dilation: int,
                                 padding: str, output_padding: Optional[int] = None,
                                 where: str = "conv_transpose",
                                 dim: str = "size") -> Tuple[int, int]:
    """Output length of one spatial dimension of a transposed convolution, as Keras 3 computes
    it, and where that output starts in the 'full' result (the sum of every input element's
    scaled kernel, of length ``(size - 1) * stride + dilated kernel``).

    Args:
        size: the input length along the dimension.
        kernel, stride, dilation: as the layer's.
        padding: ``"valid"`` or ``"same"``.
        output_padding: None (Keras's default) or the extra length added at the end.
        where, dim: who is asking and which dimension, for messages.

    Returns:
        (output length, offset of output element 0 in the full result); output elements past
        the full result are zeros.

    Raises:
        ValueError: a bad padding, or an output_padding that is negative or not smaller than
            the stride.

    Example:

    >>> conv_transpose_output_length(3, 3, 2, 1, "same")
    (6, 0)
    >>> conv_transpose_output_length(3, 1, 2, 1, "valid")
    (6, 0)
    """
    eff = (kernel - 1) * dilation + 1
    if output_padding is not None and not 0 <= output_padding < stride:
        raise ValueError(f"{where}: output_padding ({output_padding}) along the {dim} must be "
                         f">= 0 and smaller than the stride ({stride})")
    if padding == "valid":
        extra = max(eff, stride) - eff if output_padding is None else output_padding
        left, right = eff - 1, eff - 1 + extra
    elif padding == "same":
        pad_len = (stride + eff - 2 if output_padding is None
                   else eff + eff % 2 - 2 + output_padding)
        left = min(pad_len // 2 + pad_len % 2, eff - 1)
        right = pad_len - left
    else:
        raise ValueError(f"{where}: padding must be 'valid' or 'same', got {padding!r}")
    length = (size - 1) * stride + left + right - eff + 2
    return length, eff - 1 - left
