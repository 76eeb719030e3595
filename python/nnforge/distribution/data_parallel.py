"""``DataParallel``: every process holds the whole model and trains on its shard of each
global batch; gradients, metric states and predictions are combined over processes.

``fit``/``evaluate``/``predict`` consult the strategy set by ``set_distribution`` at a few call
sites (see ``nnforge.models.trainer``): when a loop starts (``begin``), for each global batch
(``shard_batch``), after a training batch's gradients and metric update (``reduce_step``: one
collective for both), after an evaluation batch (``reduce_logs``) and at the end of ``predict``
(``gather_outputs``).
"""
from __future__ import annotations

import contextlib
import hashlib
from typing import Any, List, Optional

import numpy as np

from nnforge import backend, random_state
from nnforge.layers.node import flatten, map_structure

from . import launch, metric_state
from .gradient_reduction import MpiReducer
from .nccl import NcclReducer, is_device_array


def list_devices(device_type: Optional[str] = None) -> List[str]:
    """The devices of the job, one per process: ``"gpu:i"`` where this process drives a GPU,
    else ``"cpu:i"``, with ``i`` the process id (``keras.distribution.list_devices``).

    Args:
        device_type: ``"cpu"`` or ``"gpu"`` to keep only that kind (None: all).

    Example:
    >>> list_devices()        # one process, no GPU
    ['cpu:0']
    """
    n = launch.get_num_processes()
    kind = "gpu" if backend.get_device() == "cuda" else "cpu"
    if device_type is not None and device_type.lower() != kind:
        return []
    return [f"{kind}:{i}" for i in range(n)]


