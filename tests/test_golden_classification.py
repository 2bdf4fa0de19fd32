"""EI's ``calculate_classification_metrics`` golden cases through our public function.

Run the same check by hand::

    from evalcore.metrics.classification import calculate_classification_metrics
    calculate_classification_metrics(y_true, probs, num_classes)  # == cases.json "expected"
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from evalcore.metrics.classification import calculate_classification_metrics

# Golden README: atol 1e-12 for everything (P/R/F1 are ratios, AUC rank based, loss a float64
# mean); our AUC and loss round differently from sklearn by a few ulps.
GOLDEN_ATOL = 1e-12


def _load(golden_dir):
    folder = golden_dir / "classification"
    cases = json.loads((folder / "cases.json").read_text())["cases"]
    arrays = np.load(folder / "arrays.npz", allow_pickle=False)
    return cases, arrays


def _compare(got, expected, path, problems):
    """Walk both structures; collect (path, got, expected) where keys, types or values differ."""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or list(got) != list(expected):
            problems.append((path + " keys", list(got) if isinstance(got, dict) else got, list(expected)))
            return
        for key in expected:
            _compare(got[key], expected[key], f"{path}/{key}", problems)
    elif isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            problems.append((path + " length", got, expected))
            return
        for i, (g, e) in enumerate(zip(got, expected)):
            _compare(g, e, f"{path}[{i}]", problems)
    elif expected is None:
        if got is not None:
            problems.append((path, got, None))
    elif got is None or abs(got - expected) > GOLDEN_ATOL:
        problems.append((path, got, expected))


def test_golden_classification_all_cases(golden_dir):
    """Every golden case (67): confusion matrix, report, AUC quirks, loss, weighted average."""
    cases, arrays = _load(golden_dir)
    assert len(cases) == 67
    failures = []
    for case in cases:
        inputs = case["inputs"]
        probs = arrays[inputs["probs_key"]].copy()
        got = calculate_classification_metrics(np.array(inputs["y_true"]), probs, inputs["num_classes"])
        problems = []
        _compare(got, case["expected"], case["id"], problems)
        failures.extend(problems)
    assert not failures, f"{len(failures)} mismatches, first: {failures[0]}"


@pytest.mark.parametrize(
    "case_id",
    ["cls_edge_binary_argmax_auc", "cls_edge_single_class", "cls_edge_missing_classes",
     "cls_edge_exact_zero_probs", "cls_edge_rows_sum_0_9"],
)
def test_golden_classification_named_quirks(golden_dir, case_id):
    """The quirk cases one by one, so a regression names the quirk it broke."""
    cases, arrays = _load(golden_dir)
    case = next(c for c in cases if c["id"] == case_id)
    inputs = case["inputs"]
    got = calculate_classification_metrics(
        np.array(inputs["y_true"]), arrays[inputs["probs_key"]].copy(), inputs["num_classes"]
    )
    problems = []
    _compare(got, case["expected"], case_id, problems)
    assert not problems, problems[:3]
