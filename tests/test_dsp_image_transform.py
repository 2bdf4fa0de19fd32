"""`resize_transform` moves coordinates exactly as `resize_image` moves pixels (boxes follow images)."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.dsp.image import resize_image, resize_transform


def _marked(w, h, x, y):
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    rgb[y, x] = 255
    return rgb


@pytest.mark.parametrize(
    "src, dst, mode, anchor, pixel",
    [
        ((32, 16), (64, 32), "squash", "middle-center", (3, 5)),
        ((40, 20), (20, 20), "fit-short", "middle-center", (15, 5)),
        ((32, 16), (64, 64), "fit-long", "middle-center", (3, 5)),
        ((40, 30), (20, 20), "crop", "middle-center", (12, 9)),
        ((40, 30), (20, 20), "crop", "bottom-right", (35, 25)),
        ((10, 8), (20, 20), "crop", "top-left", (4, 3)),
    ],
)
def test_marked_pixel_lands_where_the_transform_says(src, dst, mode, anchor, pixel):
    """Without it ground-truth boxes could be shifted against the pixels the model sees."""
    (sw, sh), (dw, dh), (x, y) = src, dst, pixel
    out = resize_image(_marked(sw, sh, x, y), dw, dh, mode, "nearest", anchor)
    sx, sy, ox, oy = resize_transform(sw, sh, dw, dh, mode, anchor)
    ys, xs = np.nonzero(out[:, :, 0])
    # the pixel's area [x, x+1) x [y, y+1) maps to [x*sx+ox, (x+1)*sx+ox) x ...
    assert xs.min() == pytest.approx(x * sx + ox) and xs.max() + 1 == pytest.approx((x + 1) * sx + ox)
    assert ys.min() == pytest.approx(y * sy + oy) and ys.max() + 1 == pytest.approx((y + 1) * sy + oy)
