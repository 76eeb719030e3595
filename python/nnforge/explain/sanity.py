"""The model-randomisation sanity check of Adebayo et al. (2018, "Sanity Checks for Saliency
Maps"): re-initialise the layers of a copy of the model one after the other, from the output
down (cascading randomisation), explain the same inputs after each step, and report how similar
the maps stay to the trained model's (Spearman rank correlation per sample). A method whose maps
stay similar once the weights are random does not explain the model."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Union

import numpy as np

from nnforge import random_state
from nnforge.layers import Layer
from nnforge.models import clone_model

from . import _graph
from .gradients import prepare, resolve, saliency, smoothgrad
from .grad_cam import grad_cam, grad_cam_plus_plus
from .integrated_gradients import integrated_gradients
from .occlusion import occlusion

METHODS = {f.__name__: f for f in (saliency, smoothgrad, integrated_gradients, grad_cam,
                                   grad_cam_plus_plus, occlusion)}


def rankdata(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties given their average rank (``scipy.stats.rankdata``)."""
    a = np.asarray(a).ravel()
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    new = np.concatenate([[True], s[1:] != s[:-1]]) if a.size else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [a.size]])
    avg = (starts + ends - 1) / 2.0 + 1.0
    ranks = np.empty(a.size, dtype=np.float64)
    ranks[order] = avg[np.cumsum(new) - 1]
    return ranks


def spearman(a, b) -> float:
    """Spearman rank correlation of two equally sized arrays (flattened), ties averaged.
    A constant array carries no ranking, so its correlation with anything is defined as 0."""
    ra, rb = rankdata(a), rankdata(b)
    if ra.shape != rb.shape:
        raise ValueError(f"spearman: arrays of {ra.size} and {rb.size} elements")
    ra -= ra.mean()
    rb -= rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den > 0 else 0.0


@dataclass
class SanityCheckResult:
    """Outcome of ``sanity_check``.

    Attributes:
        method: the explanation method's name.
        layers: the layers randomised, in order (from the output down); row ``i`` of
            ``correlations`` has layers ``0..i`` randomised.
        correlations: Spearman rank correlation per step and sample, shape
            ``(len(layers), batch)``.
    """

    method: str
    layers: List[str]
    correlations: np.ndarray = field(repr=False)

    @property
    def mean(self) -> np.ndarray:
        """Mean correlation over the samples, one per randomisation step."""
        return self.correlations.mean(axis=1)

    def table(self) -> str:
        """A plain-text table: one row per randomisation step (mean, min, max over samples)."""
        width = max([len("randomised down to")] + [len(n) for n in self.layers])
        lines = [f"Sanity check ({self.method}): Spearman rank correlation with the trained "
                 f"model's maps",
                 f"{'randomised down to':<{width}}  {'mean':>7}  {'min':>7}  {'max':>7}"]
        for name, row in zip(self.layers, self.correlations):
            lines.append(f"{name:<{width}}  {row.mean():7.3f}  {row.min():7.3f}  "
                         f"{row.max():7.3f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _copy_of(model: Layer, x, weights: bool) -> Layer:
    copy = clone_model(model)
    if not copy.weights:
        copy(x[:1], training=False)  # build
    if weights:
        copy.set_weights(model.get_weights())
    return copy


def sanity_check(method: Union[str, Callable], model: Layer, x, target=None,
                 compare: str = "absolute", seed: int = 0, **kwargs) -> SanityCheckResult:
    """Cascading model-randomisation test of an explanation method (Adebayo et al. 2018).

    Works on copies of ``model`` (``clone_model``): the model's own weights are never changed.
    The layers that own weights are re-initialised cumulatively from the output down, each with
    its own initializers (as a freshly built model has them), and the method explains ``x``
    after each step; every map is compared with the trained model's map for the same sample and
    the same target.

    Args:
        method: an explanation function (``saliency``, ``grad_cam``, ... or your own with the
            signature ``method(model, x, target=..., **kwargs)``) or its name.
        model: the trained model.
        x: a batch of inputs.
        target: as the methods take it; None fixes each sample's class predicted by the trained
            model for all steps.
        compare: ``"absolute"`` ranks the maps' absolute values, ``"signed"`` the values as
            they are (Adebayo et al. report both for signed maps).
        seed: seed of the random weights.
        **kwargs: passed to ``method`` (e.g. ``output="logits"``, ``steps=32``).

    Returns:
        A ``SanityCheckResult``; ``print(result)`` shows the table.

    Example:

    >>> result = nnforge.explain.sanity_check("grad_cam", model, x_test[:16], output="logits")
    >>> print(result)
    """
    fn = "sanity_check"
    if compare not in ("absolute", "signed"):
        raise ValueError(f"{fn}: compare must be 'absolute' or 'signed', got {compare!r}")
    absolute = compare == "absolute"
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"{fn}: unknown method {method!r}; choose one of {sorted(METHODS)} "
                             f"or pass a function")
        method = METHODS[method]
    if not callable(method):
        raise TypeError(f"{fn}: method must be a function or a method name, got "
                        f"{type(method).__name__}")
    output = kwargs.get("output", "model")
    batch_size = kwargs.get("batch_size", 256)
    be, xd = prepare(model, x, fn, output, batch_size)
    if target is None:
        target = resolve(model, be, xd, None, output, batch_size, fn).indices
    if isinstance(kwargs.get("layer"), Layer):
        kwargs["layer"] = kwargs["layer"].name
    reference = np.asarray(method(model, xd, target=target, **kwargs))

    working = _copy_of(model, xd, weights=True)
    state = random_state.get_state()
    random_state.set_global_seed(seed)
    try:
        fresh = _copy_of(model, xd, weights=False)
    finally:
        random_state.set_state(state)
    mine = _graph.weighted_layers(working)[::-1]
    theirs = _graph.weighted_layers(fresh)[::-1]
    if not mine:
        raise ValueError(f"{fn}: model '{model.name}' has no layer with weights to randomise")
    names, rows = [], []
    n = xd.shape[0]
    for lay, rnd in zip(mine, theirs):
        lay.set_weights(rnd.get_weights())
        maps = np.asarray(method(working, xd, target=target, **kwargs))
        a = np.abs(reference) if absolute else reference
        b = np.abs(maps) if absolute else maps
        rows.append([spearman(a[i], b[i]) for i in range(n)])
        names.append(lay.name)
    return SanityCheckResult(getattr(method, "__name__", str(method)), names,
                             np.asarray(rows, dtype=np.float64))
