"""``additionalMetricsByLearnBlock[].additionalMetrics[]`` entries for classifier and regression blocks.

Each entry is an :class:`AdditionalMetricValue` with the fields of the API model
``AdditionalMetric`` in snake_case; ``report.py`` maps it to the schema.

Compatibility notes
-------------------
- Display names are not in EI's public code; we use the names Studio's UI shows for these
  metrics as far as known ("Area under ROC Curve", "Weighted average Precision", ...; see
  ``CLASSIFIER_METRIC_NAMES`` / ``REGRESSION_METRIC_NAMES``), to be checked against a real
  result JSON and overridable by argument.
- ``value`` is the number with 2 decimals as JavaScript's ``toFixed(2)`` writes it
  (``format_metric_value``; Studio is a JavaScript application and shows these metrics with two
  decimals); ``full_precision_value`` is the float itself.
- An undefined metric (ROC AUC with a class missing from the test set, anything without
  windows) is omitted: the API has no null and a number is required.
- No tooltip or link is emitted (``tooltip_text``/``link`` are None = omitted); Studio's texts
  are not public.
- Order: classifier AUC, weighted precision, recall, F1, then loss; regression MSE, MAE,
  explained variance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from evalcore.metrics.classifier_scores import ClassifierMetrics
from evalcore.metrics.regression import RegressionMetrics

__all__ = [
    "AdditionalMetricValue",
    "CLASSIFIER_METRIC_NAMES",
    "REGRESSION_METRIC_NAMES",
    "format_metric_value",
    "classifier_additional_metrics",
    "regression_additional_metrics",
]

#: Display name per classifier metric key, in output order.
CLASSIFIER_METRIC_NAMES: Mapping[str, str] = {
    "roc_auc": "Area under ROC Curve",
    "weighted_precision": "Weighted average Precision",
    "weighted_recall": "Weighted average Recall",
    "weighted_f1": "Weighted average F1 score",
    "loss": "Loss",
}

#: Display name per regression metric key, in output order.
REGRESSION_METRIC_NAMES: Mapping[str, str] = {
    "mse": "Mean squared error",
    "mae": "Mean absolute error",
    "explained_variance": "Explained variance score",
}


@dataclass(frozen=True)
class AdditionalMetricValue:
    """API model ``AdditionalMetric``: name, display string, number, optional tooltip and link."""

    name: str
    value: str
    full_precision_value: float
    tooltip_text: str | None = None
    link: str | None = None


def format_metric_value(value: float, decimals: int = 2) -> str:
    """Format a metric for display as JavaScript's ``value.toFixed(decimals)`` does.

    ``toFixed`` rounds the exact binary value half away from zero (``0.125`` -> ``"0.13"``,
    where Python's ``format`` gives ``"0.12"``) and writes ``-0`` as ``"0.00"``. From 1e21 on it
    gives the number's shortest form with an exponent (``1e+21``), as Python's ``repr`` does.
    """
    if value == 0:
        value = 0.0  # drops the sign of -0.0, as toFixed does
    if not math.isfinite(value):
        return "Infinity" if value > 0 else "-Infinity" if value < 0 else "NaN"
    if abs(value) >= 1e21:
        return repr(float(value))
    exact = Decimal(value)  # the double's exact binary value, no decimal rounding first
    return str(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _entries(source, names: Mapping[str, str], fmt: Callable[[float], str]) -> list[AdditionalMetricValue]:
    out = []
    for key, name in names.items():
        value = getattr(source, key)
        if value is None or value != value:  # undefined -> omitted
            continue
        out.append(AdditionalMetricValue(name=name, value=fmt(value), full_precision_value=float(value)))
    return out


def classifier_additional_metrics(
    metrics: ClassifierMetrics,
    *,
    names: Mapping[str, str] = CLASSIFIER_METRIC_NAMES,
    fmt: Callable[[float], str] = format_metric_value,
) -> list[AdditionalMetricValue]:
    """Additional metrics of a classifier block; drop a key from ``names`` to leave it out."""
    return _entries(metrics, names, fmt)


def regression_additional_metrics(
    metrics: RegressionMetrics,
    *,
    names: Mapping[str, str] = REGRESSION_METRIC_NAMES,
    fmt: Callable[[float], str] = format_metric_value,
) -> list[AdditionalMetricValue]:
    """Additional metrics of a regression block."""
    return _entries(metrics, names, fmt)
