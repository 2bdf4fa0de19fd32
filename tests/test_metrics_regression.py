"""RegressionAccumulator: sklearn oracles, the threshold rule and merging."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.errors import ConfigError
from evalcore.metrics.accuracy import GoodBad
from evalcore.metrics.regression import RegressionAccumulator

# math.fsum (exactly rounded) vs numpy's pairwise mean inside sklearn: a few ulps apart.
SKLEARN_RTOL = 1e-12


@pytest.mark.oracle
def test_equals_sklearn():
    """MSE, MAE and explained variance equal sklearn (what EI's calculate_regression_metrics calls)."""
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(61)
    y_true = rng.normal(10, 4, 500)
    y_pred = y_true + rng.normal(0.3, 1.5, 500)
    acc = RegressionAccumulator(1.0)
    acc.update(y_pred.astype(np.float32), y_true)
    m = acc.compute()
    y_pred32 = y_pred.astype(np.float32).astype(np.float64)
    for ours, theirs in (
        (m.mse, skm.mean_squared_error(y_true, y_pred32)),
        (m.mae, skm.mean_absolute_error(y_true, y_pred32)),
        (m.explained_variance, skm.explained_variance_score(y_true, y_pred32)),
    ):
        assert abs(ours - theirs) <= SKLEARN_RTOL * abs(theirs), (ours, theirs)
    assert m.accuracy.mse_score == m.mse


def test_threshold_good_bad_and_summary():
    """|error| == threshold is good by default; the summary carries good/bad, accuracy and mseScore."""
    acc = RegressionAccumulator(0.5)
    acc.update([1.5, 2.0, 4.0], [1.0, 2.0, 3.0])
    m = acc.compute()
    assert (m.good, m.bad) == (2, 1)
    assert m.accuracy.total_summary == GoodBad(2, 1)
    assert m.accuracy.accuracy_score == 200 / 3 and m.accuracy.all_labels == []  # percent by default
    fraction = RegressionAccumulator(0.5, score_scale="fraction")
    fraction.update([1.5, 2.0, 4.0], [1.0, 2.0, 3.0])
    assert fraction.compute().accuracy.accuracy_score == 2 / 3
    assert fraction.compute().accuracy.mse_score == m.accuracy.mse_score  # the scale touches the accuracy only
    strict = RegressionAccumulator(0.5, inclusive=False)
    strict.update([1.5, 2.0, 4.0], [1.0, 2.0, 3.0])
    assert strict.compute().good == 1


def test_constant_target_and_empty():
    """Constant target: EV 1.0 if perfect else 0.0 (sklearn force_finite); no windows: None everywhere."""
    acc = RegressionAccumulator(1.0)
    acc.update([2.0, 2.0], [2.0, 2.0])
    assert acc.compute().explained_variance == 1.0
    acc.update([3.0], [2.0])
    assert acc.compute().explained_variance == 0.0
    empty = RegressionAccumulator(1.0).compute()
    assert empty.mse is None and empty.accuracy.accuracy_score is None and empty.n_windows == 0
    with pytest.raises(ConfigError):
        acc.update([1.0, 2.0], [1.0])
    with pytest.raises(ConfigError):
        RegressionAccumulator(1.0, score_scale="ratio")



@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's own overflow in the squares
def test_values_near_the_largest_double_do_not_overflow_the_sum():
    """Without it a label near 1e308 ended the run in an fsum OverflowError traceback."""
    acc = RegressionAccumulator(1.0)
    acc.update([1.5e308, 1.5e308, -1.5e308], [1.5e308, 1.5e308, 1.5e308])
    got = acc.compute()
    assert got.mae == float("inf") and got.good == 2
    big = RegressionAccumulator(1.0)
    big.update([1e308, 1e308], [0.0, 0.0])
    assert big.compute().mae == 1e308  # the exact mean, though the sum passes the largest double
