"""The ``image`` block (pixel normalisation) and the image input block's resize step.

The block itself does no resize and no crop: Studio resizes upstream, in the input block, and the
block receives ``raw_data = [width, height, px, px, ...]`` where each pixel is the integer
``0xRRGGBB`` (several frames may follow each other). It returns R/255, G/255, B/255 per pixel,
interleaved, or one ``(0.299/255)R + (0.587/255)G + (0.114/255)B`` value per pixel for
Grayscale, in float64 (golden README, "Image").

:func:`resize_image` implements the input block's ``resizeMode`` / ``resizeMethod`` with Pillow.
Studio's own resize code (its lanczos3 path and the ``crop`` mode) is not public, so pixel values
can differ slightly from Studio's; see that function's notes.
"""

from __future__ import annotations

import numpy as np

from evalcore.dsp._plan import BlockPlan
from evalcore.errors import ConfigError

_GRAY_WEIGHTS = (0.299 / 255, 0.587 / 255, 0.114 / 255)
_LEVELS = np.arange(256, dtype=np.float64)
# Lookup tables with the exact float64 values the reference computes per channel level; the
# float32 table is the float64 one rounded, so it gives the float64 features cast to float32.
_UNIT_LUT = _LEVELS / 255.0
_UNIT_LUT32 = _UNIT_LUT.astype(np.float32)
_GRAY_LUTS = tuple(w * _LEVELS for w in _GRAY_WEIGHTS)

RESIZE_MODES = ("squash", "fit-short", "fit-long", "crop")
RESIZE_METHODS = ("lanczos3", "nearest")
CROP_ANCHORS = (
    "top-left", "top-center", "top-right",
    "middle-left", "middle-center", "middle-right",
    "bottom-left", "bottom-center", "bottom-right",
)


def _normalize(rgb: np.ndarray, channels: str, unit_lut: np.ndarray = _UNIT_LUT) -> np.ndarray:
    """Per-pixel features of uint8 pixels (..., P, 3); (..., P * C) in ``unit_lut``'s dtype (RGB) or float64.

    Grayscale sums ``(0.299/255)R + (0.587/255)G + (0.114/255)B`` in float64, in that order.
    """
    if channels == "Grayscale":
        lut_r, lut_g, lut_b = _GRAY_LUTS
        return lut_r[rgb[..., 0]] + lut_g[rgb[..., 1]] + lut_b[rgb[..., 2]]
    return unit_lut[rgb].reshape(*rgb.shape[:-2], -1)


def _unpack(packed: np.ndarray) -> np.ndarray:
    """uint8 (..., P, 3) R, G, B from integer pixels ``0xRRGGBB`` (bytes read little-endian as B, G, R, -)."""
    as_bytes = np.ascontiguousarray(packed, dtype="<i8").view(np.uint8)
    return as_bytes.reshape(*packed.shape, 8)[..., 2::-1]


def image_features(rgb: np.ndarray, channels: str = "RGB") -> np.ndarray:
    """Compute the image block's features for one already-resized RGB image.

    Parameters
    ----------
    rgb : uint8 array of shape (H, W, 3)
    channels : {"RGB", "Grayscale"}

    Returns
    -------
    float32 array of shape (H * W * C,)
        Row-major pixels, channels interleaved (C = 3 or 1); ``reshape(H, W, C)`` gives the
        NHWC image. Equal to the float64 block features cast to float32.

    Raises
    ------
    ConfigError
        ``rgb`` is not uint8 (H, W, 3), or ``channels`` is unknown.
    """
    if channels not in ("RGB", "Grayscale"):
        raise ConfigError(f"invalid value {channels!r}, expected RGB or Grayscale (dsp block image, field channels)")
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ConfigError(
            f"image must be uint8 of shape (height, width, 3), got {rgb.dtype} {rgb.shape} (dsp block image)"
        )
    features = _normalize(rgb.reshape(-1, 3), channels, _UNIT_LUT32)
    return features.astype(np.float32, copy=False)


