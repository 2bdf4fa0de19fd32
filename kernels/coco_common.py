"""The plain-Python parts of the coco kernels, shared by the jitted and the ahead-of-time path.

``kernels._native`` calls the kernels' machine code without importing numba, so what it shares
with the jitted modules lives here: phase 1's argument checks (both paths refuse the same inputs
with the same message), the results scanner's statuses and capacity, and the C entry points'
signatures (``ENTRIES``, compiled by ``kernels.coco_native``).
"""

from __future__ import annotations

import numpy as np

from kernels._checks import check_1d, check_boxes

#: ``kernels.coco_json.parse_results`` statuses: the whole file was read, or it is not the form.
FAST_FORM = 0
NOT_FAST_FORM = 1

#: The shortest possible record, ``{"image_id":0,"category_id":0,"bbox":[0,0,0,0],"score":0}``,
#: is 57 bytes: a file of n bytes holds at most n // 57 + 1 records.
_MIN_RECORD_BYTES = 57


def results_capacity(n_bytes):
    """The most records a results file of ``n_bytes`` bytes can hold in the fast form."""
    return n_bytes // _MIN_RECORD_BYTES + 1


#: ``parse_results`` parts: the whole file, the part up to a record's end, the part after it.
WHOLE = 0
HEAD = 1
TAIL = 2


def split_point(data, at):
    """``(end, start)``: the first ``}`` ws ``,`` ws ``{`` from ``at`` on, or None.

    ``data[:end]`` ends with the ``}`` and ``data[start:]`` starts with the ``{``. In the fast
    form a ``}`` only closes a record, so this is a boundary between two records; in any other
    file the parts scanned as ``HEAD`` and ``TAIL`` are not both ``FAST_FORM``.
    """
    close = data.find(b"}", at)
    while close >= 0:
        i = close + 1
        while i < len(data) and data[i] in b" \t\r\n":
            i += 1
        if i < len(data) and data[i] == 0x2C:  # ","
            i += 1
            while i < len(data) and data[i] in b" \t\r\n":
                i += 1
            if i < len(data) and data[i] == 0x7B:  # "{"
                return close + 1, i
        close = data.find(b"}", close + 1)
    return None


def check_evaluate_args(dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category,
                        gt_xywh, gt_area, gt_is_crowd, gt_id_is_zero, n_images, n_categories,
                        iou_thresholds, area_ranges, max_det):
    """Raise TypeError / ValueError on a wrong dtype, shape, length or a negative size.

    Parameters are those of ``kernels.coco_evaluate.coco_evaluate``.
    """
    n_dt = dt_image.shape[0] if getattr(dt_image, "ndim", 0) == 1 else -1
    n_gt = gt_image.shape[0] if getattr(gt_image, "ndim", 0) == 1 else -1
    for arr, dtype, length, name in (
        (dt_image, np.int64, n_dt, "dt_image"), (dt_category, np.int64, n_dt, "dt_category"),
        (dt_score, np.float64, n_dt, "dt_score"), (dt_area, np.float64, n_dt, "dt_area"),
        (gt_image, np.int64, n_gt, "gt_image"), (gt_category, np.int64, n_gt, "gt_category"),
        (gt_area, np.float64, n_gt, "gt_area"), (gt_is_crowd, np.bool_, n_gt, "gt_is_crowd"),
        (gt_id_is_zero, np.bool_, n_gt, "gt_id_is_zero"),
        (iou_thresholds, np.float64, -1, "iou_thresholds"),
    ):
        check_1d(arr, dtype, length, name)
    check_boxes(dt_xywh, "dt_xywh", n_dt)
    check_boxes(gt_xywh, "gt_xywh", n_gt)
    if not isinstance(area_ranges, np.ndarray) or area_ranges.dtype != np.float64 \
            or area_ranges.ndim != 2 or area_ranges.shape[1] != 2:
        raise TypeError("area_ranges must be a float64 array of shape (A, 2)")
    if int(n_images) < 0 or int(n_categories) < 0 or int(max_det) < 0:
        raise ValueError("n_images, n_categories and max_det must be >= 0")


#: Entry points: name -> argument kinds (``*`` a pointer; i64, f64, b1 = bool, u8). Every entry
#: returns nothing and takes a status slot first (``OK`` once it has finished).
ENTRIES = {
    "coco_evaluate_accumulate": (
        "*i64",
        "*i64", "*i64", "*f64", "*f64", "*f64", "i64",  # detections: image .. area, D
        "*i64", "*i64", "*f64", "*f64", "*b1", "*b1", "i64",  # ground truths, G
        "i64", "i64", "i64", "i64",  # I, K, the categories first..stop-1 to evaluate
        "*f64", "i64", "*f64", "i64", "i64",  # IoU thresholds, T, area ranges, A, max_det
        "*f64", "i64", "*i64", "i64",  # recall thresholds, R, max_dets, M
        "*f64", "*f64", "*f64",  # precision, recall, scores
    ),
    "coco_parse_results": (
        "*i64", "*u8", "i64", "*i64", "i64", "*f64", "*f64", "*i64", "i64", "i64", "*i64",
    ),  # status, file bytes, n, ids (2, C), C, bbox, score, spans (S, 3), S, part, counts
}
OK = 0
INDEX_OUT_OF_RANGE = 1
