"""FOMO per-sample scoring and pooled dataset metrics against ../shared/golden/fomo (EI's own code)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from evalcore.metrics.fomo_dataset import FomoAccumulator, classification_report_from_counts
from evalcore.report.boxes import fomo_details, fomo_structured_result
from tests._helpers import score_fomo_heatmap
from tests.conftest import GOLDEN, require_shared

FOLDER = require_shared(GOLDEN / "fomo")
CASE_IDS = [c["id"] for c in json.loads((FOLDER / "cases.json").read_text())["cases"]]

# Golden README "fomo" tolerance is atol 1e-12; every value here is reproduced bit for bit
# (same operation order), so the comparisons are exact. sklearn >= 1.4 computes the
# classification-report F1 as 2TP/(n_true+n_pred), which differs from the 1.3 order EI used by
# an ulp: the sklearn oracle test allows this much.
SKLEARN_F1_ORDER_TOL = 1e-12


@pytest.fixture(scope="module")
def golden():
    cases = json.loads((FOLDER / "cases.json").read_text())
    return cases, np.load(FOLDER / "arrays.npz", allow_pickle=False)


def _run(case, arrays):
    """The case scored as a run scores it (decoded in the map, scored in the reduce)."""
    inputs = case["inputs"]
    heatmap = arrays[inputs["heatmap_key"]]
    assert np.shape(heatmap)[-1] == inputs["num_classes_including_background"]
    return score_fomo_heatmap(heatmap, inputs["boundingBoxes"], inputs["input_width_height"],
                              inputs["minimum_confidence_rating"])


def _assert_exact(name, actual, expected):
    """Exact equality of float/int arrays, reporting the first differing index."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64).reshape(actual.shape if actual.size else (-1,) + actual.shape[1:])
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    diff = np.flatnonzero(actual.ravel() != expected.ravel())
    if diff.size:
        i = int(diff[0])
        a, e = actual.ravel()[i], expected.ravel()[i]
        pytest.fail(f"{name}: first difference at flat index {i}: {a!r} != {e!r} (delta {a - e!r})")


@pytest.mark.oracle
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_fomo_sample_matches_golden(golden, case_id):
    """Any drift in cells, fusing, GT transpose/reciprocal, matching or P/R/F1 changes Studio's FOMO output."""
    cases, arrays = golden
    case = next(c for c in cases["cases"] if c["id"] == case_id)
    expected = case["expected"]
    result = _run(case, arrays)
    _assert_exact("boxes", result.boxes, expected["boxes"])
    assert result.labels.tolist() == expected["labels"]
    _assert_exact("scores", result.scores, expected["scores"])
    for key in ("precision", "recall", "f1"):
        assert getattr(result, key) == expected[key], key
    assert result.map_score == expected["mAP"]
    assert result.confusion_matrix.tolist() == expected["confusion_matrix"]
    assert result.n_label_entries == expected["n_label_entries"]
    assert json.loads(result.debug_info_json) == expected["debugInfo"]
    assert result.debug_info_json == expected["debugInfoJson"]


@pytest.mark.oracle
def test_fomo_datasets_match_golden(golden):
    """Pooled confusion, non-background P/R/F1 and classification report must equal calculate_fomo_metrics."""
    cases, arrays = golden
    by_id = {c["id"]: c for c in cases["cases"]}
    assert len(cases["datasets"]) == 8
    for dataset in cases["datasets"]:
        acc = FomoAccumulator(dataset["num_classes_including_background"])
        for sample_id in dataset["sample_case_ids"]:
            acc.update(_run(by_id[sample_id], arrays))
        got = acc.compute()
        want = dataset["expected"]["calculate_fomo_metrics"]
        assert got.n_samples == want["support"], dataset["id"]
        assert got.confusion_matrix.tolist() == want["confusion_matrix"], dataset["id"]
        for key in ("precision", "recall", "f1"):
            assert getattr(got, key) == want["non_background"][key], (dataset["id"], key)
        assert got.classification_report == want["classification_report"], dataset["id"]


