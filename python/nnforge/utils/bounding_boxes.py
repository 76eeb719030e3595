"""``keras.utils.bounding_boxes``: converting, clipping, transforming and comparing bounding
boxes, with Keras 3's formats and formulas.

Boxes are arrays whose last axis holds 4 coordinates in one of the formats of
``SUPPORTED_FORMATS``; ``rel_*`` formats are fractions of the image's height and width. The
functions take NumPy or CuPy arrays (or nnforge Tensors) and return arrays of the same array
module."""
from __future__ import annotations

import math

import numpy as np

SUPPORTED_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy",
                     "rel_yxyx", "rel_xywh", "rel_center_xywh")
_EPSILON = 1e-7


def _xp_of(x):
    from nnforge import backend
    if hasattr(x, "data") and backend.is_array(getattr(x, "data", None)):
        x = x.data
    return (backend.of(x).xp if backend.is_array(x) else np), x


def _arr(x, dtype=None):
    xp, x = _xp_of(x)
    return xp, (xp.asarray(x, dtype=dtype) if dtype is not None else xp.asarray(x))


def _split4(xp, b):
    return [b[..., i:i + 1] for i in range(4)]


def _to_xyxy(xp, b, source, height, width):
    p, q, r, s = _split4(xp, b)
    if source == "xyxy":
        return b
    if source == "yxyx":
        return xp.concatenate([q, p, s, r], axis=-1)
    if source == "xywh":
        return xp.concatenate([p, q, p + r, q + s], axis=-1)
    if source == "center_xywh":
        return xp.concatenate([p - r / 2.0, q - s / 2.0, p + r / 2.0, q + s / 2.0], axis=-1)
    if source == "center_yxhw":
        return xp.concatenate([q - s / 2.0, p - r / 2.0, q + s / 2.0, p + r / 2.0], axis=-1)
    if source == "rel_xyxy":
        return xp.concatenate([p * width, q * height, r * width, s * height], axis=-1)
    if source == "rel_yxyx":
        return xp.concatenate([q * width, p * height, s * width, r * height], axis=-1)
    if source == "rel_xywh":
        return xp.concatenate([p * width, q * height, (p + r) * width, (q + s) * height], axis=-1)
    # rel_center_xywh
    return xp.concatenate([(p - r / 2.0) * width, (q - s / 2.0) * height,
                           (p + r / 2.0) * width, (q + s / 2.0) * height], axis=-1)


def _from_xyxy(xp, b, target, height, width):
    x1, y1, x2, y2 = _split4(xp, b)
    if target == "xyxy":
        return b
    if target == "yxyx":
        return xp.concatenate([y1, x1, y2, x2], axis=-1)
    if target == "xywh":
        return xp.concatenate([x1, y1, x2 - x1, y2 - y1], axis=-1)
    if target == "center_xywh":
        return xp.concatenate([x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0, x2 - x1, y2 - y1],
                              axis=-1)
    if target == "center_yxhw":
        return xp.concatenate([y1 + (y2 - y1) / 2.0, x1 + (x2 - x1) / 2.0, y2 - y1, x2 - x1],
                              axis=-1)
    if target == "rel_xyxy":
        return xp.concatenate([x1 / width, y1 / height, x2 / width, y2 / height], axis=-1)
    if target == "rel_yxyx":
        return xp.concatenate([y1 / height, x1 / width, y2 / height, x2 / width], axis=-1)
    if target == "rel_xywh":
        return xp.concatenate([x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height],
                              axis=-1)
    return xp.concatenate([(x1 + (x2 - x1) / 2.0) / width, (y1 + (y2 - y1) / 2.0) / height,
                           (x2 - x1) / width, (y2 - y1) / height], axis=-1)


