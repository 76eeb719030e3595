"""``text_dataset_from_directory`` and ``audio_dataset_from_directory``: ``PyDataset``s of
batches read from class folders of ``.txt`` / ``.wav`` files, with Keras's file indexing,
ordering and validation split (shared with ``image_dataset_from_directory``). WAV files are
decoded with the standard library's ``wave`` module (PCM 8/16/24/32-bit) as
``tf.audio.decode_wav`` decodes them: float32 in [-1, 1], shape ``(samples, channels)``."""
from __future__ import annotations

import math
import os
import wave
from typing import Optional, Sequence

import numpy as np

from .image_dataset import _split, index_directory
from .py_dataset import PyDataset


def _check_common(labels, label_mode, class_names, validation_split, subset, shuffle, seed,
                  batch_size, kind: str):
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of "
                             f"the same size as the number of {kind} files in the target "
                             "directory. If you wish to infer the labels from the subdirectory "
                             "names in the target directory, pass `labels=\"inferred\"`. If you "
                             f"wish to get a dataset that only contains {kind} (no labels), pass "
                             f"`labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError("You can only pass `class_names` if `labels=\"inferred\"`. "
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
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
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None, got {batch_size!r}")


class _FileDataset(PyDataset):
    """Batches of ``(samples, labels)`` (or samples) loaded from files when indexed; with
    ``shuffle`` the order is reshuffled at every epoch end, reproducibly from ``seed``."""

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

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def load(self, path: str):
        raise NotImplementedError

    def collate(self, items: list):
        raise NotImplementedError

    def _encode_labels(self, labels: np.ndarray) -> np.ndarray:
        if self.label_mode == "int":
            return labels.astype("int32")
        if self.label_mode == "binary":
            return labels.astype("float32").reshape(-1, 1)
        return np.eye(len(self.class_names), dtype="float32")[labels.astype("int64")]

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        index %= len(self)
        size = 1 if self.batch_size is None else self.batch_size
        idx = self._order[index * size:(index + 1) * size]
        items = [self.load(self.file_paths[i]) for i in idx]
        x = items[0] if self.batch_size is None else self.collate(items)
        if self.label_mode is None:
            return x
        y = self._encode_labels(np.asarray(self.labels)[idx])
        return (x, y[0]) if self.batch_size is None else (x, y)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


class TextDirectoryDataset(_FileDataset):
    """Batches of texts (a NumPy array of ``str``) and labels (``text_dataset_from_directory``)."""

    def __init__(self, *args, max_length=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def load(self, path: str) -> str:
        with open(path, "rb") as f:
            data = f.read()
        if self.max_length is not None:
            data = data[:self.max_length]  # bytes, as tf.strings.substr
        return data.decode("utf-8", errors="ignore")

    def collate(self, items):
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out


def _make_datasets(cls, directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                   validation_split, subset, follow_links, verbose, formats, kind, **extra):
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
            raise ValueError(f"No {which}{kind} files found in directory "
                             f"{os.fspath(directory)}. Allowed format(s): {formats}")
        return cls(p, lab, names, label_mode, batch_size, shuffle_subset, seed, **extra)

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)


def text_dataset_from_directory(directory, labels="inferred", label_mode: Optional[str] = "int",
                                class_names: Optional[Sequence[str]] = None,
                                batch_size: Optional[int] = 32, max_length: Optional[int] = None,
                                shuffle: bool = True, seed: Optional[int] = None,
                                validation_split: Optional[float] = None,
                                subset: Optional[str] = None, follow_links: bool = False,
                                format: str = "tf", verbose: bool = True):
    """A dataset of text batches from a directory of class folders of ``.txt`` files
    (``keras.utils.text_dataset_from_directory``), as a ``PyDataset``.

    Args:
        directory: the data directory (``directory/class_a/*.txt`` ...).
        labels: ``"inferred"`` (from the folder names), None, or a list of integer labels in
            the sorted order of the file paths.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: with ``labels="inferred"``, the folders to use, in this order.
        batch_size: texts per batch; None yields single texts.
        max_length: keep at most this many bytes of each file.
        shuffle, seed: shuffle the files (once when indexing, as Keras, and every epoch).
        validation_split, subset: hold out the last fraction (``"training"``,
            ``"validation"`` or ``"both"``).
        follow_links: follow symbolic links to folders.
        format: ``"tf"`` or ``"grain"`` (both give a PyDataset here).
        verbose: print the number of files and classes found.

    Returns:
        A ``TextDirectoryDataset`` (texts as a NumPy array of ``str``) with ``class_names`` and
        ``file_paths``, or ``[train, validation]`` with ``subset="both"``.

    Example:

    >>> ds = nnforge.utils.text_dataset_from_directory("aclImdb/train", batch_size=32)
    >>> texts, labels = ds[0]
    """
    _check_common(labels, label_mode, class_names, validation_split, subset, shuffle, seed,
                  batch_size, "text")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    return _make_datasets(TextDirectoryDataset, directory, labels, label_mode, class_names,
                          batch_size, shuffle, seed, validation_split, subset, follow_links,
                          verbose, (".txt",), "text", max_length=max_length)


