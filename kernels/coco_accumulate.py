"""COCO bbox evaluation, phase 2: precision/recall curves from the match table.

Mirrors pycocotools 2.0.11 ``COCOeval.accumulate`` bit for bit (reference/perf-anchors.md
section 1.3, point 7): per (category, area range, maxDets) the kept detections are ranked by
score (ties by image order, then rank), ``rc = tp/npig``, ``pr = tp/(fp+tp+np.spacing(1))``, the
precision envelope is a right-to-left running max, and ``q[r] = pr[searchsorted(rc, r, 'left')]``
with entries past the end left at 0. Categories without a non-ignored GT stay -1.

Two shortcuts keep this linear in the number of *matchable* detections per threshold, without
changing a bit:

- The curve is only evaluated at true positives: between two TPs the recall is flat and the
  precision can only fall, so neither the envelope nor a threshold crossing can come from another
  detection. The divisions done are exactly those pycocotools does at those indices.
- A detection with no GT above the lowest IoU threshold (``has_candidate`` False) has the same
  code at every threshold, so it is counted once per (category, area, maxDets); only the others
  are walked per threshold.

Letters: K categories, A area ranges, M maxDets values, T IoU thresholds, R recall thresholds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)

_CODE_FP = 0  # same values as kernels.coco_evaluate.CODE_*
_CODE_TP = 1
_EPS = np.spacing(1.0)


@njit(cache=True)
def _fill_curve(precision, scores, recall, t, k, a, m, n_pos, n_det, n_tp, tp_row, tp_fp,
                first_row, score, recall_thresholds):
    """Precision at each recall threshold for one (t, k, a, m); see the module docstring.

    ``tp_row[j]`` is the table row of the (j+1)-th true positive and ``tp_fp[j]`` the number of
    false positives ranked before it; ``first_row`` is the first ranked detection.
    """
    n_rec = recall_thresholds.size
    if n_det == 0:
        # pycocotools: recall 0, and q / ss stay zeros (searchsorted into an empty array)
        recall[t, k, a, m] = 0.0
        for r in range(n_rec):
            precision[t, r, k, a, m] = 0.0
            scores[t, r, k, a, m] = 0.0
        return
    rc_last = float(n_tp) / n_pos
    recall[t, k, a, m] = rc_last
    ri = n_rec - 1
    while ri >= 0 and recall_thresholds[ri] > rc_last:
        precision[t, ri, k, a, m] = 0.0  # past the end of rc: pycocotools leaves 0
        scores[t, ri, k, a, m] = 0.0
        ri -= 1
    envelope = 0.0
    for j in range(n_tp - 1, -1, -1):
        tp = float(j + 1)
        pr = tp / (float(tp_fp[j]) + tp + _EPS)
        envelope = max(envelope, pr)
        row = tp_row[j]
        if j == 0 and row == first_row:
            break  # the first ranked detection is a TP: every remaining threshold lands on it
        rc_prev = float(j) / n_pos
        while ri >= 0 and recall_thresholds[ri] > rc_prev:
            precision[t, ri, k, a, m] = envelope
            scores[t, ri, k, a, m] = score[row]
            ri -= 1
    # thresholds at or below the first recall step land on the first ranked detection
    while ri >= 0:
        precision[t, ri, k, a, m] = envelope
        scores[t, ri, k, a, m] = score[first_row]
        ri -= 1


@njit(cache=True)
def _coco_accumulate(det_rank, score, codes, has_candidate, category_offsets, n_positives,
                     recall_thresholds, max_dets):
    n_area = codes.shape[0]
    n_thr = codes.shape[1]
    n_cat = n_positives.shape[0]
    n_rec = recall_thresholds.size
    n_max = max_dets.size
    # np.full, not -np.ones: a 5-d array expression costs seconds of compilation
    precision = np.full((n_thr, n_rec, n_cat, n_area, n_max), -1.0)
    scores = np.full((n_thr, n_rec, n_cat, n_area, n_max), -1.0)
    recall = np.full((n_thr, n_cat, n_area, n_max), -1.0)
    _coco_accumulate_into(precision, recall, scores, det_rank, score, codes, has_candidate,
                          category_offsets, n_positives, recall_thresholds, max_dets)
    return precision, recall, scores


@njit(cache=True)
def _coco_accumulate_into(precision, recall, scores, det_rank, score, codes, has_candidate,
                          category_offsets, n_positives, recall_thresholds, max_dets):
    """``_coco_accumulate`` into caller-given outputs, filled with -1 beforehand.

    The ahead-of-time entry (``kernels.coco_native``) passes buffers whose shape is known before
    the call; the jitted API allocates them itself.
    """
    n_area = codes.shape[0]
    n_thr = codes.shape[1]
    n_cat = n_positives.shape[0]
    n_max = max_dets.size
    longest = 0
    top_rank = -1
    for k in range(n_cat):
        longest = max(longest, category_offsets[k + 1] - category_offsets[k])
    for q in range(det_rank.size):
        top_rank = max(top_rank, det_rank[q])
    var_row = np.empty(longest, np.int64)
    var_fp_before = np.empty(longest, np.int64)
    tp_row = np.empty(longest, np.int64)
    tp_fp = np.empty(longest, np.int64)
    if n_thr == 0:
        return
    for k in range(n_cat):
        start = category_offsets[k]
        stop = category_offsets[k + 1]
        for a in range(n_area):
            n_pos = n_positives[k, a]
            if n_pos == 0:
                continue  # no non-ignored GT: the category stays -1 (excluded from means)
            for m in range(n_max):
                max_det = max_dets[m]
                cut = max_det <= top_rank  # otherwise every row is within max_det
                # one pass: rows whose code cannot change with t are counted once
                n_det = 0
                first_row = -1
                n_fixed_fp = 0
                n_var = 0
                for row in range(start, stop):
                    if cut and det_rank[row] >= max_det:
                        continue
                    if first_row < 0:
                        first_row = row
                    n_det += 1
                    if has_candidate[row]:
                        var_row[n_var] = row
                        var_fp_before[n_var] = n_fixed_fp
                        n_var += 1
                    elif codes[a, 0, row] == _CODE_FP:
                        n_fixed_fp += 1
                for t in range(n_thr):
                    line = codes[a, t]
                    n_tp = 0
                    n_var_fp = 0
                    for v in range(n_var):
                        row = var_row[v]
                        c = line[row]
                        # branch-free compaction: the slot is overwritten unless c is a TP
                        tp_row[n_tp] = row
                        tp_fp[n_tp] = var_fp_before[v] + n_var_fp
                        n_tp += c == _CODE_TP
                        n_var_fp += c == _CODE_FP
                    _fill_curve(precision, scores, recall, t, k, a, m, n_pos, n_det, n_tp,
                                tp_row, tp_fp, first_row, score, recall_thresholds)


def coco_accumulate(det_rank, score, codes, has_candidate, category_offsets, n_positives, *,
                    recall_thresholds, max_dets):
    """Precision, recall and score arrays from a match table, as pycocotools ``accumulate()``.

    Parameters
    ----------
    det_rank, score, codes, has_candidate, category_offsets, n_positives
        The fields of ``kernels.coco_evaluate.CocoMatchTable`` of the same name: int64 (Dk,),
        float64 (Dk,), uint8 (A, T, Dk), bool (Dk,), int64 (K + 1,), int64 (K, A). Rows are in
        accumulate order.
    recall_thresholds : float64 array of shape (R,)
        Build with ``np.linspace(0, 1, 101)``, never ``arange``.
    max_dets : int64 array of shape (M,)
        Detections per (image, category) for each M slot; each must be <= the ``max_det``
        given to ``coco_evaluate`` (pycocotools sorts them; so should the caller).

    Returns
    -------
    precision : float64 array of shape (T, R, K, A, M)
        -1 where the category has no non-ignored GT in the area range.
    recall : float64 array of shape (T, K, A, M)
        Same -1 rule.
    scores : float64 array of shape (T, R, K, A, M)
        Score of the detection each precision entry was read at (0 past the end), -1 as above.
    """
    for arr, dtype, ndim, name in (
        (det_rank, np.int64, 1, "det_rank"), (score, np.float64, 1, "score"),
        (codes, np.uint8, 3, "codes"), (has_candidate, np.bool_, 1, "has_candidate"),
        (category_offsets, np.int64, 1, "category_offsets"),
        (n_positives, np.int64, 2, "n_positives"),
        (recall_thresholds, np.float64, 1, "recall_thresholds"),
        (max_dets, np.int64, 1, "max_dets"),
    ):
        if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.ndim != ndim:
            raise TypeError(f"{name} must be a {ndim}-d {np.dtype(dtype).name} array")
    n_rows = codes.shape[2]
    if det_rank.shape[0] != n_rows or score.shape[0] != n_rows \
            or has_candidate.shape[0] != n_rows:
        raise ValueError("det_rank, score, has_candidate and codes need the same number of rows")
    if category_offsets.shape[0] != n_positives.shape[0] + 1:
        raise ValueError("category_offsets must have K + 1 entries for K categories")
    if n_positives.shape[1] != codes.shape[0]:
        raise ValueError("n_positives and codes disagree on the number of area ranges")
    if category_offsets[-1] != n_rows:
        raise ValueError("category_offsets[-1] must equal the number of table rows")
    return _coco_accumulate(det_rank, score, codes, has_candidate, category_offsets, n_positives,
                            recall_thresholds, max_dets)
