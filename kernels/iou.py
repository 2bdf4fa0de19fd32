"""IoU of axis-aligned boxes in the two conventions the detection metrics use.

- ``iou_xywh``: COCO IoU on [x, y, w, h] in double, as cocoapi ``bbIou`` (``maskUtils.iou``);
  ``kernels.coco_evaluate`` calls its pair form inside the matching loop.
- ``iou_xyxy_plus1``: the pixel "+1" IoU of bes-dev ``mean_average_precision`` (``compute_iou``),
  which Edge Impulse applies to *normalised* coordinates (reference/ei-semantics.md Q3);
  ``kernels.besdev_ap`` calls its pair form inside its matching loop.

Letters: D detections, G ground truths.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from kernels._checks import check_1d as _check_1d
from kernels._checks import check_boxes as _check_boxes

__all__ = ["iou_xywh", "iou_xyxy_plus1"]


# --- COCO [x, y, w, h] -------------------------------------------------------------------------


@njit(cache=True)
def _fmin(a, b):
    """C ``fmin``: the non-NaN operand wins."""
    return b if (b < a or np.isnan(a)) else a


@njit(cache=True)
def _fmax(a, b):
    """C ``fmax``: the non-NaN operand wins."""
    return b if (b > a or np.isnan(a)) else a


@njit(cache=True)
def iou_xywh_pair(dx, dy, dw, dh, gx, gy, gw, gh, is_crowd):
    """IoU of one [x, y, w, h] pair in double, the operation order of cocoapi ``bbIou``.

    A crowd GT divides by the detection's own area. Areas are box ``w*h`` products, never the
    annotation ``area`` field.
    """
    w = _fmin(dw + dx, gw + gx) - _fmax(dx, gx)
    if w <= 0.0:
        return 0.0
    h = _fmin(dh + dy, gh + gy) - _fmax(dy, gy)
    if h <= 0.0:
        return 0.0
    inter = w * h
    det_area = dw * dh
    if is_crowd:
        union = det_area
    else:
        union = det_area + gw * gh - inter
    return inter / union


@njit(cache=True)
def _iou_xywh(dt_xywh, gt_xywh, gt_is_crowd):
    n_dt = dt_xywh.shape[0]
    n_gt = gt_xywh.shape[0]
    out = np.zeros((n_dt, n_gt), np.float64)
    for d in range(n_dt):
        for g in range(n_gt):
            out[d, g] = iou_xywh_pair(
                dt_xywh[d, 0], dt_xywh[d, 1], dt_xywh[d, 2], dt_xywh[d, 3],
                gt_xywh[g, 0], gt_xywh[g, 1], gt_xywh[g, 2], gt_xywh[g, 3], gt_is_crowd[g],
            )
    return out


def iou_xywh(dt_xywh, gt_xywh, gt_is_crowd):
    """IoU matrix of [x, y, w, h] boxes exactly as cocoapi ``bbIou`` (``maskUtils.iou``) does.

    Parameters
    ----------
    dt_xywh : float64 array of shape (D, 4)
        Detection boxes.
    gt_xywh : float64 array of shape (G, 4)
        Ground-truth boxes.
    gt_is_crowd : bool array of shape (G,)
        Crowd flags; a crowd GT's union is the detection's own area.

    Returns
    -------
    float64 array of shape (D, G)
        0 where the boxes do not overlap (a zero-width or zero-height overlap included).
    """
    _check_boxes(dt_xywh, "dt_xywh")
    _check_boxes(gt_xywh, "gt_xywh")
    _check_1d(gt_is_crowd, np.bool_, gt_xywh.shape[0], "gt_is_crowd")
    return _iou_xywh(dt_xywh, gt_xywh, gt_is_crowd)


# --- bes-dev "+1" [x1, y1, x2, y2] -------------------------------------------------------------


@njit(cache=True)
def _np_maximum(a, b):
    """``np.maximum`` on scalars: NaN propagates."""
    if np.isnan(a) or np.isnan(b):
        return a + b
    return a if a >= b else b  # noqa: FURB136


@njit(cache=True)
def _np_minimum(a, b):
    """``np.minimum`` on scalars: NaN propagates."""
    if np.isnan(a) or np.isnan(b):
        return a + b
    return a if a <= b else b  # noqa: FURB136


@njit(cache=True, error_model="numpy")
def iou_plus1_pair(p0, p1, p2, p3, g0, g1, g2, g3):
    """bes-dev ``compute_iou`` for one (prediction, GT) pair of [x1, y1, x2, y2] boxes.

    Side lengths are ``x2 - x1 + 1`` even on normalised coordinates, the intersection side is
    ``max(min - max + 1, 0)``, and the union is ``(area_gt + area_pred) - inter``. A zero union
    gives inf/NaN like numpy (``error_model='numpy'``).
    """
    width = _np_maximum(_np_minimum(g2, p2) - _np_maximum(g0, p0) + 1.0, 0.0)
    height = _np_maximum(_np_minimum(g3, p3) - _np_maximum(g1, p1) + 1.0, 0.0)
    inter = width * height
    area_gt = (g2 - g0 + 1.0) * (g3 - g1 + 1.0)
    area_pred = (p2 - p0 + 1.0) * (p3 - p1 + 1.0)
    return inter / (area_gt + area_pred - inter)


@njit(cache=True)
def _iou_xyxy_plus1(pred_xyxy, gt_xyxy):
    out = np.empty((pred_xyxy.shape[0], gt_xyxy.shape[0]), np.float64)
    for d in range(pred_xyxy.shape[0]):
        for g in range(gt_xyxy.shape[0]):
            out[d, g] = iou_plus1_pair(pred_xyxy[d, 0], pred_xyxy[d, 1], pred_xyxy[d, 2],
                                       pred_xyxy[d, 3], gt_xyxy[g, 0], gt_xyxy[g, 1],
                                       gt_xyxy[g, 2], gt_xyxy[g, 3])
    return out


def iou_xyxy_plus1(pred_xyxy, gt_xyxy):
    """IoU matrix with bes-dev's "+1" pixel convention, on any coordinates (no clipping).

    Parameters
    ----------
    pred_xyxy : float64 array of shape (D, 4)
        Predicted boxes [x1, y1, x2, y2].
    gt_xyxy : float64 array of shape (G, 4)
        Ground-truth boxes [x1, y1, x2, y2].

    Returns
    -------
    float64 array of shape (D, G)
    """
    _check_boxes(pred_xyxy, "pred_xyxy")
    _check_boxes(gt_xyxy, "gt_xyxy")
    return _iou_xyxy_plus1(pred_xyxy, gt_xyxy)
