# API models Sample, BoundingBox, SampleDatastream, SampleDatastreamImageDimensions, Sensor,
# StructuredLabel, SampleKeyValueLabels, SampleLabelMapLabels, SampleLastUpdatedBy,
# LastUpdatedByUser, LastUpdatedByProjectApiKey, LastUpdatedByOAuthClient,
# LastUpdatedByDatasetVersionRestore and LastUpdatedByDatasetVersionRestoreActor of edgeimpulse-api
# 1.96.3 (sample.py and the files it imports).
"""The ``Sample`` body of a model-testing result and the models nested in it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, StrictBool, StrictFloat, StrictInt, StrictStr

from evalcore.schema._base import (
    REQUIRED_ON_WRITE,
    StudioModel,
    required_on_write,
    tagged_union,
)
from evalcore.schema.enums import (
    BoundingBoxesType,
    ChartType,
    ProjectLabelingMethod,
    RawDataCategory,
)

__all__ = [
    "Sample",
    "BoundingBox",
    "SampleDatastream",
    "SampleDatastreamImageDimensions",
    "Sensor",
    "StructuredLabel",
    "SampleKeyValueLabels",
    "SampleLabelMapLabels",
    "SampleLastUpdatedBy",
    "LastUpdatedByUser",
    "LastUpdatedByProjectApiKey",
    "LastUpdatedByOAuthClient",
    "LastUpdatedByDatasetVersionRestore",
    "LastUpdatedByDatasetVersionRestoreActor",
]


class SampleKeyValueLabels(StudioModel):
    """API model ``SampleKeyValueLabels``: a key/value label map."""

    type: Literal["key-values"]
    """Union tag, always ``"key-values"``."""
    labels: dict[str, StrictStr]
    """Label per key."""


SampleLabelMapLabels = tagged_union("SampleLabelMapLabels", {"key-values": SampleKeyValueLabels})
"""API oneOf ``SampleLabelMapLabels``, tagged by ``type``."""


class StructuredLabel(StudioModel):
    """API model ``StructuredLabel``: a label over a range of values or windows."""

    start_index: StrictInt
    """First index the label covers."""
    end_index: StrictInt
    """Last index the label covers (inclusive)."""
    label: StrictStr
    """The label."""
    label_map: SampleLabelMapLabels | None = None
    """Key/value labels of this range, for label-map projects."""


class BoundingBox(StudioModel):
    """API model ``BoundingBox``: a ground-truth box in absolute integer pixels."""

    label: StrictStr
    """Class of the box."""
    x: StrictInt
    """Left edge in pixels."""
    y: StrictInt
    """Top edge in pixels."""
    width: StrictInt
    """Width in pixels."""
    height: StrictInt
    """Height in pixels."""


class SampleDatastreamImageDimensions(StudioModel):
    """API model ``SampleDatastreamImageDimensions``: size of an image in pixels."""

    width: StrictInt
    """Width in pixels."""
    height: StrictInt
    """Height in pixels."""


class Sensor(StudioModel):
    """API model ``Sensor``: one axis of a sample."""

    index: Annotated[StrictInt | None, REQUIRED_ON_WRITE] = required_on_write()
    """Global index of the axis (required in 1.96.3; older Studio responses lack it)."""
    name: StrictStr
    """Axis name."""
    units: StrictStr
    """SenML unit of the axis."""


class SampleDatastream(StudioModel):
    """API model ``SampleDatastream``: one data stream of a multi-stream sample."""

    index: StrictInt
    """Index of the stream."""
    chart_type: ChartType
    """How Studio renders the stream."""
    interval_ms: StrictFloat
    """Time between two readings in ms."""
    frequency_hz: StrictFloat
    """Readings per second."""
    sensors: list[Sensor]
    """Axes of the stream."""
    values_count: StrictInt
    """Number of readings."""
    image_dimensions: SampleDatastreamImageDimensions | None = None
    """Image size, for image streams."""
    total_length_ms: StrictFloat
    """Length of the stream in ms."""


class LastUpdatedByUser(StudioModel):
    """API model ``LastUpdatedByUser``: the sample was last changed by a user."""

    type: Literal["user"]
    """Union tag, always ``"user"``."""
    id: StrictInt
    """User id."""


class LastUpdatedByProjectApiKey(StudioModel):
    """API model ``LastUpdatedByProjectApiKey``: the sample was last changed with an API key."""

    type: Literal["projectApiKey"]
    """Union tag, always ``"projectApiKey"``."""
    id: StrictInt
    """API key id."""


class LastUpdatedByOAuthClient(StudioModel):
    """API model ``LastUpdatedByOAuthClient``: the sample was last changed by an OAuth client."""

    type: Literal["oauthClient"]
    """Union tag, always ``"oauthClient"``."""
    oauth_client_id: StrictStr
    """OAuth client id."""
    user_id: StrictInt | None = None
    """User the client acted for."""


LastUpdatedByDatasetVersionRestoreActor = tagged_union(
    "LastUpdatedByDatasetVersionRestoreActor",
    {
        "user": LastUpdatedByUser,
        "projectApiKey": LastUpdatedByProjectApiKey,
        "oauthClient": LastUpdatedByOAuthClient,
    },
)
"""API oneOf ``LastUpdatedByDatasetVersionRestoreActor``, tagged by ``type``."""


class LastUpdatedByDatasetVersionRestore(StudioModel):
    """API model ``LastUpdatedByDatasetVersionRestore``: changed by a dataset-version restore."""

    type: Literal["datasetVersionRestore"]
    """Union tag, always ``"datasetVersionRestore"``."""
    dataset_version_id: StrictInt
    """Dataset version that was restored."""
    group_key: StrictStr
    """Grouping id of the restore."""
    actor: LastUpdatedByDatasetVersionRestoreActor | None = None
    """Who started the restore."""


SampleLastUpdatedBy = tagged_union(
    "SampleLastUpdatedBy",
    {
        "user": LastUpdatedByUser,
        "projectApiKey": LastUpdatedByProjectApiKey,
        "oauthClient": LastUpdatedByOAuthClient,
        "datasetVersionRestore": LastUpdatedByDatasetVersionRestore,
    },
)
"""API oneOf ``SampleLastUpdatedBy``, tagged by ``type``."""


class Sample(StudioModel):
    """API model ``Sample``: a data sample as listed in a model-testing result."""

    id: StrictInt
    """Sample id."""
    filename: StrictStr
    """File name (without the upload hash)."""
    signature_validate: StrictBool
    """Whether the signature check passed."""
    signature_method: StrictStr | None = None
    """Signature algorithm."""
    signature_key: StrictStr | None = None
    """Key used to check the signature."""
    created: AwareDatetime
    """When the sample was recorded (or ingested)."""
    last_modified: AwareDatetime
    """When the sample was last changed."""
    category: RawDataCategory
    """Dataset split."""
    coldstorage_filename: StrictStr
    """Storage name of the file."""
    label: StrictStr
    """Label of the sample."""
    interval_ms: StrictFloat
    """Time between two readings in ms."""
    frequency: StrictFloat
    """Readings per second."""
    original_interval_ms: StrictFloat
    """Deprecated copy of ``intervalMs`` (still required)."""
    original_frequency: StrictFloat
    """Deprecated copy of ``frequency`` (still required)."""
    device_name: StrictStr | None = None
    """Device id."""
    device_type: StrictStr
    """Device model."""
    sensors: list[Sensor]
    """Axes of the sample."""
    values_count: StrictInt
    """Readings in the fastest data stream."""
    total_length_ms: StrictFloat | None = None
    """Length of the sample in ms."""
    added: AwareDatetime
    """When the sample was added to the project."""
    bounding_boxes: list[BoundingBox]
    """Ground-truth boxes in pixels (empty for non-image data)."""
    bounding_boxes_type: BoundingBoxesType
    """Kind of box labels."""
    chart_type: ChartType
    """How Studio renders the sample."""
    thumbnail_video: StrictStr | None = None
    """Video thumbnail."""
    thumbnail_video_full: StrictStr | None = None
    """Full-size video thumbnail."""
    is_disabled: StrictBool
    """Whether the sample is excluded."""
    is_processing: StrictBool
    """Whether the sample is still being processed."""
    processing_job_id: StrictInt | None = None
    """Job processing the sample."""
    processing_error: StrictBool
    """Whether processing failed."""
    processing_error_string: StrictStr | None = None
    """Processing error message."""
    is_cropped: StrictBool
    """Whether the sample was cropped from another one."""
    metadata: dict[str, StrictStr] | None = None
    """Free-form key/value metadata."""
    project_id: StrictInt
    """Project id."""
    project_owner_name: StrictStr | None = None
    """Owner of the project."""
    project_name: StrictStr | None = None
    """Name of the project."""
    project_labeling_method: ProjectLabelingMethod | None = None
    """How the project is labelled."""
    sha256_hash: StrictStr
    """SHA-256 of the stored file."""
    structured_labels: list[StructuredLabel] | None = None
    """Labels over ranges of the sample (multi-label samples)."""
    structured_labels_list: list[StrictStr] | None = None
    """Distinct labels of ``structuredLabels``."""
    created_by_synthetic_data_job_id: StrictInt | None = None
    """Synthetic-data job that made the sample."""
    image_dimensions: SampleDatastreamImageDimensions | None = None
    """Image size, for images."""
    video_url: StrictStr | None = None
    """Cropped video link."""
    video_url_full: StrictStr | None = None
    """Full video link."""
    label_map: SampleLabelMapLabels | None = None
    """Key/value labels, for label-map projects."""
    last_updated_by: SampleLastUpdatedBy | None = None
    """Who last changed the sample."""
    datastreams: Annotated[list[SampleDatastream] | None, REQUIRED_ON_WRITE] = (
        required_on_write()
    )
    """Data streams (required in 1.96.3; older Studio responses lack it)."""
