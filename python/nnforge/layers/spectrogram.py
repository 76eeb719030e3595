"""Audio front ends with Keras 3's semantics: STFTSpectrogram (a trainable convolution whose
kernels start as the windowed Fourier basis) and MelSpectrogram (a fixed log-mel transform)."""
from __future__ import annotations

import math
import warnings

import numpy as np

from nnforge import ops

from .base_image_preprocessing import device_like, host_images
from .layer import Layer

_WINDOWS = ("hann", "hamming")


def get_window(window, length: int, periodic: bool = True) -> np.ndarray:
    """``scipy.signal.get_window`` for the windows nnforge knows ("hann", "hamming") or an
    explicit array; ``periodic`` is scipy's ``fftbins`` (the DFT-even window)."""
    if window is None:
        return np.ones(length)
    if not isinstance(window, str):
        w = np.asarray(window, dtype=np.float64)
        if w.ndim != 1 or w.shape[0] != length:
            raise ValueError(f"The shape of `window` must be equal to [{length}]. Received: "
                             f"window shape={w.shape}")
        return w
    if window not in _WINDOWS:
        raise ValueError(f"window {window!r} is not supported by nnforge (no SciPy); use one of "
                         f"{_WINDOWS}, None, or pass the window values as an array")
    if length == 1:
        return np.ones(1)
    n = np.arange(length)
    denom = length if periodic else length - 1
    a = 0.5 if window == "hann" else 0.54
    return a - (1 - a) * np.cos(2 * np.pi * n / denom)


