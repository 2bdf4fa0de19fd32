# API models ClassifySampleResponseClassification, ImpulseLearnBlock, AnomalyResult, BlockThreshold,
# BlockThresholdDropdownOptionsInner, BlockThresholdValue,
# ClassifySampleResponseClassificationDetails, StructuredClassifyResult and BoundingBoxWithScore of
# edgeimpulse-api 1.96.3.
"""The per-learn-block classification of one sample, and the models nested in it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from evalcore.schema._base import REQUIRED_ON_WRITE, StudioModel, required_on_write
from evalcore.schema.enums import (
    ExperimentalImpulseSpecificGpuTrainingProcessor,
    LearnBlockType,
    ObjectDetectionLastLayer,
)
from evalcore.schema.sample import StructuredLabel

__all__ = [
    "ClassifySampleResponseClassification",
    "ImpulseLearnBlock",
    "AnomalyResult",
    "BlockThreshold",
    "BlockThresholdDropdownOptionsInner",
    "BlockThresholdValue",
    "ClassifySampleResponseClassificationDetails",
    "StructuredClassifyResult",
    "BoundingBoxWithScore",
]

BlockThresholdValue = StrictFloat | StrictStr
"""API oneOf ``BlockThresholdValue``: a number or a string (a JSON number stays a number)."""


class BoundingBoxWithScore(StudioModel):
    """API model ``BoundingBoxWithScore``: a predicted box, coordinates as ratios 0..1."""

    label: StrictStr
    """Predicted class."""
    x: StrictFloat
    """Left edge, fraction of the width."""
    y: StrictFloat
    """Top edge, fraction of the height."""
    width: StrictFloat
    """Width, fraction of the width."""
    height: StrictFloat
    """Height, fraction of the height."""
    score: StrictFloat
    """Confidence."""


class ImpulseLearnBlock(StudioModel):
    """API model ``ImpulseLearnBlock``: the learn block a classification belongs to.

    Notes
    -----
    ``description`` is not in 1.96.3; the older API (the seed document) has it after ``title``.
    It is kept as an optional field so both generations read and write back unchanged.
    """

    id: Annotated[StrictInt, Field(ge=1)]
    """Learn block id (>= 1)."""
    type: LearnBlockType
    """Kind of learn block."""
    name: StrictStr
    """Block name."""
    dsp: list[StrictInt]
    """Ids of the DSP blocks feeding the block."""
    title: StrictStr
    """Block title."""
    description: StrictStr | None = None
    """Block description (older API only; not in 1.96.3)."""
    created_by: StrictStr | None = None
    """Component that created the block."""
    created_at: AwareDatetime | None = None
    """When the block was created."""
    training_processor: ExperimentalImpulseSpecificGpuTrainingProcessor | None = None
    """Processor the block trains on."""


class AnomalyResult(StudioModel):
    """API model ``AnomalyResult``: visual anomaly detection output of one window."""

    boxes: list[BoundingBoxWithScore] | None = None
    """Anomalous regions above the block's threshold."""
    scores: list[list[StrictFloat]] | None = None
    """Raw anomaly score grid, shape (n, n)."""
    mean_score: StrictFloat | None = None
    """Mean of the grid."""
    max_score: StrictFloat | None = None
    """Maximum of the grid."""


class StructuredClassifyResult(StudioModel):
    """API model ``StructuredClassifyResult``: object-detection output of one window."""

    boxes: list[list[StrictFloat]]
    """Predicted boxes, one array per detection."""
    labels: list[StrictStr] | None = None
    """Predicted label per detection."""
    scores: list[StrictFloat]
    """Score per detection."""
    m_ap: StrictFloat = Field(alias="mAP")
    """mAP against the ground truth."""
    f1: StrictFloat
    """F1 against the ground truth (FOMO)."""
    precision: StrictFloat
    """Precision against the ground truth."""
    recall: StrictFloat
    """Recall against the ground truth."""
    debug_info_json: StrictStr | None = Field(None, alias="debugInfoJson")
    """Matching details as a JSON string."""


