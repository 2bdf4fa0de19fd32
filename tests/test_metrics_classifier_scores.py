"""EI's classifier metrics (evalcore.metrics.classifier_scores) against sklearn, plus merging."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.errors import ConfigError
from evalcore.metrics.classifier_scores import ClassifierMetricsAccumulator, classifier_metrics

# AUC: exactly rounded Mann-Whitney ratio vs sklearn's trapezoids; loss: math.fsum vs numpy's
# pairwise mean (and sklearn >= 1.5 no longer renormalises after clipping). A few ulps apart.
SKLEARN_ATOL = 1e-12


def _random_case(rng, n, k, int8_like=False):
    y_true = rng.integers(0, k, n)
    y_true[:k] = np.arange(k)
    logits = rng.normal(0, 2, (n, k)) + 2.5 * np.eye(k)[y_true] * (rng.random((n, 1)) < 0.7)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if int8_like:  # dequantised int8 softmax: multiples of 1/256, rows need not sum to 1
        probs = np.round(probs * 256) / 256
        probs[probs.sum(axis=1) == 0] = 1 / 256
    return y_true, probs.astype(np.float32).astype(np.float64)


@pytest.mark.oracle
@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("int8_like", [False, True])
def test_equals_sklearn(n_classes, int8_like):
    """Confusion matrix (exact), weighted P/R/F1, AUC with EI's quirks and log loss equal sklearn."""
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(51 + n_classes)
    y_true, probs = _random_case(rng, 400, n_classes, int8_like)
    got = classifier_metrics(y_true, probs, n_classes)
    renorm = probs / probs.sum(axis=1, keepdims=True)
    y_pred = np.argmax(renorm, axis=1)
    assert np.array_equal(got.confusion_matrix, skm.confusion_matrix(y_true, y_pred, labels=range(n_classes)))
    p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average="weighted", zero_division=0)
    for ours, theirs in ((got.weighted_precision, p), (got.weighted_recall, r), (got.weighted_f1, f)):
        assert abs(ours - theirs) <= SKLEARN_ATOL, (ours, theirs)
    if n_classes == 2:
        auc = skm.roc_auc_score(y_true, y_pred)  # EI's quirk: argmax labels as the score
    else:
        auc = skm.roc_auc_score(y_true, renorm, multi_class="ovr")
    assert abs(got.roc_auc - auc) <= SKLEARN_ATOL, (got.roc_auc, auc)
    loss = skm.log_loss(y_true, renorm, labels=list(range(n_classes)))
    assert abs(got.loss - loss) <= SKLEARN_ATOL, (got.loss, loss)
    assert got.accuracy == skm.accuracy_score(y_true, y_pred)


def test_roc_auc_none_when_a_class_is_missing():
    """Binary with one class, or multiclass with a class absent from y_true: None, as EI catches sklearn's error."""
    probs = np.array([[0.2, 0.8], [0.6, 0.4]])
    assert classifier_metrics(np.array([1, 1]), probs, 2).roc_auc is None
    probs3 = np.full((3, 3), 1 / 3)
    assert classifier_metrics(np.array([0, 1, 1]), probs3, 3).roc_auc is None


def test_zero_rows_policy():
    """An all-zero probability row becomes uniform by default, or raises on request; NaN always raises."""
    probs = np.array([[0.0, 0.0], [0.3, 0.7]])
    uniform = classifier_metrics(np.array([0, 1]), probs, 2)
    assert uniform.confusion_matrix.tolist() == [[1, 0], [0, 1]]  # uniform row: argmax 0
    with pytest.raises(ConfigError, match="row 0 sums to 0"):
        classifier_metrics(np.array([0, 1]), probs, 2, zero_rows="raise")
    with pytest.raises(ConfigError, match="NaN"):
        classifier_metrics(np.array([0, 1]), np.array([[np.nan, 1.0], [0.5, 0.5]]), 2)
    with pytest.raises(ConfigError, match="true labels"):
        classifier_metrics(np.array([0, 2]), probs, 2)


def test_empty_gives_none():
    """Without windows every score is None (omitted), not 0 or NaN."""
    m = ClassifierMetricsAccumulator(3).compute()
    assert m.n_windows == 0 and m.roc_auc is None and m.loss is None and m.weighted_f1 is None
    assert m.confusion_matrix.shape == (3, 3)


def test_accumulator_drops_unknown_test_labels():
    """Windows whose label is not a training class (-1) are dropped, as EI's classify job does."""
    acc = ClassifierMetricsAccumulator(2)
    acc.update(np.array([0, -1, 1]), np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]]))
    assert acc.compute().n_windows == 2
    with pytest.raises(ConfigError):
        acc.update(np.array([0]), np.zeros((1, 3)))


@pytest.mark.parametrize("n_classes", [2, 4])
def test_kept_and_recomputed_renormalised_rows_give_the_same_bits(monkeypatch, n_classes):
    """Without it a large test set (renormalised again on every pass, in chunks) could get other
    numbers than a small one (renormalised once and kept)."""
    from evalcore.metrics import classifier_scores as cs

    rng = np.random.default_rng(n_classes)
    probs = rng.random((3000, n_classes)).astype(np.float32)
    probs[::97] = 0.0  # rows that sum to 0 (the "uniform" policy)
    y_true = rng.integers(0, n_classes, 3000)
    kept = cs.classifier_metrics(y_true, probs, n_classes)
    monkeypatch.setattr(cs, "_KEEP_VALUES", 0)
    monkeypatch.setattr(cs, "_CHUNK_ROWS", 256)
    again = cs.classifier_metrics(y_true, probs, n_classes)
    assert kept.to_ei_dict() == again.to_ei_dict()
    assert kept.loss == again.loss and kept.roc_auc == again.roc_auc
