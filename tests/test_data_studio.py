"""Tests for evalcore.data.studio.to_studio_sample: Studio's Sample from an export."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from evalcore.data import (
    BoundingBox,
    LabelInfo,
    LabelSegment,
    load_dataset,
    load_sample_data,
)
from evalcore.data.studio import to_studio_sample

SDK = "edgeimpulse-python-sdk-sample-data/sample_data"


def _dump(sample) -> dict:
    return json.loads(sample.model_dump_json(by_alias=True, exclude_none=True))


def test_real_cbor_sample_fields(real_dir):
    """A gestures CBOR sample must fill every field from the file, with created from protected.iat."""
    record = load_dataset(real_dir / SDK / "gestures")[0]
    data = load_sample_data(record)
    out = _dump(to_studio_sample(record, data, project_id=14299))
    assert out["id"] == 1 and out["filename"] == "idle.0" and out["label"] == "idle"
    assert out["created"] == out["lastModified"] == out["added"] == "2019-07-13T16:06:29Z"
    assert (out["intervalMs"], out["frequency"], out["originalIntervalMs"], out["originalFrequency"]) == (16, 62.5, 16, 62.5)
    assert out["sensors"] == [
        {"index": 0, "name": "accX", "units": "m/s2"},
        {"index": 1, "name": "accY", "units": "m/s2"},
        {"index": 2, "name": "accZ", "units": "m/s2"},
    ]
    assert (out["valuesCount"], out["totalLengthMs"], out["chartType"]) == (622, 9952, "chart")
    assert out["deviceType"] == "Edge Impulse dataset" and "deviceName" not in out
    assert out["sha256Hash"] == data.sha256 and out["projectId"] == 14299
    assert out["coldstorageFilename"] == "testing/idle.0.cbor"
    assert out["signatureValidate"] is False
    assert not any(out[k] for k in ("isDisabled", "isProcessing", "processingError", "isCropped"))
    assert out["boundingBoxes"] == [] and out["boundingBoxesType"] == "object_detection"
    assert "structuredLabels" not in out and "metadata" not in out and "imageDimensions" not in out
    assert out["datastreams"] == [{
        "index": 0, "chartType": "chart", "intervalMs": 16, "frequencyHz": 62.5,
        "sensors": out["sensors"], "valuesCount": 622, "totalLengthMs": 9952,
    }]


def test_real_multi_label_structured_labels(real_dir):
    """A multi-label sample must carry its ranges as structuredLabels and the distinct labels."""
    record = load_dataset(real_dir / SDK / "coffee")[0]
    out = _dump(to_studio_sample(record, load_sample_data(record)))
    assert out["structuredLabels"][0] == {"startIndex": 0, "endIndex": 511, "label": "idle"}
    assert out["structuredLabels"][-1]["endIndex"] == 8159
    assert out["structuredLabelsList"] == ["idle", "grind", "extract", "pump"]
    assert out["label"] == "idle, grind, extract, pump"


def test_real_image_with_boxes(real_dir):
    """An image sample must be an image chart with dimensions, zero interval and its boxes."""
    record = load_dataset(real_dir / SDK / "object_detection")[0]
    out = _dump(to_studio_sample(record, load_sample_data(record), bounding_boxes_type="constrained_object_detection"))
    assert out["chartType"] == "image" and out["imageDimensions"] == {"width": 320, "height": 320}
    assert (out["intervalMs"], out["frequency"], out["valuesCount"], out["totalLengthMs"]) == (0, 0, 1, 0)
    assert out["boundingBoxes"][0] == {"label": "dog", "x": 69, "y": 155, "width": 102, "height": 137}
    assert out["boundingBoxesType"] == "constrained_object_detection"
    assert out["created"] == "1970-01-01T00:00:00Z"
    assert out["sensors"] == [{"index": 0, "name": "image", "units": "rgba"}]


def test_float_boxes_round_half_up_and_default_time(real_dir):
    """Float box coordinates must round half up to integers; default_time must replace a missing iat."""
    record = load_dataset(real_dir / SDK / "dataset")[0]
    boxed = replace(record, bounding_boxes=(BoundingBox("a", 1.5, 2.5, 3.49, 0.5),))
    when = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)
    out = _dump(to_studio_sample(boxed, load_sample_data(boxed), default_time=when))
    assert out["boundingBoxes"] == [{"label": "a", "x": 2, "y": 3, "width": 3, "height": 1}]
    assert out["created"].startswith("2024-05-01T12:00:00.123")


@pytest.mark.parametrize(
    ("label", "expected_label", "expected_map"),
    [
        (LabelInfo.unlabeled(), "", None),
        (LabelInfo(kind="keyvalue-labels", key_values={"k": "v"}), "", {"type": "key-values", "labels": {"k": "v"}}),
    ],
)
def test_unlabeled_and_key_value_samples(real_dir, label, expected_label, expected_map):
    """Unlabeled and key-value samples must give an empty label, the latter with its labelMap."""
    record = load_dataset(real_dir / SDK / "dataset")[0]
    changed = replace(record, label=label, metadata={"site": "a"})
    out = _dump(to_studio_sample(changed, load_sample_data(changed)))
    assert out["label"] == expected_label
    assert out.get("labelMap") == expected_map
    assert out["metadata"] == {"site": "a"}


def test_segment_label_map_is_kept(real_dir):
    """A multi-label range's labelMap must be written as a key-values label map."""
    record = load_dataset(real_dir / SDK / "coffee")[0]
    label = LabelInfo(kind="multi-label", segments=(LabelSegment(0, 8159, "idle", {"k": "v"}),))
    changed = replace(record, label=label)
    out = _dump(to_studio_sample(changed, load_sample_data(changed)))
    assert out["structuredLabels"] == [
        {"startIndex": 0, "endIndex": 8159, "label": "idle", "labelMap": {"type": "key-values", "labels": {"k": "v"}}}
    ]


def test_same_input_same_output(real_dir):
    """Building the Sample twice from the same files must give identical JSON (no mtimes, no clocks)."""
    record = load_dataset(real_dir / SDK / "dataset")[1]
    first = to_studio_sample(record, load_sample_data(record)).model_dump_json(by_alias=True, exclude_none=True)
    second = to_studio_sample(record, load_sample_data(record)).model_dump_json(by_alias=True, exclude_none=True)
    assert first == second
