"""FOMO kernels: heat-map cells to fused boxes, and greedy nearest-centroid matching.

Mirrors Edge Impulse's ``ei_tensorflow/constrained_object_detection`` (``util.py``
``convert_segmentation_map_to_object_detection_prediction`` / ``fuse_adjacent`` and
``metrics.py`` ``match_by_near_centroids``) as described in ``shared/golden/README.md`` (fomo)
and ``reference/ei-semantics.md`` Q4. Written from that description; no code was copied.

Letters: H, W heat-map rows and columns; K classes including background (channel 0);
D predicted boxes; G ground-truth boxes; P same-label (prediction, ground truth) pairs.
Boxes are ``[row0, col0, row1, col1]`` in 0..1 (FOMO's transposed order).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)

__all__ = ["fuse_heatmap_cells", "match_nearest_centroids"]


def fuse_heatmap_cells(heatmap, threshold):
    """Turn the cells of a FOMO heat map above ``threshold`` into fused boxes.

    Parameters
    ----------
    heatmap : float64 array of shape (H, W, K)
        Softmax probabilities, channel 0 = background. Pass float32 model output as
        ``astype(np.float64)``: EI compares float64 copies.
    threshold : float
        A cell is a prediction when ``prob > threshold`` (strict, as EI's Python code;
        the C++ SDK uses ``>=``).

    Returns
    -------
    boxes : float64 array of shape (D, 4)
        ``[row0, col0, row1, col1]``; a cell (r, c) is ``(r/H, c/W, (r+1)/H, (c+1)/W)``.
    labels : int32 array of shape (D,)
        Heat-map channel (1..K-1; 0 is background and never predicted).
    scores : float64 array of shape (D,)
        Maximum cell probability inside each box.

    Raises
    ------
    TypeError
        ``heatmap`` is not a float64 array.
    ValueError
        ``heatmap`` is not 3-D.

    Notes
    -----
    Cells are visited class by class (1..K-1), row-major within a class. Each cell joins the
    **first** already-collected box of the same label that overlaps or touches it (shared
    edges and corners count, the disjointness test is strict), growing it to the union and
    keeping the max score; otherwise it starts a new box. This single pass is not a
    transitive closure: two collected boxes later bridged by a cell stay separate.
    """
    if not isinstance(heatmap, np.ndarray) or heatmap.dtype != np.float64:
        raise TypeError(f"heatmap must be a float64 numpy array, got {getattr(heatmap, 'dtype', type(heatmap))}")
    if heatmap.ndim != 3:
        raise ValueError(f"heatmap must have shape (H, W, K), got ndim {heatmap.ndim}")
    return _fuse_heatmap_cells(np.ascontiguousarray(heatmap), float(threshold))


@njit(cache=True)
def _fuse_heatmap_cells(heatmap, threshold):
    """Numba JIT-compiled core of :func:`fuse_heatmap_cells`."""
    n_rows, n_cols, n_classes = heatmap.shape
    n_max = n_rows * n_cols * max(n_classes - 1, 0)
    boxes = np.empty((n_max, 4), dtype=np.float64)
    labels = np.empty(n_max, dtype=np.int32)
    scores = np.empty(n_max, dtype=np.float64)
    n_boxes = 0
    for k in range(1, n_classes):
        for r in range(n_rows):
            for c in range(n_cols):
                prob = heatmap[r, c, k]
                if not prob > threshold:
                    continue
                r0 = r / n_rows
                c0 = c / n_cols
                r1 = (r + 1) / n_rows
                c1 = (c + 1) / n_cols
                joined = False
                for j in range(n_boxes):
                    if labels[j] != k:
                        continue
                    if r0 > boxes[j, 2] or r1 < boxes[j, 0] or c0 > boxes[j, 3] or c1 < boxes[j, 1]:
                        continue
                    boxes[j, 0] = min(boxes[j, 0], r0)
                    boxes[j, 1] = min(boxes[j, 1], c0)
                    boxes[j, 2] = max(boxes[j, 2], r1)
                    boxes[j, 3] = max(boxes[j, 3], c1)
                    scores[j] = max(scores[j], prob)
                    joined = True
                    break
                if not joined:
                    boxes[n_boxes, 0] = r0
                    boxes[n_boxes, 1] = c0
                    boxes[n_boxes, 2] = r1
                    boxes[n_boxes, 3] = c1
                    labels[n_boxes] = k
                    scores[n_boxes] = prob
                    n_boxes += 1
    return boxes[:n_boxes].copy(), labels[:n_boxes].copy(), scores[:n_boxes].copy()


def match_nearest_centroids(pred_centroids, pred_labels, true_centroids, true_labels, max_distance):
    """Greedy, many-to-one matching of predicted to ground-truth centroids of the same label.

    Parameters
    ----------
    pred_centroids : float64 array of shape (D, 2)
        (row, col) centroids of the predicted boxes, in list order.
    pred_labels : int32 array of shape (D,)
    true_centroids : float64 array of shape (G, 2)
        (row, col) centroids of the ground-truth boxes, in list order.
    true_labels : int32 array of shape (G,)
    max_distance : float
        A ground truth is accepted when its distance is ``<= max_distance`` (EI: 0.2).

    Returns
    -------
    matched_true : int64 array of shape (D,)
        Index of the ground truth each prediction matched, or -1.
    matched_distance : float64 array of shape (D,)
        Distance to that ground truth, NaN when unmatched.
    pair_pred, pair_true : int64 arrays of shape (P,)
        Every same-label pair, prediction-major then ground-truth order.
    pair_distance : float64 array of shape (P,)
        ``math.sqrt(dr*dr + dc*dc)`` of each pair (this operation order decides ties at 0.2).

    Raises
    ------
    TypeError
        An array has the wrong dtype.
    ValueError
        Shapes or lengths do not match.

    Notes
    -----
    For each prediction in order, the ground truths of the same label are walked in order;
    the first within ``max_distance`` is taken and a later one replaces it only when strictly
    closer. Several predictions may match the same ground truth (each is a TP in EI's
    counting); no one-to-one assignment is made.
    """
    for name, arr, dtype in (
        ("pred_centroids", pred_centroids, np.float64),
        ("true_centroids", true_centroids, np.float64),
        ("pred_labels", pred_labels, np.int32),
        ("true_labels", true_labels, np.int32),
    ):
        if not isinstance(arr, np.ndarray) or arr.dtype != dtype:
            got = getattr(arr, "dtype", type(arr))
            raise TypeError(f"{name} must be a {np.dtype(dtype).name} numpy array, got {got}")
    if pred_centroids.ndim != 2 or pred_centroids.shape[1] != 2:
        raise ValueError(f"pred_centroids must have shape (D, 2), got {pred_centroids.shape}")
    if true_centroids.ndim != 2 or true_centroids.shape[1] != 2:
        raise ValueError(f"true_centroids must have shape (G, 2), got {true_centroids.shape}")
    if pred_labels.shape != (pred_centroids.shape[0],):
        raise ValueError(f"pred_labels must have shape ({pred_centroids.shape[0]},), got {pred_labels.shape}")
    if true_labels.shape != (true_centroids.shape[0],):
        raise ValueError(f"true_labels must have shape ({true_centroids.shape[0]},), got {true_labels.shape}")
    return _match_nearest_centroids(
        np.ascontiguousarray(pred_centroids),
        np.ascontiguousarray(pred_labels),
        np.ascontiguousarray(true_centroids),
        np.ascontiguousarray(true_labels),
        float(max_distance),
    )


@njit(cache=True)
def _match_nearest_centroids(pred_centroids, pred_labels, true_centroids, true_labels, max_distance):
    """Numba JIT-compiled core of :func:`match_nearest_centroids`."""
    n_pred = pred_centroids.shape[0]
    n_true = true_centroids.shape[0]
    matched_true = np.full(n_pred, -1, dtype=np.int64)
    matched_distance = np.full(n_pred, np.nan, dtype=np.float64)
    pair_pred = np.empty(n_pred * n_true, dtype=np.int64)
    pair_true = np.empty(n_pred * n_true, dtype=np.int64)
    pair_distance = np.empty(n_pred * n_true, dtype=np.float64)
    n_pairs = 0
    for p in range(n_pred):
        best = -1
        best_distance = np.inf
        for g in range(n_true):
            if true_labels[g] != pred_labels[p]:
                continue
            d_row = pred_centroids[p, 0] - true_centroids[g, 0]
            d_col = pred_centroids[p, 1] - true_centroids[g, 1]
            distance = math.sqrt(d_row * d_row + d_col * d_col)
            pair_pred[n_pairs] = p
            pair_true[n_pairs] = g
            pair_distance[n_pairs] = distance
            n_pairs += 1
            if distance <= max_distance and (best < 0 or distance < best_distance):
                best = g
                best_distance = distance
        if best >= 0:
            matched_true[p] = best
            matched_distance[p] = best_distance
    return (
        matched_true,
        matched_distance,
        pair_pred[:n_pairs].copy(),
        pair_true[:n_pairs].copy(),
        pair_distance[:n_pairs].copy(),
    )
