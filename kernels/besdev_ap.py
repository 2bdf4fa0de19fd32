"""bes-dev ``mean_average_precision`` AP, the per-image mAP Edge Impulse reports for detection.

``besdev_average_precision``: bes-dev ``MeanAveragePrecision2d.value(mpolicy='soft')`` per IoU
threshold and class (reference/ei-semantics.md Q3; golden/README.md "od_map", points 3-5), with
the "+1" IoU of ``kernels.iou`` and the stable score sort of ``kernels._sort``.

Letters: D detections, G ground truths, C classes, T IoU thresholds, R recall thresholds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from kernels._checks import check_1d as _check_1d
from kernels._checks import check_boxes as _check_boxes
from kernels._sort import merge_sort_desc
from kernels.iou import iou_plus1_pair

__all__ = ["besdev_average_precision"]

_EPS = np.finfo(np.float64).eps


@njit(cache=True)
def _less_nan_last(a, b):
    """Numpy's float sort order: ``a`` strictly before ``b``, NaN after everything."""
    return a < b or (np.isnan(b) and not np.isnan(a))


@njit(cache=True)
def _by_class(cls, n_classes):
    """Row indices grouped by class (input order inside a class) and the class offsets.

    Rows whose class is outside 0..C-1 are left out, as bes-dev loops over ``range(C)``.
    """
    offsets = np.zeros(n_classes + 1, np.int64)
    for i in range(cls.size):
        if 0 <= cls[i] < n_classes:
            offsets[cls[i] + 1] += 1
    for c in range(n_classes):
        offsets[c + 1] += offsets[c]
    rows = np.empty(offsets[n_classes], np.int64)
    fill = np.empty(n_classes, np.int64)
    for c in range(n_classes):
        fill[c] = offsets[c]
    for i in range(cls.size):
        c = cls[i]
        if 0 <= c < n_classes:
            rows[fill[c]] = i
            fill[c] += 1
    return rows, offsets


