"""K-means and GMM anomaly golden cases through the public functions of evalcore.learn.anomaly.

Run the same check by hand::

    from evalcore.learn.anomaly import kmeans_scores, gmm_scores
    kmeans_scores(X_test, axes=..., mean=..., scale=..., centers=..., max_error=...).score
    gmm_scores(X_test, axes=..., weights=..., means=..., covariances=... or precisions_cholesky=...,
               score_mean=..., score_scale=...).score
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest

from evalcore.learn.anomaly import gmm_scores, gmm_suggested_threshold, kmeans_scores
from tests.conftest import GOLDEN, require_shared

FOLDER = require_shared(GOLDEN / "anomaly")
CASES = json.loads((FOLDER / "cases.json").read_text())["cases"]
KMEANS = [c for c in CASES if c["kind"] == "kmeans"]
GMM = [c for c in CASES if c["kind"] == "gmm"]

# Tolerances stated in the golden README.
KMEANS_RTOL = 1e-12  # float64 from the given parameters
GMM_RTOL = 1e-9  # float64 sklearn path; reached ~1e-12 from either covariances or precisions
SDK_F32_RTOL = 1e-5  # against the SDK float32 emulation
SDK_F32_ATOL = 1e-5


@cache
def _arrays():
    return np.load(FOLDER / "arrays.npz", allow_pickle=False)


def test_every_case_is_kmeans_or_gmm():
    """Without it a case of a third kind would be in neither parametrization below."""
    assert len(KMEANS) + len(GMM) == len(CASES)


def _first_mismatch(actual, expected, rtol, atol=0.0):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return f"shape {actual.shape} != {expected.shape}"
    bad = ~(np.abs(actual - expected) <= atol + rtol * np.abs(expected))
    if bad.any():
        i = int(np.argmax(bad))
        return f"index {i}: got {actual[i]!r}, expected {expected[i]!r}, delta {actual[i] - expected[i]!r}"
    return None


def _kmeans_params(inputs):
    return dict(
        axes=inputs["axes"],
        mean=inputs["scaler_mean"],
        scale=inputs["scaler_scale"],
        centers=[c["center"] for c in inputs["clusters"]],
        max_error=[c["maxError"] for c in inputs["clusters"]],
    )


@pytest.mark.oracle
@pytest.mark.parametrize("case", KMEANS, ids=[c["id"] for c in KMEANS])
def test_golden_kmeans_case(case):
    """Each K-means case: float64 score and nearest cluster, and the SDK float32 emulation."""
    arrays = _arrays()
    x = arrays[case["inputs"]["X_test_key"]].copy()
    params = _kmeans_params(case["inputs"])
    expected = case["expected"]
    f64 = kmeans_scores(x, **params)
    sdk = kmeans_scores(x, **params, emulate_sdk_float32=True)
    failures = []
    for what, problem in (
        ("score_float64", _first_mismatch(f64.score, expected["score_float64"], KMEANS_RTOL)),
        ("nearest_cluster", None if np.array_equal(f64.nearest_cluster, expected["nearest_cluster"])
         else "differs"),
        ("score_sdk_float32_emulated", _first_mismatch(
            sdk.score, expected["score_sdk_float32_emulated"], SDK_F32_RTOL, SDK_F32_ATOL)),
    ):
        if problem:
            failures.append(f"{case['id']} {what}: {problem}")
    assert not failures, failures


def test_golden_kmeans_sdk_clamp_case():
    """kmeans_1401_001: a far point scores exactly 1000 under the SDK emulation, not its float64 distance."""
    case = next(c for c in KMEANS if c["id"] == "kmeans_1401_001")
    x = _arrays()[case["inputs"]["X_test_key"]].copy()
    sdk = kmeans_scores(x, **_kmeans_params(case["inputs"]), emulate_sdk_float32=True)
    assert sdk.score[0] == 1000.0 and case["expected"]["score_sdk_float32_emulated"][0] == 1000.0


@pytest.mark.oracle
@pytest.mark.parametrize("case", GMM, ids=[c["id"] for c in GMM])
def test_golden_gmm_case(case):
    """Each GMM case from precisions_cholesky and from covariances, plus the suggested threshold."""
    arrays = _arrays()
    inputs, expected = case["inputs"], case["expected"]
    common = dict(
        axes=inputs["axes"],
        weights=inputs["weights"],
        means=arrays[inputs["means_key"]].copy(),
        score_mean=inputs["score_scaler_mean"],
        score_scale=inputs["score_scaler_scale"],
    )
    x = arrays[inputs["X_test_key"]].copy()
    from_prec = gmm_scores(x, precisions_cholesky=arrays[inputs["precisions_cholesky_key"]].copy(), **common)
    from_cov = gmm_scores(x, covariances=arrays[inputs["covariances_key"]].copy(), **common)
    train = gmm_scores(arrays[inputs["X_train_key"]].copy(),
                       precisions_cholesky=arrays[inputs["precisions_cholesky_key"]].copy(), **common)
    suggested = gmm_suggested_threshold(train.loglik)
    failures = []
    for what, problem in (
        ("score (precisions)", _first_mismatch(from_prec.score, expected["score"], GMM_RTOL)),
        ("loglik (precisions)", _first_mismatch(from_prec.loglik, expected["loglik"], GMM_RTOL)),
        ("score (covariances)", _first_mismatch(from_cov.score, expected["score"], GMM_RTOL)),
        ("suggested threshold", _first_mismatch(
            [suggested], [expected["defaultMinimumConfidenceRating_suggested"]], GMM_RTOL)),
    ):
        if problem:
            failures.append(f"{case['id']} {what}: {problem}")
    assert not failures, failures