def make_plan(version: int, n_values: int, n_axes: int, sampling_freq: float, params: dict,
              width: int, height: int) -> BlockPlan:
    """Plan the image block for ``[width, height, pixels...]`` windows of ``n_values`` values.

    Parameters
    ----------
    version : int
        Implementation version (1).
    n_values : int
        ``2 + frames * width * height``.
    n_axes, sampling_freq
        Unused.
    params : dict
        Resolved parameters (``channels``).
    width, height : int
        From the first two values of the window.

    Returns
    -------
    BlockPlan
        ``run`` takes an int64 or integral float64 array of shape (W, n_values) and returns float64
        features of shape (W, frames * width * height * C).

    Raises
    ------
    ConfigError
        Non-positive size, or a pixel count that is not a whole number of frames.
    """
    n_pixels = n_values - 2
    if width < 1 or height < 1 or n_pixels < 1 or n_pixels % (width * height):
        raise ConfigError(
            f"image data of {n_pixels} pixels is not a whole number of {width}x{height} frames "
            f"(dsp block image, field raw_data)"
        )
    n_channels = 1 if params["channels"] == "Grayscale" else 3
    n_frames = n_pixels // (width * height)

    def run(windows: np.ndarray) -> np.ndarray:
        return _normalize(_unpack(windows[:, 2:].astype(np.int64)), params["channels"])

    output_config = {
        "type": "image",
        "shape": {"width": width, "height": height, "channels": n_channels, "frames": n_frames},
    }
    return BlockPlan(n_pixels * n_channels, output_config, [], None, run)


def _anchor_offset(free: int, position: str) -> int:
    """Offset of a crop window along one side with ``free`` spare pixels: start, centre or end."""
    if position in ("top", "left"):
        return 0
    if position in ("bottom", "right"):
        return free
    return free // 2


def _crop_box(src_w: int, src_h: int, out_w: int, out_h: int) -> tuple[int, int, int, int]:
    """Centred integer crop of the source to the target aspect ratio (for ``fit-short``)."""
    if src_w * out_h > src_h * out_w:  # source wider than target: crop the width
        crop_w, crop_h = max(1, round(src_h * out_w / out_h)), src_h
    else:
        crop_w, crop_h = src_w, max(1, round(src_w * out_h / out_w))
    left, top = (src_w - crop_w) // 2, (src_h - crop_h) // 2
    return left, top, left + crop_w, top + crop_h


