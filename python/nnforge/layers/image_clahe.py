"""ContrastLimitedAdaptiveHistogramEqualization and MaxNumBoundingBoxes (Keras 3 semantics)."""
from __future__ import annotations

import numpy as np

from .base_image_preprocessing import BaseImagePreprocessingLayer


class ContrastLimitedAdaptiveHistogramEqualization(BaseImagePreprocessingLayer):
    """CLAHE (``keras.layers.ContrastLimitedAdaptiveHistogramEqualization``): each channel is
    cut into ``tile_grid_size`` tiles (padded symmetrically to a multiple), each tile's
    256-bin histogram is clipped at ``clip_limit * pixels / 256`` (the excess spread evenly)
    and turned into an equalizing map; pixels blend the maps of the four nearest tiles
    bilinearly. Deterministic: applied in training and inference alike, as in Keras.

    Args:
        value_range: the range of the input pixels.
        clip_limit: the histogram clip (<= 0: no clipping).
        tile_grid_size: ``(rows, columns)`` of tiles.

    Example:

    >>> ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))(
    ...     np.random.rand(1, 8, 8, 1) * 255).shape
    (1, 8, 8, 1)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), clip_limit: float = 4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tuple(tile_grid_size)

    def transform_images(self, images, transformation=None, training=True):
        x = self._transform_value_range(images, self.value_range, (0, 255))
        out = self._clahe(x.astype(np.float32))
        return self._transform_value_range(out, (0, 255), self.value_range)

    def _clahe(self, images: np.ndarray) -> np.ndarray:
        n, h, w, c = images.shape
        gh, gw = self.tile_grid_size
        th, tw = -(-h // gh), -(-w // gw)
        ph, pw = th * gh - h, tw * gw - w
        padded = images if ph == 0 and pw == 0 else np.pad(
            images, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="symmetric")
        pix = np.clip(np.trunc(padded), 0, 255).astype(np.int64)
        tiles = pix.reshape(n, gh, th, gw, tw, c).transpose(0, 1, 3, 5, 2, 4)
        tiles = tiles.reshape(n, gh, gw, c, th * tw)
        hists = np.zeros((n, gh, gw, c, 256), np.float32)
        flat = hists.reshape(-1, 256)
        rows = np.repeat(np.arange(flat.shape[0]), th * tw)
        np.add.at(flat, (rows, tiles.reshape(-1)), 1.0)
        hists = flat.reshape(n, gh, gw, c, 256)
        if self.clip_limit > 0:
            limit = np.float32(self.clip_limit * (th * tw) / 256.0)
            clipped = np.clip(hists, 0, limit)
            hists = clipped + (hists - clipped).sum(-1, keepdims=True) / np.float32(256.0)
        cdf = np.cumsum(hists, axis=-1, dtype=np.float32)
        cdf_min = cdf.min(-1, keepdims=True)
        den = np.float32(th * tw) - cdf_min
        den = np.where(den == 0, np.float32(1), den)
        cdf = np.clip((cdf - cdf_min) * np.float32(255.0) / den, 0, 255)
        cdf = np.concatenate([cdf[:, :1], cdf, cdf[:, -1:]], axis=1)
        cdf = np.concatenate([cdf[:, :, :1], cdf, cdf[:, :, -1:]], axis=2)
        yg = (np.arange(th * gh, dtype=np.float32) - np.float32(th / 2.0)) / np.float32(th) + 1
        xg = (np.arange(tw * gw, dtype=np.float32) - np.float32(tw / 2.0)) / np.float32(tw) + 1
        y0, x0 = np.floor(yg), np.floor(xg)
        wy, wx = (yg - y0)[None, :, None, None], (xg - x0)[None, None, :, None]
        y1, x1 = (np.clip(y0 + 1, 0, gh + 1).astype(np.int64),
                  np.clip(x0 + 1, 0, gw + 1).astype(np.int64))
        y0, x0 = np.clip(y0, 0, gh + 1).astype(np.int64), np.clip(x0, 0, gw + 1).astype(np.int64)
        b = np.arange(n)[:, None, None, None]
        ch = np.arange(c)[None, None, None, :]

        def at(yy, xx):
            return cdf[b, yy[None, :, None, None], xx[None, None, :, None], ch, pix]
        top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
        bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
        return (top * (1 - wy) + bottom * wy)[:, :h, :w, :].astype(np.float32)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "clip_limit": self.clip_limit,
                       "tile_grid_size": self.tile_grid_size, "data_format": self.data_format})
        return config


class MaxNumBoundingBoxes(BaseImagePreprocessingLayer):
    """Pads or truncates ``bounding_boxes`` to ``max_number`` boxes per image
    (``keras.layers.MaxNumBoundingBoxes``); padding boxes and labels hold ``fill_value``.
    Images pass through unchanged.

    Call it on ``{"images": ..., "bounding_boxes": {"boxes": (batch, n, 4),
    "labels": (batch, n)}}``.

    Example:

    >>> out = MaxNumBoundingBoxes(max_number=3, bounding_box_format="xyxy")(
    ...     {"images": np.zeros((1, 4, 4, 3)),
    ...      "bounding_boxes": {"boxes": np.ones((1, 1, 4)), "labels": np.ones((1, 1))}})
    >>> out["bounding_boxes"]["labels"].numpy()
    array([[ 1., -1., -1.]])
    """

    _USE_BASE_FACTOR = False
    _SUPPORTS_BOXES = True

    def __init__(self, max_number: int, fill_value: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)

    def transform_images(self, images, transformation=None, training=True):
        return images

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        boxes = np.asarray(bounding_boxes["boxes"])
        labels = np.asarray(bounding_boxes["labels"])
        pad = max(self.max_number - boxes.shape[1], 0)
        boxes = np.pad(boxes[:, :self.max_number], ((0, 0), (0, pad), (0, 0)),
                       constant_values=self.fill_value)
        labels = np.pad(labels[:, :self.max_number], ((0, 0), (0, pad)),
                        constant_values=self.fill_value)
        out = dict(bounding_boxes)
        out["boxes"] = boxes.reshape(boxes.shape[0], self.max_number, 4)
        out["labels"] = labels.reshape(labels.shape[0], self.max_number)
        return out

    def get_config(self):
        config = super().get_config()
        config["max_number"] = self.max_number
        return config
