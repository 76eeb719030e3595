"""Plain NumPy references for the nnforge CPU kernels (float64 inside, float64 results).

Each function mirrors one kernel of cpp/include/nnforge/*.h with the same argument meaning and is
written for clarity, not speed: explicit loops or einsum over the shapes spelled out below.
Layout is Keras's: images NHWC, conv kernels (KH, KW, C, F).
"""
from __future__ import annotations

import math

import numpy as np

EPS = 1e-7
F32_ONE_MINUS_EPS = float(np.float32(1.0) - np.float32(EPS))

# ---- geometry ---------------------------------------------------------------------------------


def out_size(size: int, k: int, stride: int, dilation: int, padding: str):
    """Keras/TF output size and leading (top/left) pad for 'valid' or 'same'."""
    eff = (k - 1) * dilation + 1
    if padding == "valid":
        return max((size - eff) // stride + 1, 0), 0
    out = -(-size // stride)
    total = max((out - 1) * stride + eff - size, 0)
    return out, total // 2


# ---- activations, softmax, bias ---------------------------------------------------------------


def activation(x, act: int):
    x = np.asarray(x, np.float64)
    return [lambda v: v, lambda v: np.maximum(v, 0.0), lambda v: 1.0 / (1.0 + np.exp(-v)),
            np.tanh][act](x)


def activation_grad(y, dy, act: int):
    y = np.asarray(y, np.float64)
    dy = np.asarray(dy, np.float64)
    if act == 0:
        return dy.copy()
    if act == 1:
        return np.where(y > 0, dy, 0.0)
    if act == 2:
        return dy * y * (1.0 - y)
    return dy * (1.0 - y * y)


def softmax(x):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_grad(y, dy):
    y = np.asarray(y, np.float64)
    dy = np.asarray(dy, np.float64)
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def bias_add(y, bias):
    return np.asarray(y, np.float64) + np.asarray(bias, np.float64)


def bias_grad(dy):
    return np.asarray(dy, np.float64).sum(axis=0)


# ---- im2col / conv ------------------------------------------------------------------------------


def _taps(in_hw, kernel, strides, dilation, pad, out_hw):
    """Yields ``(oh, ow, kh, kw, ih, iw)`` for every kernel tap of every output position whose
    input pixel ``(ih, iw)`` lies inside the ``in_hw`` image (taps on the padding are skipped)."""
    H, W = in_hw
    for oh in range(out_hw[0]):
        for ow in range(out_hw[1]):
            for kh in range(kernel[0]):
                ih = oh * strides[0] - pad[0] + kh * dilation[0]
                if not 0 <= ih < H:
                    continue
                for kw in range(kernel[1]):
                    iw = ow * strides[1] - pad[1] + kw * dilation[1]
                    if 0 <= iw < W:
                        yield oh, ow, kh, kw, ih, iw


def im2col(x, kernel, strides, dilation, pad, out_hw):
    """cols[n*OH*OW + oh*OW + ow, (kh*KW + kw)*C + c] = x[n, ih, iw, c], 0 outside the image."""
    x = np.asarray(x, np.float64)
    N, H, W, C = x.shape
    KH, KW = kernel
    OH, OW = out_hw
    cols = np.zeros((N, OH, OW, KH, KW, C))
    for oh, ow, kh, kw, ih, iw in _taps((H, W), kernel, strides, dilation, pad, out_hw):
        cols[:, oh, ow, kh, kw, :] = x[:, ih, iw, :]
    return cols.reshape(N * OH * OW, KH * KW * C)


def col2im(cols, x_shape, kernel, strides, dilation, pad, out_hw):
    """Adjoint of im2col: sums every cols entry into the input element it was read from."""
    N, H, W, C = x_shape
    KH, KW = kernel
    OH, OW = out_hw
    c6 = np.asarray(cols, np.float64).reshape(N, OH, OW, KH, KW, C)
    dx = np.zeros((N, H, W, C))
    for oh, ow, kh, kw, ih, iw in _taps((H, W), kernel, strides, dilation, pad, out_hw):
        dx[:, ih, iw, :] += c6[:, oh, ow, kh, kw, :]
    return dx


def conv2d(x, w, bias, strides, dilation, pad, out_hw, act=0):
    """y (N, OH, OW, F) = act(sum over (kh, kw, c) of patch * w + bias), via explicit windows."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    N = x.shape[0]
    KH, KW, C, F = w.shape
    cols = im2col(x, (KH, KW), strides, dilation, pad, out_hw).reshape(N, out_hw[0], out_hw[1], KH, KW, C)
    y = np.einsum("nhwijc,ijcf->nhwf", cols, w)
    if bias is not None:
        y = y + np.asarray(bias, np.float64)
    return activation(y, act)


def conv2d_grad_input(dy, w, x_shape, strides, dilation, pad):
    dy = np.asarray(dy, np.float64)
    w = np.asarray(w, np.float64)
    KH, KW, C, F = w.shape
    N, OH, OW, _ = dy.shape
    dcols = np.einsum("nhwf,ijcf->nhwijc", dy, w).reshape(N * OH * OW, KH * KW * C)
    return col2im(dcols, x_shape, (KH, KW), strides, dilation, pad, (OH, OW))


def conv2d_grad_filter(x, dy, w_shape, strides, dilation, pad):
    dy = np.asarray(dy, np.float64)
    KH, KW, C, F = w_shape
    N, OH, OW, _ = dy.shape
    cols = im2col(x, (KH, KW), strides, dilation, pad, (OH, OW))
    dw = (cols.T @ dy.reshape(-1, F)).reshape(KH, KW, C, F)
    return dw, dy.reshape(-1, F).sum(axis=0)


# ---- pooling (TF 'same': padding never wins the max, the average counts real elements) ------


def _windows(H, W, pool, strides, pad, out_hw):
    for oh in range(out_hw[0]):
        h0 = oh * strides[0] - pad[0]
        for ow in range(out_hw[1]):
            w0 = ow * strides[1] - pad[1]
            yield oh, ow, max(h0, 0), min(h0 + pool[0], H), max(w0, 0), min(w0 + pool[1], W)


def max_pool2d(x, pool, strides, pad, out_hw):
    """Returns y and argmax = (ih*W + iw)*C + c of the first maximum in row-major window order."""
    x = np.asarray(x, np.float64)
    N, H, W, C = x.shape
    y = np.zeros((N, out_hw[0], out_hw[1], C))
    arg = np.zeros((N, out_hw[0], out_hw[1], C), np.int64)
    for oh, ow, a, b, c, d in _windows(H, W, pool, strides, pad, out_hw):
        win = x[:, a:b, c:d, :].reshape(N, (b - a) * (d - c), C)
        k = win.argmax(axis=1)  # first maximum
        y[:, oh, ow, :] = np.take_along_axis(win, k[:, None, :], axis=1)[:, 0, :]
        ih = a + k // (d - c)
        iw = c + k % (d - c)
        arg[:, oh, ow, :] = (ih * W + iw) * C + np.arange(C)
    return y, arg


def max_pool2d_grad(dy, argmax, x_shape):
    N, H, W, C = x_shape
    dx = np.zeros((N, H * W * C))
    dy = np.asarray(dy, np.float64).reshape(N, -1) if N else dy
    a = np.asarray(argmax).reshape(N, -1) if N else argmax
    for n in range(N):
        np.add.at(dx[n], a[n], dy[n])
    return dx.reshape(x_shape)


def avg_pool2d(x, pool, strides, pad, out_hw):
    x = np.asarray(x, np.float64)
    N, H, W, C = x.shape
    y = np.zeros((N, out_hw[0], out_hw[1], C))
    for oh, ow, a, b, c, d in _windows(H, W, pool, strides, pad, out_hw):
        y[:, oh, ow, :] = x[:, a:b, c:d, :].mean(axis=(1, 2))
    return y


def avg_pool2d_grad(dy, x_shape, pool, strides, pad):
    dy = np.asarray(dy, np.float64)
    N, H, W, C = x_shape
    dx = np.zeros(x_shape)
    for oh, ow, a, b, c, d in _windows(H, W, pool, strides, pad, dy.shape[1:3]):
        dx[:, a:b, c:d, :] += dy[:, oh, ow, None, None, :] / ((b - a) * (d - c))
    return dx


# ---- losses (Keras 3 semantics; grad = scale * d loss_i / d y_pred) ---------------------------


def _clip_mask(q):
    """Keras clips probabilities to [eps, 1 - eps]; the gradient passes inside (inclusive)."""
    return np.clip(q, EPS, F32_ONE_MINUS_EPS), (q >= EPS) & (q <= F32_ONE_MINUS_EPS)


def categorical_crossentropy(y_true, y_pred, from_logits, scale=1.0):
    t = np.asarray(y_true, np.float64)
    p = np.asarray(y_pred, np.float64)
    if from_logits:
        m = p.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(p - m).sum(axis=1, keepdims=True))
        loss = -(t * (p - lse)).sum(axis=1)
        grad = softmax(p) * t.sum(axis=1, keepdims=True) - t
        return loss, scale * grad
    S = p.sum(axis=1, keepdims=True)
    q = p / S
    c, inside = _clip_mask(q)
    loss = -(t * np.log(c)).sum(axis=1)
    dq = np.where(inside, -t / np.where(inside, q, 1.0), 0.0)  # d loss / d q
    grad = (dq - (dq * q).sum(axis=1, keepdims=True)) / S  # chain through q = p / sum(p)
    return loss, scale * grad


def sparse_categorical_crossentropy(labels, y_pred, from_logits, scale=1.0):
    p = np.asarray(y_pred, np.float64)
    t = np.zeros_like(p)
    t[np.arange(p.shape[0]), np.asarray(labels)] = 1.0
    return categorical_crossentropy(t, p, from_logits, scale)


def binary_crossentropy(y_true, y_pred, from_logits, scale=1.0):
    t = np.asarray(y_true, np.float64)
    z = np.asarray(y_pred, np.float64)
    D = z.shape[1]
    if from_logits:
        loss = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        grad = 0.5 * (1.0 + np.tanh(0.5 * z)) - t  # sigmoid(z) without overflow
    else:
        p, inside = _clip_mask(z)
        loss = -(t * np.log(p) + (1 - t) * np.log(1 - p))
        grad = np.where(inside, -t / p + (1 - t) / (1 - p), 0.0)
    return loss.mean(axis=1), scale * grad / D


def mean_squared_error(y_true, y_pred, scale=1.0):
    t = np.asarray(y_true, np.float64)
    p = np.asarray(y_pred, np.float64)
    return ((p - t) ** 2).mean(axis=1), scale * 2.0 * (p - t) / p.shape[1]


# ---- optimizers (Keras 3 formulas) ------------------------------------------------------------


def sgd(p, g, velocity, lr, momentum, nesterov):
    """Returns the new (p, velocity)."""
    p = np.asarray(p, np.float64)
    g = np.asarray(g, np.float64)
    if momentum == 0:
        return p - lr * g, None
    v = momentum * np.asarray(velocity, np.float64) - lr * g
    return (p + momentum * v - lr * g if nesterov else p + v), v


def adam(p, g, m, v, vhat, lr, beta1, beta2, epsilon, t):
    """Returns the new (p, m, v, vhat) after step t >= 1."""
    p, g, m, v = (np.asarray(a, np.float64) for a in (p, g, m, v))
    alpha = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    # Keras casts beta to the variable's dtype, so 1 - beta is a float32 difference.
    m = m + (g - m) * float(np.float32(1) - np.float32(beta1))
    v = v + (g * g - v) * float(np.float32(1) - np.float32(beta2))
    if vhat is not None:
        vhat = np.maximum(np.asarray(vhat, np.float64), v)
        denom = np.sqrt(vhat) + epsilon
    else:
        denom = np.sqrt(v) + epsilon
    return p - alpha * m / denom, m, v, vhat
