"""Precomputed features (`features/X_<category>.npy`) as the input of a run, skipping the DSP."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from evalcore.engine import RunOptions, run_bundle
from evalcore.errors import BundleError


def _motion_rows(bundle):
    """The motion bundle's test windows as DSP rows and 1-based labels, computed as a run does."""
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset
    from evalcore.pipeline.featurize import SampleFeaturizer

    project = load_project(bundle)
    classes = list(project.learn[0].metadata.class_names)
    featurizer = SampleFeaturizer(project, RunOptions())
    xs, ys = [], []
    for record in load_dataset(project.dataset_dir).records:
        prepared = featurizer.prepare(record)
        xs.append(prepared.features[3])
        ys += [classes.index(e) + 1 if e in classes else 0 for e in prepared.outcome.expected]
    return np.concatenate(xs), np.array(ys, dtype=np.int64)


@pytest.fixture()
def features_bundle(fixtures_dir, tmp_path):
    src = fixtures_dir / "motion"
    assert (src / "impulse.json").is_file(), f"committed fixture bundle missing: {src}"
    dst = tmp_path / "bundle"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("dataset"))
    x, y = _motion_rows(src)
    (dst / "features").mkdir()
    np.save(dst / "features" / "X_testing.npy", x)
    np.save(dst / "features" / "y_testing.npy", y)
    return src, dst


def test_precomputed_rows_give_the_same_results_as_the_dataset(features_bundle):
    """Without it the features path could decode, label or count windows differently from a run on raw data."""
    src, dst = features_bundle
    known = RunOptions(compat={**RunOptions().compat, "unknown-label": "label"})
    from_data = run_bundle(src, known).response
    from_rows = run_bundle(dst, known).response
    assert [p.prediction for p in from_rows.predictions] == [p.prediction for p in from_data.predictions]
    assert from_rows.additional_metrics_by_learn_block == from_data.additional_metrics_by_learn_block
    # Rows labelled 0 (`shake`, unknown to the classifier) carry no label and are not counted;
    # every other class row is the same.
    a, b = from_data.accuracy, from_rows.accuracy
    assert {k: v for k, v in a.summary_per_class.items() if k != "shake"} == b.summary_per_class
    shake = a.summary_per_class["shake"]
    assert b.total_summary.good + b.total_summary.bad == a.total_summary.good + a.total_summary.bad - shake.good - shake.bad


def test_missing_features_file_is_a_clear_error(features_bundle):
    """Without it a bundle with a misnamed features file would fail deep inside numpy."""
    _, dst = features_bundle
    (dst / "features" / "X_testing.npy").rename(dst / "features" / "X_other.npy")
    with pytest.raises(BundleError, match="no precomputed testing features for DSP block 2"):
        run_bundle(dst)
