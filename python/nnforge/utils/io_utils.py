"""Console output helpers shared by the progress bar and the callbacks."""
from __future__ import annotations

import sys

_SPECIAL_CHARS = {"\u2501": "="}  # the '━' of the progress bar


def _replace_special_unicode_characters(message: str) -> str:
    for char, replacement in _SPECIAL_CHARS.items():
        message = message.replace(char, replacement)
    return message


_INTERACTIVE = {"enabled": True}


def enable_interactive_logging() -> None:
    """Send nnforge's messages (progress bars, callbacks' prints) to ``sys.stdout``, the default
    (``keras.utils.enable_interactive_logging``).

    Example:

    >>> nnforge.utils.enable_interactive_logging()
    """
    _INTERACTIVE["enabled"] = True


def disable_interactive_logging() -> None:
    """Send nnforge's messages to the ``logging`` module (logger ``"nnforge"``, level INFO)
    instead of ``sys.stdout`` (``keras.utils.disable_interactive_logging``).

    Example:

    >>> nnforge.utils.disable_interactive_logging()
    >>> model.fit(x, y)   # the progress goes to logging
    """
    _INTERACTIVE["enabled"] = False


def is_interactive_logging_enabled() -> bool:
    """Whether messages go to ``sys.stdout`` (``keras.utils.is_interactive_logging_enabled``).

    Example:

    >>> nnforge.utils.is_interactive_logging_enabled()
    True
    """
    return _INTERACTIVE["enabled"]


def print_msg(message, line_break: bool = True) -> None:
    """Write ``message`` to ``sys.stdout`` (looked up at call time, so redirection works) and flush.

    A terminal whose encoding cannot show the bar's '━' gets '=' instead, as in Keras."""
    message = str(message)
    if not _INTERACTIVE["enabled"]:  # disable_interactive_logging(): to the logging module
        import logging
        logging.getLogger("nnforge").info(message)
        return
    if line_break:
        message += "\n"
    stream = sys.stdout
    if stream is None:  # e.g. pythonw
        return
    try:
        stream.write(message)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        message = _replace_special_unicode_characters(message)
        stream.write(message.encode(encoding, errors="ignore").decode(encoding))
    stream.flush()