class DataParallel:
    """Data-parallel training over the processes of an MPI job (``keras.distribution.
    DataParallel``): each process runs the whole model on its share of every global batch.

    ``batch_size`` given to ``fit``/``evaluate``/``predict`` is the global batch: each batch is
    split into contiguous shards, one per process in rank order (the first ``n % P`` processes
    get one row more). All variables (optimizer state included) are broadcast from process 0
    before the first batch; gradients are summed with each process weighted by its own row
    count, so N processes train as one process on the same global batch. Metric states are
    summed, so every process sees the logs one process would. ``predict`` returns every row,
    in order, on every process. Only process 0 prints progress and writes files. A
    ``PyDataset`` or generator must yield the same global batches on every process (each
    process keeps its own rows of each).

    Args:
        devices: the devices to use; None (default) means all of ``list_devices()``. Given
            explicitly, there must be one per process.
        timeout: seconds a process waits in one collective of a training or evaluation step
            (a gradient sum, a barrier after a file write) before it decides that a peer died
            and ends the whole job with ``MPI_Abort``.
        setup_timeout: the same for the broadcasts when ``fit``/``evaluate``/``predict``
            starts, where processes may arrive far apart (one loaded its data more slowly).

    Example:
    >>> import nnforge as keras
    >>> keras.distribution.initialize()
    >>> keras.distribution.set_distribution(keras.distribution.DataParallel())
    >>> model.fit(x, y, batch_size=64)   # 64 rows per step, over all processes
    """

    def __init__(self, devices: Optional[List[str]] = None, timeout: float = 25.0,
                 setup_timeout: float = 600.0):
        launch.initialize()
        self.num_processes = launch.get_num_processes()
        self.process_id = launch.get_process_id()
        if devices is not None and len(devices) != self.num_processes:
            raise ValueError(f"DataParallel: got {len(devices)} devices for "
                             f"{self.num_processes} processes; data parallelism over MPI uses "
                             f"one device per process")
        self.devices = list(devices) if devices is not None else list_devices()
        if timeout <= 0 or setup_timeout <= 0:
            raise ValueError(f"DataParallel: timeout and setup_timeout must be positive, got "
                             f"{timeout} and {setup_timeout}")
        self.timeout = float(timeout)
        self.setup_timeout = float(setup_timeout)
        comm = launch.get_comm()
        self._coll = None
        if comm is not None and self.num_processes > 1:
            from .collectives import Collectives
            self._coll = Collectives(comm, timeout=self.timeout)
        self._reducers: dict = {}
        self._sync_pending = None   # a model whose variables process 0 still has to broadcast
        self._weight = 1.0          # this process's share of the current global batch
        self._dummy = False         # this process got no rows: it runs one row with weight 0
        self._dummy_states = None
        self._predict_dummy: List[bool] = []
        self._state_vars: list = []
        self._sharded = False

    # -- what the trainer calls ----------------------------------------------------------------
    @property
    def collectives(self):
        """The MPI collectives (None in a single process)."""
        return self._coll

    def begin(self, model, mode: str) -> None:
        """Called when ``fit``/``evaluate``/``predict`` starts: schedules the broadcast of the
        model's variables from process 0 for the first batch (when the model is surely built),
        and, for ``fit``, makes the shuffling identical and dropout/augmentation streams
        distinct per process."""
        self._sync_pending = (model, mode == "fit")
        self._predict_dummy = []
        if mode == "fit" and self._coll is not None:
            with self._setup_deadline():
                random_state.set_state(self._coll.bcast_obj(random_state.get_state(), 0,
                                                            "the random state broadcast"))
            self._per_process_streams(model)

    def shard_batch(self, model, x, y, sample_weight):
        """This process's contiguous rows of a global batch ``(x, y, sample_weight)``."""
        n = int(flatten(x)[0].shape[0])
        p, r = self.num_processes, self.process_id
        base, extra = divmod(n, p)
        lo = r * base + min(r, extra)
        hi = lo + base + (1 if r < extra else 0)
        self._dummy = hi == lo
        if self._dummy:  # no rows here: run one row (any) whose contribution is weighted 0
            lo, hi = 0, 1
            self._dummy_states = metric_state.get_states(_all_metrics(model))
        self._weight = (hi - lo) / n if not self._dummy else 0.0
        self._sharded = True
        if self._sync_pending is not None:
            with self._setup_deadline():
                self._sync_model(model, x, self._sync_pending[1])

        def part(a):
            return a[lo:hi] if a is not None and hasattr(a, "shape") and a.ndim else a
        return (map_structure(part, x), map_structure(part, y) if y is not None else None,
                map_structure(part, sample_weight) if sample_weight is not None else None)

    def reduce_step(self, model, grads: list, variables: list) -> dict:
        """After a training batch's gradients and local metric update: sums the gradients over
        processes (each weighted by its share of the global batch) in place, averages the
        non-trainable variables (moving statistics) with the same weights, and sums the metric
        states, all in one collective.

        Args:
            model: the model being trained (its metrics hold this process's running state).
            grads: the gradient Tensors of ``variables`` (None where a variable has none),
                overwritten with the sums.
            variables: the trained variables, in the order of ``grads``.

        Returns:
            the logs of the summed metric states; each process keeps its own running state.
        """
        if len(grads) != len(variables):
            raise ValueError(f"DataParallel.reduce_step: {len(grads)} gradients for "
                             f"{len(variables)} variables")
        if not self._sharded:  # train_on_batch: each process brought its own batch
            self._weight = 1.0 / self.num_processes
        self._sharded = False
        metrics = self._forget_placeholder(model)
        if self._coll is None:
            return model.get_metrics_result()
        arrays = [g.data for g in grads if g is not None] + [v.data for v in self._state_vars]
        local = metric_state.get_states(metrics)
        plain, lazy = _split_lazy(metrics)
        flat = metric_state.pack(plain)
        if arrays and not is_device_array(arrays[0]):
            flat = self._reducer_for(arrays[0]).reduce_(arrays, self._weight, flat)
        else:
            if arrays:
                self._reducer_for(arrays[0]).reduce_(arrays, self._weight)
            self._coll.allreduce_(flat, "the metric state allreduce")
        return self._logs_of_summed(model, metrics, local, plain, flat, lazy)

    def reduce_logs(self, model) -> dict:
        """After an evaluation batch's local metric update: the logs of the metric states
        summed over processes; each process keeps its own running state."""
        metrics = self._forget_placeholder(model)
        if self._coll is None:
            return model.get_metrics_result()
        local = metric_state.get_states(metrics)
        plain, lazy = _split_lazy(metrics)
        flat = metric_state.pack(plain)
        self._coll.allreduce_(flat, "the metric state allreduce")
        return self._logs_of_summed(model, metrics, local, plain, flat, lazy)

    def _forget_placeholder(self, model) -> list:
        """The model's metrics, with the update from a placeholder row (a process without rows
        in this batch) undone."""
        metrics = _all_metrics(model)
        if self._dummy:
            known = self._dummy_states
            self._dummy = False
            for i, m in enumerate(metrics):
                if i < len(known):
                    metric_state.set_states([m], [known[i]])
                else:  # built by this very batch
                    m.reset_state()
        return metrics

    def _logs_of_summed(self, model, metrics, local, plain, flat, lazy) -> dict:
        metric_state.unpack(plain, flat)
        if lazy:
            gathered = self._coll.allgather_obj(metric_state.get_states(lazy),
                                                "the metric state allgather")
            metric_state.set_states(lazy, [metric_state.sum_lazy(list(s))
                                           for s in zip(*gathered)])
        try:
            return model.get_metrics_result()
        finally:
            metric_state.set_states(metrics, local)

    def note_predict_batch(self) -> None:
        """Remember whether the batch just predicted was a placeholder row (no rows here)."""
        self._predict_dummy.append(self._dummy)
        self._dummy = False

    def gather_outputs(self, outputs: list) -> list:
        """Every process's per-batch ``predict`` outputs, joined per batch in rank order (so
        the rows are in the input's order), on every process."""
        flags = self._predict_dummy + [False] * (len(outputs) - len(self._predict_dummy))
        mine = [map_structure(lambda a: a[:0], o) if d else o for o, d in zip(outputs, flags)]
        if self._coll is None:
            return mine
        everyone = self._coll.allgather_obj(mine, "the predict allgather")
        joined = []
        for b in range(len(mine)):
            parts = [everyone[r][b] for r in range(self.num_processes)]
            flat = [flatten(p) for p in parts]
            cat = [np.concatenate([f[i] for f in flat], axis=0) for i in range(len(flat[0]))]
            it = iter(cat)
            joined.append(map_structure(lambda _: next(it), parts[0]))
        return joined

    def on_first_process(self, fn, *args, **kwargs) -> Any:
        """Run ``fn`` (a file write) on process 0 only; every process then waits until it is
        done, so a later read of the file finds it complete."""
        out = fn(*args, **kwargs) if self.process_id == 0 else None
        if self._coll is not None:
            self._coll.barrier("the barrier after process 0's file write")
        return out

    def broadcast_variables(self, model, include_optimizer: bool = True) -> None:
        """Overwrite the model's variables (and its optimizer's state) with process 0's."""
        if self._coll is None:
            return
        for v in _model_and_optimizer_variables(model, include_optimizer):
            data = v.data
            host = data if isinstance(data, np.ndarray) else backend.to_numpy(data)
            host = np.ascontiguousarray(host)
            self._coll.bcast_(host, 0, f"the broadcast of variable '{v.name}'")
            if host is not data:
                data[...] = backend.of(data).asarray(host) if is_device_array(data) else host
        opt = getattr(model, "optimizer", None)
        if include_optimizer and opt is not None and hasattr(opt, "iterations"):
            opt.iterations = self._coll.bcast_obj(opt.iterations, 0, "the broadcast of "
                                                  "the optimizer's iterations")

    # -- helpers -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _setup_deadline(self):
        """Collectives inside use ``setup_timeout`` instead of ``timeout``."""
        coll = self._coll
        if coll is None:
            yield
            return
        coll.timeout = self.setup_timeout
        try:
            yield
        finally:
            coll.timeout = self.timeout

    def _sync_model(self, model, x, include_optimizer: bool) -> None:
        self._sync_pending = None
        if self._coll is None:
            return
        if not model.built:  # build it now (as the trainer would) so the weights exist
            from nnforge.core.tape import stop_recording
            with stop_recording():
                model(model._standardize_inputs(map_structure(
                    lambda a: a[:1] if hasattr(a, "shape") else a, x)), training=False)
        opt = getattr(model, "optimizer", None)
        names = [(v.name, tuple(v.shape))
                 for v in _model_and_optimizer_variables(model, include_optimizer)]
        ref = self._coll.bcast_obj(names, 0, "the variable list broadcast")
        if ref != names:
            raise RuntimeError(
                f"DataParallel: process {self.process_id} has variables {names[:4]}... "
                f"({len(names)}) but process 0 has {ref[:4]}... ({len(ref)}); every process "
                f"must build the same model{' and optimizer' if opt is not None else ''}")
        self.broadcast_variables(model, include_optimizer)
        self._state_vars = _state_variables(model)

    def _per_process_streams(self, model) -> None:
        """Give each layer's random generator (dropout, augmentation) a stream derived from
        its current state and this process's id: reproducible, and distinct per process."""
        if getattr(model, "_nnforge_process_streams", None) == self.process_id:
            return
        for layer in _walk_layers(model):
            rng = getattr(layer, "_rng", None)
            if isinstance(rng, np.random.Generator):
                seed = int(rng.integers(0, 2**63 - 1))
                layer._rng = np.random.default_rng(
                    np.random.SeedSequence(seed, spawn_key=(self.process_id,)))
        model._nnforge_process_streams = self.process_id

    def _reducer_for(self, array):
        kind = "nccl" if is_device_array(array) else "mpi"
        reducer = self._reducers.get(kind)
        if reducer is None:
            reducer = NcclReducer(self._coll) if kind == "nccl" else MpiReducer(self._coll)
            self._reducers[kind] = reducer
        return reducer

    @property
    def communication_seconds(self) -> float:
        """Seconds this process spent waiting in collectives (MPI transport)."""
        return 0.0 if self._coll is None else self._coll.seconds


