"""kernels.ranking (rank-based ROC AUC) against its naive pairwise reference and sklearn."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels.ranking import roc_auc_binary, roc_auc_ovr, roc_auc_sorted
from tests.naive import naive_roc_auc_binary, naive_roc_auc_ovr

# sklearn integrates trapezoids in float64 (several roundings); the kernel's result is one
# correctly rounded division of exact integers. They agree to a few ulps of a number <= 1.
SKLEARN_AUC_ATOL = 1e-12


def _assert_close_arrays(actual, expected, atol):
    """Whole-array comparison (NaN equal to NaN) naming the first differing index."""
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    bad = ~((np.abs(actual - expected) <= atol) | (np.isnan(actual) & np.isnan(expected)))
    if bad.any():
        i = int(np.argmax(bad))
        raise AssertionError(
            f"first difference at {i}: got {actual[i]!r}, expected {expected[i]!r}, "
            f"delta {actual[i] - expected[i]!r}"
        )


def test_binary_matches_naive_random_with_ties():
    """Tie groups must count one half; coarse scores force many ties across classes."""
    rng = np.random.default_rng(11)
    for n, levels in [(2, 2), (50, 3), (400, 5), (400, 1000), (1500, 7)]:
        is_positive = rng.random(n) < 0.4
        is_positive[0], is_positive[-1] = True, False
        score = rng.integers(0, levels, n).astype(np.float64) / levels
        assert roc_auc_binary(is_positive, score) == naive_roc_auc_binary(is_positive, score)


def test_binary_exact_ratio():
    """The kernel's value is the exactly rounded U / (n_pos n_neg); it must equal the naive one bit for bit."""
    rng = np.random.default_rng(12)
    is_positive = rng.random(777) < 0.3
    score = rng.random(777).astype(np.float32)  # float32 scores rank in float32, like Studio's model output
    assert roc_auc_binary(is_positive, score) == naive_roc_auc_binary(is_positive, score)


def test_binary_edge_cases():
    """All tied -> 0.5, perfect -> 1, inverted -> 0, one class only -> NaN (undefined, not 0.5)."""
    pos = np.array([True, False, True, False])
    assert roc_auc_binary(pos, np.zeros(4)) == 0.5
    assert roc_auc_binary(pos, np.array([1.0, 0.0, 1.0, 0.0])) == 1.0
    assert roc_auc_binary(pos, np.array([0.0, 1.0, 0.0, 1.0])) == 0.0
    assert math.isnan(roc_auc_binary(np.ones(3, dtype=bool), np.arange(3.0)))
    assert math.isnan(roc_auc_binary(np.zeros(0, dtype=bool), np.zeros(0)))
    assert roc_auc_binary(np.array([True, False]), np.array([-0.0, 0.0])) == 0.5  # -0 ties +0


def test_ovr_matches_naive():
    """Each column must be scored against its own class; a transposed or shifted column would pass summaries."""
    rng = np.random.default_rng(13)
    y_true = rng.integers(0, 4, 300)
    scores = np.round(rng.random((300, 4)), 2)
    _assert_close_arrays(roc_auc_ovr(y_true, scores), naive_roc_auc_ovr(y_true, scores), 0.0)
    y_missing = np.where(y_true == 2, 0, y_true)  # class 2 absent -> NaN for it
    _assert_close_arrays(roc_auc_ovr(y_missing, scores), naive_roc_auc_ovr(y_missing, scores), 0.0)


def test_contract_errors():
    """Non-bool positives or mismatched shapes must raise instead of silently ranking garbage."""
    with pytest.raises(TypeError):
        roc_auc_binary(np.array([0, 1]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError):
        roc_auc_binary(np.array([True, False]), np.array([0.1]))
    with pytest.raises(ValueError):
        roc_auc_ovr(np.array([0, 1]), np.zeros((3, 2)))


@pytest.mark.oracle
def test_binary_equals_sklearn():
    """Agreement with sklearn.roc_auc_score, ties included, within SKLEARN_AUC_ATOL."""
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(14)
    for n, levels in [(10, 2), (300, 4), (3000, 50), (3000, 10**9)]:
        y = (rng.random(n) < 0.35).astype(np.int64)
        y[:2] = [0, 1]
        score = rng.integers(0, levels, n) / levels
        expected = skm.roc_auc_score(y.copy(), score.copy())
        got = roc_auc_binary(y == 1, score)
        assert abs(got - expected) <= SKLEARN_AUC_ATOL, (got, expected)


@pytest.mark.oracle
def test_ovr_macro_equals_sklearn():
    """The mean of the per-class AUCs equals sklearn's multi_class='ovr' macro AUC."""
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(15)
    for n, k in [(60, 3), (2000, 6)]:
        y = rng.integers(0, k, n)
        y[:k] = np.arange(k)
        probs = np.round(rng.random((n, k)), 2) + 0.01
        probs /= probs.sum(axis=1, keepdims=True)
        expected = skm.roc_auc_score(y.copy(), probs.copy(), multi_class="ovr")
        got = float(np.mean(roc_auc_ovr(y, probs)))
        assert abs(got - expected) <= SKLEARN_AUC_ATOL, (got, expected)


def test_sorted_halves_match_naive():
    """Without it the in-place path the classifier metrics take (split, sort, count) could drift
    from the pairwise definition."""
    rng = np.random.default_rng(5)
    for n, levels in [(2, 2), (300, 4), (2000, 1000)]:
        is_positive = rng.random(n) < 0.3
        is_positive[0], is_positive[-1] = True, False
        score = rng.integers(0, levels, n).astype(np.float64) / levels
        pos, neg = np.sort(score[is_positive]), np.sort(score[~is_positive])
        assert roc_auc_sorted(pos, neg) == naive_roc_auc_binary(is_positive, score)
    assert math.isnan(roc_auc_sorted(np.zeros(0), np.ones(3)))
    with pytest.raises(ValueError):
        roc_auc_sorted(np.zeros((2, 2)), np.zeros(2))