def convert_format(boxes, source: str, target: str, height=None, width=None,
                   dtype="float32"):
    """Convert boxes from the ``source`` format to the ``target`` format.

    Args:
        boxes: boxes with a last axis of 4, or a dict with a ``"boxes"`` entry (converted in
            place and returned).
        source: the boxes' format (one of ``SUPPORTED_FORMATS``).
        target: the format to convert to.
        height: the image height (needed to or from a ``rel_*`` format).
        width: the image width (likewise).
        dtype: the result's dtype.

    Returns:
        The converted boxes (or the dict holding them).

    Example:

    >>> convert_format(np.array([[10., 20., 30., 60.]]), "xyxy", "center_xywh")
    array([[20., 40., 20., 40.]], dtype=float32)
    """
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height=height,
                                        width=width, dtype=dtype)
        return boxes
    xp, b = _arr(boxes)
    if b.shape[-1] != 4:
        raise ValueError("convert_format: `boxes` must be a tensor with the last dimension of "
                         f"4. Received: boxes.shape={tuple(b.shape)}")
    source, target = source.lower(), target.lower()
    if source not in SUPPORTED_FORMATS or target not in SUPPORTED_FORMATS:
        raise ValueError("convert_format: invalid source or target format. Supported formats: "
                         f"{SUPPORTED_FORMATS}")
    if (source.startswith("rel_") or target.startswith("rel_")) and (width is None or
                                                                      height is None):
        raise ValueError("convert_format() must receive `height` and `width` transforming "
                         f"between relative and absolute formats. convert_format() received "
                         f"source=`{source}`, target=`{target}`, but height={height} and "
                         f"width={width}.")
    b = b.astype(dtype)
    if source == target:
        return b
    t = np.dtype(dtype).type
    width = None if width is None else t(width)
    height = None if height is None else t(height)
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[4:], target[4:]
    return _from_xyxy(xp, _to_xyxy(xp, b, source, height, width), target, height, width)


def clip_to_image_size(bounding_boxes: dict, height=None, width=None,
                       bounding_box_format: str = "xyxy") -> dict:
    """Clip boxes to the image; boxes left with no area get the label -1.

    Args:
        bounding_boxes: a dict with ``"boxes"`` (and optionally ``"labels"``).
        height: the image height (needed for ``"xyxy"``).
        width: the image width (likewise).
        bounding_box_format: ``"xyxy"`` or ``"rel_xyxy"``.

    Returns:
        A copy of the dict with the clipped boxes (and updated labels).

    Example:

    >>> clip_to_image_size({"boxes": np.array([[-5., 2., 50., 9.]]), "labels": np.array([1])},
    ...                    height=8, width=40)
    """
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(f"clip_to_image_size: bounding_box_format "
                                  f"{bounding_box_format!r} is not supported (xyxy, rel_xyxy)")
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    xp, boxes = _arr(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels", None)
    if bounding_box_format == "xyxy":
        hi_x, hi_y = boxes.dtype.type(width), boxes.dtype.type(height)
    else:
        hi_x = hi_y = boxes.dtype.type(1.0)
    x1, y1, x2, y2 = _split4(xp, boxes)
    boxes = xp.concatenate([xp.clip(x1, 0, hi_x), xp.clip(y1, 0, hi_y), xp.clip(x2, 0, hi_x),
                            xp.clip(y2, 0, hi_y)], axis=-1)
    result = dict(bounding_boxes)
    result["boxes"] = boxes
    if labels is not None:
        _, lab = _arr(labels)
        x1, y1, x2, y2 = _split4(xp, boxes)
        areas = ((x2 - x1) * (y2 - y1))[..., 0]
        result["labels"] = xp.where(areas > 0, lab, -1)
    return result


def _inverse_affine_matrix(xp, center_x, center_y, angle, translate_x, translate_y, scale,
                           shear_x, shear_y, height, width):
    n = angle.shape[0]
    dtype = angle.dtype
    angle, shear_x, shear_y = -angle, -shear_x, -shear_y
    cx = center_x * (width - 1)
    cy = center_y * (height - 1)
    rot = angle * (1.0 / 180.0 * math.pi)
    tx = -translate_x * (width - 1)
    ty = -translate_y * (height - 1)
    sx = shear_x * (1.0 / 180.0 * math.pi)
    sy = shear_y * (1.0 / 180.0 * math.pi)
    cos_sy, tan_sx = xp.cos(sy), xp.tan(sx)
    rot_minus_sy = rot - sy
    cx_tx, cy_ty = cx + tx, cy + ty
    a = xp.cos(rot_minus_sy) / cos_sy
    b = a * tan_sx + xp.sin(rot)
    c = -xp.sin(rot_minus_sy) / cos_sy
    d = xp.cos(rot) - c * tan_sx
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * cx_tx - a1 * cy_ty
    b2 = cy - b0 * cx_tx - b1 * cy_ty
    m = xp.stack([a0, a1, a2, b0, b1, b2, xp.zeros(n, dtype), xp.zeros(n, dtype),
                  xp.ones(n, dtype)], axis=-1)
    return m.reshape(n, 3, 3).astype(dtype)


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height,
                     width, center_x=None, center_y=None, bounding_box_format: str = "xyxy"):
    """Apply a batch of affine transforms (as Keras's random affine image layers draw them) to
    ``xyxy`` boxes: each box becomes the bounding box of its transformed corners.

    Args:
        boxes: ``(batch, n, 4)`` boxes.
        angle: ``(batch,)`` rotation angles in degrees.
        translate_x, translate_y: ``(batch,)`` translations as fractions of the width/height.
        scale: ``(batch,)`` scale factors.
        shear_x, shear_y: ``(batch,)`` shear angles in degrees.
        height, width: the image size.
        center_x, center_y: the transform's center as fractions (default 0.5).
        bounding_box_format: only ``"xyxy"``.

    Returns:
        ``(batch, n, 4)`` boxes.

    Example:

    >>> affine_transform(boxes, angle=np.array([10.]), translate_x=np.zeros(1), ...)
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError("affine_transform: only bounding_box_format='xyxy' is "
                                  "supported")
    xp, angle = _arr(angle)
    f = [(_arr(v)[1] if not np.isscalar(v) else v)
         for v in (translate_x, translate_y, scale, shear_x, shear_y)]
    cxs = 0.5 if center_x is None else center_x
    cys = 0.5 if center_y is None else center_y
    m = _inverse_affine_matrix(xp, cxs, cys, angle, *f, height, width)
    _, b = _arr(boxes)
    b = b.astype(m.dtype)
    batch, n = b.shape[0], b.shape[1]
    tm = xp.transpose(m[:, :2, :], (0, 2, 1))
    pts = xp.stack([b[..., 0], b[..., 1], b[..., 2], b[..., 1], b[..., 2], b[..., 3],
                    b[..., 0], b[..., 3]], axis=-1).reshape(batch, n, 4, 2)
    pts = xp.concatenate([pts, xp.ones((batch, n, 4, 1), pts.dtype)], axis=-1)
    out = xp.einsum("bnxy,byz->bnxz", pts, tm)
    return xp.concatenate([out.min(axis=2), out.max(axis=2)], axis=-1)


def crop(boxes, top, left, height, width, bounding_box_format: str = "xyxy"):
    """Boxes in the frame of a crop of the image (shifted by ``(left, top)`` and clipped to
    ``width`` x ``height``).

    Args:
        boxes: ``xyxy`` boxes.
        top, left: the crop's offset.
        height, width: the crop's size.
        bounding_box_format: only ``"xyxy"``.

    Returns:
        The boxes in the crop's frame.

    Example:

    >>> crop(np.array([[10., 10., 50., 50.]]), top=20, left=0, height=20, width=40)
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError("crop: only bounding_box_format='xyxy' is supported")
    xp, b = _arr(boxes)
    x1, y1, x2, y2 = _split4(xp, b)
    return xp.concatenate([xp.clip(x1 - left, 0, width), xp.clip(y1 - top, 0, height),
                           xp.clip(x2 - left, 0, width), xp.clip(y2 - top, 0, height)], axis=-1)


