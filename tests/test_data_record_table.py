"""data.records.RecordTable: the columns give back every record as it was built."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalcore.data import load_dataset
from evalcore.data.records import BoundingBox, LabelInfo, LabelSegment, RecordTable, SampleRecord
from tests._helpers import ALL_BUNDLES


def _record(i, **changes) -> SampleRecord:
    base = dict(id=i, filename=f"s{i}", file=f"/data/testing/s{i}.cbor", rel_path=f"testing/s{i}.cbor",
                category="testing", label=LabelInfo(kind="label", label="idle"))
    return SampleRecord(**{**base, **changes})


def test_every_field_survives_the_columns():
    """Without it a record read back could lose its boxes, metadata, a key-value label or a file
    path that is not its folder + rel_path (a followed link)."""
    records = [
        _record(1),
        _record(2, bounding_boxes=(BoundingBox(label="cup", x=1, y=2, width=3, height=4),)),
        _record(3, metadata={"device": "a"}, label_source="file-name"),
        _record(4, label=LabelInfo(kind="keyvalue-labels", key_values={"k": "v"})),
        _record(5, label=LabelInfo(kind="multi-label", segments=(LabelSegment(label="a", start_index=0,
                                                                              end_index=3),))),
        _record(6, file="/elsewhere/x.cbor"),
        _record(7, filename="ü\ud800", rel_path="", file="/data/ü"),
        _record(9, category="training", label=LabelInfo(kind="unlabeled")),
    ]
    table = RecordTable(iter(records))
    assert len(table) == len(records)
    assert list(table) == records
    assert [table[k] for k in range(-len(records), len(records))] == records + records
    assert table[1::3] == records[1::3]
    assert table == records
    with pytest.raises(IndexError):
        table[len(records)]


@pytest.mark.parametrize("name", ALL_BUNDLES)
def test_fixture_datasets_read_the_same_as_objects(fixtures_dir, name, monkeypatch):
    """Without it a real export (folder scans, bounding_boxes.labels, metadata) could read back
    differently from the record objects the index builds."""
    from evalcore.data import index

    dataset = Path(fixtures_dir) / name / "dataset"
    if not dataset.is_dir():  # a bundle of precomputed features has no dataset to index
        assert (Path(fixtures_dir) / name / "features").is_dir()
        return
    table = load_dataset(dataset, category=None).records
    monkeypatch.setattr(index, "RecordTable", tuple)
    objects = load_dataset(dataset, category=None).records
    assert isinstance(table, RecordTable) and isinstance(objects, tuple)
    assert list(table) == list(objects)
