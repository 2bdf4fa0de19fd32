"""Window arrays of one sample: resampling, and the planned windows cut out of the readings.

Rules in the ``evalcore.windowing`` package docstring. Array letters: N values, A axes, W windows.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from evalcore.errors import ConfigError
from evalcore.windowing.plan import WindowPlan, resampled_length

__all__ = ["extract_windows", "iter_window_chunks", "resample_values"]


def resample_values(values: np.ndarray, source_hz: float, target_hz: float, mode: str = "linear") -> np.ndarray:
    """Resample readings to another rate (see the module docstring for the two methods).

    Parameters
    ----------
    values : float64 array of shape (N, A)
    source_hz, target_hz : float
    mode : {"linear", "poly"}

    Returns
    -------
    float64 array of shape (resampled_length(N, source_hz, target_hz), A)
    """
    n, n_axes = values.shape
    m = resampled_length(n, source_hz, target_hz)
    if n == 0:
        return np.zeros((0, n_axes), dtype=np.float64)
    if mode == "linear":
        t_src = np.arange(n, dtype=np.float64) * (1000.0 / source_hz)
        t_dst = np.arange(m, dtype=np.float64) * (1000.0 / target_hz)
        out = np.empty((m, n_axes), dtype=np.float64)
        for axis in range(n_axes):
            out[:, axis] = np.interp(t_dst, t_src, values[:, axis])
        return out
    if mode != "poly":
        raise ConfigError(f"resample mode must be 'linear' or 'poly', got {mode!r}")
    from scipy.signal import resample_poly

    ratio = Fraction(target_hz / source_hz).limit_denominator(1000)
    out = resample_poly(values, ratio.numerator, ratio.denominator, axis=0)
    if out.shape[0] < m:
        out = np.concatenate([out, np.repeat(out[-1:], m - out.shape[0], axis=0)])
    return np.ascontiguousarray(out[:m], dtype=np.float64)


def extract_windows(values: np.ndarray, plan: WindowPlan) -> np.ndarray:
    """Cut the planned windows out of a sample's readings.

    Parameters
    ----------
    values : float64 array of shape (N, A)
        The sample as stored (``plan.source_n_values`` rows); resampled here when the plan says so.
    plan : WindowPlan

    Returns
    -------
    float64 array of shape (W, plan.n_window_values * A)
        One row per window, interleaved per reading, zeros where a window runs past the end.
    """
    rows = _window_rows(values, plan)
    return rows[plan.starts]


def iter_window_chunks(values: np.ndarray, plan: WindowPlan, max_windows: int):
    """The planned windows in consecutive chunks of at most ``max_windows`` rows.

    What `extract_windows` returns, cut in pieces: the windows of a long sample (a million
    windows is gigabytes of float64) are never all in memory at once. The series is resampled
    and padded once; each chunk is a fresh array.

    Yields
    ------
    (int, float64 array of shape (w, plan.n_window_values * A))
        The index of the chunk's first window and its windows; one empty chunk when the plan
        has no window.
    """
    if max_windows < 1:
        raise ValueError(f"max_windows must be >= 1, got {max_windows}")
    rows = _window_rows(values, plan)
    if plan.n_windows == 0:
        yield 0, rows[plan.starts]
        return
    for first in range(0, plan.n_windows, max_windows):
        yield first, rows[plan.starts[first : first + max_windows]]


def _window_rows(values: np.ndarray, plan: WindowPlan) -> np.ndarray:
    """A read-only view with row k = the window starting at reading k (resampled, zero padded)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != plan.source_n_values:
        raise ValueError(f"values must have shape ({plan.source_n_values}, A), got {values.shape}")
    if plan.resample is not None:
        values = resample_values(values, 1000.0 / plan.source_interval_ms, plan.frequency_hz, plan.resample)
    n_axes, win = values.shape[1], plan.n_window_values
    if plan.n_windows == 0:
        return np.zeros((0, win * n_axes), dtype=np.float64)
    needed = int(plan.starts[-1]) + win
    if needed > values.shape[0]:
        padded = np.zeros((needed, n_axes), dtype=np.float64)
        padded[: values.shape[0]] = values
        values = padded
    values = np.ascontiguousarray(values)
    # A read-only strided view with one row per possible start (row k = readings k .. k+win-1,
    # interleaved); fancy indexing then copies only the planned windows. Built with the
    # ndarray constructor because sliding_window_view costs ~20 us per call, which dominates
    # for datasets of many short samples.
    n_rows = values.shape[0] - win + 1
    itemsize = values.itemsize
    return np.ndarray(
        shape=(n_rows, win * n_axes), dtype=np.float64, buffer=values, strides=(n_axes * itemsize, itemsize)
    )