@njit(cache=True)
def _first_image_at_least(image, rows, lo, hi, value):
    """First position p in [lo, hi) with ``image[rows[p]] >= value`` (rows are image-sorted)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if image[rows[mid]] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _average_precision(is_tp, n_det, n_positives, recall_thresholds, precision, recall, best):
    """bes-dev ``compute_average_precision_with_recall_thresholds`` for one class and threshold.

    ``precision = tp / max(tp + fp, eps)``, ``recall = tp / max(n_gt, 1)``; each recall
    threshold r adds ``max(precision[recall >= r]) / R`` (0 when no recall reaches r), summed in
    threshold order.
    """
    tp = 0.0
    fp = 0.0
    for i in range(n_det):
        if is_tp[i]:
            tp += 1.0
        else:
            fp += 1.0
        precision[i] = tp / max(tp + fp, _EPS)
        recall[i] = tp / n_positives
    for i in range(n_det - 1, -1, -1):
        best[i] = precision[i] if i == n_det - 1 else max(precision[i], best[i + 1])
    n_rec = recall_thresholds.size
    total = 0.0
    first = 0
    for r in range(n_rec):
        # recall is non-decreasing, so {recall >= r} is a suffix starting at `first`
        while first < n_det and not recall[first] >= recall_thresholds[r]:
            first += 1
        p = best[first] if first < n_det else 0.0
        total = total + p / n_rec
    return total


@njit(cache=True)
def _match_class(det_rows, d_lo, d_hi, det_image, det_xyxy, gt_rows, g_lo, g_hi, gt_image,
                 gt_xyxy, iou_thresholds, matched, is_tp, ious, order):
    """Soft matching of one class's detections (already in score order) to its GTs.

    A detection walks the GTs of its image in descending IoU order (ties: the later GT first, as
    ``np.argsort(iou)[::-1]``); the first GT with IoU > t (strict) that is still free makes it
    a TP, a taken GT is skipped, and the first GT with IoU <= t ends the walk (an FP).
    """
    for i in range(d_hi - d_lo):
        d = det_rows[d_lo + i]
        lo = _first_image_at_least(gt_image, gt_rows, g_lo, g_hi, det_image[d])
        hi = _first_image_at_least(gt_image, gt_rows, lo, g_hi, det_image[d] + 1)
        n_g = hi - lo
        for q in range(n_g):
            g = gt_rows[lo + q]
            ious[q] = iou_plus1_pair(det_xyxy[d, 0], det_xyxy[d, 1], det_xyxy[d, 2],
                                     det_xyxy[d, 3], gt_xyxy[g, 0], gt_xyxy[g, 1],
                                     gt_xyxy[g, 2], gt_xyxy[g, 3])
            # stable ascending insertion sort (numpy sorts <= 16 items this way), read backwards
            j = q - 1
            while j >= 0 and _less_nan_last(ious[q], ious[order[j]]):
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = q
        for t in range(iou_thresholds.size):
            thr = iou_thresholds[t]
            for q in range(n_g - 1, -1, -1):
                g = order[q]
                if not ious[g] > thr:
                    break
                if not matched[t, lo + g]:
                    matched[t, lo + g] = True
                    is_tp[t, i] = True
                    break


@njit(cache=True)
def _besdev_average_precision(det_image, det_class, det_score, det_xyxy, gt_image, gt_class,
                              gt_xyxy, n_classes, iou_thresholds, recall_thresholds):
    for i in range(1, det_image.size):
        if det_image[i] < det_image[i - 1]:
            raise ValueError("detections must be sorted by image (the order images were added)")
    for i in range(1, gt_image.size):
        if gt_image[i] < gt_image[i - 1]:
            raise ValueError("ground truths must be sorted by image (the order images were added)")
    n_thr = iou_thresholds.size
    ap = np.zeros((n_thr, n_classes))
    det_rows, det_offsets = _by_class(det_class, n_classes)
    gt_rows, gt_offsets = _by_class(gt_class, n_classes)
    longest = 1
    for c in range(n_classes):
        longest = max(longest, gt_offsets[c + 1] - gt_offsets[c])
    ious = np.empty(longest, np.float64)
    order = np.empty(longest, np.int64)
    matched = np.zeros((n_thr, gt_rows.size), np.bool_)
    row_score = np.empty(det_rows.size, np.float64)
    for o in range(det_rows.size):
        row_score[o] = det_score[det_rows[o]]
    buf = np.empty(det_rows.size, np.int64)
    buf_score = np.empty(det_rows.size, np.float64)
    for c in range(n_classes):
        d_lo, d_hi = det_offsets[c], det_offsets[c + 1]
        n_det = d_hi - d_lo
        merge_sort_desc(det_rows, row_score, d_lo, d_hi, buf, buf_score)
        is_tp = np.zeros((n_thr, n_det), np.bool_)
        _match_class(det_rows, d_lo, d_hi, det_image, det_xyxy, gt_rows, gt_offsets[c],
                     gt_offsets[c + 1], gt_image, gt_xyxy, iou_thresholds, matched, is_tp, ious,
                     order)
        n_positives = max(float(gt_offsets[c + 1] - gt_offsets[c]), 1.0)
        precision = np.empty(n_det)
        recall = np.empty(n_det)
        best = np.empty(n_det)
        for t in range(n_thr):
            ap[t, c] = _average_precision(is_tp[t], n_det, n_positives, recall_thresholds,
                                          precision, recall, best)
    return ap


def besdev_average_precision(det_image, det_class, det_score, det_xyxy, gt_image, gt_class,
                             gt_xyxy, *, n_classes, iou_thresholds, recall_thresholds):
    """AP per IoU threshold and class, as bes-dev ``MeanAveragePrecision2d`` (``mpolicy='soft'``).

    Rows must be sorted by image, in the order the images were ``add``-ed (ValueError
    otherwise); within a class, detections are ranked by descending score with ties kept in that
    order (a stable sort: what pandas ``sort_values`` gives for <= 16 rows, see
    golden/README.md "od_map" point 7).

    Parameters
    ----------
    det_image, gt_image : int64 arrays of shape (D,) and (G,)
        Image of each row; GTs only match detections of the same image.
    det_class, gt_class : int64 arrays of shape (D,) and (G,)
        Class ids; rows outside 0..C-1 are ignored (bes-dev loops over ``range(num_classes)``).
    det_score : float64 array of shape (D,)
    det_xyxy, gt_xyxy : float64 arrays of shape (D, 4) and (G, 4)
        Boxes [x1, y1, x2, y2] (any consistent axis order: the "+1" IoU is symmetric in x/y).
    n_classes : int
        C; a class without GT or without detections gets AP 0.
    iou_thresholds : float64 array of shape (T,)
        A match needs IoU > t (strict). EI passes ``np.arange(0.5, 1.0, 0.05)``.
    recall_thresholds : float64 array of shape (R,)
        EI passes ``np.arange(0., 1.01, 0.01)``.

    Returns
    -------
    float64 array of shape (T, C)
        bes-dev stores these as float32; the caller casts.
    """
    n_det = det_image.shape[0] if getattr(det_image, "ndim", 0) == 1 else -1
    n_gt = gt_image.shape[0] if getattr(gt_image, "ndim", 0) == 1 else -1
    for arr, dtype, length, name in (
        (det_image, np.int64, n_det, "det_image"), (det_class, np.int64, n_det, "det_class"),
        (det_score, np.float64, n_det, "det_score"), (gt_image, np.int64, n_gt, "gt_image"),
        (gt_class, np.int64, n_gt, "gt_class"),
        (iou_thresholds, np.float64, -1, "iou_thresholds"),
        (recall_thresholds, np.float64, -1, "recall_thresholds"),
    ):
        _check_1d(arr, dtype, length, name)
    _check_boxes(det_xyxy, "det_xyxy", n_det)
    _check_boxes(gt_xyxy, "gt_xyxy", n_gt)
    if int(n_classes) < 0:
        raise ValueError(f"n_classes must be >= 0, got {n_classes}")
    return _besdev_average_precision(det_image, det_class, det_score, det_xyxy, gt_image,
                                     gt_class, gt_xyxy, int(n_classes), iou_thresholds,
                                     recall_thresholds)
