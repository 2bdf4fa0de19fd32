"""Build Studio's ``Sample`` object from what a dataset export says: ``to_studio_sample``.

Field by field (api-schema.md ``Sample``, edgeimpulse-api 1.96.3):

- ``id``: ``SampleRecord.id`` (1-based position in the export, see ``evalcore.data.index``).
- ``filename``: the info.labels ``name``, else the file name without its last extension.
- ``signatureValidate``: ``false``; signatures are never verified. ``signatureMethod`` and
  ``signatureKey`` are omitted.
- ``created``, ``lastModified``, ``added``: the acquisition file's ``protected.iat`` (epoch
  seconds) when present and valid, else ``default_time`` (default 1970-01-01T00:00:00.000Z).
  File modification times are never used, so the same input always gives the same bytes
  (a git checkout changes mtimes).
- ``category``: from info.labels or the folder. ``coldstorageFilename``: the file's path
  relative to the dataset folder (Studio's own storage name is not in the export).
- ``label``: the single label; for a multi-label sample its distinct labels in order of first
  appearance joined by ``", "``; ``""`` for unlabeled and key-value samples (Studio's own
  value for these is not known). The per-window expected labels come from
  ``evalcore.windowing``, not from this field.
- ``intervalMs`` / ``frequency`` and the deprecated ``originalIntervalMs`` /
  ``originalFrequency`` (same values): from the file; ``0`` for images.
- ``deviceName`` (omitted when absent) / ``deviceType``: from the payload;
  ``EDGE_IMPULSE_UPLOADER`` for WAV and images.
- ``sensors``: with ``index`` 0, 1, ... in file order. Images: ``image`` / ``rgba``;
  WAV: ``audio`` / ``wav``.
- ``valuesCount``: number of readings (1 for an image). ``totalLengthMs``:
  ``valuesCount * intervalMs`` (0 for an image).
- ``boundingBoxes``: integer pixels, each coordinate rounded half up (``floor(v + 0.5)``,
  JavaScript's ``Math.round``); ``boundingBoxesType``: ``bounding_boxes_type`` (default
  ``object_detection``; FOMO projects say ``constrained_object_detection``, which the export
  does not record).
- ``chartType``: ``image`` for images, ``chart`` for time series and audio.
- ``isDisabled``, ``isProcessing``, ``processingError``, ``isCropped``: ``false``.
- ``metadata``: the info.labels ``metadata`` when the entry has one (even empty), else omitted.
- ``projectId``: ``project_id`` (default 0).
- ``sha256Hash``: SHA-256 of the file bytes (for acquisition files this includes the envelope).
- ``structuredLabels`` / ``structuredLabelsList``: multi-label ranges (``endIndex`` inclusive)
  and their distinct labels; omitted for other samples.
- ``labelMap``: ``{"type": "key-values", "labels": ...}`` for ``keyvalue-labels`` samples.
- ``imageDimensions``: images only.
- ``datastreams``: one stream (index 0) repeating chart type, interval, frequency, sensors,
  value count, image dimensions and length.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from evalcore.data.records import SampleData, SampleRecord

__all__ = ["DEFAULT_TIME", "sample_created", "sample_label", "to_studio_sample"]

DEFAULT_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MAX_EPOCH_S = 253402300799  # 9999-12-31T23:59:59Z


def _js_round(value: float) -> int:
    return math.floor(value + 0.5)


def sample_label(record: SampleRecord) -> str:
    """The ``Sample.label`` string for a record (see the module docstring)."""
    if record.label.kind == "label":
        return record.label.label
    if record.label.kind == "multi-label":
        return ", ".join(record.label.distinct_labels())
    return ""


def sample_created(data: SampleData, default_time: datetime = DEFAULT_TIME) -> datetime:
    """``protected.iat`` as an aware UTC datetime, else ``default_time``."""
    iat = data.protected.get("iat")
    if isinstance(iat, (int, float)) and not isinstance(iat, bool) and 0 <= iat <= _MAX_EPOCH_S:
        return datetime.fromtimestamp(iat, tz=timezone.utc)
    return default_time


def _label_fields(record: SampleRecord, api) -> tuple:
    """``(structuredLabels, structuredLabelsList, labelMap)`` models for a record (None when absent)."""
    label = record.label
    if label.kind == "keyvalue-labels":
        return None, None, api.SampleKeyValueLabels(type="key-values", labels=label.key_values)
    if label.kind != "multi-label":
        return None, None, None
    structured = [
        api.StructuredLabel(
            start_index=s.start_index,
            end_index=s.end_index,
            label=s.label,
            label_map=None if s.label_map is None else api.SampleKeyValueLabels(type="key-values", labels=s.label_map),
        )
        for s in label.segments
    ]
    return structured, list(label.distinct_labels()), None


def to_studio_sample(
    record: SampleRecord,
    data: SampleData,
    *,
    project_id: int = 0,
    default_time: datetime = DEFAULT_TIME,
    bounding_boxes_type: str = "object_detection",
):
    """Fill Studio's ``Sample`` from an index record and its data.

    Parameters
    ----------
    record : SampleRecord
        The index entry.
    data : SampleData
        The sample's data, from ``load_sample_data(record)``.
    project_id : int, default 0
        Written as ``projectId``.
    default_time : datetime.datetime, default 1970-01-01T00:00:00Z
        ``created`` / ``lastModified`` / ``added`` when the file has no ``protected.iat``.
        Must be timezone-aware.
    bounding_boxes_type : {"object_detection", "constrained_object_detection"}
        Written as ``boundingBoxesType``.

    Returns
    -------
    evalcore.schema.sample.Sample
        The validated model; defaults are listed in the module docstring.
    """
    from evalcore.schema import sample as api

    is_image = data.kind == "image"
    interval_ms = float(data.interval_ms)
    frequency = float(data.frequency_hz)
    total_length_ms = 0.0 if is_image else float(data.n_values * interval_ms)
    chart_type = "image" if is_image else "chart"
    sensors = [api.Sensor(index=i, name=s.name, units=s.units) for i, s in enumerate(data.sensors)]
    dims = api.SampleDatastreamImageDimensions(width=data.width, height=data.height) if is_image else None
    created = sample_created(data, default_time)
    structured, structured_list, label_map = _label_fields(record, api)
    boxes = [
        api.BoundingBox(
            label=b.label, x=_js_round(b.x), y=_js_round(b.y), width=_js_round(b.width), height=_js_round(b.height)
        )
        for b in record.bounding_boxes
    ]
    stream = api.SampleDatastream(
        index=0,
        chart_type=chart_type,
        interval_ms=interval_ms,
        frequency_hz=frequency,
        sensors=sensors,
        values_count=data.n_values,
        image_dimensions=dims,
        total_length_ms=total_length_ms,
    )
    return api.Sample(
        id=record.id,
        filename=record.filename,
        signature_validate=False,
        created=created,
        last_modified=created,
        category=record.category,
        coldstorage_filename=record.rel_path,
        label=sample_label(record),
        interval_ms=interval_ms,
        frequency=frequency,
        original_interval_ms=interval_ms,
        original_frequency=frequency,
        device_name=data.device_name,
        device_type=data.device_type,
        sensors=sensors,
        values_count=data.n_values,
        total_length_ms=total_length_ms,
        added=created,
        bounding_boxes=boxes,
        bounding_boxes_type=bounding_boxes_type,
        chart_type=chart_type,
        is_disabled=False,
        is_processing=False,
        processing_error=False,
        is_cropped=False,
        metadata=None if record.metadata is None else dict(record.metadata),
        project_id=project_id,
        sha256_hash=data.sha256,
        structured_labels=structured,
        structured_labels_list=structured_list,
        image_dimensions=dims,
        label_map=label_map,
        datastreams=[stream],
    )
