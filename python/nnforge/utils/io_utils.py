"""Console output helpers shared by the progress bar and the callbacks."""
from __future__ import annotations

import sys

_SPECIAL_CHARS = {"\u2501": "="}  # the '━' of the progress bar


def _replace_special_unicode_characters(message: str) -> str:
    for char, replacement in _SPECIAL_CHARS.items():
        message = message.replace(char, replacement)
    return message


def print_msg(message, line_break: bool = True) -> None:
    """Write ``message`` to ``sys.stdout`` (looked up at call time, so redirection works) and flush.

    A terminal whose encoding cannot show the bar's '━' gets '=' instead, as in Keras."""
    message = str(message)
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
