"""What ``compile`` sets up: the per-output losses (with loss_weights) and metrics, resolved
against the model's outputs the first time data is seen."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nnforge import losses as losses_mod
from nnforge import metrics as metrics_mod
from nnforge import ops
from nnforge.layers.node import flatten


def _per_output(spec, names: List[str], what: str, allow_broadcast: bool = True) -> list:
    """Spread a compile argument over the outputs: a single value (broadcast), a list in output
    order, or a dict keyed by output name."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not output names "
                             f"{names}")
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)):
        if n == 1 and what == "metrics":
            return [list(spec)]
        if len(spec) != n:
            if what == "metrics" and all(not isinstance(s, (list, tuple, dict)) for s in spec):
                return [list(spec)] * n
            raise ValueError(f"compile: {what} is a list of {len(spec)} entries but the model "
                             f"has {n} outputs {names}")
        return list(spec)
    if not allow_broadcast and n > 1:
        raise ValueError(f"compile: {what} must be a list or dict for a model with {n} outputs")
    return [spec] * n


class CompiledLossAndMetrics:
    def __init__(self, loss, loss_weights, metrics, weighted_metrics, output_names: List[str]):
        self.output_names = output_names or ["output"]
        n = len(self.output_names)
        raw_losses = _per_output(loss, self.output_names, "loss")
        self.losses = [losses_mod.to_loss_object(l) if l is not None else None
                       for l in raw_losses]
        if all(l is None for l in self.losses):
            raise ValueError("compile: a loss is required to train or evaluate the model")
        if loss_weights is None:
            self.loss_weights = [1.0] * n
        else:
            self.loss_weights = [1.0 if w is None else float(w) for w in
                                 _per_output(loss_weights, self.output_names, "loss_weights")]
        self._metric_specs = _per_output(metrics, self.output_names, "metrics") \
            if metrics is not None else [[] for _ in range(n)]
        self._weighted_specs = _per_output(weighted_metrics, self.output_names,
                                           "weighted_metrics") \
            if weighted_metrics is not None else [[] for _ in range(n)]
        self.metrics: Optional[List[List[Tuple[str, Any, bool]]]] = None
        self.raw_losses = raw_losses

    def build_metrics(self, y_true, y_pred) -> None:
        ys_t, ys_p = flatten(y_true), flatten(y_pred)
        n = len(self.output_names)
        out = []
        for i in range(n):
            entries = []
            for weighted, specs in ((False, self._metric_specs[i]),
                                    (True, self._weighted_specs[i])):
                if specs is None:
                    continue
                if not isinstance(specs, (list, tuple)):
                    specs = [specs]
                for spec in specs:
                    if spec is None:
                        continue
                    m = metrics_mod.get(spec, loss=self.losses[i],
                                        y_true_shape=tuple(getattr(ys_t[i], "shape", ())) if i < len(ys_t) else None,
                                        y_pred_shape=tuple(getattr(ys_p[i], "shape", ())) if i < len(ys_p) else None)
                    name = m.name if n == 1 else f"{self.output_names[i]}_{m.name}"
                    if weighted and n == 1 and not m.name.startswith("weighted_"):
                        name = f"weighted_{m.name}" if any(
                            e[0] == m.name for e in entries) else name
                    entries.append((name, m, weighted))
            out.append(entries)
        self.metrics = out

    def all_metrics(self) -> list:
        return [m for entries in (self.metrics or []) for _, m, _ in entries]

    def compute_loss(self, y_true, y_pred, sample_weight, extra_losses) -> Tuple[Any, list]:
        ys_t, ys_p = flatten(y_true), flatten(y_pred)
        if len(ys_p) != len(self.output_names):
            raise ValueError(f"The model produced {len(ys_p)} outputs but compile() configured "
                             f"{len(self.output_names)} {self.output_names}")
        if len(ys_t) != len(ys_p):
            raise ValueError(f"Expected targets for {len(ys_p)} outputs {self.output_names}, "
                             f"got {len(ys_t)}")
        sws = flatten(sample_weight) if sample_weight is not None else [None] * len(ys_p)
        if len(sws) == 1 and len(ys_p) > 1:
            sws = sws * len(ys_p)
        total = None
        per_output = []
        for loss, w, yt, yp, sw in zip(self.losses, self.loss_weights, ys_t, ys_p, sws):
            if loss is None:
                per_output.append(None)
                continue
            value = loss(yt, yp, sample_weight=sw)
            per_output.append(value)
            term = value if w == 1.0 else ops.multiply(value, w)
            total = term if total is None else ops.add(total, term)
        for extra in extra_losses:
            total = ops.add(total, extra)
        return total, per_output
