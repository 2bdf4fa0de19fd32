"""YOLO heads as Edge Impulse's classify job decodes them (``ei_tensorflow/inference.py``).

Facts carried over (reference/ei-semantics.md Q3, shared/golden/README.md "Not covered"):

- **yolov5** (EI "v6" path) / **yolov5v5-drpai** (EI "v5" path): rows ``(cx, cy, w, h,
  objectness, class scores...)``. The score is the **objectness alone** and the class the
  argmax of the class scores. Kept when ``threshold <= score <= 1``. The v6 path's
  coordinates are already 0..1; the v5 path's are pixels, divided by width (x) and height (y).
- **yolox**: raw grid output decoded with strides 8/16/32 (``xy = (xy + grid) * stride``,
  ``wh = exp(wh) * stride``), score = objectness × class score (max over classes), an
  internal pre-filter ``score > 0.01``, pixel corners truncated with ``int()``, divided by
  the input width, then ``threshold <= score <= 1``.
- yolov5 and yolox then run per-class NMS (:func:`per_class_nms`: classes ascending, IoU 0.4,
  score threshold 0.001, boxes multiplied by the input **width** on both axes, float32).
- **yolov7**: rows ``(batch, xmin, ymin, xmax, ymax, class, score)`` in pixels; divided by
  width/height; **no threshold and no NMS** (a quirk of EI's ``process_output_yolov7``).

All arithmetic before NMS is float64 on the float32 model values, as EI's numpy code does.
Letters: N rows of the raw output, K classes, D detections.
"""

from __future__ import annotations

import numpy as np

from evalcore.errors import ModelError
from evalcore.outcome import Detections

__all__ = [
    "decode_yolov5",
    "decode_yolox",
    "decode_yolov7",
    "per_class_nms",
    "NMS_IOU_THRESHOLD",
    "NMS_SCORE_THRESHOLD",
]

#: IoU and score thresholds EI passes to ``tf.image.non_max_suppression``.
NMS_IOU_THRESHOLD = 0.4
NMS_SCORE_THRESHOLD = 0.001

_YOLOX_STRIDES = (8, 16, 32)


def decode_yolov5(output, input_width: int, input_height: int, threshold: float, *, version: int = 6) -> Detections:
    """Decode an EI YOLOv5 output of shape (1, N, 5+K) or (N, 5+K).

    Parameters
    ----------
    output : float array
    input_width, input_height : int
    threshold : float
        Kept when ``threshold <= objectness <= 1``.
    version : {6, 5}
        6 = ``yolov5`` (normalised coordinates), 5 = ``yolov5v5-drpai`` (pixel coordinates).

    Returns
    -------
    Detections
        Per class ascending, NMS selection order within a class.
    """
    rows = _rows(output, "yolov5", min_cols=6)
    cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    scores = rows[:, 4]
    classes = np.argmax(rows[:, 5:], axis=1).astype(np.int32)
    xmin, ymin, xmax, ymax = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    keep = (scores >= float(threshold)) & (scores <= 1.0)
    if version == 5:
        xmin, xmax = xmin / input_width, xmax / input_width
        ymin, ymax = ymin / input_height, ymax / input_height
    elif version != 6:
        raise ModelError(f"yolov5 decoding needs version 5 or 6, got {version}")
    boxes = np.stack([ymin, xmin, ymax, xmax], axis=1)[keep]
    return per_class_nms(boxes, classes[keep], scores[keep], input_width)


