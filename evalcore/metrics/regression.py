"""Regression metrics: Studio's ``accuracy`` (good/bad by threshold, ``mseScore``) and EI's MSE/MAE/EV.

Dimension letters: W windows.

The state concatenates (predicted, expected) per window; every sum in :meth:`compute` is a
``math.fsum`` (exactly rounded), so the result does not depend on window order and sharded runs
merge bit-identically. Values equal sklearn's ``mean_squared_error``, ``mean_absolute_error``
and ``explained_variance_score`` (what EI's ``calculate_regression_metrics`` calls) to a few ulps.

Compatibility notes
-------------------
- Good window: ``|predicted - expected| <= threshold`` (``inclusive=True``; see
  :mod:`evalcore.learn.regression`).
- ``mseScore`` = mean squared error over all test windows; ``accuracyScore`` = good / windows
  (``report_accuracy=True``; Studio's regression page shows an accuracy from the threshold), on
  the scale of ``score_scale``: ``"percent"`` (0-100, the default, as Studio's classification
  scores: studio-evidence.md E3/E4) or ``"fraction"`` (0-1); computed as
  :func:`evalcore.metrics.accuracy.ratio_score` does (one rounding from the counts).
- ``summaryPerClass``, ``confusionMatrixValues`` and ``allLabels`` are empty for regression:
  there are no classes (undocumented; the API requires the keys).
- Explained variance follows sklearn's ``force_finite=True``: a constant target gives 1.0 for a
  perfect prediction, else 0.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evalcore.errors import ConfigError
from evalcore.metrics._base import AccumulatorBase, state_array, state_field
from evalcore.metrics._rows import RowStore
from evalcore.metrics.accuracy import SCORE_SCALES, AccuracySummary, GoodBad, ratio_score

__all__ = ["RegressionMetrics", "RegressionAccumulator"]


@dataclass(frozen=True)
class RegressionMetrics:
    """Regression results over all windows.

    Attributes
    ----------
    mse, mae, explained_variance : float or None
        None without windows.
    good, bad : int
        Windows within / outside the threshold.
    n_windows : int
    accuracy : AccuracySummary
        Studio's ``accuracy`` object for a regression block.
    """

    mse: float | None
    mae: float | None
    explained_variance: float | None
    good: int
    bad: int
    n_windows: int
    accuracy: AccuracySummary


def _mean(values: np.ndarray) -> float:
    try:
        return math.fsum(values.tolist()) / values.shape[0]
    except OverflowError:
        # a partial sum passed the largest double (values near 1e308): sum at 2**-64 scale (exact
        # but for subnormal parts, negligible here); ±inf only when the mean itself does not fit
        scaled = math.fsum(math.ldexp(v, -64) for v in values.tolist()) / values.shape[0]
        try:
            return math.ldexp(scaled, 64)
        except OverflowError:
            return math.copysign(math.inf, scaled)


def _explained_variance(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    diff = y_true - y_pred
    numerator = _mean((diff - _mean(diff)) ** 2)
    denominator = _mean((y_true - _mean(y_true)) ** 2)
    if denominator == 0.0:
        return 1.0 if numerator == 0.0 else 0.0
    return 1.0 - numerator / denominator


class RegressionAccumulator(AccumulatorBase):
    """Mergeable regression state: predicted and expected value per window.

    Parameters
    ----------
    threshold : float
        Maximum absolute error of a good window.
    inclusive : bool, default True
        ``|error| <= threshold`` is good (False: ``<``).
    report_accuracy : bool, default True
        Fill ``accuracy_score`` of the summary.
    score_scale : {"percent", "fraction"}, default "percent"
        Scale of ``accuracy_score`` (module notes).
    """

    kind = "regression"
    state_version = 1

    def __init__(self, threshold: float, *, inclusive: bool = True, report_accuracy: bool = True,
                 score_scale: str = "percent"):
        if score_scale not in SCORE_SCALES:
            raise ConfigError(f"score_scale must be one of {list(SCORE_SCALES)}, got {score_scale!r}")
        self.threshold = float(threshold)
        self.inclusive = inclusive
        self.report_accuracy = report_accuracy
        self.score_scale = score_scale
        self._predicted = RowStore("float")
        self._expected = RowStore("float")

    def update(self, predicted, expected) -> None:
        """Add windows: float arrays of shape (W,) (predicted may be (W, 1))."""
        predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
        expected = np.asarray(expected, dtype=np.float64).reshape(-1)
        if predicted.shape != expected.shape:
            raise ConfigError(
                f"predicted has {predicted.shape[0]} windows but expected has {expected.shape[0]}"
            )
        self._predicted.append(predicted)
        self._expected.append(expected)

    def merge(self, other: RegressionAccumulator) -> RegressionAccumulator:
        """Append ``other``'s windows (same threshold rule and scale, else ``MergeError``); returns self."""
        self._check_mergeable(other)
        self._predicted.extend(other._predicted)
        self._expected.extend(other._expected)
        return self

    def _config(self) -> dict:
        return {"threshold": self.threshold, "inclusive": bool(self.inclusive),
                "report_accuracy": bool(self.report_accuracy), "score_scale": self.score_scale}

    def _arrays(self) -> dict:
        y_pred, y_true = self._windows()
        return {"predicted": y_pred, "expected": y_true}

    @classmethod
    def _from_state(cls, fields, arrays) -> RegressionAccumulator:
        acc = cls(state_field(fields, "threshold", "float"), inclusive=state_field(fields, "inclusive", "bool"),
                  report_accuracy=state_field(fields, "report_accuracy", "bool"),
                  score_scale=state_field(fields, "score_scale", "str"))
        predicted = state_array(arrays, "predicted", np.float64, (None,))
        acc._predicted.append(predicted)
        acc._expected.append(state_array(arrays, "expected", np.float64, predicted.shape))
        return acc

    def _windows(self) -> tuple[np.ndarray, np.ndarray]:
        y_pred = self._predicted.array(np.float64)
        y_true = self._expected.array(np.float64)
        return y_pred, y_true

    def compute(self) -> RegressionMetrics:
        """Metrics over every window added so far (pure)."""
        y_pred, y_true = self._windows()
        n = y_true.shape[0]
        abs_error = np.abs(y_true - y_pred)
        within = abs_error <= self.threshold if self.inclusive else abs_error < self.threshold
        good = int(np.count_nonzero(within))
        mse = _mean((y_true - y_pred) ** 2) if n else None
        summary = AccuracySummary(
            total_summary=GoodBad(good, n - good),
            summary_per_class={},
            confusion_matrix_values={},
            all_labels=[],
            accuracy_score=ratio_score(good, n, self.score_scale) if self.report_accuracy else None,
            mse_score=mse,
        )
        return RegressionMetrics(
            mse=mse,
            mae=_mean(abs_error) if n else None,
            explained_variance=_explained_variance(y_true, y_pred) if n else None,
            good=good,
            bad=n - good,
            n_windows=n,
            accuracy=summary,
        )
