"""One long sample streams through the DSP in chunks of ``batch_rows`` windows.

Without it a sample of 3M windows allocated all its window arrays at once (8.4 GiB) and died.
The bundle is the motion fixture with a 1-reading window step and one long testing sample
(its first testing sample repeated), so a sample of 20,000 readings makes ~20,000 windows.
"""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import cbor2
import numpy as np
import pytest

from evalcore.bundle import load_project
from evalcore.data import load_dataset, load_sample_data
from evalcore.dsp import compute_features
from evalcore.engine import RunOptions, run_bundle
from evalcore.pipeline.featurize import SampleFeaturizer
from evalcore.windowing import extract_windows, iter_window_chunks

MOTION = Path(__file__).resolve().parent.parent / "fixtures" / "motion"


def _long_bundle(folder: Path, n_readings: int) -> Path:
    if not (MOTION / "impulse.json").is_file():
        pytest.skip("motion fixture not built")
    bundle = folder / "long"
    shutil.copytree(MOTION, bundle)
    impulse_path = bundle / "impulse.json"
    impulse = json.loads(impulse_path.read_text())
    block = impulse["impulse"]["inputBlocks"][0]
    block["classificationWindowIncreaseMs"] = 16  # one reading a step at 62.5 Hz
    assert block["frequencyHz"] == 62.5
    impulse_path.write_text(json.dumps(impulse))
    labels_path = bundle / "dataset" / "info.labels"
    labels = json.loads(labels_path.read_text())
    testing = [f for f in labels["files"] if f["category"] == "testing"]
    source = cbor2.loads((bundle / "dataset" / testing[0]["path"]).read_bytes())
    values = source["payload"]["values"]
    source["payload"]["values"] = [values[i % len(values)] for i in range(n_readings)]
    (bundle / "dataset" / "testing" / "long.cbor").write_bytes(cbor2.dumps(source))
    entry = {**testing[0], "path": "testing/long.cbor", "name": "long"}
    labels["files"] = [f for f in labels["files"] if f["category"] != "testing"] + [entry]
    labels_path.write_text(json.dumps(labels))
    return bundle


def _prepare(bundle: Path, batch_rows: int):
    project = load_project(bundle)
    (record,) = load_dataset(project.dataset_dir).records
    featurizer = SampleFeaturizer(project, RunOptions(variant="float32", batch_rows=batch_rows))
    return project, record, featurizer


def test_chunked_features_are_the_bytes_of_all_windows_at_once(tmp_path):
    """Without it the chunk edges could drop, repeat or shift a window's features."""
    bundle = _long_bundle(tmp_path, 1500)
    project, record, featurizer = _prepare(bundle, batch_rows=64)  # 1376 windows: 21 full chunks + 32
    prepared = featurizer.prepare(record)
    assert prepared.outcome.n_windows == 1500 - 125 + 1
    # the chunk-free reference: every window cut at once, then the DSP block
    data = load_sample_data(record)
    plan = featurizer.plan(record, data)
    (spec,) = project.dsp.values()
    reference = compute_features(spec.type, spec.implementation_version, extract_windows(data.values, plan),
                                 list(spec.axes), plan.frequency_hz, spec.params)
    for lb in project.learn:
        assert prepared.features[lb.id].tobytes() == reference.tobytes()
    chunks = list(iter_window_chunks(data.values, plan, 64))
    assert [first for first, _ in chunks] == list(range(0, plan.n_windows, 64))
    assert np.concatenate([w for _, w in chunks]).tobytes() == extract_windows(data.values, plan).tobytes()
    # and the whole run: same response with tiny and with sample-sized batches
    small = run_bundle(bundle, RunOptions(workers=0, batch_rows=64))
    whole = run_bundle(bundle, RunOptions(workers=0, batch_rows=4096))
    assert small.response_json() == whole.response_json()


def test_a_sample_with_many_windows_never_holds_all_of_them(tmp_path):
    """Without it one long sample allocated (windows x window values x 8) bytes at once."""
    n_readings = 20_124
    bundle = _long_bundle(tmp_path, n_readings)
    all_windows_bytes = (n_readings - 124) * 125 * 3 * 8  # 60 MB of float64 windows
    peaks = {}
    for batch_rows in (1024, 10**9):  # chunked, then one chunk of every window (the old way)
        _, record, featurizer = _prepare(bundle, batch_rows)
        tracemalloc.start()
        try:
            prepared = featurizer.prepare(record)
            peaks[batch_rows] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert prepared.outcome.n_windows == n_readings - 124
    assert peaks[10**9] > all_windows_bytes  # the measurement sees the window arrays
    # chunked: ~1024 windows' arrays and the DSP's temporaries of one chunk, whatever the length
    assert peaks[1024] < all_windows_bytes / 2, peaks