def decode_yolox(output, input_size: int, threshold: float) -> Detections:
    """Decode a raw YOLOX output of shape (1, N, 5+K) or (N, 5+K) for a square input.

    Parameters
    ----------
    output : float array
        N must be Σ over strides 8/16/32 of ``(input_size // stride) ** 2``.
    input_size : int
        Input width (EI assumes a square input and uses the width only).
    threshold : float

    Returns
    -------
    Detections
    """
    rows = _rows(output, "yolox", min_cols=6)
    grid, strides = _yolox_grid(input_size)
    if grid.shape[0] != rows.shape[0]:
        raise ModelError(
            f"yolox output has {rows.shape[0]} rows, a {input_size}px input with strides 8/16/32 gives {grid.shape[0]}"
        )
    centre = (rows[:, 0:2] + grid) * strides
    size = np.exp(rows[:, 2:4]) * strides
    class_scores = rows[:, 4:5] * rows[:, 5:]
    classes = np.argmax(class_scores, axis=1)
    scores = class_scores[np.arange(classes.shape[0]), classes]
    corners = np.stack(
        [
            centre[:, 0] - size[:, 0] / 2.0,
            centre[:, 1] - size[:, 1] / 2.0,
            centre[:, 0] + size[:, 0] / 2.0,
            centre[:, 1] + size[:, 1] / 2.0,
        ],
        axis=1,
    )
    pre = scores > 0.01
    # EI casts pixel corners with int() (truncation toward zero), then divides by the width;
    # "+ 0.0" turns trunc's -0.0 into int()'s 0
    pixel = (np.trunc(corners[pre]) + 0.0) / input_size
    scores, classes = scores[pre], classes[pre].astype(np.int32)
    keep = (scores >= float(threshold)) & (scores <= 1.0)
    boxes = pixel[:, [1, 0, 3, 2]][keep]
    return per_class_nms(boxes, classes[keep], scores[keep], input_size)


def decode_yolov7(output, input_width: int, input_height: int) -> Detections:
    """Decode an EI YOLOv7 output: rows ``(batch, xmin, ymin, xmax, ymax, class, score)`` in pixels.

    No threshold and no NMS are applied: EI's ``process_output_yolov7`` ignores the block's
    minimum confidence rating (quirk reproduced). Accepts (N, 7) or (1, N, 7).

    Returns
    -------
    Detections
        In the model's row order.
    """
    rows = np.asarray(output, dtype=np.float64)
    if rows.ndim == 3 and rows.shape[0] == 1:
        rows = rows[0]
    if rows.ndim != 2 or rows.shape[1] != 7:
        raise ModelError(f"yolov7 output must have shape (N, 7), got {np.shape(output)}")
    boxes = np.stack(
        [rows[:, 2] / input_height, rows[:, 1] / input_width, rows[:, 4] / input_height, rows[:, 3] / input_width],
        axis=1,
    )
    return Detections(boxes, np.trunc(rows[:, 5]).astype(np.int32), rows[:, 6].copy())


def per_class_nms(boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray, width_height: int) -> Detections:
    """EI's ``object_detection_nms``: per class (ascending), TF NMS on boxes × ``width_height``.

    Parameters
    ----------
    boxes : float64 array of shape (D, 4)
        ``[ymin, xmin, ymax, xmax]`` normalised.
    labels : int32 array of shape (D,)
    scores : float64 array of shape (D,)
    width_height : int
        The input width; both axes are scaled by it (EI quirk; IoU is nearly scale-free, but
        the float32 rounding of the scaled boxes is what TF saw).

    Returns
    -------
    Detections
        Kept boxes with their original float64 coordinates and scores.
    """
    from kernels.nms import non_max_suppression

    kept = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        # tf.image.non_max_suppression converts float64 inputs to float32 tensors
        scaled = (boxes[idx] * width_height).astype(np.float32)
        selected = non_max_suppression(
            scaled, scores[idx].astype(np.float32), idx.shape[0], NMS_IOU_THRESHOLD, NMS_SCORE_THRESHOLD
        )
        kept.append(idx[selected])
    order = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    return Detections(boxes[order].reshape(-1, 4), labels[order].astype(np.int32), scores[order])


def _rows(output, name: str, *, min_cols: int) -> np.ndarray:
    """The (N, 5+K) float64 rows of a YOLO output with an optional batch dimension of 1."""
    rows = np.asarray(output)
    if rows.ndim == 3 and rows.shape[0] == 1:
        rows = rows[0]
    if rows.ndim != 2 or rows.shape[1] < min_cols:
        raise ModelError(f"{name} output must have shape (N, 5 + n_classes), got {np.shape(output)}")
    if not np.issubdtype(rows.dtype, np.floating):
        raise ModelError(f"{name} output must be dequantised floats, got dtype {rows.dtype}")
    return rows.astype(np.float64)


def _yolox_grid(input_size: int):
    """Cell offsets (x = column, y = row) and strides for strides 8/16/32, row-major per level."""
    grids, strides = [], []
    for stride in _YOLOX_STRIDES:
        n_cells = input_size // stride
        ys, xs = np.meshgrid(np.arange(n_cells), np.arange(n_cells), indexing="ij")
        grids.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full((n_cells * n_cells, 1), stride))
    return np.concatenate(grids), np.concatenate(strides)
