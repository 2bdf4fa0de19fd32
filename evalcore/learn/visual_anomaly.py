"""Visual anomaly detection (FOMO-AD) per sample: score grid -> Studio's ``AnomalyResult``.

From reference/ei-semantics.md Q5 ([SDK] ``fill_result_visual_ad_struct_f32``, [API-CJR]
``AnomalyResult``, [MOB] prediction rule):

- ``meanScore`` = mean of the n×m grid; ``maxScore`` = max of the grid with the running max
  started at **0** (as the SDK does), so an all-negative grid reports 0;
- ``boxes``: one per cell with score **>=** threshold, row-major, label ``"anomaly"``,
  x = col·inW/grid_cols, y = row·inH/grid_rows, width = inW/grid_cols,
  height = inH/grid_rows (pixels of the model input, float division);
- the sample is predicted ``"anomaly"`` iff at least one box exists, else ``"no anomaly"``;
- ``predictions[].anomalyScores`` is the grid itself.

Open point (documented choice): Studio's own arithmetic is not public. This module uses
float64 with a row-major sequential sum for the mean and float box coordinates. The C++ SDK
differs in float32 sums and **integer** box fields (``x = uint32(col · (float(inH) / n))``,
``y = uint32(row · (float(inW) / n))``, width = ``inW // n``; note it scales the column by
the height and the row by the width, equal for square inputs); pass
``box_arithmetic="sdk"`` to get those numbers instead (meant for square grids).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.errors import ModelError
from evalcore.outcome import BoxWithScore

__all__ = ["VisualAnomalyResult", "visual_anomaly_result", "ANOMALY_LABEL", "NO_ANOMALY_LABEL"]

ANOMALY_LABEL = "anomaly"
NO_ANOMALY_LABEL = "no anomaly"


@dataclass(frozen=True)
class VisualAnomalyResult:
    """One sample's visual-AD outcome (Studio ``AnomalyResult`` + the prediction).

    Attributes
    ----------
    scores : list of list of float
        The grid, row-major (``AnomalyResult.scores`` and ``predictions[].anomalyScores``).
    mean_score, max_score : float
    boxes : list of BoxWithScore
        Cells with score >= threshold, in input pixels.
    prediction : str
        ``"anomaly"`` or ``"no anomaly"``.
    """

    scores: list
    mean_score: float
    max_score: float
    boxes: list
    prediction: str

    @property
    def is_anomaly(self) -> bool:
        """True when at least one cell reached the threshold."""
        return self.prediction == ANOMALY_LABEL


def visual_anomaly_result(
    grid,
    threshold: float,
    input_width: int,
    input_height: int,
    *,
    box_arithmetic: str = "float",
) -> VisualAnomalyResult:
    """Studio's per-sample visual anomaly numbers from the model's score grid.

    Parameters
    ----------
    grid : float array of shape (n, m), or with leading/trailing dimensions of 1
        Per-cell anomaly scores (e.g. (1, n, n, 1) from the model).
    threshold : float
        The block's minimum confidence rating; cells with score >= threshold become boxes.
    input_width, input_height : int
        Model input size in pixels.
    box_arithmetic : {"float", "sdk"}, default "float"
        ``"float"``: float64 mean and float box fields (the documented reading);
        ``"sdk"``: the C++ SDK's float32 mean and truncated integer box fields.

    Returns
    -------
    VisualAnomalyResult

    Raises
    ------
    ModelError
        The grid is not 2-D after squeezing, or not floating point.
    """
    cells = _as_grid(grid)
    n_rows, n_cols = cells.shape
    thr = float(threshold)
    if box_arithmetic == "sdk":
        flat32 = cells.astype(np.float32).ravel()
        total = np.float32(0.0)
        for value in flat32:
            total = np.float32(total + value)
        mean_score = float(np.float32(total / np.float32(flat32.shape[0])))
        max_score = float(max(np.float32(0.0), flat32.max(initial=np.float32(0.0))))
        hits = cells.astype(np.float32) >= np.float32(thr)  # the SDK compares in float32
    elif box_arithmetic == "float":
        total = 0.0
        for value in cells.ravel().tolist():
            total += value
        mean_score = total / cells.size
        max_score = max(0.0, float(cells.max(initial=0.0)))
        hits = cells >= thr
    else:
        raise ModelError(f"box_arithmetic must be 'float' or 'sdk', got {box_arithmetic!r}")
    boxes = []
    for r, c in zip(*np.nonzero(hits)):
        score = float(cells[r, c])
        if box_arithmetic == "sdk":
            # SDK (square grids): column scaled by float(inH)/n, row by float(inW)/n, in
            # float32, truncated to uint32; width/height are integer divisions
            x = int(np.float32(c) * (np.float32(input_height) / np.float32(n_cols)))
            y = int(np.float32(r) * (np.float32(input_width) / np.float32(n_rows)))
            width = input_width // n_rows
            height = input_height // n_cols
        else:
            x = c * input_width / n_cols
            y = r * input_height / n_rows
            width = input_width / n_cols
            height = input_height / n_rows
        boxes.append(BoxWithScore(ANOMALY_LABEL, float(x), float(y), float(width), float(height), score))
    return VisualAnomalyResult(
        scores=cells.tolist(),
        mean_score=float(mean_score),
        max_score=float(max_score),
        boxes=boxes,
        prediction=ANOMALY_LABEL if boxes else NO_ANOMALY_LABEL,
    )


def _as_grid(grid) -> np.ndarray:
    """Squeeze the model output to a float64 (n, m) grid."""
    cells = np.asarray(grid)
    if cells.ndim > 2:
        cells = cells.reshape([d for d in cells.shape if d != 1] or [1, 1])
    if cells.ndim == 1 and cells.shape[0] == 1:
        cells = cells.reshape(1, 1)
    if cells.ndim != 2 or cells.size == 0:
        raise ModelError(f"visual anomaly output must be an (n, m) score grid, got shape {np.shape(grid)}")
    if not np.issubdtype(cells.dtype, np.floating):
        raise ModelError(f"visual anomaly output must be dequantised floats, got dtype {cells.dtype}")
    return cells.astype(np.float64)
