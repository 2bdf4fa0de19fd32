"""The coco-eval kernels as C entry points (``numba.cfunc``), for ``kernels._native`` to save.

Each entry takes raw pointers and int64 sizes, wraps them with ``numba.carray`` and calls the
jitted kernels the numba API calls (``_coco_evaluate``, ``_coco_accumulate_into``,
``_parse_results``), so its machine code is the same LLVM compilation of the same code (no
fast-math): the results are the same bits. Outputs are caller-allocated buffers whose sizes are
known before the call. Only ``kernels._native.build`` imports this module; it compiles once and
saves the object code, which later processes load without importing numba.

An entry never raises: arguments are checked by the caller (``kernels.coco_common``), indices
out of range are reported as a status (the caller then runs the numba API, which raises the
usual error), and anything else (an allocation failure) leaves ``status[0]`` at the caller's
value, which is not ``OK``.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import carray, cfunc, njit, types

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from kernels.coco_accumulate import _coco_accumulate_into
from kernels.coco_common import ENTRIES, INDEX_OUT_OF_RANGE, OK
from kernels.coco_evaluate import _coco_evaluate
from kernels.coco_json import _parse_results

_TYPES = {"i64": types.int64, "f64": types.float64, "b1": types.boolean, "u8": types.uint8}


def _signature(kinds):
    """The numba signature ``void(...)`` of an entry described by ``kernels.coco_common.ENTRIES``."""
    args = [types.CPointer(_TYPES[k[1:]]) if k.startswith("*") else _TYPES[k] for k in kinds]
    return types.void(*args)


@njit(cache=True)
def _in_range(index, n):
    """Whether every value of ``index`` is in ``0..n-1``."""
    for i in range(index.size):
        if index[i] < 0 or index[i] >= n:
            return False
    return True


@njit(cache=True)
def _rows_of_categories(category, first, stop):
    """Indices of the rows whose category is in ``first..stop-1``, in order."""
    n = 0
    for i in range(category.size):
        n += first <= category[i] < stop
    rows = np.empty(n, np.int64)
    n = 0
    for i in range(category.size):
        if first <= category[i] < stop:
            rows[n] = i
            n += 1
    return rows


def _coco_evaluate_accumulate(status, dt_image, dt_category, dt_score, dt_xywh, dt_area, n_dt,
                              gt_image, gt_category, gt_xywh, gt_area, gt_is_crowd,
                              gt_id_is_zero, n_gt, n_images, n_categories, first, stop,
                              iou_thresholds, n_thr, area_ranges, n_area, max_det,
                              recall_thresholds, n_rec, max_dets, n_max, precision, recall,
                              scores):
    """Phases 1 and 2 (``coco_evaluate`` then ``coco_accumulate``) of the categories
    ``first..stop-1`` into their slices of the -1 filled outputs (all K categories).

    Categories are independent in both phases, and taking a category's rows keeps their order,
    so a range gives the same bits as the whole set; two ranges can run on two threads.
    """
    dt_image = carray(dt_image, n_dt)
    dt_category = carray(dt_category, n_dt)
    dt_score = carray(dt_score, n_dt)
    dt_xywh = carray(dt_xywh, (n_dt, 4))
    dt_area = carray(dt_area, n_dt)
    gt_image = carray(gt_image, n_gt)
    gt_category = carray(gt_category, n_gt)
    gt_xywh = carray(gt_xywh, (n_gt, 4))
    gt_area = carray(gt_area, n_gt)
    gt_is_crowd = carray(gt_is_crowd, n_gt)
    gt_id_is_zero = carray(gt_id_is_zero, n_gt)
    if not (_in_range(dt_image, n_images) and _in_range(dt_category, n_categories)
            and _in_range(gt_image, n_images) and _in_range(gt_category, n_categories)):
        status[0] = INDEX_OUT_OF_RANGE
        return
    if first != 0 or stop != n_categories:
        d = _rows_of_categories(dt_category, first, stop)
        g = _rows_of_categories(gt_category, first, stop)
        dt_image, dt_category, dt_score = dt_image[d], dt_category[d] - first, dt_score[d]
        dt_xywh, dt_area = dt_xywh[d], dt_area[d]
        gt_image, gt_category, gt_xywh = gt_image[g], gt_category[g] - first, gt_xywh[g]
        gt_area, gt_is_crowd, gt_id_is_zero = gt_area[g], gt_is_crowd[g], gt_id_is_zero[g]
    _, det_rank, det_score, codes, has_candidate, offsets, n_pos = _coco_evaluate(
        dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category, gt_xywh,
        gt_area, gt_is_crowd, gt_id_is_zero, n_images, stop - first,
        carray(iou_thresholds, n_thr), carray(area_ranges, (n_area, 2)), max_det)
    _coco_accumulate_into(
        carray(precision, (n_thr, n_rec, n_categories, n_area, n_max))[:, :, first:stop],
        carray(recall, (n_thr, n_categories, n_area, n_max))[:, first:stop],
        carray(scores, (n_thr, n_rec, n_categories, n_area, n_max))[:, :, first:stop],
        det_rank, det_score, codes, has_candidate, offsets, n_pos,
        carray(recall_thresholds, n_rec), carray(max_dets, n_max))
    status[0] = OK


def _coco_parse_results(status, buf, n_buf, ids, capacity, bbox, score, spans, n_span_slots,
                        part, counts):
    """``kernels.coco_json.parse_results``; ``counts`` receives ``(rows, n_spans, status)``."""
    rows, n_spans, form = _parse_results(
        carray(buf, n_buf), carray(ids, (2, capacity)), carray(bbox, (capacity, 4)),
        carray(score, (capacity, 1)), carray(spans, (n_span_slots, 3)), part)
    counts[0] = rows
    counts[1] = n_spans
    counts[2] = form
    status[0] = OK


_PYTHON_FUNCTIONS = {
    "coco_evaluate_accumulate": _coco_evaluate_accumulate,
    "coco_parse_results": _coco_parse_results,
}


@functools.cache
def compile_entries():
    """Compile every entry of ``kernels.coco_common.ENTRIES``; ``{name: numba CFunc}``.

    Compiled once per process (not cached on disk by numba: ``kernels._native`` saves them).
    """
    return {name: cfunc(_signature(kinds))(_PYTHON_FUNCTIONS[name])
            for name, kinds in ENTRIES.items()}

