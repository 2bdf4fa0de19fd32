"""Visual anomaly (FOMO-AD) per-sample numbers: mean/max score, cell boxes, prediction."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.errors import ModelError
from evalcore.learn.visual_anomaly import visual_anomaly_result


def test_boxes_threshold_inclusive_row_major_and_pixel_coordinates():
    """Cells with score >= thr become boxes at col*inW/n, row*inH/n; order is row-major."""
    grid = np.array([[0.1, 0.5, 0.2], [0.7, 0.49, 0.0], [0.0, 0.0, 0.9]], np.float32)
    result = visual_anomaly_result(grid, 0.5, 96, 48)
    got = [(b.label, b.x, b.y, b.width, b.height, b.score) for b in result.boxes]
    assert got == [
        ("anomaly", 32.0, 0.0, 32.0, 16.0, float(np.float32(0.5))),
        ("anomaly", 0.0, 16.0, 32.0, 16.0, float(np.float32(0.7))),
        ("anomaly", 64.0, 32.0, 32.0, 16.0, float(np.float32(0.9))),
    ]
    assert result.prediction == "anomaly" and result.is_anomaly
    assert result.scores == grid.astype(np.float64).tolist(), "anomalyScores must be the raw grid"


def test_mean_and_max_with_sdk_zero_start():
    """Mean is the row-major float64 sum / n; max starts at 0 so an all-negative grid reports 0."""
    grid = np.array([[-0.3, -0.1], [-0.2, -0.4]], np.float32)
    result = visual_anomaly_result(grid[None, :, :, None], 0.5, 32, 32)
    values = grid.astype(np.float64).ravel().tolist()
    assert result.mean_score == (((values[0] + values[1]) + values[2]) + values[3]) / 4
    assert result.max_score == 0.0
    assert result.boxes == [] and result.prediction == "no anomaly" and not result.is_anomaly


def test_sdk_arithmetic_float32_mean_and_integer_boxes():
    """The SDK variant sums in float32 and truncates box fields to integers (100 px / 3 cells)."""
    grid = np.full((3, 3), 0.1, np.float32)
    grid[1, 2] = 0.8
    sdk = visual_anomaly_result(grid, 0.5, 100, 100, box_arithmetic="sdk")
    total = np.float32(0.0)
    for v in grid.ravel():
        total = np.float32(total + v)
    assert sdk.mean_score == float(np.float32(total / np.float32(9)))
    ((box),) = sdk.boxes
    assert (box.x, box.y, box.width, box.height) == (66, 33, 33, 33)
    plain = visual_anomaly_result(grid, 0.5, 100, 100)
    assert (plain.boxes[0].x, plain.boxes[0].width) == (200 / 3, 100 / 3)


def test_bad_outputs_raise_model_error():
    """Non-grid or integer outputs and an unknown arithmetic option must raise ModelError."""
    with pytest.raises(ModelError):
        visual_anomaly_result(np.zeros((2, 3, 4), np.float32), 0.5, 96, 96)
    with pytest.raises(ModelError):
        visual_anomaly_result(np.zeros((3, 3), np.int8), 0.5, 96, 96)
    with pytest.raises(ModelError):
        visual_anomaly_result(np.zeros((3, 3), np.float32), 0.5, 96, 96, box_arithmetic="js")
