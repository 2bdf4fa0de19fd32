"""Object-detection decoding: model outputs -> per-sample ``Detections`` and Studio's pieces.

One entry point, :func:`decode_detections`, dispatches on the learn block's
``objectDetectionLastLayer`` the way Edge Impulse's classify job does (``ei_tensorflow/inference.py``
``run_model``; reference/ei-semantics.md Q3):

- ``mobilenet-ssd``: boxes/classes/scores tensors, kept when ``score >= threshold``;
- ``yolov5`` / ``yolov5v5-drpai`` / ``yolox`` / ``yolov7``: :mod:`evalcore.learn.yolo`;
- ``fomo``: heat map (:func:`evalcore.learn.fomo.decode_fomo`).

Every other last layer (``yolov2-akida``, ``tao-*``, ``yolo-pro``, ``yolov11*``, ...) raises
:class:`evalcore.errors.ModelError` naming it. Decoders expect dequantised float outputs (EI
dequantises the int8 variant in float32 with the first output tensor's scale/zero point).

Not reproduced on purpose: EI's classify job raises when the threshold is 0 (``if not
minimum_confidence_rating``) and crashes on a YOLOv7 output with exactly one row (its batch
squeeze removes the row dimension); here a 0 threshold keeps everything and one row decodes.

The output dataclasses mirror the Studio API models the report writes
(``ClassifySampleResponseClassificationDetails``, ``StructuredClassifyResult``,
``BoundingBoxWithScore``); the report maps them to the pydantic schema.

Letters: D detections, K classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from evalcore.errors import ModelError

__all__ = [
    "Detections",
    "BoxWithScore",
    "DetectionDetails",
    "StructuredResult",
    "SUPPORTED_LAST_LAYERS",
    "decode_detections",
    "decode_mobilenet_ssd",
    "detection_details",
    "prediction_bounding_boxes",
]

SUPPORTED_LAST_LAYERS = ("mobilenet-ssd", "yolov5", "yolov5v5-drpai", "yolox", "yolov7", "fomo")

# TFLite SSD output names EI reads (``process_output_object_detection``): scores, classes, boxes.
_SSD_NAMES = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:3")


@dataclass(frozen=True)
class Detections:
    """Detections of one sample after the architecture's own filter / NMS.

    Attributes
    ----------
    boxes : float64 array of shape (D, 4)
        ``[ymin, xmin, ymax, xmax]`` normalised to the model input (not clipped).
    labels : int32 array of shape (D,)
        0-based training class index.
    scores : float64 array of shape (D,)
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4)), np.zeros(0, dtype=np.int32), np.zeros(0))

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class BoxWithScore:
    """Studio ``BoundingBoxWithScore``: ``label`` name, box and score.

    In ``predictions[].boundingBoxes`` x/y/width/height are ratios of the input (0..1); in a
    visual-anomaly ``AnomalyResult.boxes`` they are input pixels.
    """

    label: str
    x: float
    y: float
    width: float
    height: float
    score: float


@dataclass(frozen=True)
class DetectionDetails:
    """Studio ``ClassifySampleResponseClassificationDetails`` (one per image).

    ``boxes`` are ``[ymin, xmin, ymax, xmax]`` lists, ``labels`` 0-based numbers;
    ``map_score`` is the ``mAP`` key, ``f1`` the ``f1`` key (None = omitted).
    """

    boxes: list
    labels: list
    scores: list
    map_score: float | None = None
    f1: float | None = None


@dataclass(frozen=True)
class StructuredResult:
    """Studio ``StructuredClassifyResult`` (FOMO): labels as class names; ``mAP`` = F1."""

    boxes: list
    labels: list
    scores: list
    map_score: float
    f1: float
    precision: float
    recall: float
    debug_info_json: str | None = None


def decode_detections(
    last_layer: str,
    outputs,
    *,
    input_width: int,
    input_height: int,
    threshold: float,
) -> Detections:
    """Decode one sample's model outputs for the given object-detection last layer.

    Parameters
    ----------
    last_layer : str
        The learn block's ``objectDetectionLastLayer``.
    outputs : mapping of str to array, or sequence of arrays
        The model's output tensors in model order (a mapping keeps names, which
        ``mobilenet-ssd`` uses). Every other head uses the first output only, as EI does.
    input_width, input_height : int
        Model input size in pixels.
    threshold : float
        The block's minimum confidence rating.

    Returns
    -------
    Detections

    Raises
    ------
    ModelError
        The last layer is not supported, or the output shape does not fit it.
    """
    tensors = _output_list(outputs)
    if last_layer == "mobilenet-ssd":
        scores, classes, boxes = _ssd_tensors(outputs, tensors)
        return decode_mobilenet_ssd(boxes, classes, scores, threshold)
    if last_layer == "fomo":
        from evalcore.learn.fomo import decode_fomo

        return Detections(*decode_fomo(tensors[0], threshold))
    if last_layer in ("yolov5", "yolov5v5-drpai", "yolox", "yolov7"):
        from evalcore.learn import yolo

        if last_layer == "yolov5":
            return yolo.decode_yolov5(tensors[0], input_width, input_height, threshold, version=6)
        if last_layer == "yolov5v5-drpai":
            return yolo.decode_yolov5(tensors[0], input_width, input_height, threshold, version=5)
        if last_layer == "yolox":
            return yolo.decode_yolox(tensors[0], input_width, threshold)
        return yolo.decode_yolov7(tensors[0], input_width, input_height)
    raise ModelError(
        f"object detection last layer {last_layer!r} is not supported "
        f"(supported: {', '.join(SUPPORTED_LAST_LAYERS)})"
    )


