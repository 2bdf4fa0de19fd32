"""FOMO on the map side: heat map -> boxes.

:func:`decode_fomo` fuses the cells of a heat map into boxes (Edge Impulse's
``run_segmentation_inference``, step 1 of shared/golden/README.md "fomo"); the scoring against
ground truth (steps 2–5) is :func:`evalcore.metrics.fomo.score_fomo_detections`, in the reduce,
and ``evalcore.report.boxes`` writes Studio's entries of the scored image.
"""

from __future__ import annotations

import numpy as np

from evalcore.errors import ModelError

__all__ = ["decode_fomo", "heatmap_shape"]


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


def heatmap_shape(heatmap) -> tuple[int, int, int]:
    """(H, W, K) of a FOMO output, checked as :func:`decode_fomo` checks it."""
    return tuple(int(n) for n in _as_heatmap(heatmap).shape)