def decode_wav(path: str, desired_samples: int = -1):
    """A WAV file as ``(float32 (samples, channels) in [-1, 1], sample rate)``, padded with
    zeros or cut to ``desired_samples`` (``tf.audio.decode_wav``)."""
    with wave.open(path, "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 1:  # unsigned 8-bit
        a = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128.0
    elif width == 2:
        a = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        a = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        a = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    else:
        raise ValueError(f"decode_wav: {path!r} has {width}-byte samples; only PCM 8/16/24/32-bit "
                         "WAV files are supported")
    a = a.reshape(-1, channels)
    if desired_samples is not None and desired_samples >= 0:
        if a.shape[0] >= desired_samples:
            a = a[:desired_samples]
        else:
            a = np.pad(a, ((0, desired_samples - a.shape[0]), (0, 0)))
    return a.astype(np.float32), rate


class AudioDirectoryDataset(_FileDataset):
    """Batches of audio ``(batch, samples, channels)`` (zero-padded to the longest in the
    batch, or cut/padded to ``output_sequence_length``) and labels."""

    def __init__(self, *args, output_sequence_length=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.output_sequence_length = output_sequence_length

    def load(self, path: str) -> np.ndarray:
        n = -1 if self.output_sequence_length is None else self.output_sequence_length
        return decode_wav(path, n)[0]

    def collate(self, items):
        length = max(x.shape[0] for x in items)
        channels = max(x.shape[1] for x in items)
        out = np.zeros((len(items), length, channels), np.float32)
        for i, x in enumerate(items):
            out[i, :x.shape[0], :x.shape[1]] = x
        return out


def audio_dataset_from_directory(directory, labels="inferred", label_mode: Optional[str] = "int",
                                 class_names: Optional[Sequence[str]] = None,
                                 batch_size: Optional[int] = 32, sampling_rate=None,
                                 output_sequence_length: Optional[int] = None,
                                 ragged: bool = False, shuffle: bool = True,
                                 seed: Optional[int] = None,
                                 validation_split: Optional[float] = None,
                                 subset: Optional[str] = None, follow_links: bool = False,
                                 verbose: bool = True):
    """A dataset of audio batches from a directory of class folders of ``.wav`` files
    (``keras.utils.audio_dataset_from_directory``), as a ``PyDataset``.

    Args:
        directory, labels, label_mode, class_names, batch_size, shuffle, seed,
        validation_split, subset, follow_links, verbose: as in
            ``text_dataset_from_directory``.
        sampling_rate: must be None (resampling needs TensorFlow I/O in Keras; nnforge keeps
            each file's own rate).
        output_sequence_length: cut or zero-pad every clip to this many samples; None pads
            each batch to its longest clip.
        ragged: must be False (nnforge has no ragged tensors).

    Returns:
        An ``AudioDirectoryDataset`` (float32 ``(batch, samples, channels)`` in [-1, 1]) with
        ``class_names`` and ``file_paths``, or ``[train, validation]`` with ``subset="both"``.

    Example:

    >>> ds = nnforge.utils.audio_dataset_from_directory("speech_commands", batch_size=16,
    ...                                                 output_sequence_length=16000)
    """
    _check_common(labels, label_mode, class_names, validation_split, subset, shuffle, seed,
                  batch_size, "audio")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if ragged:
        raise ValueError("audio_dataset_from_directory: ragged=True is not supported by nnforge "
                         "(no ragged tensors); use output_sequence_length or per-batch padding")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError("`sampling_rate` should have an integer value. Received: "
                             f"sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError("`sampling_rate` should be higher than 0. Received: "
                             f"sampling_rate={sampling_rate}")
        raise ValueError("audio_dataset_from_directory: resampling (sampling_rate) is not "
                         "supported by nnforge (Keras needs TensorFlow I/O for it); pass "
                         "sampling_rate=None")
    return _make_datasets(AudioDirectoryDataset, directory, labels, label_mode, class_names,
                          batch_size, shuffle, seed, validation_split, subset, follow_links,
                          verbose, (".wav",), "audio",
                          output_sequence_length=output_sequence_length)