@pytest.mark.oracle
def test_report_matches_sklearn_with_unknown_labels():
    """Label -1 (test label not in training) must appear in the report but not in the confusion matrix."""
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    for _ in range(20):
        n_classes = int(rng.integers(2, 5))
        y_true = rng.integers(-1, n_classes, size=200)
        y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, n_classes, size=200))
        y_pred[y_pred < 0] = 0
        counts = np.zeros((n_classes + 1, n_classes + 1), dtype=np.int64)
        np.add.at(counts, (y_true + 1, y_pred + 1), 1)
        want = sklearn_metrics.classification_report(y_true, y_pred, output_dict=True, zero_division=0)
        got = classification_report_from_counts(counts)
        assert list(got) == list(want)
        for key, row in want.items():
            if key == "accuracy":
                assert abs(got[key] - row) <= SKLEARN_F1_ORDER_TOL
                continue
            for metric, value in row.items():
                assert abs(got[key][metric] - value) <= SKLEARN_F1_ORDER_TOL, (key, metric)
        cm = sklearn_metrics.confusion_matrix(y_true, y_pred, labels=range(n_classes))
        assert np.array_equal(counts[1:, 1:], cm)


def test_flat_labels_and_studio_pieces(golden):
    """Flat lists rebuild EI's confusion; details/structuredResult carry Studio's keys and names."""
    cases, arrays = golden
    case = next(c for c in cases["cases"] if c["id"] == "fomo_edge_no_gt_with_preds")
    result = _run(case, arrays)
    y_true, y_pred = result.flat_labels()
    assert y_true.shape == (result.n_label_entries,)
    assert y_true[:2].tolist() == [0, 0] and y_pred[:2].tolist() == [1, 2]
    details = fomo_details(result)
    assert details.labels == [0, 1] and details.map_score == result.f1 == details.f1 == 0.0
    structured = fomo_structured_result(result, ["beer", "can"])
    assert structured.labels == ["beer", "can"]
    assert structured.debug_info_json == case["expected"]["debugInfoJson"]
    assert (structured.precision, structured.recall) == (0.0, 0.0)


def test_fomo_input_errors():
    """Bad heat maps and GT labels must raise evalcore errors naming the field, not crash later."""
    from evalcore.errors import BundleError, ModelError
    from evalcore.pipeline.infer import _check_last_layer

    heatmap = np.zeros((4, 4, 2), dtype=np.float32)
    with pytest.raises(ModelError):
        score_fomo_heatmap(np.zeros((4, 4), dtype=np.float32), [], 32, 0.5)
    with pytest.raises(ModelError):
        score_fomo_heatmap(np.zeros((4, 4, 2), dtype=np.int8), [], 32, 0.5)
    metadata = SimpleNamespace(object_detection_last_layer="fomo")
    runner = SimpleNamespace(spec=SimpleNamespace(metadata=metadata, metadata_path=Path("metadata.json")),
                             backend=SimpleNamespace(output_shapes=[(4, 4, 2)]), labels=("beer", "can"))
    with pytest.raises(BundleError, match="2 channels but the metadata lists 2 classes"):
        _check_last_layer(runner)  # the run's check, before any sample: 3 channels expected
    with pytest.raises(BundleError, match=r"boundingBoxes\[0\]\.label"):
        score_fomo_heatmap(heatmap, [{"x": 1, "y": 1, "w": 2, "h": 2, "label": 5}], 32, 0.5)
    with pytest.raises(BundleError, match=r"boundingBoxes\[0\]"):
        score_fomo_heatmap(heatmap, [{"x": 1, "y": 1, "label": 1}], 32, 0.5)
    ok = score_fomo_heatmap(heatmap[None], [{"x": 1, "y": 1, "width": 2, "height": 2, "label": 1}], 32, 0.5)
    assert ok.recall == 0.0 and ok.precision == 0.0


def test_accumulator_rejects_mismatched_classes():
    """Pooling samples scored with another class count would silently misalign labels."""
    from evalcore.errors import ConfigError

    result = score_fomo_heatmap(np.zeros((2, 2, 3), np.float32), [], 16, 0.5)
    with pytest.raises(ConfigError):
        FomoAccumulator(2).update(result)
    with pytest.raises(ConfigError):
        FomoAccumulator(0)
    empty = FomoAccumulator(3).compute()
    assert empty.n_samples == 0 and (empty.precision, empty.recall, empty.f1) == (1.0, 1.0, 1.0)
    assert empty.classification_report == {}
