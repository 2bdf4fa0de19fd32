"""kernels.besdev_ap: bes-dev AP (EI's per-image mAP) against the naive reference."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.besdev_ap import besdev_average_precision
from tests._helpers import assert_identical
from tests.naive import naive_besdev_average_precision

IOU_T = np.arange(0.5, 1.0, 0.05)
REC_T = np.arange(0.0, 1.01, 0.01)


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


def test_wrapper_checks_the_contract():
    """Wrong lengths raise ValueError instead of crashing inside numba."""
    boxes = np.zeros((2, 4))
    z = np.zeros(2, np.int64)
    with pytest.raises(ValueError):
        besdev_average_precision(z, z[:1], np.zeros(2), boxes, z, z, boxes, n_classes=1,
                                 iou_thresholds=IOU_T, recall_thresholds=REC_T)
