"""The coco-eval kernels' saved machine code (``kernels._native``), called with the numba API's arguments.

``COCO`` names the entry points (``kernels.coco_common.ENTRIES``, compiled by
``kernels.coco_native``); `coco_kernels` loads them once per process, without numba, and wraps
them as ``CocoKernels``: ``evaluate_accumulate`` (phases 1 and 2, on up to two threads by
category ranges, since the entries release the GIL) and ``parse_results`` (the results scanner).
Nothing here imports numba.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from kernels import _native
from kernels.coco_common import ENTRIES, INDEX_OUT_OF_RANGE, OK

__all__ = ["COCO", "CocoKernels", "coco_kernels", "usable_cpus"]

COCO = _native.NativeSet(
    "coco", "evalcore-coco-native.bin",
    ("_native.py", "coco_native.py", "coco_evaluate.py", "coco_accumulate.py", "coco_order.py",
     "coco_json.py", "coco_common.py", "_sort.py", "iou.py", "_config.py", "coco_entries.py"),
    ENTRIES, "kernels.coco_native")

_NOT_RUN = -1


def coco_kernels():
    """The loaded ``CocoKernels``, or None (no valid saved code: use the numba kernels).

    Tried once per process; thread-safe.
    """
    entries = _native.load(COCO)
    return None if entries is None else CocoKernels(entries)


class CocoKernels:
    """The coco-eval entry points (``COCO``) with the numba API's arguments."""

    def __init__(self, entries):
        self._entries = entries
        self._functions = entries.functions

    def evaluate_accumulate(self, dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image,
                            gt_category, gt_xywh, gt_area, gt_is_crowd, gt_id_is_zero, n_images,
                            n_categories, iou_thresholds, area_ranges, max_det,
                            recall_thresholds, max_dets, *, threads=None):
        """``coco_evaluate`` then ``coco_accumulate``: ``(precision, recall, scores)``, or None.

        Arguments as ``kernels.coco_evaluate.coco_evaluate`` (checked by the caller,
        ``kernels.coco_common``) and ``coco_accumulate``'s ``recall_thresholds`` / ``max_dets``.
        None when an image or category index is out of range (the numba API says which).
        ``threads``: how many threads share the categories (default: 2 when this process may
        use two CPUs and the set is large enough to gain from it); the result is the same.
        """
        arrays = [np.ascontiguousarray(a) for a in (
            dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category, gt_xywh,
            gt_area, gt_is_crowd, gt_id_is_zero, iou_thresholds, area_ranges, recall_thresholds)]
        max_dets = np.ascontiguousarray(max_dets, dtype=np.int64)
        n_dt, n_gt = dt_image.shape[0], gt_image.shape[0]
        n_thr, n_area = iou_thresholds.shape[0], area_ranges.shape[0]
        n_rec, n_max = recall_thresholds.shape[0], max_dets.shape[0]
        n_images, n_categories = int(n_images), int(n_categories)
        precision = np.full((n_thr, n_rec, n_categories, n_area, n_max), -1.0)
        recall = np.full((n_thr, n_categories, n_area, n_max), -1.0)
        scores = np.full((n_thr, n_rec, n_categories, n_area, n_max), -1.0)
        p = [a.ctypes.data for a in arrays]
        function = self._functions["coco_evaluate_accumulate"]
        bounds = _category_bounds(arrays[1], arrays[6], n_categories,
                                  _default_threads(n_dt + n_gt) if threads is None else threads)
        status = np.full(len(bounds) - 1, _NOT_RUN, np.int64)

        def run(part):
            function(status[part:].ctypes.data, *p[:5], n_dt, *p[5:11], n_gt, n_images,
                     n_categories, int(bounds[part]), int(bounds[part + 1]), p[11], n_thr,
                     p[12], n_area, int(max_det), p[13], n_rec, max_dets.ctypes.data, n_max,
                     precision.ctypes.data, recall.ctypes.data, scores.ctypes.data)

        helpers = [threading.Thread(target=run, args=(part,), name="evalcore-coco-kernels",
                                    daemon=True) for part in range(1, len(bounds) - 1)]
        for helper in helpers:
            helper.start()
        run(0)
        for helper in helpers:
            helper.join()
        for code in status:
            if _result(code, True) is None:
                return None
        return precision, recall, scores

    def parse_results(self, buf, ids, bbox, score, spans, part=0):
        """``kernels.coco_json.parse_results`` (same arguments, C-contiguous, same result)."""
        for arr, dtype in ((buf, np.uint8), (ids, np.int64), (bbox, np.float64),
                           (score, np.float64), (spans, np.int64)):
            if arr.dtype != dtype or not arr.flags.c_contiguous:
                raise TypeError("parse_results needs C-contiguous arrays of the scanner's dtypes")
        capacity = ids.shape[1]
        if bbox.shape != (capacity, 4) or score.shape != (capacity, 1) or spans.shape[1] != 3:
            raise ValueError("parse_results: ids, bbox, score and spans disagree on the capacity")
        status = np.full(1, _NOT_RUN, np.int64)
        counts = np.zeros(3, np.int64)
        self._functions["coco_parse_results"](
            status.ctypes.data, buf.ctypes.data, buf.size, ids.ctypes.data, capacity,
            bbox.ctypes.data, score.ctypes.data, spans.ctypes.data, spans.shape[0], int(part),
            counts.ctypes.data)
        rows, n_spans, form = _result(status[0], counts.tolist())
        return rows, n_spans, form


def _result(status, value):
    """``value`` for a finished entry, None for indices out of range; else the entry failed."""
    if status == OK:
        return value
    if status == INDEX_OUT_OF_RANGE:
        return None
    raise RuntimeError("a native kernel failed (see the message above)")


#: Below this many detections and ground truths together, one thread (a guess, not measured:
#: such a set evaluates in a few milliseconds, about what a thread and the row split cost).
MIN_ROWS_PER_THREAD = 50_000


def usable_cpus():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _default_threads(n_rows):
    return max(1, min(usable_cpus(), 2, n_rows // MIN_ROWS_PER_THREAD))


def _category_bounds(dt_category, gt_category, n_categories, threads):
    """Category ranges with about as many rows each: ``first`` of each and ``stop`` last."""
    if threads <= 1 or n_categories < 2:
        return np.array([0, n_categories])
    for category in (dt_category, gt_category):
        if category.size and not (0 <= category.min() and category.max() < n_categories):
            return np.array([0, n_categories])  # the entry reports the index out of range
    rows = np.bincount(dt_category, minlength=n_categories).cumsum()
    rows += np.bincount(gt_category, minlength=n_categories).cumsum()
    threads = min(threads, n_categories)
    cuts = np.searchsorted(rows, rows[-1] * np.arange(1, threads) / threads) + 1
    return np.unique(np.concatenate([[0], np.minimum(cuts, n_categories - 1), [n_categories]]))
