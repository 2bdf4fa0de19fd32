"""FOMO per-image scoring, as Edge Impulse's classify job does it (``run_segmentation_inference``).

The steps and their quirks are those of shared/golden/README.md "fomo" (points 1–7) and
reference/ei-semantics.md Q4:

1. heat map (H, W, K) -> cells with ``prob > threshold`` (strict) -> single-pass fused boxes:
   decoding, done in the map (:func:`evalcore.learn.fomo.decode_fomo`); this module scores
   the decoded boxes (:func:`score_fomo_detections`, steps 2-5);
2. ground truth ``{x, y, w, h, label}`` in input pixels (label 1-based, -1 = test label not
   in training; ``w == 0`` or ``h == 0`` dropped) -> ``(y, x, y+h, x+w) * (1/S)``, a multiply
   by the precomputed reciprocal (this shows in the last bit);
3. centroids (row, col) matched greedily and many-to-one within 0.2
   (:func:`kernels.centroids.match_nearest_centroids`);
4. flat label lists -> confusion -> non-background P/R/F1 (``ei_tensorflow/
   constrained_object_detection/metrics.py`` ``non_background_metrics``; ``mAP`` = F1, legacy);
5. ``debugInfoJson`` = ``json.dumps`` with default separators, EI's key order.

Only the counts of each (true, predicted) label pair matter to the metrics, so a sample's result
carries a (K+1)×(K+1) count matrix indexed ``[true + 1, pred + 1]`` (row/column 0 = label -1);
:mod:`evalcore.metrics.fomo_dataset` pools them over the test set.

Letters: K classes including background (label 0).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from evalcore.errors import BundleError

__all__ = [
    "FomoSampleResult",
    "MIN_NORMALISED_DISTANCE",
    "non_background_prf",
    "score_fomo_detections",
]

#: EI's hard-coded centroid matching radius (normalised units, inclusive).
MIN_NORMALISED_DISTANCE = 0.2

_DEBUG_KEYS = (
    "y_trues",
    "y_preds",
    "assignments",
    "normalised_min_distance",
    "all_pairwise_distances",
    "unassigned_y_true_idxs",
    "unassigned_y_pred_idxs",
)


def non_background_prf(confusion):
    """EI's non-background precision, recall and F1 from a K×K confusion matrix.

    Parameters
    ----------
    confusion : int64 array of shape (K, K)
        Rows = true label, columns = predicted label, label 0 = background.

    Returns
    -------
    precision, recall, f1 : float
        TN = cm[0,0], TP = trace − TN, FN = strict lower triangle, FP = strict upper
        triangle; P = TP/(TP+FP), R = TP/(TP+FN), F1 = 2PR/(P+R). When TP = FP = FN = 0 all
        three are 1.0 (nothing to find, nothing found); any other zero denominator gives 0.0.
    """
    cm = np.asarray(confusion, dtype=np.int64)
    tn = int(cm[0, 0]) if cm.size else 0
    tp = int(np.trace(cm)) - tn
    fn = int(np.tril(cm, -1).sum())
    fp = int(np.triu(cm, 1).sum())
    if tp == 0 and fp == 0 and fn == 0:
        return 1.0, 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass(frozen=True)
class FomoSampleResult:
    """What EI's ``run_segmentation_inference`` returns for one image, plus the pooled-count state.

    Attributes
    ----------
    boxes : float64 array of shape (D, 4)
        Fused predicted boxes ``[row0, col0, row1, col1]`` in 0..1 (= ``[ymin, xmin, ymax, xmax]``).
    labels : int32 array of shape (D,)
        0-based class index (heat-map channel − 1).
    scores : float64 array of shape (D,)
    precision, recall, f1 : float
        Non-background metrics of this sample's flat label lists.
    debug_info_json : str
        Studio's ``debugInfoJson`` string.
    y_true_labels, y_pred_labels : int32 arrays of shape (n_label_entries_unpadded,)
        The flat label lists before the (0, 0) padding: assignments, unassigned predictions,
        unassigned ground truths, in EI's order.
    n_cells : int
        H·W; the lists are padded with (0, 0) up to this length.
    label_pair_counts : int64 array of shape (K+1, K+1)
        Counts of (true, predicted) pairs of the padded lists indexed ``[true+1, pred+1]``
        (index 0 = label -1); the state :class:`evalcore.metrics.fomo_dataset.FomoAccumulator` pools.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    precision: float
    recall: float
    f1: float
    debug_info_json: str
    y_true_labels: np.ndarray
    y_pred_labels: np.ndarray
    n_cells: int
    label_pair_counts: np.ndarray

    @property
    def map_score(self) -> float:
        """Studio's ``mAP`` key for FOMO: EI sets it to F1 (kept for the legacy API)."""
        return self.f1

    @property
    def confusion_matrix(self) -> np.ndarray:
        """int64 (K, K) confusion over labels 0..K-1 (pairs with label -1 dropped, as sklearn)."""
        return self.label_pair_counts[1:, 1:].copy()

    @property
    def n_label_entries(self) -> int:
        """Length of the padded flat lists: max(H·W, unpadded length)."""
        return max(self.n_cells, int(self.y_true_labels.shape[0]))

    def flat_labels(self):
        """The padded flat (y_true, y_pred) int32 lists exactly as EI builds them."""
        n_pad = self.n_label_entries - int(self.y_true_labels.shape[0])
        pad = np.zeros(n_pad, dtype=np.int32)
        return np.concatenate([self.y_true_labels, pad]), np.concatenate([self.y_pred_labels, pad])


