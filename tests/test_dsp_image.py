"""The image block's features from RGB arrays, and the input block's resize modes."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.dsp import generate_features, image_features, resize_image
from evalcore.errors import ConfigError


def _random_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _packed(rgb: np.ndarray) -> np.ndarray:
    """Pack an RGB image as the block's raw_data: [width, height, 0xRRGGBB...]."""
    pixels = rgb.reshape(-1, 3).astype(np.int64)
    packed = (pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]
    return np.concatenate([[rgb.shape[1], rgb.shape[0]], packed])


@pytest.mark.parametrize("channels", ["RGB", "Grayscale"])
def test_image_features_equal_block_features(channels):
    """Without this, images fed from decoded files would get different features than the block's packed path."""
    rgb = _random_rgb(24, 40)
    block = generate_features("image", 1, _packed(rgb), ["image"], 0, channels=channels)
    got = image_features(rgb, channels)
    assert got.dtype == np.float32
    assert got.tobytes() == block["features"].astype(np.float32).tobytes()
    assert block["output_config"]["shape"] == {"width": 40, "height": 24, "channels": 3 if channels == "RGB" else 1,
                                               "frames": 1}


def test_image_features_rejects_non_uint8():
    """Without this, a float image in [0, 1] would be scaled by 1/255 a second time."""
    with pytest.raises(ConfigError, match="uint8"):
        image_features(np.zeros((4, 4, 3), dtype=np.float32))


def test_squash_same_size_is_identity():
    """Without this, an image already at the impulse size could be resampled and blurred."""
    rgb = _random_rgb(32, 32)
    np.testing.assert_array_equal(resize_image(rgb, 32, 32, "squash", "lanczos3"), rgb)


def test_nearest_halving_picks_pixel_centres():
    """Without this, 'nearest' could silently become a filtered resize."""
    rgb = _random_rgb(16, 20)
    np.testing.assert_array_equal(resize_image(rgb, 10, 8, "squash", "nearest"), rgb[1::2, 1::2])


def test_fit_short_crops_the_centre():
    """Without this, fit-short on a wide image would squash it instead of cropping its sides."""
    rgb = _random_rgb(20, 40)
    np.testing.assert_array_equal(resize_image(rgb, 20, 20, "fit-short", "lanczos3"), rgb[:, 10:30])


def test_fit_long_letterboxes_with_black():
    """Without this, fit-long would fill the borders with image content or place the image off centre."""
    rgb = np.full((20, 40, 3), 200, dtype=np.uint8)
    out = resize_image(rgb, 20, 20, "fit-long", "nearest")
    assert out.shape == (20, 20, 3)
    assert (out[5:15] == 200).all() and (out[:5] == 0).all() and (out[15:] == 0).all()


@pytest.mark.parametrize(("anchor", "rows", "cols"), [
    ("top-left", slice(0, 8), slice(0, 10)),
    ("middle-center", slice(6, 14), slice(5, 15)),
    ("bottom-right", slice(12, 20), slice(10, 20)),
    ("top-right", slice(0, 8), slice(10, 20)),
])
def test_crop_anchors(anchor, rows, cols):
    """Without this, the crop mode would cut the wrong region of the image."""
    rgb = _random_rgb(20, 20)
    np.testing.assert_array_equal(resize_image(rgb, 10, 8, "crop", "lanczos3", anchor), rgb[rows, cols])


def test_crop_pads_small_images():
    """Without this, cropping a smaller image to a larger size would fail instead of padding."""
    rgb = np.full((4, 4, 3), 9, dtype=np.uint8)
    out = resize_image(rgb, 8, 6, "crop", "nearest", "middle-center")
    assert out.shape == (6, 8, 3) and (out[1:5, 2:6] == 9).all() and out.sum() == 9 * 4 * 4 * 3


@pytest.mark.parametrize("kwargs", [
    {"resize_mode": "stretch"}, {"resize_method": "bicubic"}, {"crop_anchor": "centre"},
])
def test_resize_rejects_unknown_options(kwargs):
    """Without this, an unknown Studio option would fall back to some other resize silently."""
    with pytest.raises(ConfigError):
        resize_image(_random_rgb(8, 8), 4, 4, **kwargs)