def _walk_layers(layer):
    yield layer
    for sub in getattr(layer, "_layers", []) or []:
        yield from _walk_layers(sub)


def _split_lazy(metrics):
    plain = [m for m in metrics if not metric_state.state_names(m)[1]]
    return plain, [m for m in metrics if metric_state.state_names(m)[1]]


def _all_metrics(model) -> list:
    """The model's metrics with containers (the compiled metrics) replaced by the metrics they
    hold, so that every state that is summed belongs to exactly one leaf metric."""
    out: list = []

    def add(m) -> None:
        inner = getattr(type(m), "metrics", None)
        if isinstance(inner, property):  # a container such as CompileMetrics
            for child in m.metrics:
                add(child)
        else:
            out.append(m)
    for m in model.metrics:
        add(m)
    return out


def _state_variables(model) -> list:
    """Non-trainable float variables (moving statistics that training updates)."""
    return [v for v in model.non_trainable_weights
            if np.dtype(v.dtype).kind == "f"]


def _model_and_optimizer_variables(model, include_optimizer: bool = True) -> list:
    out = list(model.weights)
    opt = getattr(model, "optimizer", None)
    if include_optimizer and opt is not None:
        out += list(opt.variables)
    return out


def weights_hash(model) -> str:
    """SHA-256 of the bytes of every model variable and optimizer slot, in order.

    Args:
        model: a built model.

    Returns:
        the hex digest; equal on every process when the replicas are in sync.

    Example:
    >>> weights_hash(model)[:12]
    '3f2a9c41d0be'
    """
    h = hashlib.sha256()
    for v in _model_and_optimizer_variables(model):
        h.update(np.ascontiguousarray(backend.to_numpy(v.data)).tobytes())
    return h.hexdigest()
