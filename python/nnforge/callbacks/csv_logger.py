"""``CSVLogger``: stream the epoch logs to a CSV file."""
from __future__ import annotations

import collections.abc
import csv
import os

import numpy as np

from .callback import Callback


class CSVLogger(Callback):
    """Callback that streams epoch results to a CSV file.

    The first row is the header ``epoch`` followed by the logged names in sorted order (plus
    any ``val_*`` names the model announces in ``metrics_names`` but has not logged yet);
    then one row per epoch, ``epoch`` 0-based as in Keras. Missing values are written as
    ``NA``; 1-D iterables as ``"[a, b]"``. Lines end with ``\\n``.

    Args:
        filename: path of the CSV file.
        separator: field separator.
        append: True: append to an existing file (no second header when it already has
            content); False: overwrite.
    """

    first_process_only = True  # in a distributed job, only process 0 writes the file

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", encoding="utf-8") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
            self.append_header = True
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.csv_file is None or self.csv_file.closed:
            # Used outside fit (no on_train_begin): open lazily.
            self.on_train_begin()

        def handle_value(k):
            is_zero_dim_ndarray = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, str):
                return k
            if isinstance(k, collections.abc.Iterable) and not is_zero_dim_ndarray:
                return f'"[{", ".join(map(str, k))}]"'
            if is_zero_dim_ndarray or isinstance(k, np.generic):
                return k.item()
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            for m_name in getattr(self.model, "metrics_names", None) or []:
                if m_name.startswith("val_") and m_name not in self.keys:
                    self.keys.append(m_name)

        if not self.writer:
            sep = self.sep

            class CustomDialect(csv.excel):
                delimiter = sep
                lineterminator = "\n"

            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch"] + self.keys, dialect=CustomDialect
            )
            if self.append_header:
                self.writer.writeheader()

        row = {"epoch": epoch}
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
