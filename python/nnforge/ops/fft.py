"""Fourier transforms of ``keras.ops`` (fft, fft2, ifft2, rfft, irfft, stft, istft) and the
complex views. As in Keras, complex values travel as ``(real, imag)`` pairs of float tensors;
every transform is linear, and its gradient is the adjoint transform."""
from __future__ import annotations

import importlib
from typing import Optional

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._npcommon import arr, index_map, xp_of
from ._util import same_backend

_mm = importlib.import_module("nnforge.ops.math")


def _pair(x, fn):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{fn}: x must be a tuple (real, imag) of two tensors, got {type(x)}")
    r = arr(x[0], fn, "x[0]")
    i = arr(x[1], fn, "x[1]")
    if r.shape != i.shape:
        raise ValueError(f"{fn}: real and imaginary parts differ in shape: {tuple(r.shape)} vs "
                         f"{tuple(i.shape)}")
    if r.dtype.kind != "f" or i.dtype.kind != "f":
        raise ValueError(f"{fn}: both parts must be float, got {r.dtype} and {i.dtype}")
    r, i = same_backend(r, i)
    dt = np.result_type(r.dtype, i.dtype)
    return r.astype(dt), i.astype(dt), dt


def _complex_out(inputs, y, dt, adjoint):
    """Record the real and imaginary parts of complex ``y`` as two outputs of ``inputs``;
    ``adjoint(c)`` maps a complex cotangent of ``y`` to the inputs' gradients."""
    yr = y.real.astype(dt)
    yi = y.imag.astype(dt)
    outs = []
    for part in (0, 1):
        def backward(g, needs, part=part):
            c = g.astype(np.complex128) * (1j if part else 1)
            return adjoint(c)
        outs.append(record(yr if part == 0 else yi, inputs, backward))
    return tuple(outs)


def _complex_in(x, fn):
    r, i, dt = _pair(x, fn)
    return r + 1j * i, dt, r


def fft(x):
    """1-D discrete Fourier transform over the last axis (``keras.ops.fft``).

    Args:
        x: a tuple ``(real, imag)`` of float tensors of one shape.

    Returns:
        A tuple ``(real, imag)`` of the transform.

    Example:

    >>> r, i = ops.fft((np.array([1.0, 0.0]), np.array([0.0, 0.0])))
    >>> r.numpy()
    array([1., 1.])
    """
    c, dt, r = _complex_in(x, "fft")
    xp = xp_of(r)
    n = c.shape[-1]
    y = xp.fft.fft(c, axis=-1)

    def adjoint(g):
        a = xp.fft.ifft(g, axis=-1) * n
        return a.real.astype(dt), a.imag.astype(dt)

    return _complex_out(tuple(x), y, dt, adjoint)


def _fft2(x, fn, inverse):
    c, dt, r = _complex_in(x, fn)
    if c.ndim < 2:
        raise ValueError(f"{fn}: input must be at least 2-D, got shape {tuple(c.shape)}")
    xp = xp_of(r)
    n = c.shape[-1] * c.shape[-2]
    y = (xp.fft.ifft2 if inverse else xp.fft.fft2)(c, axes=(-2, -1))

    def adjoint(g):
        a = xp.fft.fft2(g, axes=(-2, -1)) / n if inverse else xp.fft.ifft2(g, axes=(-2, -1)) * n
        return a.real.astype(dt), a.imag.astype(dt)

    return _complex_out(tuple(x), y, dt, adjoint)


def fft2(x):
    """2-D discrete Fourier transform over the last two axes (``keras.ops.fft2``).

    Args:
        x: a tuple ``(real, imag)`` of float tensors of rank >= 2.

    Returns:
        A tuple ``(real, imag)``.

    Example:

    >>> r, i = ops.fft2((np.ones((2, 2)), np.zeros((2, 2))))
    >>> r.numpy()
    array([[4., 0.],
           [0., 0.]])
    """
    return _fft2(x, "fft2", False)


def ifft2(x):
    """Inverse 2-D discrete Fourier transform over the last two axes (``keras.ops.ifft2``).

    Args:
        x: a tuple ``(real, imag)`` of float tensors of rank >= 2.

    Returns:
        A tuple ``(real, imag)``.

    Example:

    >>> r, i = ops.ifft2((np.array([[4.0, 0.0], [0.0, 0.0]]), np.zeros((2, 2))))
    >>> r.numpy()
    array([[1., 1.],
           [1., 1.]])
    """
    return _fft2(x, "ifft2", True)


def rfft(x, fft_length: Optional[int] = None):
    """Discrete Fourier transform of a real signal over the last axis (``keras.ops.rfft``):
    the ``fft_length // 2 + 1`` non-negative frequencies.

    Args:
        x: a float tensor.
        fft_length: the transform length (the signal is cropped or zero-padded to it);
            default: the last dimension.

    Returns:
        A tuple ``(real, imag)`` of float32 tensors (as Keras's TensorFlow backend).

    Example:

    >>> r, i = ops.rfft(np.array([1.0, 1.0, 1.0, 1.0]))
    >>> r.numpy()
    array([4., 0., 0.], dtype=float32)
    """
    return _rfft(x, fft_length, np.dtype(np.float32), "rfft")


