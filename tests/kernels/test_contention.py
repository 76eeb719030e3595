"""The load sampling behind the thread pool's wait policy (cpp/src/contention.cpp): idle workers
spin for the next job only while no other program's runnable threads need the cores."""
import multiprocessing as mp
import os
import time

import pytest

from nnforge import _cpu


@pytest.mark.parametrize("text, runnable", [
    ("0.68 1.39 1.51 3/93 17828\n", 3),
    ("12.00 11.50 9.25 17/1042 99", 17),
    ("0.00 0.00 0.00 0/1 1", 0),
    ("0.68  1.39 1.51   25/93 1", 25),
])
def test_parses_the_runnable_count(text, runnable):
    assert _cpu.parse_loadavg_runnable(text) == runnable


@pytest.mark.parametrize("text", ["", "0.68 1.39 1.51", "0.68 1.39 1.51 x/93 1",
                                  "0.68 1.39 1.51 3 93", "0.68 1.39 1.51 99999999999/1 1"])
def test_malformed_text_is_minus_one(text):
    assert _cpu.parse_loadavg_runnable(text) == -1


def _spin(stop):
    x = 0
    while not stop.is_set():
        for _ in range(10000):
            x = (x * 31 + 7) % 1000003


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="needs Linux /proc/loadavg")
def test_busy_programs_are_seen():
    # More busy processes than cores: whatever else runs, the average counts them within a few
    # samples, and the cores are contended for a process that wants them all.
    cores = len(os.sched_getaffinity(0))
    stop = mp.get_context("fork").Event()
    procs = [mp.get_context("fork").Process(target=_spin, args=(stop,), daemon=True)
             for _ in range(cores + 2)]
    for p in procs:
        p.start()
    try:
        time.sleep(0.3)
        seen = []
        for _ in range(60):  # ~30 samples, 5 ms apart
            seen.append(_cpu.others_runnable(1))
            time.sleep(0.005)
        assert max(seen) >= cores + 0.5, seen
        assert _cpu.cores_contended(1, cores)
    finally:
        stop.set()
        for p in procs:
            p.join()


def test_own_threads_are_not_counted_as_others():
    # the caller's own running threads come off each sample (never below zero): with more of
    # them than the machine runs, every sample is 0 and the average decays to it
    for _ in range(40):
        v = _cpu.others_runnable(10**6)
        time.sleep(0.003)
    assert 0.0 <= v < 0.05