def score_fomo_detections(boxes, labels, scores, grid_shape, bounding_boxes: Sequence[Mapping],
                          input_wh) -> FomoSampleResult:
    """Score one image's decoded FOMO boxes (steps 2–5 of the module notes).

    The boxes are those :func:`evalcore.learn.fomo.decode_fomo` fuses from the heat map (step 1,
    in the map); the reduce scores them here.

    Parameters
    ----------
    boxes : float64 array of shape (D, 4)
        ``[ymin, xmin, ymax, xmax]`` in 0..1, as ``decode_fomo`` returns them.
    labels : int32 array of shape (D,)
        0-based class index (0..K-2).
    scores : float64 array of shape (D,)
    grid_shape : (int, int, int)
        The heat map's (H, W, K), background channel included.
    bounding_boxes : sequence of mappings
        Ground truth ``{x, y, w, h, label}`` (``width``/``height`` accepted for ``w``/``h``):
        input pixels, label 1-based in training order, -1 for a label absent from training.
    input_wh : int or (int, int)
        Model input size S (square), or ``(width, height)``. EI only supports square inputs;
        for ``(width, height)`` rows are scaled by 1/height and columns by 1/width.

    Returns
    -------
    FomoSampleResult

    Raises
    ------
    BundleError
        A ground-truth box lacks a field or has a label outside -1..K-1.
    """
    from kernels.centroids import match_nearest_centroids

    n_rows, n_cols, n_channels = (int(n) for n in grid_shape)
    labels = np.asarray(labels, dtype=np.int32)
    pred_channels = labels + np.int32(1)
    true_boxes, true_labels = _ground_truth_boxes(bounding_boxes, input_wh, n_channels)

    pred_centroids = _centroids(boxes)
    true_centroids = _centroids(true_boxes)
    matched, matched_d, pair_p, pair_t, pair_d = match_nearest_centroids(
        pred_centroids, pred_channels, true_centroids, true_labels, MIN_NORMALISED_DISTANCE
    )
    y_true, y_pred = _flat_label_lists(matched, pred_channels, true_labels)
    counts = _label_pair_counts(y_true, y_pred, n_rows * n_cols, n_channels)
    precision, recall, f1 = non_background_prf(counts[1:, 1:])
    debug_json = _debug_info_json(
        true_centroids, true_labels, pred_centroids, pred_channels, matched, matched_d, pair_p, pair_t, pair_d
    )
    return FomoSampleResult(
        boxes=boxes,
        labels=labels,
        scores=scores,
        precision=precision,
        recall=recall,
        f1=f1,
        debug_info_json=debug_json,
        y_true_labels=y_true,
        y_pred_labels=y_pred,
        n_cells=n_rows * n_cols,
        label_pair_counts=counts,
    )


