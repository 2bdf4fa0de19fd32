"""kernels.boxes: COCO IoU, the "+1" IoU and bes-dev AP against naive references."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.boxes import besdev_average_precision, iou_xywh, iou_xyxy_plus1
from tests.naive import (
    naive_besdev_average_precision,
    naive_iou_xywh,
    naive_iou_xyxy_plus1,
)

IOU_T = np.arange(0.5, 1.0, 0.05)
REC_T = np.arange(0.0, 1.01, 0.01)


def assert_identical(actual, expected):
    """Byte-equal arrays, reporting the first differing index, both values and the delta."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, (
        actual.shape, actual.dtype, expected.shape, expected.dtype)
    if actual.tobytes() != expected.tobytes():
        flat_a, flat_e = actual.reshape(-1), expected.reshape(-1)
        differs = flat_a.view(np.uint8).reshape(flat_a.size, -1) \
            != flat_e.view(np.uint8).reshape(flat_e.size, -1)
        i = int(np.flatnonzero(differs.any(axis=1))[0])
        idx = np.unravel_index(i, actual.shape)
        raise AssertionError(f"first difference at {idx}: got {flat_a[i]!r}, expected "
                             f"{flat_e[i]!r}, delta {flat_a[i] - flat_e[i]!r}")


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


def _besdev_case(rng, n_images, n_classes, ties):
    n_gt = int(rng.integers(0, 12))
    gt_img = np.sort(rng.integers(0, n_images, n_gt))
    gt_cls = rng.integers(-1, n_classes + 1, n_gt)
    lo = rng.uniform(0, 0.8, (n_gt, 2))
    gt = np.column_stack([lo, lo + rng.uniform(0, 0.3, (n_gt, 2))])
    n_det = int(rng.integers(0, 15))
    src = rng.integers(0, max(n_gt, 1), n_det)
    det = (gt[src] if n_gt else np.full((n_det, 4), 0.5)) + rng.normal(0, 0.02, (n_det, 4))
    det_img = gt_img[src] if n_gt else rng.integers(0, n_images, n_det)
    det_cls = np.where(rng.random(n_det) < 0.8, gt_cls[src] if n_gt else 0,
                       rng.integers(0, n_classes, n_det))
    order = np.argsort(det_img, kind="stable")
    score = rng.random(n_det)
    if ties:
        score = np.round(score, 1)
    return (det_img[order].astype(np.int64), det_cls[order].astype(np.int64), score[order],
            np.ascontiguousarray(det[order]), gt_img.astype(np.int64), gt_cls.astype(np.int64),
            gt)


@pytest.mark.parametrize("ties", [False, True])
def test_besdev_ap_matches_naive(ties):
    """Without it soft matching, strict > t, tie order and the 101-point AP sum could drift."""
    rng = np.random.default_rng(2 + ties)
    for _ in range(60):
        n_images, n_classes = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        case = _besdev_case(rng, n_images, n_classes, ties)
        got = besdev_average_precision(*case, n_classes=n_classes, iou_thresholds=IOU_T,
                                       recall_thresholds=REC_T)
        assert_identical(got, naive_besdev_average_precision(*case, n_classes, IOU_T, REC_T))


def test_besdev_soft_matching_takes_second_gt():
    """A detection whose best GT is taken must fall through to the next GT above t (soft policy)."""
    gt = np.array([[0.1, 0.1, 0.3, 0.3], [0.12, 0.1, 0.32, 0.3]])
    det = np.array([[0.1, 0.1, 0.3, 0.3], [0.1, 0.1, 0.3, 0.3]])
    z = np.zeros(2, np.int64)
    ap = besdev_average_precision(z, z, np.array([0.9, 0.8]), det, z, z, gt, n_classes=1,
                                  iou_thresholds=np.array([0.5]), recall_thresholds=REC_T)
    assert ap[0, 0] == pytest.approx(1.0)


def test_wrappers_check_the_contract():
    """Wrong dtypes or shapes raise TypeError/ValueError instead of crashing inside numba."""
    boxes = np.zeros((2, 4))
    with pytest.raises(TypeError):
        iou_xywh(boxes.astype(np.float32), boxes, np.zeros(2, bool))
    with pytest.raises(ValueError):
        iou_xywh(boxes, boxes, np.zeros(3, bool))
    with pytest.raises(TypeError):
        iou_xyxy_plus1(boxes, np.zeros((2, 3)))
    z = np.zeros(2, np.int64)
    with pytest.raises(ValueError):
        besdev_average_precision(z, z[:1], np.zeros(2), boxes, z, z, boxes, n_classes=1,
                                 iou_thresholds=IOU_T, recall_thresholds=REC_T)
