"""EI's ``calculate_classification_metrics`` golden cases through our public function.

Run the same check by hand::

    from evalcore.metrics.accuracy import calculate_classification_metrics
    calculate_classification_metrics(y_true, probs, num_classes)  # == cases.json "expected"
"""

from __future__ import annotations

import json
import math
from functools import cache

import numpy as np
import pytest

from evalcore.metrics.accuracy import calculate_classification_metrics
from tests.conftest import GOLDEN, require_shared

FOLDER = require_shared(GOLDEN / "classification")
CASES = json.loads((FOLDER / "cases.json").read_text())["cases"]

# Golden README: atol 1e-12 for everything (P/R/F1 are ratios, AUC rank based, loss a float64
# mean); our AUC and loss round differently from sklearn by a few ulps.
GOLDEN_ATOL = 1e-12


@cache
def _arrays():
    return np.load(FOLDER / "arrays.npz", allow_pickle=False)


def _metrics(case):
    inputs = case["inputs"]
    return calculate_classification_metrics(
        np.array(inputs["y_true"]), _arrays()[inputs["probs_key"]].copy(), inputs["num_classes"]
    )


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    elif not _is_number(got) or not _is_number(expected):
        if got != expected:
            problems.append((path, got, expected))
    elif math.isnan(got) or math.isnan(expected):
        if not (math.isnan(got) and math.isnan(expected)):  # NaN only where the golden is NaN
            problems.append((path, got, expected))
    elif abs(got - expected) > GOLDEN_ATOL:
        problems.append((path, got, expected))


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_golden_classification_case(case):
    """Every golden case (the edge ones name the quirk): confusion matrix, report, AUC quirks,
    loss, weighted average."""
    problems = []
    _compare(_metrics(case), case["expected"], case["id"], problems)
    assert not problems, f"{len(problems)} mismatches, first: {problems[:3]}"


@pytest.mark.parametrize(
    ("got", "expected", "ok"),
    [
        (float("nan"), 0.5, False),
        (0.5, float("nan"), False),
        (float("nan"), float("nan"), True),
        (float("nan"), None, False),
        (None, 0.5, False),
        (0.5 + 2e-12, 0.5, False),
        (0.5 + 1e-13, 0.5, True),
        ("0.5", 0.5, False),
    ],
)
def test_compare_flags_nan_none_and_distance(got, expected, ok):
    """Without it the comparison itself could let a NaN or a missing value pass as a match."""
    problems = []
    _compare({"a": [got]}, {"a": [expected]}, "x", problems)
    assert (problems == []) == ok, problems
