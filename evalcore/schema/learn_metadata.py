# Input API models KerasModelMetadataResponse, KerasModelLayer, KerasModelLayerInput,
# KerasModelLayerOutput, KerasModelMetadataMetrics, BlockThreshold,
# BlockThresholdDropdownOptionsInner, AdditionalMetric, AnomalyModelMetadataResponse,
# AnomalyModelMetadataClustersInner and AnomalyGmmMetadataResponse of edgeimpulse-api 1.96.3 (GET
# .../training/keras/{learnId}/metadata, .../training/anomaly/{learnId}/metadata,
# .../training/anomaly/{learnId}/gmm/metadata).
"""Learn-block metadata a run reads (``learn/<learnId>/metadata.json`` and ``gmm.json``).

Input models: unknown keys are ignored, unknown enum values kept. Fields 1.96.3 requires but a
run does not need are optional here (docstrings say "API: required"). Not modelled (ignored when
present): ``KerasModelMetadataMetrics.predictions``, ``tensorboardGraphs``, ``kFoldsMetadata``;
``onDevicePerformance`` is kept as plain dicts.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, StrictBool, StrictFloat, StrictInt, StrictStr

from evalcore.schema._base import InputModel
from evalcore.schema.enums import (
    ImageInputScalingValues,
    KerasModelModeValues,
    KerasModelTypeEnumValues,
    ObjectDetectionLastLayerValues,
)
from evalcore.schema.loading import load_input_body

__all__ = [
    "KerasModelMetadataResponse",
    "KerasModelLayer",
    "KerasModelLayerInput",
    "KerasModelLayerOutput",
    "KerasModelMetadataMetrics",
    "BlockThreshold",
    "BlockThresholdDropdownOptionsInner",
    "AdditionalMetric",
    "AnomalyModelMetadataResponse",
    "AnomalyModelMetadataClustersInner",
    "AnomalyGmmMetadataResponse",
    "load_keras_metadata",
    "load_anomaly_metadata",
    "load_anomaly_gmm_metadata",
    "load_learn_metadata",
]

#: Kinds (``evalcore.bundle.LEARN_BLOCK_KINDS`` values or learn block types) whose metadata
#: comes from ``.../training/anomaly/{learnId}/metadata``; every other kind uses the Keras one.
ANOMALY_METADATA_KINDS = frozenset({"anomaly", "anomaly-kmeans", "anomaly-gmm"})


class BlockThresholdDropdownOptionsInner(InputModel):
    """API model ``BlockThresholdDropdownOptionsInner`` (input form)."""

    description: StrictStr
    """Text shown for the choice."""
    value: StrictStr
    """Value written to the threshold."""


class BlockThreshold(InputModel):
    """API model ``BlockThreshold`` as read from metadata (input form).

    The output form is `evalcore.schema.BlockThreshold`; the fields are the same.
    """

    key: StrictStr
    """Threshold identifier, e.g. ``min_score``."""
    description: StrictStr | None = None
    """Short description (API: required)."""
    help_text: StrictStr | None = None
    """Longer help text (API: required)."""
    suggested_value: StrictFloat | None = None
    """Suggested numeric value."""
    suggested_value_text: StrictStr | None = None
    """Text explaining the suggested value."""
    value: StrictFloat | StrictStr
    """Current value (number or string)."""
    dropdown_options: list[BlockThresholdDropdownOptionsInner] | None = None
    """Choices, when the threshold is a dropdown."""


class AdditionalMetric(InputModel):
    """API model ``AdditionalMetric`` (input form)."""

    name: StrictStr
    """Metric name."""
    value: StrictStr
    """Value formatted for display."""
    full_precision_value: StrictFloat | None = None
    """Value as a number (API: required)."""
    tooltip_text: StrictStr | None = None
    """Explanation shown on hover."""
    link: StrictStr | None = None
    """Documentation link."""


class KerasModelLayerInput(InputModel):
    """API model ``KerasModelLayerInput``."""

    shape: StrictInt
    """Input size."""
    name: StrictStr
    """TensorFlow tensor name."""
    type: StrictStr
    """TensorFlow dtype."""


class KerasModelLayerOutput(InputModel):
    """API model ``KerasModelLayerOutput``."""

    shape: StrictInt
    """Output size."""
    name: StrictStr
    """TensorFlow tensor name."""
    type: StrictStr
    """TensorFlow dtype."""


class KerasModelLayer(InputModel):
    """API model ``KerasModelLayer``: one layer's input and output."""

    input: KerasModelLayerInput
    """Layer input."""
    output: KerasModelLayerOutput
    """Layer output."""