class BlockThresholdDropdownOptionsInner(StudioModel):
    """API model ``BlockThresholdDropdownOptionsInner``: one choice of a threshold dropdown."""

    description: StrictStr
    """Text shown for the choice."""
    value: StrictStr
    """Value written to the threshold."""


class BlockThreshold(StudioModel):
    """API model ``BlockThreshold``: a configurable threshold of a learn block."""

    key: StrictStr
    """Threshold identifier."""
    description: StrictStr
    """Short description."""
    help_text: StrictStr
    """Longer help text."""
    suggested_value: StrictFloat | None = None
    """Suggested numeric value."""
    suggested_value_text: StrictStr | None = None
    """Text explaining the suggested value."""
    value: BlockThresholdValue
    """Current value (number or string)."""
    dropdown_options: list[BlockThresholdDropdownOptionsInner] | None = None
    """Choices, when the threshold is a dropdown."""


class ClassifySampleResponseClassificationDetails(StudioModel):
    """API model ``ClassifySampleResponseClassificationDetails``: per-window detection metrics."""

    boxes: list[list[StrictFloat]] | None = None
    """Predicted boxes."""
    labels: list[StrictFloat] | None = None
    """Predicted label indices (numbers, not names)."""
    scores: list[StrictFloat] | None = None
    """Score per box."""
    m_ap: StrictFloat | None = Field(None, alias="mAP")
    """COCO mAP of this image (object detection)."""
    f1: StrictFloat | None = None
    """F1 of this image (FOMO)."""


class ClassifySampleResponseClassification(StudioModel):
    """API model ``ClassifySampleResponseClassification``: one learn block's output for a sample.

    Notes
    -----
    ``thresholds``, ``intervalMs``, ``frequencyHz`` and ``resultCount`` are required in 1.96.3 but
    missing from the older API snapshot (the seed document); they may be absent only in reading
    mode (see `evalcore.schema._base`).
    """

    learn_block: ImpulseLearnBlock
    """The learn block."""
    result: list[dict[str, StrictFloat]]
    """Score per label, one mapping per window."""
    anomaly_result: list[AnomalyResult] | None = None
    """Visual anomaly output, one per window."""
    structured_result: list[StructuredClassifyResult] | None = None
    """Object-detection output, one per window."""
    minimum_confidence_rating: StrictFloat
    """Deprecated single threshold (still required)."""
    details: list[ClassifySampleResponseClassificationDetails] | None = None
    """Per-window detection metrics."""
    object_detection_last_layer: ObjectDetectionLastLayer | None = None
    """Detector head of an object-detection block."""
    expected_labels: list[StructuredLabel]
    """Expected label per window."""
    expected_anomaly_outcome: list[StructuredLabel] | None = None
    """Expected ``anomaly`` / ``no anomaly`` per window."""
    thresholds: Annotated[list[BlockThreshold] | None, REQUIRED_ON_WRITE] = (
        required_on_write()
    )
    """The block's thresholds (required in 1.96.3; the seed document lacks it)."""
    is_multi_label: StrictBool | None = None
    """Whether the block is multi-label."""
    interval_ms: Annotated[StrictFloat | None, REQUIRED_ON_WRITE] = required_on_write()
    """Time between two ``expectedLabels`` windows in ms (required in 1.96.3)."""
    frequency_hz: Annotated[StrictFloat | None, REQUIRED_ON_WRITE] = required_on_write()
    """Windows per second of ``expectedLabels`` (required in 1.96.3)."""
    label_map_result: list[dict[str, StrictStr]] | None = None
    """Key/value prediction per window (label-map projects)."""
    label_map_scores: list[dict[str, dict[str, StrictFloat]]] | None = None
    """Key/value scores per window (label-map projects)."""
    result_count: Annotated[StrictInt | None, REQUIRED_ON_WRITE] = required_on_write()
    """Number of result windows, may exceed ``len(result)`` (required in 1.96.3)."""
