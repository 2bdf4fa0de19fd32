# API models ClassifyJobResponse, ClassifyJobResponsePage, ClassifyJobResponseAllOfAccuracy,
# ClassifyJobResponseAllOfAccuracyTotalSummary,
# ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock, AdditionalMetric, ModelResult and
# ModelPrediction of edgeimpulse-api 1.96.3.
"""The model-testing result: ``GET /v1/api/{projectId}/classify/all/result`` and its paged form."""

from __future__ import annotations

from pydantic import StrictBool, StrictFloat, StrictInt, StrictStr

from evalcore.schema._base import StudioModel
from evalcore.schema.classification import (
    BoundingBoxWithScore,
    ClassifySampleResponseClassification,
)
from evalcore.schema.enums import KerasModelVariantEnum, NoResultsBecauseThresholdsChanged
from evalcore.schema.sample import Sample

__all__ = [
    "ClassifyJobResponse",
    "ClassifyJobResponsePage",
    "ClassifyJobResponseAllOfAccuracy",
    "ClassifyJobResponseAllOfAccuracyTotalSummary",
    "ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock",
    "AdditionalMetric",
    "ModelResult",
    "ModelPrediction",
]


class ModelPrediction(StudioModel):
    """API model ``ModelPrediction``: one row per (sample, window) of the result table."""

    sample_id: StrictInt
    """Sample id."""
    start_ms: StrictFloat
    """Window start in ms."""
    end_ms: StrictFloat
    """Window end in ms."""
    label: StrictStr | None = None
    """Expected label."""
    prediction: StrictStr
    """Predicted label."""
    prediction_correct: StrictBool | None = None
    """Whether the prediction matches the expected label."""
    expected_anomaly_outcome: StrictStr | None = None
    """``anomaly`` or ``no anomaly`` (anomaly blocks only)."""
    f1_score: StrictFloat | None = None
    """F1 of the window (object detection only)."""
    anomaly_scores: list[list[StrictFloat]] | None = None
    """Raw anomaly score grid, shape (n, n) (visual anomaly only)."""
    bounding_boxes: list[BoundingBoxWithScore] | None = None
    """Predicted boxes as ratios 0..1 (object detection only)."""
    label_map_predictions: dict[str, StrictStr] | None = None
    """Prediction per key (label-map projects)."""


class ModelResult(StudioModel):
    """API model ``ModelResult``: a sample and its classification by every learn block."""

    sample_id: StrictInt
    """Sample id."""
    sample: Sample
    """The sample."""
    classifications: list[ClassifySampleResponseClassification]
    """One entry per learn block."""


class AdditionalMetric(StudioModel):
    """API model ``AdditionalMetric``: a named extra metric of a learn block."""

    name: StrictStr
    """Metric name."""
    value: StrictStr
    """Value formatted for display."""
    full_precision_value: StrictFloat
    """Value as a number."""
    tooltip_text: StrictStr | None = None
    """Explanation shown on hover."""
    link: StrictStr | None = None
    """Documentation link."""


class ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock(StudioModel):
    """API model ``ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock``."""

    learn_block_id: StrictInt
    """Learn block id."""
    learn_block_name: StrictStr
    """Learn block name."""
    additional_metrics: list[AdditionalMetric]
    """The block's extra metrics."""


class ClassifyJobResponseAllOfAccuracyTotalSummary(StudioModel):
    """API model ``ClassifyJobResponseAllOfAccuracyTotalSummary``: correct / wrong counts."""

    good: StrictInt
    """Correct windows."""
    bad: StrictInt
    """Wrong windows."""


class ClassifyJobResponseAllOfAccuracy(StudioModel):
    """API model ``ClassifyJobResponseAllOfAccuracy``: dataset-level scores."""

    total_summary: ClassifyJobResponseAllOfAccuracyTotalSummary
    """Counts over all classes."""
    summary_per_class: dict[str, ClassifyJobResponseAllOfAccuracyTotalSummary]
    """Counts per class label."""
    confusion_matrix_values: dict[str, dict[str, StrictFloat]]
    """Confusion matrix, expected label -> predicted label -> value."""
    all_labels: list[StrictStr]
    """Labels of the matrix."""
    accuracy_score: StrictFloat | None = None
    """Accuracy."""
    balanced_accuracy_score: StrictFloat | None = None
    """Balanced accuracy."""
    anomaly_accuracy_score: StrictFloat | None = None
    """Accuracy on anomalous windows."""
    no_anomaly_accuracy_score: StrictFloat | None = None
    """Accuracy on normal windows."""
    mse_score: StrictFloat | None = None
    """Mean squared error (regression)."""


class ClassifyJobResponse(StudioModel):
    """API model ``ClassifyJobResponse``: the full model-testing result."""

    success: StrictBool
    """Whether the request succeeded."""
    error: StrictStr | None = None
    """Error message when ``success`` is false."""
    result: list[ModelResult]
    """One entry per sample."""
    predictions: list[ModelPrediction]
    """One row per (sample, window)."""
    accuracy: ClassifyJobResponseAllOfAccuracy
    """Dataset-level scores."""
    additional_metrics_by_learn_block: list[ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock]
    """Extra metrics per learn block."""
    available_variants: list[KerasModelVariantEnum]
    """Model variants that have results."""
    no_results_because_thresholds_changed: NoResultsBecauseThresholdsChanged | None = None
    """Why the result is empty after a threshold change."""


class ClassifyJobResponsePage(StudioModel):
    """API model ``ClassifyJobResponsePage``: one page of the model-testing result."""

    success: StrictBool
    """Whether the request succeeded."""
    error: StrictStr | None = None
    """Error message when ``success`` is false."""
    result: list[ModelResult]
    """One entry per sample of the page."""
    predictions: list[ModelPrediction]
    """One row per (sample, window) of the page."""
    total_count: StrictInt
    """Samples in the whole result."""