class STFTSpectrogram(Layer):
    """Short-time Fourier transform as a layer (``keras.layers.STFTSpectrogram``): 1-D
    convolutions with ``real_kernel`` and ``imag_kernel`` (trainable weights initialised to the
    windowed cosine and sine bases, as Keras's ``STFT`` initializer makes them).

    Input ``(batch, time, channels)`` (channels_last). Output per ``mode``: ``"log"`` (default,
    log magnitude), ``"magnitude"``, ``"psd"``, ``"real"``, ``"imag"``, ``"angle"`` or
    ``"stft"`` (real and imaginary parts concatenated on the frequency axis), shaped
    ``(batch, frames, channels * freq)`` or, with ``expand_dims``, ``(batch, frames, freq,
    channels)``.

    Args:
        mode: the output (see above).
        frame_length: window size in samples.
        frame_step: hop in samples (default ``frame_length // 2``).
        fft_length: FFT size (default: the next power of two >= ``frame_length``).
        window: "hann" (default), "hamming", None or an array of ``frame_length`` values.
        periodic: a periodic (DFT-even) window rather than a symmetric one.
        scaling: "density" (default; divide by the window's L2 norm), "spectrum" (by its sum)
            or None.
        padding: "valid" (default) or "same".
        expand_dims: keep a separate channel axis.

    Example:

    >>> STFTSpectrogram(frame_length=8, fft_length=8)(np.random.rand(2, 32, 1)).shape
    (2, 7, 5)
    """

    def __init__(self, mode: str = "log", frame_length: int = 256, frame_step=None,
                 fft_length=None, window="hann", periodic: bool = False,
                 scaling="density", padding: str = "valid", expand_dims: bool = False,
                 data_format=None, **kwargs):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(f"STFTSpectrogram: `frame_step` should be a positive integer not "
                             f"greater than `frame_length`. Received frame_step={frame_step}, "
                             f"frame_length={frame_length}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(f"STFTSpectrogram: `fft_length` should be not less than "
                             f"`frame_length`. Received fft_length={fft_length}, "
                             f"frame_length={frame_length}")
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(f"`fft_length` is recommended to be a power of two. Received "
                          f"fft_length={fft_length}")
        modes = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]
        if mode not in modes:
            raise ValueError(f"STFTSpectrogram: output mode is invalid, it must be one of "
                             f"{', '.join(modes)}. Received: mode={mode}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(f"STFTSpectrogram: scaling is invalid, it must be `None`, "
                             f"'density' or 'spectrum'. Received scaling={scaling}")
        if padding not in ("valid", "same"):
            raise ValueError(f"STFTSpectrogram: padding is invalid, it should be 'valid', "
                             f"'same'. Received: padding={padding}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"STFTSpectrogram: only data_format='channels_last' is supported "
                             f"by nnforge, got {data_format!r}")
        get_window(window, frame_length, periodic)  # validates
        super().__init__(**kwargs)
        self.mode, self.frame_length = mode, int(frame_length)
        self.frame_step = frame_step
        self._frame_step = frame_step or self.frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window, self.periodic, self.scaling = window, periodic, scaling
        self.padding, self.expand_dims = padding, expand_dims
        self.data_format = "channels_last"

    def _kernel(self, side: str):
        def init(shape, dtype=None):
            frame_length, _, bins = shape
            n_fft = (bins - 1) * 2
            freq = np.arange(bins, dtype=np.float64).reshape(1, 1, bins) / n_fft
            time = np.arange(frame_length, dtype=np.float64).reshape(frame_length, 1, 1)
            args = -2 * time * freq * np.pi
            k = np.cos(args) if side == "real" else np.sin(args)
            if self.window is not None:
                win = get_window(self.window, frame_length, self.periodic).reshape(-1, 1, 1)
                scale = 1.0
                if self.scaling == "density":
                    scale = np.sqrt(np.sum(win ** 2))
                elif self.scaling == "spectrum":
                    scale = np.sum(np.abs(win))
                k = k * win / scale
            return k.astype(dtype or "float32")
        return init

    def build(self, input_shape) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(shape=shape, initializer=self._kernel("real"),
                                               name="real_kernel")
        if self.mode != "real":
            self.imag_kernel = self.add_weight(shape=shape, initializer=self._kernel("imag"),
                                               name="imag_kernel")
        self.built = True

    def _conv(self, x, kernel):
        b, t, c = x.shape
        x = ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, t, 1))
        y = ops.conv(x, kernel, strides=self._frame_step, padding=self.padding)
        _, frames, freq = y.shape
        return ops.reshape(ops.transpose(y, (0, 2, 1)), (-1, c, freq, frames))

    def _adjust(self, y):
        _, c, freq, frames = y.shape
        if self.expand_dims:
            return ops.transpose(y, (0, 3, 2, 1))
        return ops.transpose(ops.reshape(y, (-1, c * freq, frames)), (0, 2, 1))

    def call(self, inputs):
        x = inputs if hasattr(inputs, "shape") else np.asarray(inputs)
        if len(x.shape) != 3:
            raise ValueError(f"STFTSpectrogram '{self.name}': expected input of shape (batch, "
                             f"time, channels), got {tuple(x.shape)}")
        dt = str(getattr(x, "dtype", "float32"))
        if not any(k in dt for k in ("float16", "float32", "float64")):
            raise TypeError(f"STFTSpectrogram '{self.name}': invalid input type. Expected "
                            f"`float16`, `float32` or `float64`. Received: input type={dt}")
        real = self._conv(x, self.real_kernel) if self.mode != "imag" else None
        imag = self._conv(x, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            return self._adjust(real)
        if self.mode == "imag":
            return self._adjust(imag)
        if self.mode == "angle":
            atan2 = getattr(ops, "arctan2", None)
            if atan2 is not None:
                return self._adjust(atan2(imag, real))
            # no ops.arctan2 in this build: the angle is computed without a gradient
            ang = np.arctan2(ops.convert_to_numpy(imag), ops.convert_to_numpy(real))
            return self._adjust(device_like(ang.astype(np.float32), real))
        if self.mode == "stft":
            return self._adjust(ops.concatenate([real, imag], axis=2))
        power = ops.add(ops.square(real), ops.square(imag))
        if self.mode == "psd":
            inner = ops.pad(power[:, :, 1:-1, :], [(0, 0), (0, 0), (1, 1), (0, 0)])
            return self._adjust(ops.add(power, inner))
        linear = self._adjust(ops.sqrt(ops.maximum(power, 1e-7)))
        if self.mode == "magnitude":
            return linear
        return ops.log(ops.maximum(linear, 1e-7))

    def compute_output_shape(self, input_shape):
        b, t, c = input_shape
        freq = self._fft_length // 2 + 1
        if self.mode == "stft":
            freq *= 2
        if t is None:
            frames = None
        elif self.padding == "valid":
            frames = (t - self.frame_length) // self._frame_step + 1
        else:
            frames = -(-t // self._frame_step)
        if self.expand_dims:
            return (b, frames, freq, c)
        return (b, frames, None if c is None else freq * c)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"mode": self.mode, "frame_length": self.frame_length,
                       "frame_step": self.frame_step, "fft_length": self.fft_length,
                       "window": self.window, "periodic": self.periodic,
                       "scaling": self.scaling, "padding": self.padding,
                       "data_format": self.data_format, "expand_dims": self.expand_dims})
        return config


def _hertz_to_mel(f):
    return 1127.0 * np.log(1.0 + f / 700.0)


def linear_to_mel_weight_matrix(num_mel_bins: int, num_spectrogram_bins: int,
                                sampling_rate: float, lower_edge_hertz: float,
                                upper_edge_hertz: float) -> np.ndarray:
    """(num_spectrogram_bins, num_mel_bins) triangular filters on the mel scale, the DC bin
    zeroed (the matrix ``tf.signal.linear_to_mel_weight_matrix`` builds)."""
    f32 = np.float32
    freqs = np.linspace(f32(0), f32(sampling_rate) / f32(2), num_spectrogram_bins,
                        dtype=np.float32)[1:]
    bins_mel = _hertz_to_mel(freqs).astype(np.float32)[:, None]
    edges = np.linspace(_hertz_to_mel(f32(lower_edge_hertz)),
                        _hertz_to_mel(f32(upper_edge_hertz)), num_mel_bins + 2,
                        dtype=np.float32)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    lo = (bins_mel - lower) / (center - lower)
    hi = (upper - bins_mel) / (upper - center)
    m = np.maximum(f32(0), np.minimum(lo, hi))
    return np.pad(m, ((1, 0), (0, 0))).astype(np.float32)


