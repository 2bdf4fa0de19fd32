"""Helpers shared by several test modules (assertions, case generators); no tests here."""

from __future__ import annotations

import numpy as np


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


def random_coco_case(rng, n_images=6, n_categories=3, n_det=40, n_gt=15, ties=False,
                     crowd_rate=0.15, scale=1.0):
    """Detections jittered from GTs plus strays, as the 11 arrays ``coco_evaluate`` takes.

    Returns (dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category, gt_xywh,
    gt_area, gt_is_crowd, gt_id_is_zero) with integer-ish boxes (so IoU ties and area
    boundaries happen) scaled by ``scale``.
    """
    gt_img = rng.integers(0, n_images, n_gt)
    gt_cat = rng.integers(0, n_categories, n_gt)
    gt = np.column_stack([rng.integers(0, 60, (n_gt, 2)), rng.integers(0, 50, (n_gt, 2))])
    gt = gt.astype(np.float64) * scale
    src = rng.integers(0, max(n_gt, 1), n_det)
    if n_gt:
        dt = np.abs(gt[src] + rng.integers(-4, 5, (n_det, 4)) * scale)
        dt_img = np.where(rng.random(n_det) < 0.7, gt_img[src], rng.integers(0, n_images, n_det))
        dt_cat = np.where(rng.random(n_det) < 0.8, gt_cat[src],
                          rng.integers(0, n_categories, n_det))
    else:
        dt = np.abs(rng.integers(0, 60, (n_det, 4))).astype(np.float64) * scale
        dt_img = rng.integers(0, n_images, n_det)
        dt_cat = rng.integers(0, n_categories, n_det)
    score = rng.random(n_det)
    if ties:
        score = np.round(score, 1)
    return (dt_img.astype(np.int64), dt_cat.astype(np.int64), score, dt, dt[:, 2] * dt[:, 3],
            gt_img.astype(np.int64), gt_cat.astype(np.int64), gt, gt[:, 2] * gt[:, 3],
            rng.random(n_gt) < crowd_rate, np.zeros(n_gt, bool))
