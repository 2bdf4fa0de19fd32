"""Numba kernel of the spectral-analysis wavelet statistics: 14 values per coefficient row.

The numpy version took about 60 array calls per coefficient array plus one ``np.histogram`` per
row, so a single window (3 axes, a few levels) spent its time in call overhead. This kernel does
one pass per row instead. What it must reproduce exactly, it takes from numpy: the float32 row
means (numpy's pairwise float32 sum) and the histogram's float32 bin edges (``np.linspace`` as
``np.histogram`` builds them); the bin of each value then follows ``np.histogram``'s float32
estimate and its one-step correction, so the counts, and therefore the entropy, are numpy's. The
crossings and percentiles are exact; the moments (std, var, rms, skewness, kurtosis) are summed in
float64, within ~1e-7 relative of numpy's float32 sums (the golden tolerance is 1e-4).

Kept out of ``_kernels`` (the MFE/MFCC kernels), which is moving to the ``kernels`` package.
"""

from __future__ import annotations

import numpy as np
from numba import njit

N_STATISTICS = 14
"""Columns of :func:`wavelet_statistics`' output, in ``wavelet.STATISTIC_NAMES`` order."""

HISTOGRAM_BINS = 100

# float32 resolution (1e-6): below (resolution * mean)**2 the variance counts as zero (scipy 1.7.3's
# rule for skewness and kurtosis, see _stats.skew_kurtosis).
_FLOAT32_RESOLUTION = float(np.finfo(np.float32).resolution)


@njit(cache=True)
def _histogram_entropy(row, low, high, edges, counts):
    """Natural-log entropy of ``np.histogram(row, 100)``, with ``np.histogram``'s float32 binning."""
    n_bins = counts.size
    counts[:] = 0
    span = high - low  # float32, as numpy's norm_denom
    scale = np.float32(n_bins)
    for value in row:
        index = int(((value - low) / span) * scale)
        if index == n_bins:
            index -= 1
        if value < edges[index]:
            index -= 1
        if index != n_bins - 1 and value >= edges[index + 1]:
            index += 1
        counts[index] += 1
    total = row.size
    entropy = 0.0
    for count in counts:
        if count > 0:
            p = count / total
            entropy -= p * np.log(p)
    return entropy


@njit(cache=True)
def wavelet_statistics(coefficients, means, lows, highs, edges, percentile_index, out):
    """Fill ``out`` with the 14 wavelet statistics of each row.

    Parameters
    ----------
    coefficients : float32 array of shape (R, M), C-contiguous
    means : float32 array of shape (R,)
        ``coefficients.mean(axis=-1)`` as numpy computes it.
    lows, highs : float32 arrays of shape (R,)
        The histogram range of each row: its min and max, widened by 0.5 each way when equal.
    edges : float32 array of shape (R, 101)
        ``np.linspace(lows, highs, 101, axis=-1)``: ``np.histogram``'s bin edges.
    percentile_index : int64 array of shape (5,)
        Sorted-row indices of the 5th, 25th, 75th, 95th and 50th percentiles.
    out : float64 array of shape (R, 14)
        entropy, zero crossings, mean crossings, the five percentiles, mean, std, var (ddof 1),
        rms, skewness, kurtosis.
    """
    n_rows, n = coefficients.shape
    counts = np.zeros(HISTOGRAM_BINS, np.int64)
    for r in range(n_rows):
        row = coefficients[r]
        mean32 = means[r]
        out[r, 0] = _histogram_entropy(row, lows[r], highs[r], edges[r], counts)
        zero_crossings = 0
        mean_crossings = 0
        for i in range(1, n):
            if (row[i] > 0) != (row[i - 1] > 0):
                zero_crossings += 1
            if (row[i] - mean32 > 0) != (row[i - 1] - mean32 > 0):
                mean_crossings += 1
        out[r, 1] = zero_crossings / n
        out[r, 2] = mean_crossings / n
        ordered = np.sort(row)
        for k in range(percentile_index.size):
            out[r, 3 + k] = ordered[percentile_index[k]]
        mean = float(mean32)
        sum_squares = 0.0
        m2 = 0.0
        m3 = 0.0
        m4 = 0.0
        for value in row:
            x = float(value)
            sum_squares += x * x
            d = x - mean
            d2 = d * d
            m2 += d2
            m3 += d2 * d
            m4 += d2 * d2
        rms = np.sqrt(sum_squares / n)
        out[r, 8] = mean
        out[r, 9] = np.sqrt(m2 / n)
        out[r, 10] = m2 / (n - 1)
        out[r, 11] = rms
        m2 /= n
        m3 /= n
        m4 /= n
        if rms == 0:
            out[r, 12] = 0.0
            out[r, 13] = 0.0
        elif m2 <= (_FLOAT32_RESOLUTION * mean) ** 2:
            out[r, 12] = 0.0
            out[r, 13] = -3.0
        else:
            out[r, 12] = m3 / m2**1.5
            out[r, 13] = m4 / m2**2 - 3.0
