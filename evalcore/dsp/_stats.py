"""Moment statistics along the last axis, as the blocks compute them.

The reference blocks call ``scipy.stats.skew`` / ``kurtosis`` (biased, Fisher excess) from their
pinned scipy 1.7.3. That version returns skewness 0 and kurtosis -3 when the variance is zero
up to the dtype's resolution (later scipy returns NaN); we keep the 1.7.3 rule, because it is
what Studio's features contain. Each moment is computed with the same operations scipy uses
(``mean((d**2) * d)`` for the third, ``mean((d**2)**2)`` for the fourth) so float64 results are
bit-identical; the arrays keep their dtype (float32 stays float32, as in the reference).
"""

from __future__ import annotations

import numpy as np


def central_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 2nd, 3rd and 4th central moments along the last axis, in the dtype of ``x``.

    ``sqrt(m2)`` equals ``x.std(axis=-1)`` bit for bit (numpy's std takes the same steps), so a
    block that needs both computes the moments once.

    Returns
    -------
    mean, m2, m3, m4 : arrays of shape (...)
    """
    mean = x.mean(axis=-1, keepdims=True)
    deviation = x - mean
    squared = deviation**2
    m2 = squared.mean(axis=-1)
    m3 = (squared * deviation).mean(axis=-1)
    m4 = (squared**2).mean(axis=-1)
    return mean[..., 0], m2, m3, m4


def skew_kurtosis_from_moments(mean: np.ndarray, m2: np.ndarray, m3: np.ndarray,
                               m4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Skewness and kurtosis (see :func:`skew_kurtosis`) from :func:`central_moments`' values."""
    zero = m2 <= (np.finfo(m2.dtype).resolution * mean) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        skewness = np.where(zero, 0, m3 / m2**1.5).astype(m2.dtype, copy=False)
        kurtosis = (np.where(zero, 0, m4 / m2**2.0) - 3).astype(m2.dtype, copy=False)
    return skewness, kurtosis


def skew_kurtosis(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Biased skewness and Fisher excess kurtosis along the last axis.

    Parameters
    ----------
    x : float32 or float64 array of shape (..., n)

    Returns
    -------
    skewness, kurtosis : arrays of shape (...), dtype of ``x``
        0 and -3 where the variance is below ``(resolution * mean)**2``.
    """
    return skew_kurtosis_from_moments(*central_moments(x))


def rms(x: np.ndarray) -> np.ndarray:
    """Root mean square along the last axis, in the dtype of ``x``."""
    return np.sqrt(np.mean(np.square(x), axis=-1))
