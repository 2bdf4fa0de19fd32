"""Multi-label block metrics (evalcore.metrics.multilabel, kernels.multilabel) against sklearn and a naive count."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from evalcore.errors import ConfigError
from evalcore.metrics.multilabel import (
    AVERAGES,
    MultiLabelMetricsAccumulator,
    multilabel_additional_metrics,
    multilabel_metrics,
)
from kernels.multilabel import multilabel_counts
from tests.naive import naive_multilabel_counts

# AUC: exactly rounded Mann-Whitney ratio vs sklearn's trapezoids; loss: math.fsum vs numpy's mean.
SKLEARN_ATOL = 1e-12
THRESHOLD = 0.5


def _random_case(rng, n, k, *, empty_label=True, zero_rows=True, ties=True):
    """Truth, float32-representable sigmoid scores and the >= THRESHOLD selection, with the named edge cases."""
    truth = rng.random((n, k)) < 0.35
    logits = rng.normal(0, 1.5, (n, k)) + 2.0 * truth
    scores = (1 / (1 + np.exp(-logits))).astype(np.float32)
    if empty_label:  # a label no window carries (its AUC is undefined, its recall 0/0)
        truth[:, k - 1] = False
    if zero_rows:  # windows with no true label, and windows where nothing is selected
        truth[: n // 10] = False
        scores[n // 10 : n // 5] = np.float32(0.1)
    if ties:  # scores exactly at the threshold are selected (>=)
        scores[rng.random((n, k)) < 0.05] = np.float32(THRESHOLD)
    pred = scores >= np.float32(THRESHOLD)
    return truth, pred, scores.astype(np.float64)


@pytest.mark.parametrize(("n", "k"), [(0, 3), (1, 1), (7, 1), (50, 4), (300, 9)])
def test_counts_equal_naive(n, k):
    """The kernel's per-label and per-row counts equal a cell-by-cell count."""
    rng = np.random.default_rng(n * 31 + k)
    truth = rng.random((n, k)) < 0.4
    pred = rng.random((n, k)) < 0.4
    got_labels, got_rows = multilabel_counts(truth, pred)
    want_labels, want_rows = naive_multilabel_counts(truth.tolist(), pred.tolist(), k)
    assert np.array_equal(got_labels, want_labels.reshape(k, 3))
    assert np.array_equal(got_rows, want_rows.reshape(n, 3))


def test_counts_reject_bad_input():
    """Non-bool or mismatched inputs are refused, not miscounted."""
    with pytest.raises(TypeError):
        multilabel_counts(np.zeros((2, 2), dtype=np.int8), np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError):
        multilabel_counts(np.zeros((2, 2), dtype=bool), np.zeros((2, 3), dtype=bool))


@pytest.mark.oracle
@pytest.mark.parametrize("k", [2, 3, 6])
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_sklearn(k, seed):
    """Per-label counts and P/R/F1, every average, subset accuracy, Hamming loss, AUC and loss equal sklearn."""
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(100 * k + seed)
    truth, pred, scores = _random_case(rng, 400, k, empty_label=k > 2)
    got = multilabel_metrics(truth, pred, scores)
    y, yp = truth.astype(int), pred.astype(int)
    mcm = skm.multilabel_confusion_matrix(y, yp)
    assert np.array_equal(got.label_counts[:, [3, 1, 2, 0]], mcm.reshape(k, 4))  # tn fp fn tp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = skm.precision_recall_fscore_support(y, yp, average=None, zero_division=0)
        assert np.array_equal(got.support, s)
        for ours, theirs in ((got.precision, p), (got.recall, r), (got.f1, f)):
            assert np.allclose(ours, theirs, rtol=0, atol=SKLEARN_ATOL)
        for average in AVERAGES:
            want = skm.precision_recall_fscore_support(y, yp, average=average, zero_division=0)[:3]
            assert np.allclose(got.averages[average], want, rtol=0, atol=SKLEARN_ATOL), average
        assert got.subset_accuracy == skm.accuracy_score(y, yp)
        assert abs(got.hamming_loss - skm.hamming_loss(y, yp)) <= SKLEARN_ATOL
        assert abs(got.loss - skm.log_loss(y.ravel(), scores.ravel(), labels=[0, 1])) <= SKLEARN_ATOL
        defined = all(0 < y[:, j].sum() < len(y) for j in range(k))
        if defined:
            assert abs(got.roc_auc - skm.roc_auc_score(y, scores)) <= SKLEARN_ATOL
        else:  # sklearn 1.3 raises, newer ones give NaN; EI's code reports None
            assert got.roc_auc is None


def test_threshold_ties_and_empty_rows():
    """Hand-checked: a score at the threshold counts as selected; an empty row is 0 in the samples average."""
    truth = np.array([[True, False], [False, False], [True, True]])
    scores = np.array([[0.5, 0.2], [0.1, 0.1], [0.9, 0.4]])
    pred = scores >= 0.5
    got = multilabel_metrics(truth, pred, scores)
    assert got.label_counts.tolist() == [[2, 0, 0, 1], [0, 0, 1, 2]]
    assert got.subset_accuracy == 2 / 3  # row 1 (nothing true, nothing selected) is an exact match
    assert got.averages["samples"] == (pytest.approx((1 + 0 + 1) / 3), pytest.approx((1 + 0 + 0.5) / 3),
                                       pytest.approx((1 + 0 + 2 / 3) / 3))
    assert got.hamming_loss == 1 / 6


def test_no_window():
    """Without windows every score is undefined (None), the counts are zero."""
    got = MultiLabelMetricsAccumulator(3).compute()
    assert got.n_windows == 0 and got.label_counts.sum() == 0
    assert got.subset_accuracy is None and got.roc_auc is None and got.loss is None
    assert all(v is None for v in got.averages.values())
    assert multilabel_additional_metrics(got) == []


def test_additional_metric_entries():
    """Default entries are the single-label names (weighted); another reading renames them."""
    rng = np.random.default_rng(3)
    truth, pred, scores = _random_case(rng, 200, 3, empty_label=False)
    got = multilabel_metrics(truth, pred, scores)
    entries = multilabel_additional_metrics(got)
    assert [e.name for e in entries] == ["Area under ROC Curve", "Weighted average Precision",
                                         "Weighted average Recall", "Weighted average F1 score", "Loss"]
    assert entries[1].full_precision_value == got.averages["weighted"][0]
    micro = multilabel_additional_metrics(got, "micro")
    assert micro[3].name == "Micro average F1 score" and micro[3].full_precision_value == got.averages["micro"][2]
    with pytest.raises(ConfigError):
        multilabel_additional_metrics(got, "binary")


def test_bad_input_is_refused():
    """Mismatched shapes, non-bool truth and NaN scores raise ConfigError."""
    ok = np.zeros((2, 2), dtype=bool)
    with pytest.raises(ConfigError):
        multilabel_metrics(ok, ok, np.zeros((2, 3)))
    with pytest.raises(ConfigError):
        multilabel_metrics(ok.astype(int), ok, np.zeros((2, 2)))
    with pytest.raises(ConfigError):
        multilabel_metrics(ok, ok, np.full((2, 2), np.nan))
