"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts."""
from __future__ import annotations

from typing import Callable, List, Optional, Sequence

import numpy as np


def readable_memory_size(n_bytes: float) -> str:
    units = ["B", "KB", "MB", "GB", "TB"]
    scale = 1024
    for unit in units:
        if n_bytes < scale or unit == units[-1]:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= scale
    return f"{n_bytes:.2f} TB"


def format_shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _bytes(weights) -> int:
    return int(sum(int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize for w in weights))


def _wrap(text: str, width: int) -> List[str]:
    if len(text) <= width:
        return [text]
    lines, cur = [], ""
    for part in text.replace(", ", ",\x00").split("\x00"):
        if len(cur) + len(part) > width and cur:
            lines.append(cur)
            cur = part
        else:
            cur += part
    lines.append(cur)
    return [ln[i:i + width] for ln in lines for i in range(0, max(len(ln), 1), width)]


def render_table(rows: Sequence[Sequence[str]], headers: Sequence[str], widths: Sequence[int],
                 right_align: Sequence[bool]) -> List[str]:
    def cell_lines(row):
        cols = [_wrap(c, w - 2) for c, w in zip(row, widths)]
        height = max(len(c) for c in cols)
        out = []
        for i in range(height):
            parts = []
            for c, w, r in zip(cols, widths, right_align):
                t = c[i] if i < len(c) else ""
                parts.append(" " + (t.rjust(w - 2) if r else t.ljust(w - 2)) + " ")
            out.append(parts)
        return out

    lines = ["┏" + "┳".join("━" * w for w in widths) + "┓"]
    for parts in cell_lines(headers):
        lines.append("┃" + "┃".join(parts) + "┃")
    lines.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    for i, row in enumerate(rows):
        for parts in cell_lines(row):
            lines.append("│" + "│".join(parts) + "│")
        if i < len(rows) - 1:
            lines.append("├" + "┼".join("─" * w for w in widths) + "┤")
    lines.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return lines


def print_summary(model, line_length: Optional[int] = None, positions=None,
                  print_fn: Optional[Callable] = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range=None) -> None:
    print_fn = print_fn or (lambda s, **k: print(s))
    entries = model._summary_entries()  # [(name, class, output_shape, params, connected_to)]
    connected = any(e[4] is not None for e in entries)
    if connected:
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        widths = [28, 22, 12, 22]
        right = [False, False, True, False]
        rows = [[f"{n} ({c})", format_shape(s), f"{p:,}", e or "-"]
                for n, c, s, p, e in entries]
    else:
        headers = ["Layer (type)", "Output Shape", "Param #"]
        widths = [38, 29, 17]
        right = [False, False, True]
        rows = [[f"{n} ({c})", format_shape(s), f"{p:,}"] for n, c, s, p, _ in entries]
    if line_length:
        total = sum(widths)
        widths = [max(8, int(w * line_length / total)) for w in widths]
    lines = [f'Model: "{model.name}"'] + render_table(rows, headers, widths, right)
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    n_t, n_nt = _count(trainable), _count(non_trainable)
    b_t, b_nt = _bytes(trainable), _bytes(non_trainable)
    opt = getattr(model, "optimizer", None)
    opt_vars = opt.variables if opt is not None and getattr(opt, "built", False) else []
    n_o, b_o = _count(opt_vars), _bytes(opt_vars)
    lines.append(f" Total params: {n_t + n_nt + n_o:,} ({readable_memory_size(b_t + b_nt + b_o)})")
    lines.append(f" Trainable params: {n_t:,} ({readable_memory_size(b_t)})")
    lines.append(f" Non-trainable params: {n_nt:,} ({readable_memory_size(b_nt)})")
    if opt_vars:
        lines.append(f" Optimizer params: {n_o:,} ({readable_memory_size(b_o)})")
    lines.extend(_sparsity_lines(model))
    for ln in lines:
        print_fn(ln)


def _sparsity_lines(model) -> List[str]:
    """Per-layer sparsity of the layers under pruning (``nnforge.compression``)."""
    out = []
    for layer in getattr(model, "layers", []):
        state = getattr(layer, "_pruning", None)
        if state is not None:
            zeros, size = state.sparsity()
            out.append(f"   {layer.name}: {100.0 * zeros / max(size, 1):.2f}% "
                       f"({zeros:,} of {size:,} weights are zero)")
    return [" Sparsity (pruned layers):"] + out if out else []
