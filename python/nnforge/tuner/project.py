"""The state of a search on disk, under ``directory/project_name``:

    tuner.json            the tuner kind, the objective and the search space (checked on resume)
    trials/trial_0007.json  one per trial: hyperparameters, per-epoch metrics, status, owner
    trials/trial_0007.keras the trial's model at its best epoch
    best_model.keras      the best model so far
    .lock                 the file lock every claim and every "best so far" update holds
    study.journal         Optuna's storage (model-based search and pruning only)

Every JSON and model file is written atomically (temporary file, fsync, rename), so a process
killed at any point leaves each file old or new, never torn. A trial whose owner process is gone
(killed, crashed) while it was RUNNING is marked INTERRUPTED by the next process that claims a
trial, and its hyperparameters are run again.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from typing import Any, Dict, Iterator, List, Optional

from nnforge.saving.atomic import atomic_write

RUNNING, COMPLETED, PRUNED, FAILED, INTERRUPTED = (
    "RUNNING", "COMPLETED", "PRUNED", "FAILED", "INTERRUPTED")
FINISHED = (COMPLETED, PRUNED, FAILED)


def _stat_fields(pid: int) -> Optional[List[str]]:
    """The fields of /proc/PID/stat after the command name (field 3 on), or None when the
    process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2:].split()


def _process_start_time(pid: int) -> Optional[str]:
    """The start time of ``pid`` (field 22 of /proc/PID/stat), to tell a reused pid apart."""
    fields = _stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def _process_state(pid: int) -> Optional[str]:
    fields = _stat_fields(pid)
    return None if fields is None else fields[0]


def this_owner() -> Dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _process_start_time(pid)}


def owner_alive(owner: Dict[str, Any], heartbeat: float, stale_after: float) -> bool:
    """Whether the process that owns a RUNNING trial still runs.

    On this host: its pid exists, is not a zombie and started when the owner did. On another
    host (several machines on a shared folder) its heartbeat is younger than ``stale_after``.
    """
    if owner.get("host") != socket.gethostname():
        return time.time() - heartbeat < stale_after
    pid = int(owner.get("pid", -1))
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if _process_state(pid) in ("Z", "X"):
        return False
    start = owner.get("start")
    return start is None or _process_start_time(pid) in (None, start)


def write_json(path: str, data: Dict[str, Any]) -> None:
    with atomic_write(path, "w") as f:
        json.dump(data, f, indent=1)


def read_json(path: str) -> Dict[str, Any]:
    with open(path) as f:
        return json.load(f)


class Project:
    """The files of one search under ``directory/project_name`` (see the module docstring)."""

    def __init__(self, directory: str, project_name: str):
        self.path = os.path.abspath(os.path.join(directory, project_name))
        self.trials_dir = os.path.join(self.path, "trials")
        os.makedirs(self.trials_dir, exist_ok=True)

    @property
    def tuner_file(self) -> str:
        return os.path.join(self.path, "tuner.json")

    @property
    def best_model_file(self) -> str:
        return os.path.join(self.path, "best_model.keras")

    @property
    def journal_file(self) -> str:
        return os.path.join(self.path, "study.journal")

    def trial_file(self, trial_id: int) -> str:
        return os.path.join(self.trials_dir, f"trial_{trial_id:04d}.json")

    def model_file(self, trial_id: int) -> str:
        return os.path.join(self.trials_dir, f"trial_{trial_id:04d}.keras")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock across processes (``fcntl.flock`` on ``.lock``)."""
        fd = os.open(os.path.join(self.path, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def load_trials(self) -> List[Dict[str, Any]]:
        out = []
        for name in sorted(os.listdir(self.trials_dir)):
            if name.startswith("trial_") and name.endswith(".json"):
                out.append(read_json(os.path.join(self.trials_dir, name)))
        return out

    def write_trial(self, trial: Dict[str, Any]) -> None:
        write_json(self.trial_file(trial["trial_id"]), trial)
