"""FOMO on the map side: heat map -> boxes, and the Studio entries of a scored image.

:func:`decode_fomo` fuses the cells of a heat map into boxes (Edge Impulse's
``run_segmentation_inference``, step 1 of shared/golden/README.md "fomo"); the scoring against
ground truth (steps 2–5) is :func:`evalcore.metrics.fomo.fomo_sample_result`, whose result
:func:`fomo_details` and :func:`fomo_structured_result` turn into Studio's entries. This module
does not import ``evalcore.metrics`` (learn and metrics are siblings): it reads the result's
``boxes``, ``labels``, ``scores``, ``precision``, ``recall``, ``f1`` and ``debug_info_json``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalcore.errors import ModelError

__all__ = ["decode_fomo", "fomo_detections", "fomo_details", "fomo_structured_result"]


def decode_fomo(heatmap, threshold):
    """FOMO heat map -> fused boxes, 0-based labels, scores (no ground truth needed).

    Parameters
    ----------
    heatmap : float array of shape (H, W, K) or (1, H, W, K)
        Dequantised softmax output, channel 0 = background.
    threshold : float
        Cells with ``prob > threshold`` are predictions (strict).

    Returns
    -------
    boxes : float64 array of shape (D, 4)
        ``[ymin, xmin, ymax, xmax]`` (FOMO's row/col order) in 0..1.
    labels : int32 array of shape (D,)
        0-based class index.
    scores : float64 array of shape (D,)
    """
    from kernels.centroids import fuse_heatmap_cells

    grid = _as_heatmap(heatmap)
    boxes, channels, scores = fuse_heatmap_cells(grid, float(threshold))
    return boxes, (channels - 1).astype(np.int32), scores


def fomo_detections(result):
    """A scored image's predicted boxes as :class:`evalcore.learn.detection.Detections`.

    ``result`` is an :class:`evalcore.metrics.fomo.FomoSampleResult` (read by attribute).
    """
    from evalcore.learn.detection import Detections

    return Detections(result.boxes, result.labels, result.scores)


def fomo_details(result):
    """Studio ``details`` entry for a FOMO image: boxes, 0-based labels, scores, ``mAP`` = F1, F1.

    Parameters
    ----------
    result : evalcore.metrics.fomo.FomoSampleResult

    Returns
    -------
    evalcore.learn.detection.DetectionDetails
    """
    from evalcore.learn.detection import detection_details

    return detection_details(fomo_detections(result), map_score=result.map_score, f1=result.f1)


def fomo_structured_result(result, class_names: Sequence[str]):
    """Studio ``structuredResult`` entry for a FOMO image (labels as training class names).

    Parameters
    ----------
    result : evalcore.metrics.fomo.FomoSampleResult
    class_names : sequence of str
        Training labels without background, index = 0-based label.

    Returns
    -------
    evalcore.learn.detection.StructuredResult

    Raises
    ------
    ModelError
        The heat map has more classes than ``class_names``.
    """
    from evalcore.learn.detection import StructuredResult

    labels = result.labels.tolist()
    if labels and max(labels) >= len(class_names):
        raise ModelError(f"fomo label index {max(labels)} has no class name ({len(class_names)} classes)")
    return StructuredResult(
        boxes=result.boxes.tolist(),
        labels=[class_names[i] for i in labels],
        scores=result.scores.tolist(),
        map_score=result.map_score,
        f1=result.f1,
        precision=result.precision,
        recall=result.recall,
        debug_info_json=result.debug_info_json,
    )


def _as_heatmap(heatmap) -> np.ndarray:
    """Validate the model output and return a float64 (H, W, K) copy."""
    grid = np.asarray(heatmap)
    if grid.ndim == 4 and grid.shape[0] == 1:
        grid = grid[0]
    if grid.ndim != 3:
        raise ModelError(f"fomo output must have shape (H, W, K) or (1, H, W, K), got {np.shape(heatmap)}")
    if not np.issubdtype(grid.dtype, np.floating):
        raise ModelError(f"fomo output must be dequantised floats, got dtype {grid.dtype}")
    return np.ascontiguousarray(grid, dtype=np.float64)


