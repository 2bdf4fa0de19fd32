"""Edge Impulse's per-image object-detection score (``details[].mAP``) and the bes-dev data-set mAP.

Edge Impulse scores each image of a non-FOMO detector with the PyPI package
``mean-average-precision`` (bes-dev) and rescales by the classes present in the image's ground
truth (``compute_performance_object_detection``; reference/ei-semantics.md Q3). The quirks we
reproduce, all from golden/README.md "od_map":

1. No GT box: the score is 1 when there are no detections, else 0 (checked first).
2. GT ``{x, y, w, h}`` in pixels becomes ``[x/width, y/height, (x+w)/width, (y+h)/height]`` (true
   divisions); nothing is clipped and zero-size boxes stay; class = label - 1.
3. IoU uses the pixel "+1" convention on these normalised coordinates and a match needs IoU > t
   (strict), at the exact ``np.arange(0.5, 1.0, 0.05)`` thresholds; matching is "soft".
4. AP is the mean over ``np.arange(0., 1.01, 0.01)`` recall points; APs are float32; mAP is the
   float32 mean over all classes, then over thresholds.
5. The score is ``mAP / (k / num_classes)`` with k the number of distinct GT labels (unknown
   ``-1`` labels and zero-size boxes included), computed in float64 as numpy 1.x does
   (``np.float32 / float``), e.g. 0.30000000447034836 for an unscaled 0.1 with k/C = 1/3.

Tie order: detections with equal scores keep input order (a stable sort); see golden/README.md
"od_map" point 7 for the platform-dependent alternative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BESDEV_IOU_THRESHOLDS",
    "BESDEV_RECALL_THRESHOLDS",
    "PerImageMap",
    "besdev_map",
    "per_image_map",
    "per_image_map_arrays",
    "per_image_map_details",
]

#: EI's ``np.arange(0.5, 1.0, 0.05)``: 0.6000000000000001 etc. are intended (exact parity).
BESDEV_IOU_THRESHOLDS = np.arange(0.5, 1.0, 0.05)
#: EI's ``np.arange(0., 1.01, 0.01)``: 101 points.
BESDEV_RECALL_THRESHOLDS = np.arange(0.0, 1.01, 0.01)


@dataclass(frozen=True)
class PerImageMap:
    """The per-image score and what it is made of.

    Attributes
    ----------
    map : float
        The value Edge Impulse reports as ``details[].mAP``.
    unscaled_map : float or None
        bes-dev's float32 mAP over all classes, before the rescaling (None without GT).
    ap : float32 array of shape (T, C) or None
        AP per IoU threshold and class (None without GT).
    n_gt_classes : int
        Distinct GT labels (``classes_in_gt``), the rescaling's k.
    """

    map: float
    unscaled_map: float | None
    ap: np.ndarray | None
    n_gt_classes: int


def besdev_map(det_image, det_class, det_score, det_xyxy, gt_image, gt_class, gt_xyxy, *,
               num_classes):
    """bes-dev ``MeanAveragePrecision2d`` mAP with EI's arguments (soft policy, arange grids).

    Parameters
    ----------
    det_image, gt_image : int64 arrays of shape (D,) and (G,)
        Image of each row; rows must be image-major in ``add`` order.
    det_class, gt_class : int64 arrays of shape (D,) and (G,)
        0-based classes; rows outside ``0..num_classes-1`` are ignored, as bes-dev does.
    det_score : float64 array of shape (D,)
    det_xyxy, gt_xyxy : float64 arrays of shape (D, 4) and (G, 4)
        Boxes [x1, y1, x2, y2] (or consistently transposed; the "+1" IoU does not care).
    num_classes : int

    Returns
    -------
    map : numpy.float32
        Mean over classes, then over the 10 thresholds, in float32.
    ap : float32 array of shape (10, num_classes)
    """
    from kernels.besdev_ap import besdev_average_precision

    ap = besdev_average_precision(
        det_image, det_class, det_score, det_xyxy, gt_image, gt_class, gt_xyxy,
        n_classes=num_classes, iou_thresholds=BESDEV_IOU_THRESHOLDS,
        recall_thresholds=BESDEV_RECALL_THRESHOLDS,
    ).astype(np.float32)
    if num_classes == 0:
        return np.float32(np.nan), ap
    # numpy's own float32 reductions, so the summation order is bes-dev's exactly
    return ap.mean(axis=1).mean(axis=0), ap


def per_image_map_arrays(width, height, num_classes, gt_xywh_px, gt_labels, det_yxyx,
                         det_labels, det_scores):
    """Per-image score from arrays; see the module docstring for the rules.

    Parameters
    ----------
    width, height : int
        Model input size in pixels (GT boxes are divided by these).
    num_classes : int
        Number of classes the model predicts.
    gt_xywh_px : float64 array of shape (G, 4)
        GT boxes ``[x, y, w, h]`` in input pixels.
    gt_labels : int64 array of shape (G,)
        GT labels, 1-based (EI's structured labels; -1 = not a training label).
    det_yxyx : float64 array of shape (D, 4)
        Detections ``[ymin, xmin, ymax, xmax]``, normalised, not clipped.
    det_labels : int64 array of shape (D,)
        0-based predicted labels.
    det_scores : float64 array of shape (D,)

    Returns
    -------
    PerImageMap
    """
    n_gt = gt_xywh_px.shape[0]
    n_det = det_yxyx.shape[0]
    if n_gt == 0:
        return PerImageMap(1.0 if n_det == 0 else 0.0, None, None, 0)
    x, y, w, h = (gt_xywh_px[:, i] for i in range(4))
    gt_xyxy = np.column_stack([x / width, y / height, (x + w) / width, (y + h) / height])
    det_xyxy = np.ascontiguousarray(det_yxyx[:, [1, 0, 3, 2]], dtype=np.float64)
    unscaled, ap = besdev_map(
        np.zeros(n_det, np.int64), np.asarray(det_labels, np.int64),
        np.asarray(det_scores, np.float64), det_xyxy, np.zeros(n_gt, np.int64),
        np.asarray(gt_labels, np.int64) - 1, np.ascontiguousarray(gt_xyxy, dtype=np.float64),
        num_classes=num_classes,
    )
    n_gt_classes = int(np.unique(gt_labels).size)
    # np.float32 / float promotes to float64 (numpy 1.x, which recorded the golden values)
    scaled = float(unscaled) / (n_gt_classes / num_classes)
    return PerImageMap(scaled, float(unscaled), ap, n_gt_classes)


def per_image_map_details(width, height, num_classes, bounding_boxes, raw_detections):
    """Per-image score from EI-shaped inputs, with its diagnostics.

    Parameters
    ----------
    width, height, num_classes : int
        As in ``per_image_map_arrays``.
    bounding_boxes : sequence of mapping
        GT boxes ``{"x", "y", "w", "h", "label"}``: input pixels, 1-based label.
    raw_detections : sequence of mapping
        ``{"box_ymin_xmin_ymax_xmax": [4 floats], "label": int (0-based), "score": float}``.

    Returns
    -------
    PerImageMap
    """
    gt = np.array([[b["x"], b["y"], b["w"], b["h"]] for b in bounding_boxes],
                  dtype=np.float64).reshape(-1, 4)
    gt_labels = np.array([b["label"] for b in bounding_boxes], dtype=np.int64)
    det = np.array([d["box_ymin_xmin_ymax_xmax"] for d in raw_detections],
                   dtype=np.float64).reshape(-1, 4)
    det_labels = np.array([d["label"] for d in raw_detections], dtype=np.int64)
    det_scores = np.array([d["score"] for d in raw_detections], dtype=np.float64)
    return per_image_map_arrays(width, height, num_classes, gt, gt_labels, det, det_labels,
                                det_scores)


def per_image_map(width, height, num_classes, bounding_boxes, raw_detections):
    """Edge Impulse's ``details[].mAP`` for one image (see ``per_image_map_details``).

    Examples
    --------
    >>> per_image_map(320, 320, 3, [{"x": 32, "y": 64, "w": 64, "h": 32, "label": 1}],
    ...               [{"box_ymin_xmin_ymax_xmax": [0.2, 0.1, 0.3, 0.3], "label": 0, "score": 0.9}])
    0.9999999403953552
    """
    return per_image_map_details(width, height, num_classes, bounding_boxes, raw_detections).map
