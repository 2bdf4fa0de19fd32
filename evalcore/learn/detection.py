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

from collections.abc import Mapping

import numpy as np

from evalcore.errors import ModelError
from evalcore.outcome import Detections

__all__ = [
    "SUPPORTED_LAST_LAYERS",
    "decode_detections",
    "decode_mobilenet_ssd",
]

SUPPORTED_LAST_LAYERS = ("mobilenet-ssd", "yolov5", "yolov5v5-drpai", "yolox", "yolov7", "fomo")

# TFLite SSD output names EI reads (``process_output_object_detection``): scores, classes, boxes.
_SSD_NAMES = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:3")


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
