"""Class-folder datasets: Keras's file indexing, ordering and validation split
(``keras/src/utils/dataset_utils.py``) and the ``PyDataset`` base that
``image_dataset_from_directory``, ``text_dataset_from_directory`` and
``audio_dataset_from_directory`` build on.

Class folders in alphanumeric order (or ``class_names``' order), files found by ``os.walk`` in
sorted order, the whole list shuffled once with ``np.random.RandomState(seed)`` when ``shuffle``,
then the last ``int(validation_split * n)`` files are the validation subset. Each dataset loads
its files when a batch is asked for and reshuffles them at every epoch end when ``shuffle``.
"""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

import numpy as np

from .io_utils import print_msg
from .py_dataset import _SampleBatches


def _iter_valid_files(directory: str, follow_links: bool, formats: Sequence[str]):
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda x: x[0]):
        for fname in sorted(files):
            if fname.lower().endswith(tuple(formats)):
                yield root, fname


def index_directory(directory, labels, formats, class_names=None, shuffle: bool = True,
                    seed: Optional[int] = None, follow_links: bool = False,
                    verbose: bool = True):
    """List the files of ``directory`` with their labels, as Keras's ``index_directory``.

    Returns:
        ``(file_paths, labels, class_names)``: labels an int32 array (None without labels).
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"image_dataset_from_directory: directory {directory!r} does not exist")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError("The `class_names` passed did not match the names of the "
                                 "subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)  # keep the given order
    else:
        subdirs = [""]
        if class_names is not None:
            raise ValueError("When `labels` is not 'inferred', argument `class_names` cannot be "
                             "specified.")
    filenames: List[str] = []
    label_list: List[int] = []
    for index, subdir in enumerate(subdirs):
        class_dir = os.path.join(directory, subdir)
        for root, fname in _iter_valid_files(class_dir, follow_links, formats):
            filenames.append(os.path.join(subdir, os.path.relpath(os.path.join(root, fname),
                                                                  class_dir)))
            label_list.append(index)
    if labels == "inferred":
        label_arr = np.asarray(label_list, dtype="int32")
        names = list(subdirs)
    elif labels is None:
        label_arr, names = None, None
    else:
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        label_arr = np.asarray(labels)
        names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if label_arr is None:
            print_msg(f"Found {len(filenames)} files.")
        else:
            print_msg(f"Found {len(filenames)} files belonging to {len(names)} classes.")
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if label_arr is not None:
            np.random.RandomState(seed).shuffle(label_arr)
    return file_paths, label_arr, names


def _split(samples, labels, validation_split, subset, verbose):
    """Keras's ``get_training_or_validation_split``: validation = the last fraction."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print_msg(f"Using {len(samples) - num_val} files for training.")
        end = len(samples) - num_val
        return samples[:end], (labels[:end] if labels is not None else None)
    if subset == "validation":
        if verbose:
            print_msg(f"Using {num_val} files for validation.")
        start = len(samples) - num_val
        return samples[start:], (labels[start:] if labels is not None else None)
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


