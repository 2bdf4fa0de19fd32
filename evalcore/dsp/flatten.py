"""The ``flatten`` block: per-axis summary statistics of the window.

Per axis, after multiplying every value by ``scale_axes``, and only for the enabled statistics,
in this fixed order: average, minimum, maximum, RMS, population std, skewness (biased) and
kurtosis (Fisher excess, biased). Features are grouped by axis (golden README, "Flatten").
"""

from __future__ import annotations

import numpy as np

from evalcore.dsp._plan import BlockPlan, axes_major, flat_output_config
from evalcore.dsp._stats import central_moments, rms, skew_kurtosis_from_moments
from evalcore.errors import ConfigError

# (parameter, label) in output order.
STATISTICS = (
    ("average", "Average"),
    ("minimum", "Minimum"),
    ("maximum", "Maximum"),
    ("rms", "RMS"),
    ("stdev", "Stdev"),
    ("skewness", "Skewness"),
    ("kurtosis", "Kurtosis"),
)


def _statistics(values: np.ndarray, enabled: list[str]) -> dict[str, np.ndarray]:
    """The enabled statistics of (W, A, N) float64 values along N, each of shape (W, A).

    The mean and central moments are computed once for average, stdev, skewness and kurtosis
    (``sqrt(m2)`` is numpy's std bit for bit).
    """
    stats: dict[str, np.ndarray] = {}
    if {"average", "stdev", "skewness", "kurtosis"} & set(enabled):
        mean, m2, m3, m4 = central_moments(values)
        stats["average"], stats["stdev"] = mean, np.sqrt(m2)
        stats["skewness"], stats["kurtosis"] = skew_kurtosis_from_moments(mean, m2, m3, m4)
    if "minimum" in enabled:
        stats["minimum"] = values.min(axis=-1)
    if "maximum" in enabled:
        stats["maximum"] = values.max(axis=-1)
    if "rms" in enabled:
        stats["rms"] = rms(values)
    return stats


def make_plan(version: int, n_values: int, n_axes: int, sampling_freq: float, params: dict) -> BlockPlan:
    """Plan the flatten block.

    Parameters
    ----------
    version : int
        Implementation version (1).
    n_values : int
        Values per window (readings times axes).
    n_axes : int
        Axes interleaved in the window.
    sampling_freq : float
        Unused.
    params : dict
        Resolved parameters: ``scale_axes`` and one bool per statistic.

    Returns
    -------
    BlockPlan
        ``run`` returns float64 features of shape (W, n_axes * n_enabled).

    Raises
    ------
    ConfigError
        When the window is not a whole number of readings.
    """
    if n_axes < 1 or n_values % n_axes:
        raise ConfigError(
            f"window of {n_values} values is not whole readings of {n_axes} axes (flatten v{version}, field axes)"
        )
    enabled = [name for name, _ in STATISTICS if params[name]]
    labels = [label for name, label in STATISTICS if params[name]]
    scale = params["scale_axes"]
    n_features = n_axes * len(enabled)

    def run(windows: np.ndarray) -> np.ndarray:
        values = axes_major(windows * scale, n_axes)
        stats = _statistics(values, enabled)
        out = np.stack([stats[name] for name in enabled], axis=-1) if enabled else np.empty((len(windows), n_axes, 0))
        return out.reshape(len(windows), n_features)

    return BlockPlan(n_features, flat_output_config(n_features), [], labels, run)
