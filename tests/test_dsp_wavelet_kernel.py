"""The numba wavelet-statistics kernel against a naive per-row reference (numpy calls, Python loops).

The reference is what the block computed before the kernel: ``np.histogram`` for the entropy,
Python loops for the crossings, a sorted copy for the percentiles and numpy's float32 moments.
Histogram counts (so the entropy), crossings, percentiles and the mean must agree exactly; the
moments the kernel sums in float64 agree within float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalcore.dsp.wavelet import _statistics

PERCENTILES = (5, 25, 75, 95, 50)


def naive_statistics(row: np.ndarray) -> list[float]:
    """The 14 statistics of one float32 row, one value at a time where numpy is not needed."""
    n = len(row)
    counts, _ = np.histogram(row, bins=100)
    entropy = -sum(c / n * math.log(c / n) for c in counts if c > 0)
    mean = row.mean()  # float32, numpy's pairwise sum (the kernel takes it from numpy too)
    zero = sum((row[i] > 0) != (row[i - 1] > 0) for i in range(1, n)) / n
    crossing = sum((row[i] - mean > 0) != (row[i - 1] - mean > 0) for i in range(1, n)) / n
    ordered = sorted(row.tolist())
    percentiles = [ordered[int((n - 1) * p / 100 + 0.5)] for p in PERCENTILES]
    deviation = row - mean
    m2 = float(np.mean(deviation**2))
    m3 = float(np.mean(deviation**3))
    m4 = float(np.mean(deviation**4))
    rms = float(np.sqrt(np.mean(row**2)))
    if rms == 0:
        skewness, kurtosis = 0.0, 0.0
    elif m2 <= (np.finfo(np.float32).resolution * float(mean)) ** 2:
        skewness, kurtosis = 0.0, -3.0
    else:
        skewness, kurtosis = m3 / m2**1.5, m4 / m2**2 - 3
    return [entropy, zero, crossing, *percentiles, float(mean), float(row.std()), float(row.var(ddof=1)), rms,
            skewness, kurtosis]


def _rows() -> np.ndarray:
    rng = np.random.default_rng(7)
    rows = [
        rng.standard_normal(64),
        rng.standard_normal(64) * 1e-3 + 5,
        rng.exponential(size=64) - 0.3,
        np.linspace(-1, 1, 64) ** 3,  # values on and near bin edges
        np.round(rng.uniform(-10, 10, 64)) / 4,  # many ties, values on exact edges
        np.full(64, 2.5),  # constant: np.histogram widens the range, zero variance
        np.zeros(64),  # silent: skewness and kurtosis 0
        np.r_[np.zeros(63), 1.0],
    ]
    return np.array(rows, dtype=np.float32)


def test_kernel_equals_naive_reference():
    """Without this, the kernel could bin a value differently from np.histogram (an entropy step) or drift."""
    rows = _rows()
    got = _statistics(rows)
    expected = np.array([naive_statistics(row) for row in rows])
    exact = [0, 1, 2, 3, 4, 5, 6, 7, 8]  # entropy (same counts; sum order), crossings, percentiles, mean
    np.testing.assert_allclose(got[:, exact], expected[:, exact], rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(got[:, 1:9], expected[:, 1:9])
    np.testing.assert_allclose(got[:, 9:], expected[:, 9:], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("length", [17, 33, 100, 1000])
def test_kernel_equals_naive_reference_random_lengths(length):
    """Without this, an odd length could break the percentile indices or the histogram's last bin."""
    rows = np.random.default_rng(length).standard_t(3, size=(4, length)).astype(np.float32)
    got = _statistics(rows)
    expected = np.array([naive_statistics(row) for row in rows])
    np.testing.assert_array_equal(got[:, 1:9], expected[:, 1:9])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_non_finite_coefficients_raise():
    """Without this, a NaN would index outside the histogram inside the kernel."""
    rows = np.zeros((1, 32), dtype=np.float32)
    rows[0, 3] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        _statistics(rows)
