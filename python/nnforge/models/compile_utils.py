"""What ``compile`` sets up: ``CompileLoss`` (the per-output losses with loss_weights) and
``CompileMetrics`` (the metrics, resolved against the model's outputs the first time data is
seen)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple


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


def _per_output_weights(sample_weight, n: int) -> list:
    sws = flatten(sample_weight) if sample_weight is not None else [None] * n
    return sws * n if len(sws) == 1 and n > 1 else sws


class CompileLoss:
    """The loss that ``compile(loss=..., loss_weights=...)`` configures, as one callable.

    ``compile_loss(y_true, y_pred, sample_weight)`` evaluates each output's loss on its
    targets, weights them by ``loss_weights`` and returns their sum (a scalar Tensor). With
    several outputs it also tracks each output's loss in a ``Mean`` metric named
    ``"<output>_loss"`` (listed in ``metrics``, hence in ``Model.metrics`` and the logs).
    Losses added by layers (``add_loss``, regularizers) are not included: ``Model.compute_loss``
    adds them.

    Args:
        loss: a loss name, function or ``Loss`` for every output, or a list (output order) or
            dict (by output name) of them; None entries leave an output without a loss.
        loss_weights: a list or dict of per-output weights (default 1.0 each).
        output_names: the model's output names (``["output"]`` for a single-output model).

    Example:

    >>> compile_loss = CompileLoss("mse", None, ["output"])
    >>> total = compile_loss(y_true, y_pred)
    """

    def __init__(self, loss, loss_weights, output_names: List[str]):
        self.output_names = list(output_names or ["output"])
        n = len(self.output_names)
        self.raw_losses = _per_output(loss, self.output_names, "loss")
        self.losses = [losses_mod.to_loss_object(l) if l is not None else None
                       for l in self.raw_losses]
        if all(l is None for l in self.losses):
            raise ValueError("compile: a loss is required to train or evaluate the model")
        if loss_weights is None:
            self.loss_weights = [1.0] * n
        else:
            self.loss_weights = [1.0 if w is None else float(w) for w in
                                 _per_output(loss_weights, self.output_names, "loss_weights")]
        self.metrics: list = [metrics_mod.Mean(name=f"{name}_loss")
                              for name, l in zip(self.output_names, self.losses)
                              if l is not None] if n > 1 else []

    def __call__(self, y_true, y_pred, sample_weight=None):
        ys_t, ys_p = flatten(y_true), flatten(y_pred)
        if len(ys_p) != len(self.output_names):
            raise ValueError(f"The model produced {len(ys_p)} outputs but compile() configured "
                             f"{len(self.output_names)} {self.output_names}")
        if y_true is None or len(ys_t) != len(ys_p):
            raise ValueError(f"Expected targets for {len(ys_p)} outputs {self.output_names}, "
                             f"got {0 if y_true is None else len(ys_t)}")
        sws = _per_output_weights(sample_weight, len(ys_p))
        total = None
        trackers = iter(self.metrics)
        for loss, w, yt, yp, sw in zip(self.losses, self.loss_weights, ys_t, ys_p, sws):
            if loss is None:
                continue
            value = loss(yt, yp, sample_weight=sw)
            if self.metrics:
                next(trackers).update_state(value, sample_weight=int(yp.shape[0]))
            term = value if w == 1.0 else ops.multiply(value, w)
            total = term if total is None else ops.add(total, term)
        return total


class CompileMetrics(metrics_mod.Metric):
    """The metrics that ``compile(metrics=..., weighted_metrics=...)`` configures, as one
    ``Metric`` (named ``"compile_metrics"``, as in Keras) whose ``result()`` is a dict.

    The metric objects are made from the specs the first time ``update_state`` sees data, so
    that ``"accuracy"`` can be resolved from the loss and the shapes of the targets
    (categorical, sparse categorical or binary accuracy). With several outputs, each metric's
    name is prefixed with its output's name.

    Args:
        metrics: metric names/functions/objects for every output, or a list (output order) or
            dict (by output name) of such lists.
        weighted_metrics: the same, for metrics weighted by ``sample_weight``.
        output_names: the model's output names.
        losses: the per-output ``Loss`` objects (None entries allowed), used to resolve
            ``"accuracy"``.

    Example:

    >>> cm = CompileMetrics(["accuracy"], None, ["output"], [keras.losses.get("mse")])
    >>> cm.update_state(y_true, y_pred)
    >>> cm.result()
    {'accuracy': <nnforge.Tensor ...>}
    """

    def __init__(self, metrics, weighted_metrics, output_names: List[str], losses=None,
                 name: str = "compile_metrics"):
        super().__init__(name=name)
        self.output_names = list(output_names or ["output"])
        n = len(self.output_names)
        self._losses = list(losses) if losses is not None else [None] * n
        self._metric_specs = _per_output(metrics, self.output_names, "metrics") \
            if metrics is not None else [[] for _ in range(n)]
        self._weighted_specs = _per_output(weighted_metrics, self.output_names,
                                           "weighted_metrics") \
            if weighted_metrics is not None else [[] for _ in range(n)]
        # per output: (log name, metric object, weighted by sample_weight?)
        self.entries: Optional[List[List[Tuple[str, Any, bool]]]] = None

    @property
    def built(self) -> bool:
        return self.entries is not None

    def build(self, y_true, y_pred) -> None:
        """Create the metric objects for targets and predictions like these."""
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
                    m = metrics_mod.get(
                        spec, loss=self._losses[i] if i < len(self._losses) else None,
                        y_true_shape=tuple(getattr(ys_t[i], "shape", ())) if i < len(ys_t)
                        else None,
                        y_pred_shape=tuple(getattr(ys_p[i], "shape", ())) if i < len(ys_p)
                        else None)
                    if isinstance(spec, str):  # Keras names a metric given by name so
                        m.name = spec
                    name = m.name if n == 1 else f"{self.output_names[i]}_{m.name}"
                    if weighted and n == 1 and not m.name.startswith("weighted_"):
                        name = f"weighted_{m.name}" if any(
                            e[0] == m.name for e in entries) else name
                    entries.append((name, m, weighted))
            out.append(entries)
        self.entries = out

    @property
    def metrics(self) -> list:
        """The metric objects (empty until built)."""
        return [m for entries in (self.entries or []) for _, m, _ in entries]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.entries is None:
            self.build(y_true, y_pred)
        ys_t, ys_p = flatten(y_true), flatten(y_pred)
        sws = _per_output_weights(sample_weight, len(ys_p))
        for i, entries in enumerate(self.entries):
            for _, m, weighted in entries:
                m.update_state(ys_t[i], ys_p[i], sample_weight=sws[i] if weighted else None)

    def result(self) -> Dict[str, Any]:
        return {name: m.result() for entries in (self.entries or []) for name, m, _ in entries}

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()