def _ground_truth_boxes(bounding_boxes, input_wh, n_channels):
    """EI GT conversion: drop zero-size, transpose to (row, col), multiply by 1/size."""
    if isinstance(input_wh, (tuple, list)):
        width, height = (float(v) for v in input_wh)
    else:
        width = height = float(input_wh)
    row_scale, col_scale = 1.0 / height, 1.0 / width
    rows, labels = [], []
    for i, box in enumerate(bounding_boxes):
        try:
            x, y = box["x"], box["y"]
            w = box["w"] if "w" in box else box["width"]
            h = box["h"] if "h" in box else box["height"]
            label = int(box["label"])
        except (KeyError, TypeError, ValueError) as err:
            raise BundleError(
                f"bounding box needs x, y, w, h and an integer label ({err!r})", field=f"boundingBoxes[{i}]"
            ) from err
        if w == 0 or h == 0:
            continue
        if not -1 <= label < n_channels:
            raise BundleError(
                f"bounding box label must be in -1..{n_channels - 1} (1-based, -1 = not in training), got {label}",
                field=f"boundingBoxes[{i}].label",
            )
        # x + w / y + h in Python (exact for int pixels), then the reciprocal multiply
        rows.append([y * row_scale, x * col_scale, (y + h) * row_scale, (x + w) * col_scale])
        labels.append(label)
    return np.array(rows, dtype=np.float64).reshape(-1, 4), np.array(labels, dtype=np.int32)


def _centroids(boxes: np.ndarray) -> np.ndarray:
    """(row, col) centroids ``((r0 + r1) / 2, (c0 + c1) / 2)`` as float64 (D, 2)."""
    out = np.empty((boxes.shape[0], 2), dtype=np.float64)
    out[:, 0] = (boxes[:, 0] + boxes[:, 2]) / 2
    out[:, 1] = (boxes[:, 1] + boxes[:, 3]) / 2
    return out


def _flat_label_lists(matched, pred_labels, true_labels):
    """Assignments (l, l), unassigned preds (0, l), unassigned trues (l, 0), ascending index."""
    assigned = matched >= 0
    unassigned_true = np.ones(true_labels.shape[0], dtype=bool)
    unassigned_true[matched[assigned]] = False
    lone_pred = pred_labels[~assigned]
    lone_true = true_labels[unassigned_true]
    y_true = np.concatenate([pred_labels[assigned], np.zeros_like(lone_pred), lone_true]).astype(np.int32)
    y_pred = np.concatenate([pred_labels[assigned], lone_pred, np.zeros_like(lone_true)]).astype(np.int32)
    return y_true, y_pred


def _label_pair_counts(y_true, y_pred, n_cells, n_channels):
    """(K+1)×(K+1) pair counts of the lists padded with (0, 0) to ``n_cells``."""
    counts = np.zeros((n_channels + 1, n_channels + 1), dtype=np.int64)
    np.add.at(counts, (y_true.astype(np.int64) + 1, y_pred.astype(np.int64) + 1), 1)
    counts[1, 1] += max(n_cells - y_true.shape[0], 0)
    return counts


def _debug_info_json(t_xy, t_labels, p_xy, p_labels, matched, matched_d, pair_p, pair_t, pair_d) -> str:
    """Studio's ``debugInfoJson``: EI's key order, ``json.dumps`` default separators."""
    assigned = np.flatnonzero(matched >= 0)
    unassigned_true = np.ones(t_labels.shape[0], dtype=bool)
    unassigned_true[matched[assigned]] = False
    info = {
        "y_trues": [{"x": r, "y": c, "label": lab} for (r, c), lab in zip(t_xy.tolist(), t_labels.tolist())],
        "y_preds": [{"x": r, "y": c, "label": lab} for (r, c), lab in zip(p_xy.tolist(), p_labels.tolist())],
        "assignments": [
            {"yp": int(p), "yt": int(matched[p]), "label": int(p_labels[p]), "distance": float(matched_d[p])}
            for p in assigned
        ],
        "normalised_min_distance": MIN_NORMALISED_DISTANCE,
        "all_pairwise_distances": [[p, t, d] for p, t, d in zip(pair_p.tolist(), pair_t.tolist(), pair_d.tolist())],
        "unassigned_y_true_idxs": np.flatnonzero(unassigned_true).tolist(),
        "unassigned_y_pred_idxs": np.flatnonzero(matched < 0).tolist(),
    }
    if t_labels.shape[0] == 0 and p_labels.shape[0] == 0:
        # EI's matcher returns early with only these three keys when both lists are empty
        info = {k: info[k] for k in ("assignments", "unassigned_y_true_idxs", "unassigned_y_pred_idxs")}
    return json.dumps({k: info[k] for k in _DEBUG_KEYS if k in info})
