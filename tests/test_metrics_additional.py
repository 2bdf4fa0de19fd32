"""additionalMetrics entries: names, order, formatting and omission of undefined values."""

from __future__ import annotations

import numpy as np

from evalcore.metrics.additional import (
    AdditionalMetricValue,
    classifier_additional_metrics,
    format_metric_value,
    regression_additional_metrics,
)
from evalcore.metrics.classifier_scores import classifier_metrics
from evalcore.metrics.regression import RegressionAccumulator


def test_classifier_entries_order_and_values():
    """AUC, weighted P/R/F1, loss in that order; the full-precision value is the metric itself."""
    m = classifier_metrics(np.array([0, 1, 2, 1]), np.eye(3)[[0, 1, 2, 2]] * 0.9 + 0.05, 3)
    entries = classifier_additional_metrics(m)
    assert [e.name for e in entries] == [
        "Area under ROC Curve", "Weighted average Precision", "Weighted average Recall",
        "Weighted average F1 score", "Loss",
    ]
    assert entries[3].full_precision_value == m.weighted_f1
    assert entries[3].value == format_metric_value(m.weighted_f1)
    assert all(e.tooltip_text is None and e.link is None for e in entries)


def test_undefined_auc_is_omitted_and_names_overridable():
    """A None AUC must not appear (the API has no null); a names mapping picks and renames entries."""
    m = classifier_metrics(np.array([1, 1]), np.array([[0.2, 0.8], [0.6, 0.4]]), 2)
    names = [e.name for e in classifier_additional_metrics(m)]
    assert "Area under ROC Curve" not in names
    only = classifier_additional_metrics(m, names={"weighted_f1": "F1"})
    assert only == [AdditionalMetricValue("F1", format_metric_value(m.weighted_f1), m.weighted_f1)]


def test_regression_entries_and_format():
    """MSE, MAE, explained variance; values shown with 2 decimals."""
    acc = RegressionAccumulator(1.0)
    acc.update([1.0, 2.5], [1.0, 2.0])
    entries = regression_additional_metrics(acc.compute())
    assert [(e.name, e.value) for e in entries] == [
        ("Mean squared error", "0.13"), ("Mean absolute error", "0.25"), ("Explained variance score", "0.75"),
    ]
    assert format_metric_value(0.96374) == "0.96"


def test_format_is_javascript_to_fixed():
    """Ties round half away from zero on the exact double (JS toFixed), unlike Python's half-even format."""
    assert format_metric_value(0.125) == "0.13"  # exact binary tie
    assert format_metric_value(0.135) == "0.14"  # 0.135 is 0.13500000000000000888 in binary
    assert format_metric_value(1.005) == "1.00"  # 1.005 is 1.00499999999999989... in binary
    assert format_metric_value(-0.0) == "0.00"
    assert format_metric_value(-0.001) == "-0.00"
    assert format_metric_value(1.0) == "1.00"
    assert format_metric_value(0.5, decimals=0) == "1"


def test_format_of_huge_and_infinite_values_is_javascript_to_fixed():
    """Without it a metric of 1e21 or more (a sample value of 1e30 fed to a regression) raised
    decimal.InvalidOperation; toFixed writes such numbers in exponent form, as String() does.
    """
    assert format_metric_value(9.99e20) == "999000000000000000000.00"
    assert format_metric_value(1e21) == "1e+21"
    assert format_metric_value(-3.25e22) == "-3.25e+22"
    assert format_metric_value(3.71755893063626e59) == "3.71755893063626e+59"
    assert format_metric_value(float("inf")) == "Infinity"
    assert format_metric_value(float("-inf")) == "-Infinity"