def decode_mobilenet_ssd(boxes, classes, scores, threshold: float) -> Detections:
    """MobileNet SSD (TFLite detection post-process): keep detections with ``score >= threshold``.

    Parameters
    ----------
    boxes : float array of shape (1, N, 4) or (N, 4)
        ``[ymin, xmin, ymax, xmax]`` normalised.
    classes : float array of shape (1, N) or (N,)
        0-based class index as floats; truncated with ``int()`` as EI does.
    scores : float array of shape (1, N) or (N,)
    threshold : float

    Returns
    -------
    Detections
        In the model's order (no NMS here: the SSD graph already did it).
    """
    rects = _drop_batch(np.asarray(boxes, dtype=np.float64), 3)
    labels = _drop_batch(np.asarray(classes, dtype=np.float64), 2)
    conf = _drop_batch(np.asarray(scores, dtype=np.float64), 2)
    if rects.ndim != 2 or rects.shape[1] != 4 or labels.shape != conf.shape or conf.shape[0] != rects.shape[0]:
        raise ModelError(
            f"mobilenet-ssd outputs must be boxes (N, 4), classes (N,), scores (N,); got "
            f"{np.shape(boxes)}, {np.shape(classes)}, {np.shape(scores)}"
        )
    keep = conf >= float(threshold)
    return Detections(rects[keep].copy(), np.trunc(labels[keep]).astype(np.int32), conf[keep].copy())


def detection_details(detections: Detections, *, map_score: float | None = None, f1: float | None = None):
    """Studio ``details`` entry for one image.

    Parameters
    ----------
    detections : Detections
    map_score : float, optional
        Per-image mAP (``evalcore.metrics.ei_map.per_image_map`` for non-FOMO heads; F1 for FOMO).
    f1 : float, optional
        Per-image F1 when the head has one (FOMO); omitted otherwise.

    Returns
    -------
    DetectionDetails
    """
    return DetectionDetails(
        boxes=detections.boxes.tolist(),
        labels=detections.labels.tolist(),
        scores=detections.scores.tolist(),
        map_score=None if map_score is None else float(map_score),
        f1=None if f1 is None else float(f1),
    )


def prediction_bounding_boxes(detections: Detections, class_names: Sequence[str]) -> list:
    """``predictions[].boundingBoxes``: ratios of the input, not clipped.

    x = xmin, y = ymin, width = xmax − xmin, height = ymax − ymin (float64 arithmetic).

    Raises
    ------
    ModelError
        A label index has no class name.
    """
    out = []
    for (ymin, xmin, ymax, xmax), label, score in zip(
        detections.boxes.tolist(), detections.labels.tolist(), detections.scores.tolist()
    ):
        if not 0 <= label < len(class_names):
            raise ModelError(f"detection label index {label} has no class name ({len(class_names)} classes)")
        out.append(BoxWithScore(class_names[label], xmin, ymin, xmax - xmin, ymax - ymin, score))
    return out


def _output_list(outputs) -> list:
    """Output tensors as a list in model order."""
    if isinstance(outputs, Mapping):
        tensors = list(outputs.values())
    elif isinstance(outputs, np.ndarray):
        tensors = [outputs]
    else:
        tensors = list(outputs)
    if not tensors:
        raise ModelError("the model returned no output tensors")
    return tensors


def _ssd_tensors(outputs, tensors):
    """(scores, classes, boxes) by EI's tensor names, else EI's legacy order (boxes, classes, scores)."""
    if isinstance(outputs, Mapping) and all(name in outputs for name in _SSD_NAMES):
        return tuple(outputs[name] for name in _SSD_NAMES)
    if len(tensors) < 3:
        raise ModelError(f"mobilenet-ssd needs 3 output tensors (boxes, classes, scores), got {len(tensors)}")
    return tensors[2], tensors[1], tensors[0]


def _drop_batch(array: np.ndarray, batched_ndim: int) -> np.ndarray:
    """Remove a leading batch dimension of 1 when the array has ``batched_ndim`` dimensions."""
    if array.ndim == batched_ndim and array.shape[0] == 1:
        return array[0]
    return array