def _rfft(x, fft_length, dt, fn):
    """rfft computed and returned in ``dt`` (Keras's rfft: float32; stft: the input's)."""
    a0 = arr(x, fn)
    gdt = a0.dtype if a0.dtype.kind == "f" else dt  # the gradient keeps the input's dtype
    a = a0.astype(dt)
    xp = xp_of(a)
    L = a.shape[-1]
    n = L if fft_length is None else int(fft_length)
    y = xp.fft.rfft(a, n=n, axis=-1)

    def adjoint(g):
        full = xp.zeros(g.shape[:-1] + (n,), np.complex128)
        full[..., :g.shape[-1]] = g
        gx = (xp.fft.ifft(full, axis=-1) * n).real
        if n >= L:
            gx = gx[..., :L]
        else:
            gx = xp.concatenate([gx, xp.zeros(gx.shape[:-1] + (L - n,))], axis=-1)
        return (gx.astype(gdt),)

    return _complex_out((x,), y, dt, adjoint)


def irfft(x, fft_length: Optional[int] = None) -> Tensor:
    """Inverse of ``rfft``: a real signal from its non-negative frequencies
    (``keras.ops.irfft``).

    Args:
        x: a tuple ``(real, imag)`` of float tensors (the half spectrum).
        fft_length: the output length (default ``2 * (bins - 1)``).

    Returns:
        A float Tensor.

    Example:

    >>> ops.irfft((np.array([4.0, 0.0, 0.0]), np.zeros(3))).numpy()
    array([1., 1., 1., 1.])
    """
    c, dt, r = _complex_in(x, "irfft")
    xp = xp_of(r)
    bins = c.shape[-1]
    n = 2 * (bins - 1) if fft_length is None else int(fft_length)
    used = n // 2 + 1
    cc = c[..., :used]
    if cc.shape[-1] < used:
        cc = xp.concatenate([cc, xp.zeros(cc.shape[:-1] + (used - cc.shape[-1],), cc.dtype)], -1)
    # numpy reads the imaginary parts of the DC (and Nyquist) bins as zero, as TensorFlow does
    y = xp.fft.irfft(cc, n=n, axis=-1).astype(dt)

    def backward(g, needs):
        spec = xp.fft.rfft(g.astype(np.float64), n=n, axis=-1)
        w = xp.full((used,), 2.0)
        w[0] = 1.0
        if n % 2 == 0:
            w[-1] = 1.0
        spec = spec * w / n
        out = xp.zeros(c.shape, np.complex128)
        k = min(used, bins)
        out[..., :k] = spec[..., :k]
        return out.real.astype(dt), out.imag.astype(dt)

    return record(y, tuple(x), backward)


def view_as_complex(x) -> Tensor:
    """A complex tensor from a float tensor whose last axis (size 2) holds the real and
    imaginary parts (``keras.ops.view_as_complex``).

    Args:
        x: float tensor of shape (..., 2).

    Returns:
        A complex64 Tensor of shape (...) (as Keras's TensorFlow backend, also for float64).

    Example:

    >>> ops.view_as_complex(np.array([[1.0, 2.0]], 'float32')).numpy()
    array([1.+2.j], dtype=complex64)
    """
    a = arr(x, "view_as_complex")
    if a.ndim < 1 or a.shape[-1] != 2:
        raise ValueError(f"view_as_complex: the last axis must have size 2, got shape "
                         f"{tuple(a.shape)}")
    return Tensor((a[..., 0] + 1j * a[..., 1]).astype(np.complex64))


def view_as_real(x) -> Tensor:
    """A float tensor of shape (..., 2) holding the real and imaginary parts of complex ``x``
    (``keras.ops.view_as_real``).

    Args:
        x: complex tensor.

    Returns:
        A float Tensor of shape (..., 2).

    Example:

    >>> ops.view_as_real(np.array([1 + 2j], 'complex64')).numpy()
    array([[1., 2.]], dtype=float32)
    """
    a = arr(x, "view_as_real")
    xp = xp_of(a)
    if a.dtype.kind != "c":
        raise ValueError(f"view_as_real: x must be complex, got dtype {a.dtype}")
    return Tensor(xp.stack([a.real, a.imag], axis=-1))


# ---- short-time transforms ---------------------------------------------------------------------

def _win(window, seq_len, fft_length, dt, fn):
    if window is None:
        w = np.ones(seq_len)
    elif isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"{fn}: window must be 'hann', 'hamming', an array or None, got "
                             f"{window!r}")
        ph = np.cos(2 * np.pi * np.arange(seq_len) / seq_len)
        w = 0.5 - 0.5 * ph if window == "hann" else 0.54 - 0.46 * ph
    else:
        w = backend.to_numpy(arr(window, fn, "window")).astype(np.float64)
        if w.ndim != 1 or w.shape[0] != seq_len:
            raise ValueError(f"{fn}: window must have shape ({seq_len},), got {w.shape}")
    lp = (fft_length - seq_len) // 2
    return np.pad(w, (lp, fft_length - seq_len - lp)).astype(dt)


