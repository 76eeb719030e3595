"""Unique default names for layers and models (``dense``, ``dense_1``, ...), as Keras gives."""
from __future__ import annotations

import re
from collections import defaultdict

_counts: "defaultdict[str, int]" = defaultdict(int)


def to_snake_case(name: str) -> str:
    s = re.sub(r"\W+", "", name)
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", s)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(base: str) -> str:
    n = _counts[base]
    _counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def reset() -> None:
    """Forget all issued names (``keras.backend.clear_session()``)."""
    _counts.clear()
