"""Wavelet features of the spectral-analysis block (implementation versions 3 and 4).

A ``pywt.wavedec`` of ``wavelet_level`` levels (mode ``symmetric``), then 14 statistics for each
coefficient array, in the order [approximation, deepest detail, ..., detail level 1]
(golden README, "Wavelet (v3/v4)"). PyWavelets is an optional dependency, imported lazily.

Array letters: R rows (windows x axes), M coefficients of one array.
"""

from __future__ import annotations

import warnings

import numpy as np

from evalcore.dsp._stats import skew_kurtosis
from evalcore.errors import BackendUnavailableError, ConfigError

STATISTIC_NAMES = (
    "entropy", "zcross", "mcross", "n5", "n25", "n75", "n95", "median",
    "mean", "std", "var", "rms", "skew", "kurtosis",
)
_PERCENTILES = (5, 25, 75, 95, 50)
_HISTOGRAM_BINS = 100
# The block requires at least this many samples per level of decomposition (times 2**level).
_SAMPLES_PER_LEVEL = 32


def _pywt():
    try:
        import pywt
    except ImportError as err:
        raise BackendUnavailableError(
            "spectral-analysis wavelet features need PyWavelets, a dependency of evalcore that is "
            "missing from this environment: pip install PyWavelets"
        ) from err
    return pywt


def check_wavelet(version: int, wavelet: str, level: int, n_samples: int, sampling_freq: float) -> None:
    """Raise ConfigError for an unknown wavelet, a level below 1, or a window too short for the level.

    ``n_samples`` and ``sampling_freq`` are counted after any input decimation.
    """
    where = f"spectral-analysis v{version}"
    pywt = _pywt()
    if wavelet not in pywt.wavelist(kind="discrete"):
        raise ConfigError(f"unknown wavelet {wavelet!r} ({where}, field wavelet)")
    if level < 1:
        raise ConfigError(f"wavelet level must be at least 1, got {level} ({where}, field wavelet_level)")
    needed = _SAMPLES_PER_LEVEL * 2**level
    if n_samples < needed:
        raise ConfigError(
            f"wavelet decomposition level {level} is too high for {n_samples} samples: needs at least "
            f"{needed} ({needed / sampling_freq * 1000:g} ms); increase the window size or reduce the level "
            f"({where}, field wavelet_level)"
        )


def _entropy(coefficients: np.ndarray) -> np.ndarray:
    """Shannon entropy (natural log) of each row's 100-bin histogram; float64 of shape (R,)."""
    out = np.empty(len(coefficients))
    for i, row in enumerate(coefficients):
        counts, _ = np.histogram(row, bins=_HISTOGRAM_BINS)
        probabilities = counts[counts > 0] / counts.sum()
        out[i] = -np.sum(probabilities * np.log(probabilities))
    return out


def _statistics(coefficients: np.ndarray) -> np.ndarray:
    """Compute the 14 statistics of each row of float32 (R, M) coefficients; float64 (R, 14)."""
    n = coefficients.shape[1]
    mean = coefficients.mean(axis=-1)
    zero_crossings = np.count_nonzero(np.diff(coefficients > 0, axis=-1), axis=-1) / n
    mean_crossings = np.count_nonzero(np.diff((coefficients - mean[:, None]) > 0, axis=-1), axis=-1) / n
    ordered = np.sort(coefficients, axis=-1)
    percentiles = [ordered[:, int((n - 1) * p / 100 + 0.5)] for p in _PERCENTILES]
    root_mean_square = np.sqrt(np.mean(coefficients**2, axis=-1))
    skewness, kurtosis = skew_kurtosis(coefficients)
    silent = root_mean_square == 0
    columns = [
        _entropy(coefficients), zero_crossings, mean_crossings, *percentiles,
        mean, coefficients.std(axis=-1), coefficients.var(axis=-1, ddof=1), root_mean_square,
        np.where(silent, 0, skewness), np.where(silent, 0, kurtosis),
    ]
    return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=-1)


def wavelet_features(x: np.ndarray, wavelet: str, level: int) -> np.ndarray:
    """Wavelet features of each row.

    Parameters
    ----------
    x : float32 array of shape (R, N)
        Processed signals (scaled, filtered, mean removed).
    wavelet : str
        A PyWavelets discrete wavelet name.
    level : int

    Returns
    -------
    float64 array of shape (R, 14 * (level + 1))
    """
    pywt = _pywt()
    with warnings.catch_warnings():
        # pywt warns when the level exceeds its boundary-effect limit; the block allows it.
        warnings.simplefilter("ignore", UserWarning)
        arrays = pywt.wavedec(x, wavelet, mode="symmetric", level=level, axis=-1)
    return np.concatenate([_statistics(np.ascontiguousarray(a)) for a in arrays], axis=-1)


def wavelet_labels(level: int) -> list[str]:
    """Labels of one axis: ``L<i>-<statistic>`` for i in 0..level."""
    return [f"L{i}-{name}" for i in range(level + 1) for name in STATISTIC_NAMES]
