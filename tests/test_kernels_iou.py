"""kernels.iou: COCO IoU and the bes-dev "+1" IoU against naive references."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.iou import iou_xywh, iou_xyxy_plus1
from tests._helpers import assert_identical
from tests.naive import naive_iou_xywh, naive_iou_xyxy_plus1


def _xywh(rng, n, grid=False):
    if grid:  # small integers: many touching / identical / nested boxes
        return np.column_stack([rng.integers(0, 8, (n, 2)), rng.integers(0, 5, (n, 2))]).astype(float)
    return np.column_stack([rng.uniform(0, 100, (n, 2)), rng.uniform(0, 60, (n, 2))])


def test_iou_xywh_matches_naive_random_and_grid():
    """Without it the double-precision bbIou operation order (and crowd unions) could drift."""
    rng = np.random.default_rng(0)
    for grid in (False, True):
        for n_dt, n_gt in ((0, 3), (4, 0), (7, 9), (30, 25)):
            dt, gt = _xywh(rng, n_dt, grid), _xywh(rng, n_gt, grid)
            crowd = rng.random(n_gt) < 0.3
            assert_identical(iou_xywh(dt, gt, crowd), naive_iou_xywh(dt, gt, crowd))


def test_iou_xywh_edge_cases():
    """Touching boxes, zero-area boxes and crowd GTs give pycocotools' values, not NaN."""
    dt = np.array([[0, 0, 10, 10], [10, 0, 5, 5], [2, 2, 0, 4], [0, 0, 10, 10]], float)
    gt = np.array([[0, 0, 10, 10], [0, 0, 20, 20]], float)
    crowd = np.array([False, True])
    got = iou_xywh(dt, gt, crowd)
    # identical -> 1; touching -> 0; zero width -> 0; crowd GT covering the dt -> dt area / dt area
    assert got[0, 0] == 1.0 and got[1, 0] == 0.0 and got[2, 0] == 0.0 and got[3, 1] == 1.0
    assert_identical(got, naive_iou_xywh(dt, gt, crowd))


def test_iou_plus1_matches_naive_and_inflates_disjoint_boxes():
    """Without it the "+1 on normalised coordinates" quirk (IoU ~0.76 for disjoint boxes) is lost."""
    rng = np.random.default_rng(1)
    p = np.sort(rng.uniform(-0.1, 1.1, (20, 4)).reshape(20, 2, 2), axis=1).transpose(0, 2, 1)
    g = np.sort(rng.uniform(-0.1, 1.1, (15, 4)).reshape(15, 2, 2), axis=1).transpose(0, 2, 1)
    p, g = p.reshape(20, 4)[:, [0, 2, 1, 3]].copy(), g.reshape(15, 4)[:, [0, 2, 1, 3]].copy()
    assert_identical(iou_xyxy_plus1(p, g), naive_iou_xyxy_plus1(p, g))
    a = np.array([[0.1, 0.1, 0.2, 0.2]])
    b = np.array([[0.25, 0.1, 0.35, 0.2]])  # a gap of 0.05, no overlap
    assert 0.7 < iou_xyxy_plus1(a, b)[0, 0] < 0.8


def test_wrappers_check_the_contract():
    """Wrong dtypes or shapes raise TypeError/ValueError instead of crashing inside numba."""
    boxes = np.zeros((2, 4))
    with pytest.raises(TypeError):
        iou_xywh(boxes.astype(np.float32), boxes, np.zeros(2, bool))
    with pytest.raises(ValueError):
        iou_xywh(boxes, boxes, np.zeros(3, bool))
    with pytest.raises(TypeError):
        iou_xyxy_plus1(boxes, np.zeros((2, 3)))