def pad(boxes, top, left, height=None, width=None, bounding_box_format: str = "xyxy"):
    """Boxes in the frame of the image padded by ``top`` rows and ``left`` columns.

    Args:
        boxes: ``xyxy`` boxes.
        top, left: the padding before the image.
        height, width: unused (Keras's signature).
        bounding_box_format: only ``"xyxy"``.

    Returns:
        The shifted boxes.

    Example:

    >>> pad(np.array([[1., 2., 3., 4.]]), top=10, left=5)
    array([[ 6., 12.,  8., 14.]])
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError("pad: only bounding_box_format='xyxy' is supported")
    xp, b = _arr(boxes)
    x1, y1, x2, y2 = _split4(xp, b)
    return xp.concatenate([x1 + left, y1 + top, x2 + left, y2 + top], axis=-1)


def _variance(variance):
    """The 4 box-delta scaling factors as float32 (None stays None)."""
    if variance is None:
        return None
    variance = np.asarray(variance, np.float32)
    if variance.shape[-1] != 4:
        raise ValueError(f"`variance` must be length 4, got {variance}")
    return variance


def _height_width(image_shape):
    """``(height, width)`` of an ``image_shape`` (``(None, None)`` without one)."""
    return (None, None) if image_shape is None else tuple(image_shape)[:2]


def encode_box_to_deltas(anchors, boxes, anchor_format: str, box_format: str,
                         encoding_format: str = "center_yxhw", variance=None, image_shape=None):
    """The regression targets of ``boxes`` relative to ``anchors``: center offsets over the
    anchor size and log size ratios (in ``encoding_format`` order), divided by ``variance``.

    Args:
        anchors: anchor boxes in ``anchor_format``.
        boxes: boxes in ``box_format``, broadcastable against the anchors.
        anchor_format, box_format: their formats.
        encoding_format: ``"center_yxhw"`` or ``"center_xywh"``.
        variance: 4 scaling factors (or None).
        image_shape: ``(height, width, channels)`` for relative formats.

    Returns:
        The deltas, last axis 4.

    Example:

    >>> encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=[0.1, 0.1, 0.2, 0.2])
    """
    variance = _variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError("`encoding_format` should be one of 'center_xywh' or 'center_yxhw', "
                         f"got {encoding_format}")
    height, width = _height_width(image_shape)
    a = convert_format(anchors, anchor_format, encoding_format, height=height, width=width)
    b = convert_format(boxes, box_format, encoding_format, height=height, width=width)
    xp, _ = _xp_of(a)
    a_dim = xp.maximum(a[..., 2:], np.float32(_EPSILON))
    b_dim = xp.maximum(b[..., 2:], np.float32(_EPSILON))
    delta = xp.concatenate([(b[..., :2] - a[..., :2]) / a_dim, xp.log(b_dim / a_dim)], axis=-1)
    if variance is not None:
        delta = delta / xp.asarray(variance)
    return delta


def decode_deltas_to_boxes(anchors, boxes_delta, anchor_format: str, box_format: str,
                           encoded_format: str = "center_yxhw", variance=None,
                           image_shape=None):
    """The boxes (in ``box_format``) that ``encode_box_to_deltas`` encoded as ``boxes_delta``
    against ``anchors``. Dicts of anchors and deltas (one entry per feature level) decode level
    by level.

    Args:
        anchors: anchor boxes (or a dict of them).
        boxes_delta: the deltas (or a dict of them, same keys).
        anchor_format, box_format: the anchors' format and the output's.
        encoded_format: ``"center_yxhw"`` or ``"center_xywh"``.
        variance: 4 scaling factors (or None).
        image_shape: ``(height, width, channels)`` for relative formats.

    Returns:
        The boxes (or a dict of them).

    Example:

    >>> boxes = decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy")
    """
    variance = _variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError("`encoded_format` should be 'center_xywh' or 'center_yxhw', but got "
                         f"'{encoded_format}'.")
    height, width = _height_width(image_shape)

    def one(anchor, delta):
        a = convert_format(anchor, anchor_format, encoded_format, height=height, width=width)
        xp, d = _arr(delta)
        if variance is not None:
            d = d * xp.asarray(variance)
        box = xp.concatenate([d[..., :2] * a[..., 2:] + a[..., :2], xp.exp(d[..., 2:]) *
                              a[..., 2:]], axis=-1)
        return convert_format(box, encoded_format, box_format, height=height, width=width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {lvl: one(anchor, boxes_delta[lvl]) for lvl, anchor in anchors.items()}
    return one(anchors, boxes_delta)


def _area_yxyx(xp, b):
    y1, x1, y2, x2 = _split4(xp, b)
    return ((y2 - y1) * (x2 - x1))[..., 0]


def compute_iou(boxes1, boxes2, bounding_box_format: str, use_masking: bool = False,
                mask_val=-1, image_shape=None):
    """The intersection over union of every pair of boxes of ``boxes1`` and ``boxes2``.

    Args:
        boxes1: ``(n, 4)`` or ``(batch, n, 4)`` boxes.
        boxes2: ``(m, 4)`` or ``(batch, m, 4)`` boxes.
        bounding_box_format: their format.
        use_masking: give ``mask_val`` to pairs where a box has only negative coordinates
            (padding boxes).
        mask_val: the value of masked pairs.
        image_shape: ``(height, width, channels)`` for relative formats.

    Returns:
        ``(n, m)`` or ``(batch, n, m)`` IoUs.

    Example:

    >>> compute_iou(np.array([[0., 0., 2., 2.]]), np.array([[1., 1., 3., 3.]]), "xyxy")
    array([[0.14285713]], dtype=float32)
    """
    xp, b1 = _arr(boxes1)
    _, b2 = _arr(boxes2)
    r1, r2 = b1.ndim, b2.ndim
    if r1 not in (2, 3):
        raise ValueError("compute_iou() expects boxes1 to be batched, or to be unbatched. "
                         f"Received len(boxes1.shape)={r1}, len(boxes2.shape)={r2}. Expected "
                         "either len(boxes1.shape)=2 AND or len(boxes1.shape)=3.")
    if r2 not in (2, 3):
        raise ValueError("compute_iou() expects boxes2 to be batched, or to be unbatched. "
                         f"Received len(boxes1.shape)={r1}, len(boxes2.shape)={r2}. Expected "
                         "either len(boxes2.shape)=2 AND or len(boxes2.shape)=3.")
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError("When using relative bounding box formats (e.g. `rel_yxyx`) the "
                         f"`image_shape` argument must be provided. Received `image_shape`: "
                         f"{image_shape}")
    height, width = _height_width(image_shape)
    b1 = convert_format(b1, bounding_box_format, "yxyx", height=height, width=width)
    b2 = convert_format(b2, bounding_box_format, "yxyx", height=height, width=width)
    perm = (1, 0) if r2 == 2 else (0, 2, 1)
    y_min1, x_min1, y_max1, x_max1 = _split4(xp, b1)
    y_min2, x_min2, y_max2, x_max2 = (xp.transpose(t, perm) for t in _split4(xp, b2))
    ih = xp.maximum(xp.minimum(y_max1, y_max2) - xp.maximum(y_min1, y_min2), 0)
    iw = xp.maximum(xp.minimum(x_max1, x_max2) - xp.maximum(x_min1, x_min2), 0)
    inter = ih * iw
    a1 = _area_yxyx(xp, b1)[..., None]
    a2 = _area_yxyx(xp, b2)
    a2 = a2[None, :] if a2.ndim == 1 else a2[:, None, :]
    res = inter / (a1 + a2 - inter + np.float32(_EPSILON))
    if not use_masking:
        return res
    perm1 = (1, 0) if r1 == 2 else (0, 2, 1)
    m1 = b1.max(axis=-1, keepdims=True) < 0
    m2 = b2.max(axis=-1, keepdims=True) < 0
    background = m1 | xp.transpose(m2, perm1)
    return xp.where(background, res.dtype.type(mask_val), res)


def compute_ciou(boxes1, boxes2, bounding_box_format: str, image_shape=None):
    """The complete IoU (IoU minus the normalised center distance and an aspect-ratio term) of
    corresponding boxes.

    Args:
        boxes1: boxes, last axis 4.
        boxes2: boxes of the same shape.
        bounding_box_format: their format (absolute formats only, as in Keras).
        image_shape: unused for absolute formats.

    Returns:
        The CIoU per box pair (the last axis dropped).

    Example:

    >>> compute_ciou(np.array([[0., 0., 2., 2.]]), np.array([[1., 1., 3., 3.]]), "xyxy")
    """
    if "rel" in bounding_box_format:
        raise ValueError("When using relative bounding box formats (e.g. `rel_yxyx`) the "
                         f"`image_shape` argument must be provided. Received `image_shape`: "
                         f"{image_shape}")
    b1 = convert_format(boxes1, bounding_box_format, "xyxy")
    b2 = convert_format(boxes2, bounding_box_format, "xyxy")
    xp, _ = _xp_of(b1)
    eps = np.float32(_EPSILON)
    x_min1, y_min1, x_max1, y_max1 = _split4(xp, b1)
    x_min2, y_min2, x_max2, y_max2 = _split4(xp, b2)
    w1, h1 = x_max1 - x_min1, y_max1 - y_min1 + eps
    w2, h2 = x_max2 - x_min2, y_max2 - y_min2 + eps
    inter = xp.maximum(xp.minimum(x_max1, x_max2) - xp.maximum(x_min1, x_min2), 0) * \
        xp.maximum(xp.minimum(y_max1, y_max2) - xp.maximum(y_min1, y_min2), 0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = (inter / (union + eps))[..., 0]
    cw = xp.maximum(x_max1, x_max2) - xp.minimum(x_min1, x_min2)
    ch = xp.maximum(y_max1, y_max2) - xp.minimum(y_min1, y_min2)
    diag = (cw ** 2 + ch ** 2 + eps)[..., 0]
    dist = (((x_min1 + x_max1) / 2 - (x_min2 + x_max2) / 2) ** 2 +
            ((y_min1 + y_max1) / 2 - (y_min2 + y_max2) / 2) ** 2)[..., 0]
    v = (np.float32(4 / math.pi ** 2) * (xp.arctan(w2 / h2) - xp.arctan(w1 / h1)) ** 2)[..., 0]
    alpha = v / (v - iou + (1 + eps))
    return iou - (dist / diag + v * alpha)
