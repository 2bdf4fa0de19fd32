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

from numba import carray, cfunc, njit, types

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from kernels._native import ENTRIES, INDEX_OUT_OF_RANGE, OK
from kernels.coco_accumulate import _coco_accumulate_into
from kernels.coco_evaluate import _coco_evaluate
from kernels.coco_json import _parse_results

_TYPES = {"i64": types.int64, "f64": types.float64, "b1": types.boolean, "u8": types.uint8}


def _signature(kinds):
    """The numba signature ``void(...)`` of an entry described by ``kernels._native.ENTRIES``."""
    args = [types.CPointer(_TYPES[k[1:]]) if k.startswith("*") else _TYPES[k] for k in kinds]
    return types.void(*args)


@njit(cache=True)
def _in_range(index, n):
    """Whether every value of ``index`` is in ``0..n-1``."""
    for i in range(index.size):
        if index[i] < 0 or index[i] >= n:
            return False
    return True


def _coco_evaluate_accumulate(status, dt_image, dt_category, dt_score, dt_xywh, dt_area, n_dt,
                              gt_image, gt_category, gt_xywh, gt_area, gt_is_crowd,
                              gt_id_is_zero, n_gt, n_images, n_categories, iou_thresholds,
                              n_thr, area_ranges, n_area, max_det, recall_thresholds, n_rec,
                              max_dets, n_max, precision, recall, scores):
    """Phases 1 and 2 (``coco_evaluate`` then ``coco_accumulate``) into -1 filled outputs."""
    dt_image = carray(dt_image, n_dt)
    dt_category = carray(dt_category, n_dt)
    gt_image = carray(gt_image, n_gt)
    gt_category = carray(gt_category, n_gt)
    if not (_in_range(dt_image, n_images) and _in_range(dt_category, n_categories)
            and _in_range(gt_image, n_images) and _in_range(gt_category, n_categories)):
        status[0] = INDEX_OUT_OF_RANGE
        return
    _, det_rank, det_score, codes, has_candidate, offsets, n_pos = _coco_evaluate(
        dt_image, dt_category, carray(dt_score, n_dt), carray(dt_xywh, (n_dt, 4)),
        carray(dt_area, n_dt), gt_image, gt_category, carray(gt_xywh, (n_gt, 4)),
        carray(gt_area, n_gt), carray(gt_is_crowd, n_gt), carray(gt_id_is_zero, n_gt),
        n_images, n_categories, carray(iou_thresholds, n_thr), carray(area_ranges, (n_area, 2)),
        max_det)
    _coco_accumulate_into(
        carray(precision, (n_thr, n_rec, n_categories, n_area, n_max)),
        carray(recall, (n_thr, n_categories, n_area, n_max)),
        carray(scores, (n_thr, n_rec, n_categories, n_area, n_max)),
        det_rank, det_score, codes, has_candidate, offsets, n_pos,
        carray(recall_thresholds, n_rec), carray(max_dets, n_max))
    status[0] = OK


def _coco_parse_results(status, buf, n_buf, ids, capacity, bbox, score, spans, n_span_slots,
                        counts):
    """``kernels.coco_json.parse_results``; ``counts`` receives ``(rows, n_spans, status)``."""
    rows, n_spans, form = _parse_results(
        carray(buf, n_buf), carray(ids, (2, capacity)), carray(bbox, (capacity, 4)),
        carray(score, (capacity, 1)), carray(spans, (n_span_slots, 3)))
    counts[0] = rows
    counts[1] = n_spans
    counts[2] = form
    status[0] = OK


_PYTHON_FUNCTIONS = {
    "coco_evaluate_accumulate": _coco_evaluate_accumulate,
    "coco_parse_results": _coco_parse_results,
}


def compile_entries():
    """Compile every entry of ``kernels._native.ENTRIES``; ``{name: numba CFunc}``.

    Compiled once per process (numba keeps the compiled cfunc), not cached on disk by numba.
    """
    return {name: cfunc(_signature(kinds))(_PYTHON_FUNCTIONS[name])
            for name, kinds in ENTRIES.items()}

