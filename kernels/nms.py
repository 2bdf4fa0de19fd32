"""Greedy non-maximum suppression with the semantics of ``tf.image.non_max_suppression``.

Edge Impulse's YOLOv5 / YOLOX post-processing (``ei_tensorflow/inference.py``
``object_detection_nms``) calls ``tf.image.non_max_suppression`` per class with IoU threshold
0.4 and score threshold 0.001 (reference/ei-semantics.md Q3). TensorFlow runs that op in
float32 (its CPU kernel ``DoNonMaxSuppressionOp`` with hard suppression); this kernel follows
the op's documented behaviour in float32 arithmetic. Written from the op's specification; no
code was copied.

Letters: D boxes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)

__all__ = ["non_max_suppression"]


def non_max_suppression(boxes, scores, max_output_size, iou_threshold, score_threshold):
    """Indices of the boxes kept by greedy NMS, in selection order.

    Parameters
    ----------
    boxes : float32 array of shape (D, 4)
        ``[y1, x1, y2, x2]``; either corner order is accepted (min/max are taken).
    scores : float32 array of shape (D,)
    max_output_size : int
        At most this many indices are returned.
    iou_threshold : float
        A candidate is suppressed when its IoU with an already selected box is
        ``> iou_threshold`` (strict, as current TensorFlow; checked against tensorflow-cpu
        2.21, where IoU == threshold is kept; older 2.x kernels suppressed at ``>=``).
        Rounded to float32 as TF does.
    score_threshold : float
        Only boxes with ``score > score_threshold`` (strict) are candidates. Rounded to float32.

    Returns
    -------
    int64 array of shape (n_selected,)
        Indices into ``boxes``, highest score first; equal scores keep the lower index first.

    Raises
    ------
    TypeError
        ``boxes`` or ``scores`` is not float32.
    ValueError
        Shapes do not match or ``max_output_size`` is negative.

    Notes
    -----
    IoU is computed in float32 as TF's ``IOU``: a box with area <= 0 has IoU 0 with anything;
    intersection = ``max(ymax-ymin, 0) * max(xmax-xmin, 0)``; IoU = inter / (a_i + a_j - inter).
    """
    if not isinstance(boxes, np.ndarray) or boxes.dtype != np.float32:
        raise TypeError(f"boxes must be a float32 numpy array, got {getattr(boxes, 'dtype', type(boxes))}")
    if not isinstance(scores, np.ndarray) or scores.dtype != np.float32:
        raise TypeError(f"scores must be a float32 numpy array, got {getattr(scores, 'dtype', type(scores))}")
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape (D, 4), got {boxes.shape}")
    if scores.shape != (boxes.shape[0],):
        raise ValueError(f"scores must have shape ({boxes.shape[0]},), got {scores.shape}")
    if max_output_size < 0:
        raise ValueError(f"max_output_size must be >= 0, got {max_output_size}")
    return _non_max_suppression(
        np.ascontiguousarray(boxes),
        np.ascontiguousarray(scores),
        int(max_output_size),
        np.float32(iou_threshold),
        np.float32(score_threshold),
    )


@njit(cache=True)
def _iou_float32(boxes, i, j):
    """Numba JIT-compiled float32 IoU of boxes ``i`` and ``j`` (TF's ``IOU``)."""
    zero = np.float32(0.0)
    ymin_i = min(boxes[i, 0], boxes[i, 2])
    xmin_i = min(boxes[i, 1], boxes[i, 3])
    ymax_i = max(boxes[i, 0], boxes[i, 2])
    xmax_i = max(boxes[i, 1], boxes[i, 3])
    ymin_j = min(boxes[j, 0], boxes[j, 2])
    xmin_j = min(boxes[j, 1], boxes[j, 3])
    ymax_j = max(boxes[j, 0], boxes[j, 2])
    xmax_j = max(boxes[j, 1], boxes[j, 3])
    area_i = (ymax_i - ymin_i) * (xmax_i - xmin_i)
    area_j = (ymax_j - ymin_j) * (xmax_j - xmin_j)
    if area_i <= zero or area_j <= zero:
        return zero
    inter_h = max(min(ymax_i, ymax_j) - max(ymin_i, ymin_j), zero)
    inter_w = max(min(xmax_i, xmax_j) - max(xmin_i, xmin_j), zero)
    inter = inter_h * inter_w
    return inter / (area_i + area_j - inter)


@njit(cache=True)
def _non_max_suppression(boxes, scores, max_output_size, iou_threshold, score_threshold):
    """Numba JIT-compiled core of :func:`non_max_suppression`."""
    n_boxes = boxes.shape[0]
    candidates = np.empty(n_boxes, dtype=np.int64)
    n_candidates = 0
    for i in range(n_boxes):
        if scores[i] > score_threshold:
            candidates[n_candidates] = i
            n_candidates += 1
    candidates = candidates[:n_candidates]
    # stable descending sort: equal scores keep ascending index, as TF's priority queue does
    order = np.argsort(-scores[candidates], kind="mergesort")
    candidates = candidates[order]
    selected = np.empty(min(max_output_size, n_candidates), dtype=np.int64)
    n_selected = 0
    for c in range(n_candidates):
        if n_selected >= max_output_size:
            break
        idx = candidates[c]
        keep = True
        for s in range(n_selected - 1, -1, -1):
            if _iou_float32(boxes, idx, selected[s]) > iou_threshold:
                keep = False
                break
        if keep:
            selected[n_selected] = idx
            n_selected += 1
    return selected[:n_selected].copy()
