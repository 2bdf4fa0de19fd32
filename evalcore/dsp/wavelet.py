"""Wavelet features of the spectral-analysis block (implementation versions 3 and 4).

A ``pywt.wavedec`` of ``wavelet_level`` levels (mode ``symmetric``), then 14 statistics for each
coefficient array, in the order [approximation, deepest detail, ..., detail level 1]
(golden README, "Wavelet (v3/v4)"). PyWavelets is an optional dependency, imported lazily.

Array letters: R rows (windows x axes), M coefficients of one array.
"""

from __future__ import annotations

import warnings

import numpy as np

from evalcore.errors import BackendUnavailableError, ConfigError

STATISTIC_NAMES = (
    "entropy", "zcross", "mcross", "n5", "n25", "n75", "n95", "median",
    "mean", "std", "var", "rms", "skew", "kurtosis",
)
_PERCENTILES = (5, 25, 75, 95, 50)
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


def _statistics(coefficients: np.ndarray) -> np.ndarray:
    """Compute the 14 statistics of each row of float32 (R, M) coefficients; float64 (R, 14).

    numpy supplies what must match it to the bit (the float32 means, the histogram's bin edges);
    the numba kernel does the rest in one pass per row.
    """
    from evalcore.dsp._wavelet_kernels import HISTOGRAM_BINS, wavelet_statistics

    coefficients = np.ascontiguousarray(coefficients, dtype=np.float32)
    n_rows, n = coefficients.shape
    lows, highs = coefficients.min(axis=-1), coefficients.max(axis=-1)
    if not (np.isfinite(lows).all() and np.isfinite(highs).all()):
        raise ValueError("wavelet coefficients are not finite (the window holds NaN or infinite values)")
    flat = lows == highs  # np.histogram widens an empty range by 0.5 each way
    lows[flat] -= 0.5
    highs[flat] += 0.5
    edges = np.linspace(lows, highs, HISTOGRAM_BINS + 1, axis=-1)
    percentile_index = np.array([int((n - 1) * p / 100 + 0.5) for p in _PERCENTILES], dtype=np.int64)
    out = np.empty((n_rows, len(STATISTIC_NAMES)))
    wavelet_statistics(coefficients, coefficients.mean(axis=-1), lows, highs, edges, percentile_index, out)
    return out


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
