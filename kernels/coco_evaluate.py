"""COCO bbox evaluation, phase 1: IoU and per-(image, category) greedy matching.

Mirrors pycocotools 2.0.11 ``COCOeval.computeIoU`` + ``evaluateImg`` (bbox) bit for bit; the rules
are listed in reference/perf-anchors.md section 1.3. Instead of one Python call per (image,
category, area range), the whole data set is grouped with counting sorts (``kernels.coco_order``)
and matched in a single jitted pass (IoU from ``kernels.iou``). The output is a *match table*:
one row per kept detection with a code per (area range, IoU threshold), rows already in the
order phase 2 (``kernels.coco_accumulate``) walks.

Letters: D detections, G ground truths, K categories, I images, A area ranges, T IoU thresholds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from kernels.coco_common import check_evaluate_args
from kernels.coco_order import group, order_detections
from kernels.iou import iou_xywh_pair

#: Match-table codes: an unmatched (false positive) detection, a true positive, an ignored one.
CODE_FP = 0
CODE_TP = 1
CODE_IGNORED = 2

# pycocotools caps every IoU threshold at 1 - 1e-10 before matching (``min([t, 1-1e-10])``).
_IOU_CAP = 1.0 - 1e-10


# --- matching ----------------------------------------------------------------------------------


@njit(cache=True)
def _capped(t):
    """``min([t, 1-1e-10])`` as Python evaluates it (the first operand wins a tie)."""
    return _IOU_CAP if _IOU_CAP < t else t  # noqa: FURB136  (numba's min differs on NaN)


@njit(cache=True)
def _fill_fixed_codes(codes, has_candidate, det_area, area_ranges):
    """Codes of the detections no GT can match: at every threshold, FP, or ignored when the
    detection's area is outside the range. Sequential passes, one plane at a time.
    """
    n = has_candidate.size
    fixed = np.empty(n, np.uint8)
    for a in range(area_ranges.shape[0]):
        lo, hi = area_ranges[a, 0], area_ranges[a, 1]
        for q in range(n):
            fixed[q] = CODE_IGNORED if (det_area[q] < lo or det_area[q] > hi) else CODE_FP
        for t in range(codes.shape[1]):
            line = codes[a, t]
            for q in range(n):
                if not has_candidate[q]:
                    line[q] = fixed[q]


@njit(cache=True)
def _group_ious(dets, rows, gts, dt_xywh, gt_xywh, gt_is_crowd, thr_min, ious, cand, cand_n,
                has_candidate):
    """IoUs of one group, and per detection the GTs that reach the lowest threshold."""
    n_g = gts.size
    for d in range(dets.size):
        j = dets[d]
        cand_n[d] = 0
        for g in range(n_g):
            k = gts[g]
            v = iou_xywh_pair(dt_xywh[j, 0], dt_xywh[j, 1], dt_xywh[j, 2], dt_xywh[j, 3],
                              gt_xywh[k, 0], gt_xywh[k, 1], gt_xywh[k, 2], gt_xywh[k, 3],
                              gt_is_crowd[k])
            ious[d * n_g + g] = v
            # a pair below every threshold can never match (a NaN IoU stays, as in pycocotools)
            if not v < thr_min:
                cand[d * n_g + cand_n[d]] = g
                cand_n[d] += 1
        has_candidate[rows[d]] = cand_n[d] > 0


@njit(cache=True)
def _match_group(codes, rows, dets, gts, dt_area, gt_area, gt_is_crowd, gt_id_is_zero,
                 iou_thresholds, area_ranges, ious, cand, cand_n, gt_ig, matched):
    """Greedy matching of one (image, category) group, pycocotools ``evaluateImg`` semantics.

    ``dets`` are in score order (cut to max_det), ``gts`` in input order. For each area range and
    threshold, each detection takes the free GT with the highest IoU >= t, the later GT winning
    a tie; a regular GT beats any ignored one (pycocotools sorts ignored GTs last and stops at
    the first of them once it holds a regular match). Crowd GTs stay free.
    """
    n_g = gts.size
    for a in range(area_ranges.shape[0]):
        lo = area_ranges[a, 0]
        hi = area_ranges[a, 1]
        for g in range(n_g):
            k = gts[g]
            gt_ig[g] = gt_is_crowd[k] or gt_area[k] < lo or gt_area[k] > hi
        for t in range(iou_thresholds.size):
            thr = _capped(iou_thresholds[t])
            for g in range(n_g):
                matched[g] = False
            for d in range(dets.size):
                if cand_n[d] == 0:
                    continue  # matches nothing, takes no GT: coded by _fill_fixed_codes
                best_reg, iou_reg, best_ign, iou_ign = -1, thr, -1, thr
                for c in range(cand_n[d]):
                    g = cand[d * n_g + c]
                    if matched[g] and not gt_is_crowd[gts[g]]:
                        continue
                    v = ious[d * n_g + g]
                    if gt_ig[g]:
                        if v < iou_ign:
                            continue
                        iou_ign, best_ign = v, g
                    else:
                        if v < iou_reg:
                            continue
                        iou_reg, best_reg = v, g
                m = best_reg if best_reg >= 0 else best_ign
                is_ignored = False
                is_matched = False
                if m >= 0:
                    matched[m] = True
                    is_ignored = gt_ig[m]
                    # pycocotools records the match as the GT id, so id 0 reads as "unmatched"
                    is_matched = not gt_id_is_zero[gts[m]]
                if not is_matched and (dt_area[dets[d]] < lo or dt_area[dets[d]] > hi):
                    is_ignored = True
                if is_ignored:
                    codes[a, t, rows[d]] = CODE_IGNORED
                elif is_matched:
                    codes[a, t, rows[d]] = CODE_TP
                else:
                    codes[a, t, rows[d]] = CODE_FP


@njit(cache=True)
def _count_positives(gt_category, gt_area, gt_is_crowd, n_categories, area_ranges):
    """Non-ignored GTs per (category, area range): pycocotools ``npig``."""
    n_pos = np.zeros((n_categories, area_ranges.shape[0]), np.int64)
    for k in range(gt_category.size):
        for a in range(area_ranges.shape[0]):
            if not (gt_is_crowd[k] or gt_area[k] < area_ranges[a, 0]
                    or gt_area[k] > area_ranges[a, 1]):
                n_pos[gt_category[k], a] += 1
    return n_pos


@njit(cache=True)
def _coco_evaluate(dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category,
                   gt_xywh, gt_area, gt_is_crowd, gt_id_is_zero, n_images, n_categories,
                   iou_thresholds, area_ranges, max_det):
    order, key, score, rank, kept, table, offsets = order_detections(
        dt_image, dt_category, dt_score, n_images, n_categories, max_det)
    n_dt = order.size
    n_keep = kept.size
    row_of = np.full(n_dt, -1, np.int64)  # table row of each group position
    for q in range(n_keep):
        row_of[kept[table[q]]] = q
    g_order, g_key = group(gt_image, gt_category, n_images, n_categories)
    n_gt = g_order.size
    codes = np.empty((area_ranges.shape[0], iou_thresholds.size, n_keep), np.uint8)
    has_candidate = np.zeros(n_keep, np.bool_)
    thr_min = _IOU_CAP
    for t in range(iou_thresholds.size):
        thr_min = min(thr_min, _capped(iou_thresholds[t]))
    ious = np.empty(64, np.float64)
    cand = np.empty(64, np.int64)
    cand_n = np.empty(8, np.int64)
    gt_ig = np.empty(8, np.bool_)
    matched = np.empty(8, np.bool_)
    p = 0 if iou_thresholds.size > 0 else n_dt  # no threshold: nothing to match
    gpos = 0
    while p < n_dt:
        pend = p + 1
        while pend < n_dt and key[pend] == key[p]:
            pend += 1
        n_d = min(pend - p, max_det)
        while gpos < n_gt and g_key[gpos] < key[p]:
            gpos += 1
        gend = gpos
        while gend < n_gt and g_key[gend] == key[p]:
            gend += 1
        n_g = gend - gpos
        if n_g > 0 and n_d > 0:  # detections without any GT get their codes at the end
            if n_d * n_g > ious.size:
                ious = np.empty(2 * n_d * n_g, np.float64)
                cand = np.empty(2 * n_d * n_g, np.int64)
            if n_d > cand_n.size:
                cand_n = np.empty(2 * n_d, np.int64)
            if n_g > gt_ig.size:
                gt_ig = np.empty(2 * n_g, np.bool_)
                matched = np.empty(2 * n_g, np.bool_)
            dets = order[p:p + n_d]
            gts = g_order[gpos:gend]
            _group_ious(dets, row_of[p:p + n_d], gts, dt_xywh, gt_xywh, gt_is_crowd, thr_min, ious,
                        cand, cand_n, has_candidate)
            _match_group(codes, row_of[p:p + n_d], dets, gts, dt_area, gt_area, gt_is_crowd,
                         gt_id_is_zero, iou_thresholds, area_ranges, ious, cand, cand_n, gt_ig,
                         matched)
        p = pend
        gpos = gend
    det_index = np.empty(n_keep, np.int64)
    det_rank = np.empty(n_keep, np.int64)
    det_score = np.empty(n_keep, np.float64)
    det_area = np.empty(n_keep, np.float64)
    for q in range(n_keep):
        pos = kept[table[q]]
        det_index[q] = order[pos]
        det_rank[q] = rank[pos]
        det_score[q] = score[pos]
        det_area[q] = dt_area[det_index[q]]
    _fill_fixed_codes(codes, has_candidate, det_area, area_ranges)
    n_pos = _count_positives(gt_category, gt_area, gt_is_crowd, n_categories, area_ranges)
    return det_index, det_rank, det_score, codes, has_candidate, offsets, n_pos


# --- public wrapper ----------------------------------------------------------------------------


class CocoMatchTable(NamedTuple):
    """Phase-1 output: one row per kept detection, rows in accumulate order.

    Rows are grouped by category; within a category they run by score descending, ties by image
    order, then by rank in the image (which follows input order): exactly the order of
    pycocotools' ``argsort(-dtScores, kind='mergesort')`` in ``accumulate``.

    Attributes
    ----------
    det_index : int64 array of shape (Dk,)
        Index of the row's detection in the input arrays.
    det_rank : int64 array of shape (Dk,)
        Position of the detection in its (image, category) group by score (0 = best).
    score : float64 array of shape (Dk,)
        The detection's score.
    codes : uint8 array of shape (A, T, Dk)
        ``CODE_FP``, ``CODE_TP`` or ``CODE_IGNORED`` per area range and IoU threshold (rows last,
        so the phase-2 walk reads memory in order).
    has_candidate : bool array of shape (Dk,)
        True when some GT reaches the lowest IoU threshold. When False the detection is matched
        at no threshold, so ``codes[a, :, row]`` is the same for every t (FP, or ignored when its
        area is outside range a); phase 2 then reads only ``codes[a, 0, row]``.
    category_offsets : int64 array of shape (K + 1,)
        Rows ``category_offsets[k]:category_offsets[k+1]`` belong to category k.
    n_positives : int64 array of shape (K, A)
        Non-ignored GTs per category and area range (pycocotools ``npig``).
    """

    det_index: np.ndarray
    det_rank: np.ndarray
    score: np.ndarray
    codes: np.ndarray
    has_candidate: np.ndarray
    category_offsets: np.ndarray
    n_positives: np.ndarray


def coco_evaluate(dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category,
                  gt_xywh, gt_area, gt_is_crowd, gt_id_is_zero, *, n_images, n_categories,
                  iou_thresholds, area_ranges, max_det):
    """Match detections to ground truths per (image, category), as pycocotools ``evaluate()``.

    Parameters
    ----------
    dt_image, gt_image : int64 arrays of shape (D,) and (G,)
        Image rank in pycocotools' sorted ``imgIds`` order (0..I-1); it breaks score ties in
        phase 2.
    dt_category, gt_category : int64 arrays of shape (D,) and (G,)
        Category rank in sorted ``catIds`` order (0..K-1). Callers drop rows of images or
        categories that are not evaluated.
    dt_score : float64 array of shape (D,)
        Scores; equal scores keep input (results-file) order, NaN sorts last.
    dt_xywh, gt_xywh : float64 arrays of shape (D, 4) and (G, 4)
        Boxes as [x, y, w, h].
    dt_area : float64 array of shape (D,)
        Detection area, ``w*h`` (what ``loadRes`` sets).
    gt_area : float64 array of shape (G,)
        The GT annotation's ``area`` field; area ranges test it with inclusive bounds.
    gt_is_crowd : bool array of shape (G,)
        Crowd GTs are ignored, stay matchable and use the detection area as union.
    gt_id_is_zero : bool array of shape (G,)
        pycocotools records a match as the GT's id, so a match to a GT with id 0 counts as
        unmatched in phase 2 (a false positive unless ignored).
    n_images, n_categories : int
        I and K.
    iou_thresholds : float64 array of shape (T,)
        Build with ``np.linspace(.5, .95, 10)``; each is capped at ``1 - 1e-10`` as pycocotools.
    area_ranges : float64 array of shape (A, 2)
        Inclusive [lo, hi] area bounds.
    max_det : int
        Detections kept per (image, category): pycocotools ``maxDets[-1]``.

    Returns
    -------
    CocoMatchTable

    Raises
    ------
    TypeError, ValueError
        On a wrong dtype, shape or length, or an image/category index out of range.
    """
    check_evaluate_args(dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category,
                        gt_xywh, gt_area, gt_is_crowd, gt_id_is_zero, n_images, n_categories,
                        iou_thresholds, area_ranges, max_det)
    out = _coco_evaluate(dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image,
                         gt_category, gt_xywh, gt_area, gt_is_crowd, gt_id_is_zero,
                         int(n_images), int(n_categories), iou_thresholds, area_ranges,
                         int(max_det))
    return CocoMatchTable(*out)
