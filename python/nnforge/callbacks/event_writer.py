"""A TensorBoard event-file writer in plain Python (no TensorFlow, no protobuf package).

An event file is a sequence of TFRecords, each holding one serialized ``tensorflow.Event``
protobuf::

    uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)

This module encodes the few messages ``callbacks.TensorBoard`` writes (``Event``, ``Summary``
with simple values, histograms, images and string tensors, ``GraphDef``) with the protobuf wire
format directly: field numbers are those of ``tensorboard/compat/proto/{event,summary,graph,
node_def,attr_value,tensor,tensor_shape}.proto``. Why our own writer rather than tensorboardX:
the messages are few and stable, the whole format fits in this file, and nnforge keeps numpy as
its only runtime dependency (tensorboardX would add protobuf and its version constraints, and
its graph writer takes PyTorch or ONNX models, so we would still build the GraphDef ourselves).
"""
from __future__ import annotations

import os
import socket
import struct
import time
import zlib
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

# -- CRC32C (Castagnoli), as TFRecord framing needs --------------------------------------------


def _crc32c_table() -> List[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (the checksum TFRecord uses)."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant (mod 2**32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """``data`` framed as one TFRecord."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


# -- protobuf wire format ----------------------------------------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 -> two's complement, as protobuf does
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def pb_int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(int(value))


def pb_double(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(value))


def pb_float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", float(value))


def pb_bytes(field: int, value) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _key(field, 2) + _varint(len(value)) + bytes(value)


def pb_packed_doubles(field: int, values: Iterable[float]) -> bytes:
    return pb_bytes(field, np.asarray(list(values), dtype="<f8").tobytes())


# -- messages ----------------------------------------------------------------------------------


def histogram_proto(values, bins: int = 30) -> bytes:
    """``HistogramProto`` of ``values``: ``bins`` equal-width buckets from min to max (as
    ``tf.summary.histogram``); ``bucket_limit`` holds each bucket's right edge."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return pb_double(1, 0.0) + pb_double(2, 0.0) + pb_double(3, 0.0)
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        limits, counts = [hi], [float(v.size)]
    else:
        counts_arr, edges = np.histogram(v, bins=bins, range=(lo, hi))
        limits, counts = edges[1:].tolist(), counts_arr.astype(np.float64).tolist()
    return (pb_double(1, lo) + pb_double(2, hi) + pb_double(3, float(v.size))
            + pb_double(4, float(v.sum())) + pb_double(5, float(np.dot(v, v)))
            + pb_packed_doubles(6, limits) + pb_packed_doubles(7, counts))


def png_bytes(image: np.ndarray) -> bytes:
    """A PNG file of an ``(h, w, c)`` uint8 image, ``c`` in 1 (gray), 3 (RGB) or 4 (RGBA)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w, c = image.shape
    color_type = {1: 0, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def image_proto(image: np.ndarray) -> bytes:
    """``Summary.Image`` of an ``(h, w, c)`` uint8 image."""
    h, w, c = image.shape
    return pb_int(1, h) + pb_int(2, w) + pb_int(3, c) + pb_bytes(4, png_bytes(image))


def plugin_metadata(plugin_name: str, content: bytes = b"") -> bytes:
    """``SummaryMetadata`` naming the TensorBoard plugin that shows a value."""
    return pb_bytes(1, pb_bytes(1, plugin_name) + pb_bytes(2, content))


def string_tensor_proto(text: str) -> bytes:
    """A scalar ``TensorProto`` of dtype ``DT_STRING`` (7)."""
    return pb_int(1, 7) + pb_bytes(2, b"") + pb_bytes(8, text)


def tensor_shape_proto(shape: Sequence[Optional[int]]) -> bytes:
    """``TensorShapeProto``; an unknown dimension (None) is -1."""
    return b"".join(pb_bytes(2, pb_int(1, -1 if d is None else int(d))) for d in shape)


def node_def(name: str, op: str, inputs: Sequence[str],
             attrs: Sequence[Tuple[str, bytes]] = ()) -> bytes:
    """``NodeDef``; ``attrs`` holds ``(key, serialized AttrValue)`` pairs."""
    out = pb_bytes(1, name) + pb_bytes(2, op) + b"".join(pb_bytes(3, i) for i in inputs)
    for key, value in attrs:
        out += pb_bytes(5, pb_bytes(1, key) + pb_bytes(2, value))  # map<string, AttrValue> entry
    return out


def attr_string(text: str) -> bytes:
    return pb_bytes(2, text)


def attr_shapes(shapes: Sequence[Sequence[Optional[int]]]) -> bytes:
    """``AttrValue`` holding a list of shapes (TensorBoard shows ``_output_shapes`` on edges)."""
    return pb_bytes(1, b"".join(pb_bytes(7, tensor_shape_proto(s)) for s in shapes))


def graph_def(nodes: Sequence[bytes]) -> bytes:
    """``GraphDef`` of serialized ``NodeDef``s (``versions.producer`` set so readers accept it)."""
    return b"".join(pb_bytes(1, n) for n in nodes) + pb_bytes(4, pb_int(1, 22))


class EventFileWriter:
    """Appends events to ``<logdir>/events.out.tfevents.<time>.<host>.<pid>.<n>.v2``.

    The file is created (with its ``brain.Event:2`` header) on the first write.

    Args:
        logdir: directory of the run (created when missing).

    Example:

    >>> w = EventFileWriter("logs/train")
    >>> w.add_scalar("epoch_loss", 0.25, step=0)
    >>> w.close()
    """

    _counter = 0

    def __init__(self, logdir: str):
        self.logdir = os.fspath(logdir)
        self._file = None
        self.path: Optional[str] = None

    @property
    def closed(self) -> bool:
        return self._file is None

    def _open(self):
        os.makedirs(self.logdir, exist_ok=True)
        EventFileWriter._counter += 1
        name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{EventFileWriter._counter}.v2")
        self.path = os.path.join(self.logdir, name)
        self._file = open(self.path, "wb")
        self._file.write(tfrecord(pb_double(1, time.time()) + pb_bytes(3, "brain.Event:2")))

    def add_event(self, payload: bytes, step: int) -> None:
        """Write one ``Event`` whose ``what`` field is the serialized ``payload``."""
        if self._file is None:
            self._open()
        self._file.write(tfrecord(pb_double(1, time.time()) + pb_int(2, step) + payload))

    def add_summary_value(self, value: bytes, step: int) -> None:
        self.add_event(pb_bytes(5, pb_bytes(1, value)), step)

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        """A scalar (``Summary.Value.simple_value``; TensorBoard's Scalars tab)."""
        self.add_summary_value(pb_bytes(1, tag) + pb_float(2, float(value)), step)

    def add_histogram(self, tag: str, values, step: int, bins: int = 30) -> None:
        """A histogram of ``values`` (TensorBoard's Histograms and Distributions tabs)."""
        self.add_summary_value(pb_bytes(1, tag) + pb_bytes(5, histogram_proto(values, bins)),
                               step)

    def add_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """An ``(h, w, c)`` uint8 image (TensorBoard's Images tab)."""
        self.add_summary_value(pb_bytes(1, tag) + pb_bytes(4, image_proto(image)), step)

    def add_text_tensor(self, tag: str, text: str, plugin_name: str, content: bytes,
                        step: int) -> None:
        """A string tensor for the plugin ``plugin_name`` (e.g. ``graph_keras_model``)."""
        self.add_summary_value(pb_bytes(1, tag) + pb_bytes(9, plugin_metadata(plugin_name,
                                                                              content))
                               + pb_bytes(8, string_tensor_proto(text)), step)

    def add_graph(self, graph: bytes, step: int = 0) -> None:
        """A serialized ``GraphDef`` (TensorBoard's Graphs tab)."""
        self.add_event(pb_bytes(4, graph), step)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
