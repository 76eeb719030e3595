"""``text_dataset_from_directory`` and ``audio_dataset_from_directory``: ``PyDataset``s of
batches read from class folders of ``.txt`` / ``.wav`` files, with Keras's file indexing,
ordering and validation split (shared with ``image_dataset_from_directory``). WAV files are
decoded with the standard library's ``wave`` module (PCM 8/16/24/32-bit) as
``tf.audio.decode_wav`` decodes them: float32 in [-1, 1], shape ``(samples, channels)``."""
from __future__ import annotations

import wave
from typing import Optional, Sequence

import numpy as np

from .directory_dataset import (FileDirectoryDataset, check_batch_size_arg, check_labels_arg,
                                check_validation_split_arg, make_directory_datasets)


def _check_common(labels, label_mode, class_names, validation_split, subset, shuffle, seed,
                  batch_size, kind: str):
    check_labels_arg(labels, label_mode, class_names, kind, kind)
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    check_batch_size_arg(batch_size)


class TextDirectoryDataset(FileDirectoryDataset):
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
    return make_directory_datasets(
        cls, directory, labels, label_mode, class_names, shuffle, seed, validation_split,
        subset, follow_links, verbose, formats,
        f"No {{which}}{kind} files found in directory {{directory}}. Allowed format(s): "
        f"{formats}", batch_size=batch_size, **extra)


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


class AudioDirectoryDataset(FileDirectoryDataset):
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