def check_labels_arg(labels, label_mode, class_names, kind: str, contents: str) -> None:
    """Keras's checks of ``labels``, ``class_names`` and ``label_mode``.

    Args:
        labels: ``"inferred"``, None or a list of integer labels.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: the class folders asked for (only with ``labels="inferred"``).
        kind: the kind of file in the error message (``"image"``, ``"text"``, ``"audio"``).
        contents: what an unlabeled dataset holds, in the error message (``"images"``...).

    Raises:
        ValueError: with Keras's message, when an argument is off.

    Example:

    >>> check_labels_arg("inferred", "int", None, "text", "text")  # passes
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of "
                             f"the same size as the number of {kind} files in the target "
                             "directory. If you wish to infer the labels from the subdirectory "
                             "names in the target directory, pass `labels=\"inferred\"`. If you "
                             f"wish to get a dataset that only contains {contents} (no labels), "
                             f"pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError("You can only pass `class_names` if `labels=\"inferred\"`. "
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')


def check_validation_split_arg(validation_split, subset, shuffle, seed) -> None:
    """Keras's ``check_validation_split_arg``: ``validation_split`` and ``subset`` go
    together, and a shuffled split needs a ``seed``.

    Args:
        validation_split: None or a fraction strictly between 0 and 1.
        subset: None, ``"training"``, ``"validation"`` or ``"both"``.
        shuffle: whether the files are shuffled.
        seed: the shuffling seed.

    Raises:
        ValueError: with Keras's message, when an argument is off.

    Example:

    >>> check_validation_split_arg(0.2, "both", True, 1337)  # passes
    """
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def check_batch_size_arg(batch_size) -> None:
    """Raise ValueError unless ``batch_size`` is a positive ``int`` or None.

    Args:
        batch_size: the batch size asked for.

    Raises:
        ValueError: when it is not a positive integer or None.

    Example:

    >>> check_batch_size_arg(32)  # passes
    """
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None, got {batch_size!r}")


class FileDirectoryDataset(_SampleBatches):
    """Batches of ``(samples, labels)`` (or samples) loaded from files when indexed; with
    ``shuffle`` the order is reshuffled at every epoch end, reproducibly from ``seed``.

    A subclass says how one file is read (``load``) and how loaded samples make a batch
    (``collate``); with ``batch_size=None`` a single sample is yielded.

    Args:
        file_paths: the files, in order.
        labels: their integer labels (None without labels).
        class_names: the class names (the one-hot width of ``"categorical"`` labels).
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        batch_size: samples per batch; None yields single samples.
        shuffle: reshuffle the order at the start and at every epoch end.
        seed: seed of the shuffling.

    Example:

    >>> class Sizes(FileDirectoryDataset):
    ...     def load(self, path):
    ...         return os.path.getsize(path)
    ...     def collate(self, items):
    ...         return np.asarray(items)
    """

    def __init__(self, file_paths, labels, class_names, label_mode, batch_size, shuffle, seed):
        super().__init__()
        self.file_paths = list(file_paths)
        self.labels = labels
        self.class_names = class_names
        self.label_mode = label_mode
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = (self._rng.permutation(len(self.file_paths)) if shuffle
                       else np.arange(len(self.file_paths)))

    def _num_samples(self) -> int:
        return len(self.file_paths)

    def load(self, path: str):
        """One sample, read from ``path``."""
        raise NotImplementedError

    def collate(self, items: list):
        """A batch made of the loaded samples ``items``."""
        raise NotImplementedError

    def _encode_labels(self, labels: np.ndarray) -> np.ndarray:
        if self.label_mode == "int":
            return labels.astype("int32")
        if self.label_mode == "binary":
            return labels.astype("float32").reshape(-1, 1)
        return np.eye(len(self.class_names), dtype="float32")[labels.astype("int64")]

    def __getitem__(self, index: int):
        idx = self._order[self._batch_range(index)]
        x = self.collate([self.load(self.file_paths[i]) for i in idx])
        if self.batch_size is None:
            x = x[0]
        if self.label_mode is None:
            return x
        y = self._encode_labels(np.asarray(self.labels)[idx])
        return (x, y[0]) if self.batch_size is None else (x, y)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


def make_directory_datasets(cls, directory, labels, label_mode, class_names, shuffle, seed,
                            validation_split, subset, follow_links, verbose, formats,
                            not_found: str, **dataset_kwargs):
    """Index ``directory`` and build the dataset(s) of class ``cls`` the ``*_from_directory``
    functions return, after their argument checks.

    Args:
        cls: a ``FileDirectoryDataset`` subclass.
        directory, labels, label_mode, class_names, shuffle, seed, validation_split, subset,
            follow_links, verbose: as in ``image_dataset_from_directory``.
        formats: the file endings to keep.
        not_found: the error message when a subset has no file, with ``{which}`` (the subset
            name and a space, or nothing) and ``{directory}`` to fill in.
        **dataset_kwargs: more keyword arguments of ``cls`` (``batch_size``...).

    Returns:
        A ``cls`` dataset, or ``[train, validation]`` with ``subset="both"``.

    Example:

    >>> ds = make_directory_datasets(TextDirectoryDataset, "texts", "inferred", "int", None,
    ...                              False, None, None, None, False, True, (".txt",),
    ...                              "No {which}text files in {directory}", batch_size=8)
    """
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_arr, names = index_directory(directory, labels, formats,
                                              class_names=class_names, shuffle=shuffle,
                                              seed=seed, follow_links=follow_links,
                                              verbose=verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")

    def make(subset_name, shuffle_subset):
        p, lab = _split(paths, label_arr, validation_split, subset_name, verbose)
        if not p:
            which = f"{subset_name} " if subset_name else ""
            raise ValueError(not_found.format(which=which, directory=os.fspath(directory)))
        return cls(file_paths=p, labels=lab, class_names=names, label_mode=label_mode,
                   shuffle=shuffle_subset, seed=seed, **dataset_kwargs)

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)
