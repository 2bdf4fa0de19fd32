"""`sample_text` must write the bytes ``jsonio.fragment(to_studio_sample(...))`` writes, or decline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from evalcore.bundle import load_project
from evalcore.data import load_dataset, load_sample_data
from evalcore.data.records import LabelInfo, SampleData, Sensor
from evalcore.data.studio import to_studio_sample
from evalcore.jsonio import fragment
from evalcore.pipeline.sample_text import sample_text


def _bundles(fixtures_dir):
    return sorted(p for p in fixtures_dir.iterdir() if (p / "impulse.json").is_file())


def test_every_fixture_sample(fixtures_dir):
    """Without it a field order, a number or a date written differently would change the response."""
    taken = 0
    for bundle in _bundles(fixtures_dir):
        project = load_project(bundle)
        for record in load_dataset(project.dataset_dir).records:
            data = load_sample_data(record)
            text = sample_text(record, data)
            if text is not None:
                assert text == fragment(to_studio_sample(record, data)), (bundle.name, record.filename)
                taken += 1
    assert taken > 50  # the time-series bundles take the direct path


def _series(**changes) -> SampleData:
    base = SampleData(kind="time-series", file_format="cbor", sha256="ab" * 32, values=np.zeros((7, 2)),
                      interval_ms=16.0, frequency_hz=62.5, sensors=(Sensor("accX", "m/s2"), Sensor("accY", "m/s2")),
                      device_type="phone")
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize("changes", [
    {},
    {"device_name": "dev \u00e9\u2028\"q\""},
    {"protected": {"iat": 1700000000}},
    {"protected": {"iat": 1700000000.25}},
    {"protected": {"iat": -5}},  # out of range: the default time
    {"interval_ms": 1 / 3, "frequency_hz": 3000.0},
    {"interval_ms": 1e-7, "frequency_hz": 1e10},
    {"interval_ms": 2.5e21, "frequency_hz": 4e-19},
    {"sensors": (Sensor("a\u0001b", "u\\"),)},
    {"kind": "audio", "file_format": "wav", "sensors": (Sensor("audio", "wav"),)},
])
@pytest.mark.parametrize("label", [LabelInfo("label", "wave"), LabelInfo("unlabeled"), LabelInfo("label", "\u00fc\n")])
@pytest.mark.parametrize("metadata", [None, {}, {"site": "B", "10": "x", "2": "y", "01": "z"}])
def test_generated_samples(fixtures_dir, changes, label, metadata):
    """Strings that need escapes, dates, numbers in exponent form, metadata keys JavaScript reorders."""
    project = load_project(fixtures_dir / "motion")
    record = load_dataset(project.dataset_dir).records[0]
    record = dataclasses.replace(record, label=label, metadata=metadata, filename="f\u00e8 \"1\"", category="training")
    data = _series(**changes)
    text = sample_text(record, data)
    assert text is not None
    assert text == fragment(to_studio_sample(record, data))


def test_other_shapes_are_declined(fixtures_dir):
    """Multi-label, key-value labels, boxes, images and unknown categories keep the model's path."""
    project = load_project(fixtures_dir / "motion")
    record = load_dataset(project.dataset_dir).records[0]
    data = _series()
    assert sample_text(dataclasses.replace(record, label=LabelInfo("keyvalue-labels", key_values={"a": "b"})),
                       data) is None
    assert sample_text(dataclasses.replace(record, category="other"), data) is None
    assert sample_text(record, dataclasses.replace(data, kind="image")) is None
    assert sample_text(dataclasses.replace(record, metadata={"a": 1}), data) is None