class KerasModelMetadataMetrics(InputModel):
    """API model ``KerasModelMetadataMetrics``: validation metrics of one model variant."""

    type: KerasModelTypeEnumValues | str
    """Model variant."""
    loss: StrictFloat | None = None
    """Validation loss (API: required)."""
    accuracy: StrictFloat | None = None
    """Validation accuracy."""
    confusion_matrix: list[list[StrictFloat]] | None = None
    """Validation confusion matrix (API: required)."""
    report: dict[str, Any] | None = None
    """Precision / recall / F1 / support report (API: required)."""
    on_device_performance: list[dict[str, Any]] | None = None
    """Per-target latency and memory, as plain dicts (API: required)."""
    visualization: StrictStr | None = None
    """Feature-explorer mode (API: required)."""
    is_supported_on_mcu: StrictBool | None = None
    """Whether the variant runs on MCUs (API: required)."""
    mcu_support_error: StrictStr | None = None
    """Why it does not."""
    profiling_job_id: StrictInt | None = None
    """Running profiling job."""
    profiling_job_failed: StrictBool | None = None
    """Whether profiling failed."""
    additional_metrics: list[AdditionalMetric] | None = None
    """Extra validation metrics (API: required)."""


class KerasModelMetadataResponse(InputModel):
    """API model ``KerasModelMetadataResponse``: ``GET .../training/keras/{learnId}/metadata``."""

    success: StrictBool | None = None
    """Whether the request succeeded (API: required)."""
    error: StrictStr | None = None
    """Error message when ``success`` is false."""
    created: AwareDatetime | None = None
    """When the model was trained (API: required)."""
    layers: list[KerasModelLayer] | None = None
    """Layers of the network (API: required)."""
    class_names: list[StrictStr]
    """Labels of the output layer, in output order."""
    labels: list[StrictStr] | None = None
    """Labels of the dataset when features were generated (API: required)."""
    available_model_types: list[KerasModelTypeEnumValues | str] | None = None
    """Model variants available (API: required)."""
    recommended_model_type: KerasModelTypeEnumValues | str | None = None
    """Recommended variant (API: required)."""
    model_validation_metrics: list[KerasModelMetadataMetrics] | None = None
    """Validation metrics per variant (API: required)."""
    has_trained_model: StrictBool | None = None
    """Whether a trained model exists (API: required)."""
    mode: KerasModelModeValues | str | None = None
    """Task: ``classification``, ``regression``, ``object-detection``, ... (API: required)."""
    object_detection_last_layer: ObjectDetectionLastLayerValues | str | None = None
    """Detector head of an object-detection model."""
    image_input_scaling: ImageInputScalingValues | str | None = None
    """Pixel scaling the model expects (API: required; older metadata lacks it)."""
    thresholds: list[BlockThreshold] | None = None
    """The block's thresholds (API: required; older metadata lacks it)."""


class AnomalyModelMetadataClustersInner(InputModel):
    """API model ``AnomalyModelMetadataClustersInner``: one K-means cluster."""

    center: list[StrictFloat]
    """Cluster centre, one value per selected axis (scaled space)."""
    max_error: StrictFloat
    """Cluster radius, subtracted from the distance."""


