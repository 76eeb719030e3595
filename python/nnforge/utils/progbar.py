"""Keras-style progress bar.

Output matches Keras 3's ``keras.utils.Progbar``:

* ``verbose=1`` on a terminal (dynamic display): one line rewritten in place with ``\\r``::

      \\x1b[1m  12/1875\\x1b[0m \\x1b[32m━\\x1b[0m\\x1b[37m━━━...\\x1b[0m \\x1b[1m3s\\x1b[0m 2ms/step - loss: 0.4210

  which a terminal shows as ``  12/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 2ms/step - loss: 0.4210``.
* ``verbose=1`` when stdout is not a terminal (a log file, a pipe, CI): nothing until the bar
  finishes, then the final line once, without colour codes. (Keras decides "dynamic" with a
  test that is true on every POSIX system and so floods logs with ``\\r`` updates; we only treat
  a tty, a Jupyter kernel or PyCharm as dynamic.)
* ``verbose=2``: a single summary line when the bar finishes, e.g.
  ``1875/1875 - 3s - 2ms/step - loss: 0.4210``.

Values passed to :meth:`Progbar.update` are averaged over the steps they cover (weighted by the
number of steps since the previous update), except the names in ``stateful_metrics``, which are
shown as given. On the finalizing update every value is shown as given: the training loop
passes epoch-level means there.
"""
from __future__ import annotations

import math
import os
import re
import sys
import time

import numpy as np

from . import io_utils

_now = time.time  # module-level so tests can substitute a fake clock

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_GREY = "\x1b[37m"
_RESET = "\x1b[0m"
_BAR_CHAR = "\u2501"  # '━'


def _stdout_is_dynamic() -> bool:
    stream = sys.stdout
    try:
        if stream is not None and stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty / closed stream
        pass
    return "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ


def _format_value(avg: float) -> str:
    if abs(avg) > 1e-3:
        return f" {avg:.4f}"
    return f" {avg:.4e}"


class Progbar:
    """Displays a progress bar.

    Args:
        target: total number of steps expected, ``None`` if unknown.
        width: bar width in characters.
        verbose: 0 (silent), 1 (bar), 2 (one line at the end).
        interval: minimum time in seconds between two redraws of the bar.
        stateful_metrics: names whose values are displayed as given instead of averaged.
        unit_name: what a step is called in the ``ms/step`` field.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05,
                 stateful_metrics=None, unit_name="step"):
        if target is not None:
            target = int(target)
            if target < 0:
                raise ValueError(f"Progbar target must be >= 0 or None, got {target}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"Progbar verbose must be 0, 1 or 2, got {verbose!r}")
        self.target = target
        self.width = int(width)
        self.verbose = verbose
        self.interval = float(interval)
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()

        self._dynamic_display = _stdout_is_dynamic()
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = _now()
        self._last_update = float("-inf")  # the first update always draws
        self._time_after_first_step = None
        self._prev_total_width = 0

    # ------------------------------------------------------------------ public API
    def update(self, current, values=None, finalize=None):
        """Move the bar to step ``current``.

        Args:
            current: index of the current step (1-based count of finished steps).
            values: list of ``(name, value_for_last_step)`` pairs.
            finalize: whether this is the last update; default ``current >= target``.
        """
        if finalize is None:
            finalize = False if self.target is None else current >= self.target

        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            v = self._to_float(v)
            if k not in self.stateful_metrics:
                if finalize:
                    self._values[k] = [v, 1]
                else:
                    value_base = max(current - self._seen_so_far, 1)
                    if k not in self._values:
                        self._values[k] = [v * value_base, value_base]
                    else:
                        self._values[k][0] += v * value_base
                        self._values[k][1] += value_base
            else:
                self._values[k] = [v, 1]
        self._seen_so_far = current

        now = _now()
        time_per_unit = self._estimate_step_duration(current, now)

        if self.verbose == 1:
            if not self._dynamic_display:
                if finalize:
                    bar, info = self._line(current, now, time_per_unit, finalize)
                    io_utils.print_msg(_ANSI_RE.sub("", bar + info), line_break=True)
                self._last_update = now
                return
            if now - self._last_update < self.interval and not finalize:
                return
            bar, info = self._line(current, now, time_per_unit, finalize)
            message = "\b" * self._prev_total_width + "\r" + bar + info
            total_width = len(_ANSI_RE.sub("", bar + info))
            if self._prev_total_width > total_width:
                message += " " * (self._prev_total_width - total_width)
            if finalize:
                message += "\n"
            io_utils.print_msg(message, line_break=False)
            self._prev_total_width = total_width
        elif self.verbose == 2:
            if finalize and self.target is not None and self.target > 0:
                numdigits = int(math.log10(self.target)) + 1
                count = f"%{numdigits}d/%d" % (current, self.target)
                info = f"{count} - {now - self._start:.0f}s"
                info += f" -{self._format_time(time_per_unit, self.unit_name)}"
                info += self._metrics_text()
                io_utils.print_msg(info, line_break=True)

        self._last_update = now

    def add(self, n, values=None):
        """Advance the bar by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _to_float(v):
        if isinstance(v, float):
            return v
        try:
            return float(np.mean(np.asarray(v, dtype=np.float64)))
        except (TypeError, ValueError):
            raise TypeError(f"Progbar values must be numbers, got {v!r}") from None

    def _metrics_text(self) -> str:
        text = ""
        for k in self._values_order:
            total, count = self._values[k]
            text += f" - {k}:" + _format_value(total / max(1, count))
        return text

    def _line(self, current, now, time_per_unit, finalize):
        """(bar, info) of the verbose=1 display, with Keras's colour codes."""
        if self.target is not None and self.target > 0:
            numdigits = int(math.log10(self.target)) + 1
            count = f"%{numdigits}d/%d" % (current, self.target)
            bar = f"{_BOLD}{count}{_RESET} "
            prog_width = int(self.width * (float(current) / self.target))
            prog_width = max(0, min(self.width, prog_width))
            if prog_width > 0:
                bar += f"{_GREEN}{_BAR_CHAR * prog_width}{_RESET}"
            bar += f"{_GREY}{_BAR_CHAR * (self.width - prog_width)}{_RESET}"
        else:
            bar = "%7d/Unknown" % current

        if self.target is not None and self.target > 0 and not finalize:
            eta = time_per_unit * (self.target - current)
            if eta > 3600:
                eta_format = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_format = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_format = "%ds" % eta
            info = f" {_BOLD}{eta_format}{_RESET}"
        else:
            info = f" {_BOLD}{now - self._start:.0f}s{_RESET}"
        info += self._format_time(time_per_unit, self.unit_name)
        info += self._metrics_text()
        return bar, info

    @staticmethod
    def _format_time(time_per_unit, unit_name):
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{unit_name}"
        if time_per_unit >= 1e-3:
            return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
        return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current, now):
        """Seconds per step; the first step (often slow: compilation, caches) is left out of
        the estimate once there are later steps."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