class MelSpectrogram(Layer):
    """Log-mel spectrogram of raw audio (``keras.layers.MelSpectrogram``): a centred
    (reflect-padded) STFT with a periodic ``window``, magnitude to the power ``mag_exp``, mel
    filters from ``min_freq`` to ``max_freq``, then ``10 log10`` relative to ``ref_power``
    clipped ``top_db`` below the maximum (over the whole batch, as in Keras).

    Input ``(samples,)`` or ``(batch, samples)``; output ``(num_mel_bins, frames)`` or
    ``(batch, num_mel_bins, frames)``. Computed on the host; no weights, no gradient.

    Args:
        fft_length: FFT size.
        sequence_stride: hop in samples.
        sequence_length: window size (default ``fft_length``).
        window: "hann" (default), "hamming" or None.
        sampling_rate: samples per second.
        num_mel_bins: mel bands.
        min_freq, max_freq: the band edges in Hz (``max_freq`` defaults to half the rate).
        power_to_db: apply the dB scale.
        top_db, mag_exp, min_power, ref_power: as in Keras.

    Example:

    >>> MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8)(
    ...     np.random.rand(2, 256)).shape
    (2, 8, 17)
    """

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512,
                 sequence_length=None, window="hann", sampling_rate: int = 16000,
                 num_mel_bins: int = 128, min_freq: float = 20.0, max_freq=None,
                 power_to_db: bool = True, top_db: float = 80.0, mag_exp: float = 2.0,
                 min_power: float = 1e-10, ref_power: float = 1.0, **kwargs):
        self.fft_length, self.sequence_stride = fft_length, sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(f"MelSpectrogram: `fft_length` must be greater than or equal to "
                             f"`sequence_length`. Received: `sequence_length`="
                             f"{self.sequence_length}, `fft_length`={self.fft_length}.")
        get_window(window, self.sequence_length)  # validates
        self.window, self.sampling_rate = window, sampling_rate
        self.num_mel_bins, self.min_freq = num_mel_bins, min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db, self.top_db, self.mag_exp = power_to_db, top_db, mag_exp
        self.min_power, self.ref_power = min_power, ref_power
        super().__init__(**kwargs)
        self.built = True

    def _stft_magnitude(self, x: np.ndarray) -> np.ndarray:
        n_fft, length, step = self.fft_length, self.sequence_length, self.sequence_stride
        pad = [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        x = np.pad(x, pad, mode="reflect")
        l_pad = (n_fft - length) // 2
        win = np.pad(get_window(self.window, length), (l_pad, n_fft - length - l_pad))
        frames = 1 + (x.shape[-1] - n_fft) // step
        idx = np.arange(frames)[:, None] * step + np.arange(n_fft)[None]
        segs = x[..., idx] * win.astype(np.float32)
        spec = np.fft.rfft(segs.astype(np.float64), n=n_fft, axis=-1)
        return np.abs(spec).astype(np.float32)

    def call(self, inputs):
        x = host_images(inputs).astype(np.float32)
        spec = np.power(self._stft_magnitude(x), np.float32(self.mag_exp))
        m = linear_to_mel_weight_matrix(self.num_mel_bins, spec.shape[-1], self.sampling_rate,
                                        self.min_freq, self.max_freq)
        out = np.tensordot(spec, m, axes=1).astype(np.float32)
        if self.power_to_db:
            log = np.float32(10.0) * np.log10(np.maximum(out, np.float32(self.min_power)))
            log -= np.float32(10.0 * np.log10(max(abs(self.ref_power), self.min_power)))
            out = np.maximum(log, log.max() - np.float32(self.top_db))
        return device_like(np.ascontiguousarray(np.swapaxes(out, -1, -2)).astype(np.float32),
                           inputs)

    def compute_output_shape(self, input_shape):
        frames = lambda n: None if n is None else (n + self.sequence_stride + 1) // \
            self.sequence_stride  # noqa: E731
        if len(input_shape) == 1:
            return (self.num_mel_bins, frames(input_shape[0]))
        return (input_shape[0], self.num_mel_bins, frames(input_shape[1]))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                       "sequence_length": self.sequence_length, "window": self.window,
                       "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                       "min_freq": self.min_freq, "max_freq": self.max_freq,
                       "power_to_db": self.power_to_db, "top_db": self.top_db,
                       "mag_exp": self.mag_exp, "min_power": self.min_power,
                       "ref_power": self.ref_power})
        return config
