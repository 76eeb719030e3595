"""The deterministic ``Identity`` and ``STFT`` initializers (``keras.initializers``), re-exported
by ``nnforge.initializers``."""
from __future__ import annotations

import numpy as np

# nnforge.initializers imports this module after defining Initializer (import it through there)
from nnforge.initializers import Initializer

# Windows computed here (Keras asks scipy.signal.get_window; same formulas, no scipy needed).
_WINDOWS = ("hann", "hamming", "blackman", "bartlett", "boxcar")


def get_window(window: str, length: int, periodic: bool = False) -> np.ndarray:
    """A window of ``length`` samples as ``scipy.signal.get_window(window, length,
    fftbins=periodic)`` computes it, for hann, hamming, blackman, bartlett and boxcar.

    Args:
        window: the window's name.
        length: the number of samples.
        periodic: the periodic (DFT-even) variant, else the symmetric one.

    Returns:
        A float64 array of shape ``(length,)``.

    Example:

    >>> get_window("hann", 4, periodic=True)
    array([0. , 0.5, 1. , 0.5])
    """
    name = {"hanning": "hann", "han": "hann", "hamm": "hamming", "ham": "hamming",
            "black": "blackman", "blk": "blackman", "bart": "bartlett", "brt": "bartlett",
            "box": "boxcar", "ones": "boxcar", "rect": "boxcar",
            "rectangular": "boxcar"}.get(window, window)
    if name not in _WINDOWS:
        raise ValueError(f"STFT: unknown window {window!r}; supported by name: {_WINDOWS} "
                         "(or pass the window's values as an array)")
    n = length + 1 if periodic else length
    if name == "boxcar":
        w = np.ones(n)
    else:
        w = {"hann": np.hanning, "hamming": np.hamming, "blackman": np.blackman,
             "bartlett": np.bartlett}[name](n)
    return w[:length] if periodic else w


class Identity(Initializer):
    """``gain`` times the identity matrix (``keras.initializers.Identity``); 2-D shapes only
    (``eye(rows, cols)`` for non-square ones).

    Args:
        gain: the multiplicative factor.

    Example:

    >>> nnforge.initializers.Identity(gain=2.0)((2, 3))
    array([[2., 0., 0.],
           [0., 2., 0.]], dtype=float32)
    """

    _keras_aliases = ("IdentityInitializer",)

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(dtype or "float32")

    def get_config(self):
        # as Keras 3.15, whose Identity has no get_config: the gain is not written (a reloaded
        # initializer has gain 1.0)
        return {}


class STFT(Initializer):
    """The kernel of a short-time Fourier transform as a convolution
    (``keras.initializers.STFT``): shape ``(frame_length, 1, fft_length // 2 + 1)``, the cosines
    (``side="real"``) or sines (``side="imag"``) of ``-2 pi t f / fft_length``, times the window
    divided by its scale.

    Args:
        side: ``"real"`` or ``"imag"``.
        window: a window name (hann, hamming, blackman, bartlett, boxcar), an array of
            ``frame_length`` values, or None.
        scaling: ``"density"`` (divide by the window's L2 norm), ``"spectrum"`` (by its sum) or
            None.
        periodic: use the periodic variant of a named window.

    Example:

    >>> kernel = nnforge.initializers.STFT(side="imag", window="hann")((256, 1, 129))
    """

    _keras_aliases = ("STFTInitializer",)

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            get_window(window, 1)  # an unknown name fails here, as in Keras
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("STFT: scaling is invalid, it must be `None`, 'density' or "
                             f"'spectrum'. Received scaling={scaling}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype="float32"):
        dtype = dtype or "float32"
        frame_length, _, fft_length = tuple(shape)
        win = None
        scale = np.float32(1)
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = get_window(win, frame_length, self.periodic)
            win = np.asarray(win, dtype=dtype)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError("STFT: the shape of `window` must be equal to [frame_length]. "
                                 f"Received: window shape={win.shape}")
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scale = np.sqrt(np.sum(np.square(win)))
            elif self.scaling == "spectrum":
                scale = np.sum(np.abs(win))
        f32 = np.dtype(dtype).type
        freq = np.arange(fft_length, dtype=dtype).reshape(1, 1, fft_length) / f32(
            (fft_length - 1) * 2)
        time = np.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        args = (f32(-2) * time) * freq * f32(np.pi)
        kernel = (np.cos(args) if self.side == "real" else np.sin(args)).astype(dtype)
        if win is not None:
            kernel = (kernel * win) / scale
        return kernel.astype(dtype)

    def get_config(self):
        window = self.window
        if isinstance(window, np.ndarray):
            window = window.tolist()
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}
