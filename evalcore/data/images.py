"""Image samples (JPEG, PNG, BMP, ...) -> RGB uint8 pixels with Pillow.

- The format is read from the bytes, never from the extension: real exports hold PNG data in
  ``*.jpg`` files.
- Every mode is converted to RGB with Pillow's ``convert("RGB")``: alpha is dropped without
  compositing (Edge Impulse's image DSP packs pixels as ``0xRRGGBB`` and ignores alpha), grey
  levels are repeated on the three channels, palettes are expanded. The original mode is kept
  in ``SampleData.image_mode``.
- EXIF orientation is not applied (the stored pixel order is used).
- A truncated or corrupt file raises BundleError: the pixels are decoded here, not lazily.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np

from evalcore.errors import BundleError

__all__ = ["IMAGE_MAGIC", "DecodedImage", "read_image"]

# Signatures of the formats an image sample can have; anything else that Pillow reads also works.
IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"BM": "bmp",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
}


class DecodedImage(NamedTuple):
    """``pixels`` uint8 (H, W, 3) RGB; ``mode`` the original Pillow mode; ``format`` lower case."""

    pixels: np.ndarray
    mode: str
    format: str


def read_image(raw: bytes, path, sample) -> DecodedImage:
    """Decode image bytes to RGB.

    Parameters
    ----------
    raw : bytes
        The whole file.
    path, sample
        For error messages.

    Returns
    -------
    DecodedImage
        ``pixels`` is a C-contiguous uint8 array of shape (H, W, 3).

    Raises
    ------
    BundleError
        The bytes are not an image Pillow can decode, or the image is truncated or too large.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            mode, fmt = img.mode, (img.format or "unknown").lower()
            rgb = img if mode == "RGB" else img.convert("RGB")
            pixels = np.asarray(rgb, dtype=np.uint8)
    except UnidentifiedImageError as err:
        raise BundleError("not an image format pillow can read", path=path, sample=sample, field="image") from err
    except Image.DecompressionBombError as err:
        raise BundleError(f"image too large: {str(err).lower().rstrip('.')}", path=path, sample=sample, field="image") from err
    except (OSError, ValueError, SyntaxError) as err:
        raise BundleError(
            f"corrupt or truncated image: {str(err).lower().rstrip('.')}", path=path, sample=sample, field="image"
        ) from err
    _check_complete(raw, fmt, path, sample)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise BundleError(f"image decoded to an unexpected shape {pixels.shape}", path=path, sample=sample, field="image")
    return DecodedImage(np.ascontiguousarray(pixels), mode, fmt)


_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the empty IEND chunk and its CRC
_JPEG_START_OF_SCAN, _JPEG_END = b"\xff\xda", b"\xff\xd9"


def _check_complete(raw: bytes, fmt: str, path, sample) -> None:
    """A PNG ends with its IEND chunk and a JPEG has its end-of-image marker after the scan data.

    Pillow decodes a file cut inside its last bytes without a word (the pixels may still be
    complete), but a truncated file is a bad copy: say so rather than trust it.
    """
    if fmt == "png" and not raw.endswith(_PNG_END):
        raise BundleError("truncated image: the PNG file does not end with its IEND chunk",
                          path=path, sample=sample, field="image")
    if fmt == "jpeg" and raw.rfind(_JPEG_END) < raw.find(_JPEG_START_OF_SCAN):
        raise BundleError("truncated image: the JPEG file has no end-of-image marker after its scan data",
                          path=path, sample=sample, field="image")
