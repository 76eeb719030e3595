"""The inputs of ``prep.npz``'s ``keras.utils`` dataset goldens (plain NumPy, imported by the
generator under Keras 3 and by tests/utils/test_datasets.py under nnforge): the timeseries
arrays and cases, and the directory trees the text and audio dataset readers are run on."""
import os
import wave

import numpy as np

SERIES = np.arange(100, dtype="float32").reshape(50, 2)
TARGETS = np.arange(50) * 10

# name -> keyword arguments of ``timeseries_dataset_from_array(SERIES, TARGETS, **kwargs)``
TIMESERIES_CASES = {
    "ts_basic": dict(sequence_length=5, batch_size=8),
    "ts_stride": dict(sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=4,
                      start_index=3, end_index=45),
    "ts_nobatch": dict(sequence_length=3, sequence_stride=7, batch_size=None)}


def write_text_tree(root):
    """Writes three class folders ``class_0..2`` of 4, 5 and 6 small ``.txt`` files under root."""
    for c in range(3):
        os.makedirs(os.path.join(root, f"class_{c}"), exist_ok=True)
        for j in range(4 + c):
            with open(os.path.join(root, f"class_{c}", f"f{j:02d}.txt"), "w") as f:
                f.write(f"text {c} {j} " * (j + 1))


def write_wav_tree(root):
    """Writes two class folders ``w0`` (mono) and ``w1`` (stereo) of three 16-bit 8 kHz ``.wav``
    files of different lengths under root."""
    for c in range(2):
        os.makedirs(os.path.join(root, f"w{c}"), exist_ok=True)
        for j in range(3):
            n = 50 + 17 * j + 5 * c
            sig = ((np.arange(n * (c + 1)) * (37 * j + 11 * c + 5)) % 65536 - 32768)
            with wave.open(os.path.join(root, f"w{c}", f"a{j}.wav"), "wb") as w:
                w.setnchannels(c + 1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(sig.astype("<i2").tobytes())
