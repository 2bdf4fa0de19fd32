"""The response's pieces of a decoded image: ``details``, ``structuredResult``, ``boundingBoxes``.

The map decodes a detector's outputs into ``evalcore.outcome.Detections``; the reduce scores them
(``evalcore.metrics``) and writes them with these helpers, as Studio's API models name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalcore.errors import ModelError
from evalcore.outcome import BoxWithScore, Detections

__all__ = ["DetectionDetails", "StructuredResult", "detection_details", "fomo_details", "fomo_detections",
           "fomo_structured_result", "prediction_bounding_boxes"]


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


def fomo_detections(result):
    """A scored image's predicted boxes as :class:`evalcore.outcome.Detections`.

    ``result`` is an :class:`evalcore.metrics.fomo.FomoSampleResult` (read by attribute).
    """
    return Detections(result.boxes, result.labels, result.scores)


def fomo_details(result):
    """Studio ``details`` entry for a FOMO image: boxes, 0-based labels, scores, ``mAP`` = F1, F1.

    Parameters
    ----------
    result : evalcore.metrics.fomo.FomoSampleResult

    Returns
    -------
    DetectionDetails
    """
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
    StructuredResult

    Raises
    ------
    ModelError
        The heat map has more classes than ``class_names``.
    """
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