def resize_image(rgb: np.ndarray, width: int, height: int, resize_mode: str = "squash",
                 resize_method: str = "lanczos3", crop_anchor: str = "middle-center") -> np.ndarray:
    """Resize an image as the image input block does (``resizeMode``, ``resizeMethod``, ``cropAnchor``).

    Parameters
    ----------
    rgb : uint8 array of shape (H, W, 3)
    width, height : int
        Target size (``imageWidth``, ``imageHeight``).
    resize_mode : {"squash", "fit-short", "fit-long", "crop"}
        ``squash`` resizes to the target, ignoring the aspect ratio. ``fit-short`` crops the centre
        to the target aspect ratio (integer offsets), then resizes: the shorter side fits. ``fit-long``
        resizes so the longer side fits and pads the rest with black, centred (offsets ``// 2``).
        ``crop`` does not resample: it cuts a ``width x height`` region at ``crop_anchor``, padding
        with black where the image is smaller.
    resize_method : {"lanczos3", "nearest"}
        Pillow's ``LANCZOS`` (a 3-lobe Lanczos kernel, widened when downscaling) or ``NEAREST``.
    crop_anchor : str
        One of ``CROP_ANCHORS``; used by ``crop`` only.

    Returns
    -------
    uint8 array of shape (height, width, 3)

    Raises
    ------
    ConfigError
        An unknown mode, method or anchor, a non-positive size, or an input that is not uint8 RGB.

    Notes
    -----
    Studio's resize code is not public. Studio most likely uses sharp/libvips, whose lanczos3
    differs from Pillow's in rounding and edge handling, so resized pixels can be off by a few
    levels. ``fit-short`` and ``fit-long`` follow Edge Impulse's public SDKs (linux-sdk-python,
    inferencing-sdk-cpp: centre crop then resize; letterbox with black). The ``crop`` mode and its
    anchors are our reading of Studio's option names (formats-and-akida.md B5).
    """
    from PIL import Image

    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ConfigError(
            f"image must be uint8 of shape (height, width, 3), got {rgb.dtype} {rgb.shape} (field image)"
        )
    options = (("resizeMode", resize_mode, RESIZE_MODES), ("resizeMethod", resize_method, RESIZE_METHODS),
               ("cropAnchor", crop_anchor, CROP_ANCHORS))
    for name, value, allowed in options:
        if value not in allowed:
            raise ConfigError(f"invalid value {value!r}, expected one of {', '.join(allowed)} (field {name})")
    if width < 1 or height < 1:
        raise ConfigError(f"image size must be positive, got {width}x{height} (field imageWidth)")
    src_h, src_w = rgb.shape[:2]
    resample = Image.Resampling.LANCZOS if resize_method == "lanczos3" else Image.Resampling.NEAREST
    image = Image.fromarray(rgb)
    if resize_mode == "squash":
        return np.asarray(image.resize((width, height), resample))
    if resize_mode == "fit-short":
        return np.asarray(image.crop(_crop_box(src_w, src_h, width, height)).resize((width, height), resample))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    if resize_mode == "fit-long":
        new_w, new_h, left, top = _fit_long_layout(src_w, src_h, width, height)
        canvas[top:top + new_h, left:left + new_w] = np.asarray(image.resize((new_w, new_h), resample))
        return canvas
    src_left, src_top, dst_left, dst_top = _crop_layout(src_w, src_h, width, height, crop_anchor)
    n_rows, n_cols = min(height, src_h), min(width, src_w)
    source = rgb[src_top:src_top + n_rows, src_left:src_left + n_cols]
    canvas[dst_top:dst_top + n_rows, dst_left:dst_left + n_cols] = source
    return canvas


def _fit_long_layout(src_w: int, src_h: int, width: int, height: int) -> tuple[int, int, int, int]:
    """``fit-long``: resized size and the letterbox offsets, ``(new_w, new_h, left, top)``."""
    scale = min(width / src_w, height / src_h)
    new_w, new_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    return new_w, new_h, (width - new_w) // 2, (height - new_h) // 2


def _crop_layout(src_w: int, src_h: int, width: int, height: int, crop_anchor: str) -> tuple[int, int, int, int]:
    """``crop``: where the cut starts in the source and lands in the output, ``(src_left, src_top,
    dst_left, dst_top)``.
    """
    vertical, horizontal = crop_anchor.split("-")
    return (_anchor_offset(max(0, src_w - width), horizontal), _anchor_offset(max(0, src_h - height), vertical),
            _anchor_offset(max(0, width - src_w), horizontal), _anchor_offset(max(0, height - src_h), vertical))


def resize_transform(src_w: int, src_h: int, width: int, height: int, resize_mode: str = "squash",
                     crop_anchor: str = "middle-center") -> tuple[float, float, float, float]:
    """Map source pixel coordinates to output coordinates as :func:`resize_image` moves pixels.

    Returns
    -------
    (sx, sy, ox, oy) : tuple of float
        ``x_out = x * sx + ox`` and ``y_out = y * sy + oy`` (e.g. to move bounding boxes with the
        image; the same crop boxes, roundings and offsets as the pixels).
    """
    if resize_mode == "squash":
        return width / src_w, height / src_h, 0.0, 0.0
    if resize_mode == "fit-short":
        left, top, right, bottom = _crop_box(src_w, src_h, width, height)
        sx, sy = width / (right - left), height / (bottom - top)
        return sx, sy, -left * sx, -top * sy
    if resize_mode == "fit-long":
        new_w, new_h, left, top = _fit_long_layout(src_w, src_h, width, height)
        return new_w / src_w, new_h / src_h, float(left), float(top)
    src_left, src_top, dst_left, dst_top = _crop_layout(src_w, src_h, width, height, crop_anchor)
    return 1.0, 1.0, float(dst_left - src_left), float(dst_top - src_top)