def stft(x, sequence_length: int, sequence_stride: int, fft_length: int, window="hann",
         center: bool = True):
    """Short-time Fourier transform over the last axis (``keras.ops.stft``).

    Args:
        x: float32/float64 signal(s), shape (..., samples).
        sequence_length: frame (window) length.
        sequence_stride: step between frames.
        fft_length: FFT size (>= ``sequence_length``); the window is centered in it.
        window: ``"hann"``, ``"hamming"``, a 1-D array of ``sequence_length`` or None.
        center: reflect-pad the signal by ``fft_length // 2`` on each side.

    Returns:
        A tuple ``(real, imag)`` of shape (..., frames, fft_length // 2 + 1).

    Example:

    >>> r, i = ops.stft(np.zeros(16, 'float32'), 8, 4, 8)
    >>> r.shape
    (5, 5)
    """
    a = arr(x, "stft")
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"stft: x must be float32 or float64, got {a.dtype}")
    if fft_length < sequence_length:
        raise ValueError(f"stft: fft_length ({fft_length}) must be >= sequence_length "
                         f"({sequence_length})")
    xp = xp_of(a)
    L = a.shape[-1]
    pos = np.arange(L)
    if center:
        p = fft_length // 2
        pos = np.pad(pos, (p, p), mode="reflect")
    n = len(pos)
    frames = 1 + (n - fft_length) // sequence_stride if n >= fft_length else 0
    starts = np.arange(frames) * sequence_stride
    idx = pos[starts[:, None] + np.arange(fft_length)[None, :]]  # (frames, fft_length)
    lead = int(np.prod(a.shape[:-1])) if a.ndim > 1 else 1
    full = (np.arange(lead)[:, None, None] * L + idx[None]).reshape(a.shape[:-1] + idx.shape)
    fr = index_map(x if isinstance(x, Tensor) else Tensor(a), xp.asarray(full), "stft")
    w = xp.asarray(_win(window, sequence_length, fft_length, a.dtype, "stft"))
    return _rfft(_mm.multiply(fr, w), fft_length, a.dtype, "stft")


def _overlap_add(frames, step, fn):
    """Sum frames (..., F, L) placed ``step`` apart into a signal (..., (F-1)*step + L)."""
    a = frames.data
    xp = xp_of(a)
    nf, fl = a.shape[-2], a.shape[-1]
    out_len = (nf - 1) * step + fl if nf else 0
    pos = (np.arange(nf)[:, None] * step + np.arange(fl)[None, :]).reshape(-1)
    lead = a.shape[:-2]
    flat = a.reshape((-1, nf * fl))
    out = xp.zeros((flat.shape[0], out_len), a.dtype)
    for j in range(nf):  # frames overlap: add frame by frame (nf is small)
        out[:, j * step:j * step + fl] += flat[:, j * fl:(j + 1) * fl]
    y = out.reshape(lead + (out_len,))
    gpos = xp.asarray(pos)
    return record(y, (frames,), lambda g, n: (g.reshape((-1, out_len))[:, gpos].reshape(
        a.shape),))


def istft(x, sequence_length: int, sequence_stride: int, fft_length: int,
          length: Optional[int] = None, window="hann", center: bool = True) -> Tensor:
    """Inverse short-time Fourier transform (``keras.ops.istft``): irfft of each frame,
    windowed for perfect reconstruction and overlap-added.

    Args:
        x: a tuple ``(real, imag)`` of shape (..., frames, fft_length // 2 + 1).
        sequence_length: frame (window) length used by ``stft``.
        sequence_stride: step between frames.
        fft_length: FFT size used by ``stft``.
        length: optional output length (crops/limits the signal).
        window: ``"hann"``, ``"hamming"``, a 1-D array of ``sequence_length`` or None.
        center: whether ``stft`` padded the signal (the padding is removed).

    Returns:
        A float Tensor of shape (..., samples).

    Example:

    >>> s = np.sin(np.arange(32, dtype='float32'))
    >>> ops.istft(ops.stft(s, 8, 2, 8), 8, 2, 8, length=32).shape
    (32,)
    """
    r, i, dt = _pair(x, "istft")
    frames = irfft(x, fft_length)
    frames = _mm.getitem(frames, (Ellipsis, slice(0, fft_length)))
    nf = r.shape[-2]
    if window is not None:
        w = _win(window, sequence_length, fft_length, np.float64, "istft")
        sq = w * w
        total = -(-fft_length // sequence_stride) * sequence_stride
        sq = np.pad(sq, (0, total - fft_length)).reshape(-1, sequence_stride).sum(0)
        denom = np.tile(sq, total // sequence_stride)[:fft_length]
        wi = (w / np.where(denom == 0, 1.0, denom)).astype(dt)
        frames = _mm.multiply(frames, xp_of(r).asarray(wi))
    y = _overlap_add(frames, sequence_stride, "istft")
    expected = fft_length + sequence_stride * (nf - 1)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = expected - fft_length // 2
    else:
        end = expected
    return _mm.getitem(y, (Ellipsis, slice(start, end)))


__all__ = ["fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft", "view_as_complex",
           "view_as_real"]