class AnomalyModelMetadataResponse(InputModel):
    """API model ``AnomalyModelMetadataResponse``: ``GET .../training/anomaly/{learnId}/metadata``.

    For K-means, ``mean`` / ``scale`` standardise the selected features; for GMM blocks they are
    the scaler of the log-likelihood scores (reference/ei-semantics.md, Q5).
    """

    success: StrictBool | None = None
    """Whether the request succeeded (API: required)."""
    error: StrictStr | None = None
    """Error message when ``success`` is false."""
    created: AwareDatetime | None = None
    """When the model was trained (API: required)."""
    scale: list[StrictFloat]
    """Standard-scaler scale per selected axis."""
    mean: list[StrictFloat]
    """Standard-scaler mean per selected axis."""
    clusters: list[AnomalyModelMetadataClustersInner]
    """K-means clusters (empty for GMM blocks)."""
    axes: list[StrictInt]
    """Indices of the features the model uses."""
    default_minimum_confidence_rating: StrictFloat | None = None
    """Deprecated default threshold (API: required)."""
    available_model_types: list[KerasModelTypeEnumValues | str] | None = None
    """Model variants available."""
    recommended_model_type: KerasModelTypeEnumValues | str | None = None
    """Recommended variant."""
    model_validation_metrics: list[KerasModelMetadataMetrics] | None = None
    """Validation metrics per variant."""
    has_trained_model: StrictBool | None = None
    """Whether a trained model exists."""
    thresholds: list[BlockThreshold] | None = None
    """The block's thresholds (API: required; older metadata lacks it)."""


class AnomalyGmmMetadataResponse(InputModel):
    """API model ``AnomalyGmmMetadataResponse``: ``GET .../anomaly/{learnId}/gmm/metadata``."""

    success: StrictBool | None = None
    """Whether the request succeeded (API: required)."""
    error: StrictStr | None = None
    """Error message when ``success`` is false."""
    means: list[list[StrictFloat]]
    """Component means, shape (n_components, n_features)."""
    covariances: list[list[list[StrictFloat]]]
    """Full covariances, shape (n_components, n_features, n_features)."""
    weights: list[StrictFloat]
    """Mixture weights, shape (n_components,)."""


def load_keras_metadata(data: Any, *, path: Any = None) -> KerasModelMetadataResponse:
    """Read Keras learn-block metadata; `BundleError` names the JSON path of a bad field."""
    return load_input_body(KerasModelMetadataResponse, data, what="keras metadata", path=path)


def load_anomaly_metadata(data: Any, *, path: Any = None) -> AnomalyModelMetadataResponse:
    """Read anomaly (K-means / GMM scaler) metadata; `BundleError` names the JSON path."""
    return load_input_body(AnomalyModelMetadataResponse, data, what="anomaly metadata", path=path)


def load_anomaly_gmm_metadata(data: Any, *, path: Any = None) -> AnomalyGmmMetadataResponse:
    """Read GMM anomaly metadata (means, covariances, weights); `BundleError` names the path."""
    return load_input_body(AnomalyGmmMetadataResponse, data, what="gmm metadata", path=path)


def load_learn_metadata(
    data: Any, *, kind: str, path: Any = None
) -> KerasModelMetadataResponse | AnomalyModelMetadataResponse:
    """Read a learn block's ``metadata.json``, choosing the body by the block's kind.

    Parameters
    ----------
    data : bytes, str, os.PathLike or dict
        The metadata body.
    kind : str
        ``"anomaly"``, ``"anomaly-kmeans"`` or ``"anomaly-gmm"`` read an
        `AnomalyModelMetadataResponse`; anything else a `KerasModelMetadataResponse`.
    path : str or os.PathLike, optional
        File named in error messages.

    Returns
    -------
    KerasModelMetadataResponse or AnomalyModelMetadataResponse

    Raises
    ------
    BundleError
        Invalid JSON, an invalid field (``field`` is its JSON path) or ``success`` false.
    """
    if kind in ANOMALY_METADATA_KINDS:
        return load_anomaly_metadata(data, path=path)
    return load_keras_metadata(data, path=path)
