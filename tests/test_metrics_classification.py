"""ClassificationAccumulator (Studio's accuracy object): hand cases, options, sklearn oracles, merging."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from evalcore.errors import ConfigError
from evalcore.metrics.accuracy import (
    AccuracyOptions,
    ClassificationAccumulator,
    GoodBad,
    mean_ratio_score,
    ratio_score,
)

CLASSES = ("idle", "wave", "snake")
EXTRAS = ("uncertain", "anomaly")
# balanced accuracy on the fraction scale: we sum recalls with math.fsum in label-space order,
# sklearn with a pairwise sum in sorted-label order; a few ulps apart. (The percent scale is
# exactly rounded, so it is compared exactly, to the value computed from sklearn's counts.)
BALANCED_ATOL = 1e-12
FRACTION = AccuracyOptions(score_scale="fraction")


def _exact_percent(*ratios: Fraction) -> float:
    """100 x the exact mean of the ratios, rounded once: the percent scale as defined."""
    return float(100 * sum(ratios) / len(ratios))


def _accumulate(expected, predicted, expected_is_anomaly=None, options=None, extras=EXTRAS):
    acc = ClassificationAccumulator(CLASSES, extras, options=options)
    acc.update(np.asarray(expected, dtype=np.int32), np.asarray(predicted, dtype=np.int32),
               expected_is_anomaly=expected_is_anomaly)
    return acc


def test_hand_example_defaults():
    """Uncertain and anomaly predictions are bad, become columns when they occur, and rows stay the classes."""
    expected = [0, 0, 1, 1, 2, 2, 2]
    predicted = [0, 3, 1, 0, 4, 2, 2]  # 3 uncertain, 4 anomaly
    is_anom = np.array([False, False, False, False, True, False, False])
    result = _accumulate(expected, predicted, is_anom).compute()
    assert result.total_summary == GoodBad(4, 3)
    assert result.summary_per_class == {"idle": GoodBad(1, 1), "wave": GoodBad(1, 1), "snake": GoodBad(2, 1)}
    assert result.all_labels == ["idle", "wave", "snake", "uncertain", "anomaly"]
    assert result.confusion_matrix_values["idle"] == {"idle": 1, "wave": 0, "snake": 0, "uncertain": 1, "anomaly": 0}
    assert list(result.confusion_matrix_values) == ["idle", "wave", "snake"]
    assert result.accuracy_score == _exact_percent(Fraction(4, 7)) == 400 / 7  # 57.142857142857146
    assert result.balanced_accuracy_score == _exact_percent(Fraction(1, 2), Fraction(1, 2), Fraction(2, 3))
    assert result.anomaly_accuracy_score == 100.0
    assert result.no_anomaly_accuracy_score == 100.0
    assert result.mse_score is None
    fraction = _accumulate(expected, predicted, is_anom, options=FRACTION).compute()
    assert fraction.accuracy_score == 4 / 7
    assert fraction.balanced_accuracy_score == pytest.approx((0.5 + 0.5 + 2 / 3) / 3, abs=1e-15)
    assert fraction.anomaly_accuracy_score == 1.0 and fraction.no_anomaly_accuracy_score == 1.0
    assert fraction.all_labels == result.all_labels  # the scale changes the scores only
    assert fraction.confusion_matrix_values == result.confusion_matrix_values


def test_percent_is_one_rounding_of_the_exact_ratio():
    """Percent = the exact 100*good/total rounded once, not 100*(good/total) (one ulp apart for 1/3).

    Without it the percent bytes could depend on how the product is ordered; the fraction scale
    stays good/total bit for bit.
    """
    assert ratio_score(1, 3) == float(Fraction(100, 3)) == 100 / 3
    assert ratio_score(1, 3) != 100 * (1 / 3)  # the two-rounding form differs in the last bit
    for total in range(1, 60):
        for good in range(total + 1):
            assert ratio_score(good, total) == float(Fraction(100 * good, total))
            assert ratio_score(good, total, "fraction") == good / total
    assert ratio_score(0, 0) is None and mean_ratio_score([]) is None
    assert mean_ratio_score([(1, 3), (2, 3)]) == 50.0
    assert mean_ratio_score([(1, 3), (2, 7)], "fraction") == (1 / 3 + 2 / 7) / 2
    with pytest.raises(ConfigError):
        ratio_score(1, 2, "permille")


def test_uncertain_column_always_by_default():
    """Studio's matrix keeps an uncertain column with 0 counts (E1); 'when-present' only where it occurs.

    The column is never a row or a summaryPerClass key of its own.
    """
    result = _accumulate([0, 1, 2], [0, 1, 4]).compute()
    assert result.all_labels == ["idle", "wave", "snake", "uncertain", "anomaly"]
    assert all(row["uncertain"] == 0 for row in result.confusion_matrix_values.values())
    assert "uncertain" not in result.summary_per_class and "uncertain" not in result.confusion_matrix_values
    present = _accumulate([0, 1, 2], [0, 1, 4], options=AccuracyOptions(uncertain_column="when-present")).compute()
    assert present.all_labels == ["idle", "wave", "snake", "anomaly"]
    assert all("uncertain" not in row for row in present.confusion_matrix_values.values())
    # an accumulator without an uncertain label (nothing can be uncertain) has no such column
    no_label = _accumulate([0, 1], [0, 1], extras=("anomaly",)).compute()
    assert no_label.all_labels == list(CLASSES)


def test_extra_columns_only_when_they_occur_unless_declared():
    """Without uncertain/anomaly windows the matrix has only class columns (and uncertain by default);
    'declared' lists every extra label."""
    result = _accumulate([0, 1], [0, 1]).compute()
    assert result.all_labels == list(CLASSES) + ["uncertain"]
    present = _accumulate([0, 1], [0, 1], options=AccuracyOptions(uncertain_column="when-present")).compute()
    assert present.all_labels == list(CLASSES)
    assert result.summary_per_class["snake"] == GoodBad(0, 0)  # class row kept with no windows
    declared = _accumulate([0, 1], [0, 1], options=AccuracyOptions(extra_columns="declared")).compute()
    assert declared.all_labels == list(CLASSES + EXTRAS)
    no_empty = _accumulate([0, 1], [0, 1], options=AccuracyOptions(empty_class_rows=False)).compute()
    assert list(no_empty.summary_per_class) == ["idle", "wave"]


def test_test_only_label_is_a_row_and_column():
    """A test label unknown to the model is a row (always bad) and a column."""
    acc = ClassificationAccumulator(CLASSES, EXTRAS + ("noise",))
    acc.update(np.array([5, 5, 0]), np.array([0, 3, 0]))
    result = acc.compute()
    assert list(result.summary_per_class) == ["idle", "wave", "snake", "noise"]
    assert result.summary_per_class["noise"] == GoodBad(0, 2)
    assert result.all_labels == ["idle", "wave", "snake", "uncertain", "noise"]


def test_uncertain_exclude_policy():
    """'exclude' drops uncertain windows from good/bad and the scores but keeps them in the matrix."""
    options = AccuracyOptions(uncertain_policy="exclude")
    result = _accumulate([0, 0, 1, 1], [0, 3, 0, 1], options=options).compute()
    assert result.total_summary == GoodBad(2, 1)
    assert result.summary_per_class["idle"] == GoodBad(1, 0)
    assert result.accuracy_score == 200 / 3
    assert result.balanced_accuracy_score == 75.0
    assert result.confusion_matrix_values["idle"]["uncertain"] == 1


def test_percent_values_and_anomaly_mean():
    """Percent rows sum to 100 (empty rows 0); 'anomaly_mean' averages the two anomaly scores."""
    options = AccuracyOptions(confusion_values="percent", balanced_accuracy="anomaly_mean")
    is_anom = np.array([True, True, False, False])
    result = _accumulate([0, 0, 0, 1], [4, 0, 0, 1], is_anom, options=options).compute()
    assert result.confusion_matrix_values["idle"]["idle"] == pytest.approx(200 / 3)
    assert result.confusion_matrix_values["snake"]["idle"] == 0.0
    assert result.anomaly_accuracy_score == 50.0 and result.no_anomaly_accuracy_score == 100.0
    assert result.balanced_accuracy_score == 75.0


def test_empty_and_no_anomaly_information():
    """No windows: scores are None (omitted), never 0 or NaN; no anomaly outcome given: anomaly scores None."""
    empty = ClassificationAccumulator(CLASSES).compute()
    assert empty.total_summary == GoodBad(0, 0)
    assert empty.accuracy_score is None and empty.balanced_accuracy_score is None
    assert empty.anomaly_accuracy_score is None and empty.no_anomaly_accuracy_score is None
    only_normal = _accumulate([0], [0], np.array([False])).compute()
    assert only_normal.anomaly_accuracy_score is None and only_normal.no_anomaly_accuracy_score == 100.0


def test_config_errors():
    """Duplicate labels, bad options and mismatched shapes must raise (merges: tests/test_accumulators.py)."""
    with pytest.raises(ConfigError, match="duplicates"):
        ClassificationAccumulator(["a", "uncertain"])
    with pytest.raises(ConfigError):
        AccuracyOptions(uncertain_policy="ignore")
    with pytest.raises(ConfigError):
        AccuracyOptions(score_scale="percentage")
    with pytest.raises(ConfigError):
        AccuracyOptions(uncertain_column="sometimes")
    acc = ClassificationAccumulator(CLASSES)
    with pytest.raises(ConfigError):
        acc.update(np.array([0, 1]), np.array([0]))


def _names(codes, labels):
    return np.array([labels[c] for c in codes], dtype=object)


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_scores_equal_sklearn():
    """accuracy, balanced accuracy, the confusion matrix and the anomaly recalls equal sklearn on the label strings.

    The fraction scale is compared to sklearn's scores; the percent scale (the default) to
    100 x sklearn's counts, converted exactly (never a looser tolerance).
    """
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(41)
    labels = CLASSES + EXTRAS
    for n in (5, 300, 2000):
        expected = rng.integers(0, 3, n)
        expected[rng.random(n) < 0.1] = 4  # some windows expected "anomaly"
        expected[:2] = [4, 0]  # both outcomes present, so both recalls are defined
        predicted = np.where(rng.random(n) < 0.6, expected, rng.integers(0, 5, n))
        is_anom = expected == 4
        result = _accumulate(expected, predicted, is_anom, options=FRACTION).compute()
        exp_names, pred_names = _names(expected, labels), _names(predicted, labels)
        assert result.accuracy_score == skm.accuracy_score(exp_names, pred_names)
        balanced = skm.balanced_accuracy_score(exp_names, pred_names)
        assert abs(result.balanced_accuracy_score - balanced) <= BALANCED_ATOL
        cm = skm.confusion_matrix(exp_names, pred_names, labels=result.all_labels)
        rows = [result.all_labels.index(r) for r in result.confusion_matrix_values]
        ours = np.array([[result.confusion_matrix_values[r][c] for c in result.all_labels]
                         for r in result.confusion_matrix_values])
        assert np.array_equal(ours, cm[rows])
        assert result.anomaly_accuracy_score == skm.recall_score(is_anom, predicted == 4)
        assert result.no_anomaly_accuracy_score == skm.recall_score(~is_anom, predicted != 4)

        pct = _accumulate(expected, predicted, is_anom).compute()
        n_correct = int(skm.accuracy_score(exp_names, pred_names, normalize=False))
        assert pct.accuracy_score == _exact_percent(Fraction(n_correct, n))
        full = skm.confusion_matrix(exp_names, pred_names, labels=list(labels))
        recalls = [Fraction(int(full[i, i]), int(full[i].sum())) for i in range(len(labels)) if full[i].sum()]
        assert pct.balanced_accuracy_score == _exact_percent(*recalls)
        tn, fp, fn, tp = (int(v) for v in skm.confusion_matrix(is_anom, predicted == 4, labels=[False, True]).ravel())
        assert pct.anomaly_accuracy_score == _exact_percent(Fraction(tp, tp + fn))
        assert pct.no_anomaly_accuracy_score == _exact_percent(Fraction(tn, tn + fp))
        assert pct.confusion_matrix_values == result.confusion_matrix_values
