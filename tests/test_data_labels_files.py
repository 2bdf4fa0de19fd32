"""Tests for evalcore.data.labels_files: info.labels (JSON, NDJSON) and bounding_boxes.labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalcore.data.labels_files import (
    parse_info_labels,
    read_bounding_boxes_labels,
    read_info_labels,
)
from evalcore.data.records import BoundingBox, LabelInfo, LabelSegment
from evalcore.errors import BundleError

SDK = "edgeimpulse-python-sdk-sample-data/sample_data"


def _entry(**overrides) -> dict:
    entry = {"path": "testing/a.json", "category": "testing", "label": {"type": "label", "label": "a"}}
    entry.update(overrides)
    return entry


def test_real_pretty_printed_info_labels_without_version(real_dir):
    """The python-sdk image export (pretty-printed, no version key) must parse with names and labels."""
    entries = read_info_labels(real_dir / SDK / "dataset" / "info.labels")
    assert [e.path for e in entries][:2] == [
        "testing/background.0_0.png.28kmrth3.ingestion-56f58bdc98-dh5w7.jpg",
        "testing/capacitor.16_12.png.28kmss20.ingestion-56f58bdc98-9766g.jpg",
    ]
    assert [e.label.label for e in entries] == ["background", "capacitor", "diode"] * 2
    assert [e.category for e in entries] == ["testing"] * 3 + ["training"] * 3
    assert entries[0].name == "0_0.png.28kmrth3"
    assert entries[0].bounding_boxes == ()
    assert [e.position for e in entries] == list(range(6))


def test_real_multi_label_info_labels(real_dir):
    """Coffee multi-label ranges must keep value indices with endIndex inclusive, in file order."""
    entries = read_info_labels(real_dir / SDK / "coffee" / "info.labels")
    first = entries[0]
    assert first.name == "coffeemachine_multilabel_4"
    assert first.label.kind == "multi-label"
    assert first.label.segments[0] == LabelSegment(0, 511, "idle")
    assert first.label.segments[-1] == LabelSegment(7311, 8159, "idle")
    assert len(first.label.segments) == 11
    assert first.label.distinct_labels() == ("idle", "grind", "extract", "pump")
    assert entries[-1].metadata == {}


def test_all_label_types_parse():
    """Each of the four label types must map to its LabelInfo kind with its payload."""
    files = [
        _entry(path="a", label={"type": "label", "label": "x"}),
        _entry(path="b", label={"type": "unlabeled"}),
        _entry(path="c", label={"type": "multi-label", "labels": [
            {"startIndex": 0, "endIndex": 3, "label": "x", "labelMap": {"k": "v"}}]}),
        _entry(path="d", label={"type": "keyvalue-labels", "labels": {"color": "red"}}),
    ]
    entries = parse_info_labels(json.dumps({"version": 1, "files": files}), Path("info.labels"))
    assert entries[0].label == LabelInfo.single("x")
    assert entries[1].label == LabelInfo.unlabeled()
    assert entries[2].label == LabelInfo(kind="multi-label", segments=(LabelSegment(0, 3, "x", {"k": "v"}),))
    assert entries[3].label == LabelInfo(kind="keyvalue-labels", key_values={"color": "red"})


def test_ndjson_form_equals_json_form():
    """The NDJSON export form must give the same entries as the JSON form, ignoring other keys."""
    files = [
        _entry(path="a", metadata={"m": "1"}, boundingBoxes=[{"label": "c", "x": 1, "y": 2, "width": 3, "height": 4}]),
        _entry(path="b", label={"type": "unlabeled"}),
    ]
    as_json = parse_info_labels(json.dumps({"version": 1, "files": files}), Path("info.labels"))
    lines = ['{"__ndjson":true,"version":1}']
    lines += [json.dumps({"__key": "files", "__item": f}) for f in files[:1]]
    lines += [json.dumps({"__key": "other", "__item": {"x": 1}}), ""]
    lines += [json.dumps({"__key": "files", "__item": f}) for f in files[1:]]
    as_ndjson = parse_info_labels("\n".join(lines) + "\n", Path("info.labels"))
    assert as_ndjson == as_json
    assert as_json[0].bounding_boxes == (BoundingBox("c", 1, 2, 3, 4),)
    assert as_json[0].metadata == {"m": "1"}


def test_unknown_keys_are_ignored():
    """Exports gain fields (attachments, ...); unknown keys must not fail the read."""
    entries = parse_info_labels(
        json.dumps({"version": 1, "extra": 1, "files": [_entry(attachments=["x.png"], future={"a": 1})]}),
        Path("info.labels"),
    )
    assert entries[0].path == "testing/a.json"


def test_real_bounding_boxes_labels(real_dir):
    """The legacy object-detection file must give pixel boxes per file name in file order."""
    boxes = read_bounding_boxes_labels(real_dir / SDK / "object_detection" / "bounding_boxes.labels")
    assert boxes["1.png.4arrb5vg.ingestion-68d4ddb448-x6xj6.jpg"] == (
        BoundingBox("dog", 69, 155, 102, 137),
        BoundingBox("toy", 34, 80, 162, 81),
    )
    assert len(boxes["51.png.4arr9mq0.ingestion-68d4ddb448-lr7h5.jpg"]) == 3


def test_bounding_boxes_labels_wrong_type(tmp_path):
    """A bounding_boxes.labels with another type must be refused, naming the field."""
    path = tmp_path / "bounding_boxes.labels"
    path.write_text(json.dumps({"version": 1, "type": "structured-labels", "boundingBoxes": {}}))
    with pytest.raises(BundleError, match="field type"):
        read_bounding_boxes_labels(path)


def test_bounding_box_zero_width_refused(tmp_path):
    """Boxes must have width > 0 (uploader rule); the error names file, sample and field."""
    path = tmp_path / "bounding_boxes.labels"
    doc = {"version": 1, "type": "bounding-box-labels",
           "boundingBoxes": {"a.jpg": [{"label": "c", "x": 0, "y": 0, "width": 0, "height": 2}]}}
    path.write_text(json.dumps(doc))
    with pytest.raises(BundleError) as err:
        read_bounding_boxes_labels(path)
    assert err.value.sample == "a.jpg"
    assert err.value.field == "boundingBoxes.a.jpg[0].width"
