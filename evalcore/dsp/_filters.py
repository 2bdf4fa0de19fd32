"""Time-domain filters of the spectral-analysis block: decimation, Butterworth, FFT-bin masks.

Behaviour from ``shared/golden/dsp/README.md`` ("Spectral analysis"):
- a decimation stage is an 8th-order Chebyshev-I low-pass (0.05 dB ripple, cutoff 0.8/ratio of
  Nyquist) as second-order sections, started in steady state for the first sample, then every
  ``ratio``-th sample is kept; ratios 30, 100 and 1000 run as 3x10, 10x10 and 10x10x10;
- the Butterworth filter is designed in float64, cast to float32 sections and run from a zero
  state on float32 samples;
- FFT bins are masked by the cutoff even when the filter order is 0 ("mask only").

scipy.signal is imported inside the functions that use it.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from evalcore.errors import ConfigError

DECIMATION_STAGES = {1: (), 3: (3,), 10: (10,), 30: (3, 10), 100: (10, 10), 1000: (10, 10, 10)}
"""Decimation ratio -> the single-stage ratios it runs as, in order."""

MAX_FILTER_ORDER = 8


def decimated_length(n_samples: int, ratio: int) -> int:
    """Count the samples ``decimate`` leaves of ``n_samples`` (every stage keeps ceil(n / r))."""
    for stage in DECIMATION_STAGES[ratio]:
        n_samples = -(-n_samples // stage)
    return n_samples


def decimate(x: np.ndarray, ratio: int) -> np.ndarray:
    """Low-pass and downsample each row by ``ratio``.

    Parameters
    ----------
    x : float32 array of shape (R, N)
    ratio : int
        A key of ``DECIMATION_STAGES``.

    Returns
    -------
    float32 array of shape (R, decimated_length(N, ratio))
        The filter runs in float64 (float64 sections and initial state, as the reference's
        ``sosfilt(sos, x, zi=sosfilt_zi(sos) * x[0])``); each stage's output is cast back to
        float32, keeping the block's float32 pipeline.
    """
    from scipy.signal import sosfilt

    for stage in DECIMATION_STAGES[ratio]:
        sos, steady_state = _decimation_filter(stage)
        zi = steady_state * x[None, :, 0, None].astype(np.float64)
        filtered, _ = sosfilt(sos, x, axis=-1, zi=zi)
        x = np.ascontiguousarray(filtered[:, ::stage], dtype=np.float32)
    return x


@cache
def _decimation_filter(stage: int) -> tuple[np.ndarray, np.ndarray]:
    """The Chebyshev-I sections of one decimation stage and their steady state for a unit step.

    Returns
    -------
    sos : float64 array of shape (4, 6)
    steady_state : float64 array of shape (4, 1, 2)
        ``sosfilt_zi(sos)`` shaped to broadcast over rows, read-only. Both are cached: designing the
        filter cost more than filtering a window. (``sos`` stays writeable: scipy's sosfilt needs a
        writeable buffer; nothing writes to it.)
    """
    from scipy.signal import cheby1, sosfilt_zi

    sos = cheby1(8, 0.05, 0.8 / stage, output="sos")
    steady_state = sosfilt_zi(sos)[:, None, :]
    steady_state.flags.writeable = False
    return sos, steady_state


def check_filter(version: int, filter_type: str, cutoff_hz: float, order: int, sampling_freq: float,
                 decimation_ratio: int) -> None:
    """Raise ConfigError for a filter the block rejects.

    Checks, when ``filter_type`` is ``low`` or ``high``: an even order between 0 (mask only) and 8,
    a positive cutoff, a cutoff at most Nyquist (of the decimated rate) for a real filter, and
    with decimation a cutoff at most 0.9 x the decimated Nyquist.
    """
    where = f"spectral-analysis v{version}"
    if filter_type not in ("low", "high"):
        return
    if order % 2:
        raise ConfigError(f"filter order needs to be even (2, 4, 6, 8), got {order} ({where}, field filter_order)")
    if not 0 <= order <= MAX_FILTER_ORDER:
        raise ConfigError(
            f"filter order needs to be between 2 and 8 (or 0 to only mask), got {order} ({where}, field filter_order)"
        )
    if cutoff_hz <= 0:
        raise ConfigError(f"cut-off frequency must be positive, got {cutoff_hz} ({where}, field filter_cutoff)")
    nyquist = sampling_freq / 2
    if decimation_ratio > 1 and cutoff_hz > 0.9 * nyquist:
        raise ConfigError(
            f"decimation ratio is too high for a cut-off of {cutoff_hz} Hz: the decimated nyquist "
            f"is {nyquist} Hz; lower input_decimation_ratio ({where}, field input_decimation_ratio)"
        )
    if order > 0 and cutoff_hz > nyquist:
        raise ConfigError(
            f"cut-off frequency {cutoff_hz} Hz is above nyquist (half the sample rate, {nyquist}); "
            f"choose a lower cut-off ({where}, field filter_cutoff)"
        )


def butterworth_sos(version: int, filter_type: str, cutoff_hz: float, order: int,
                    sampling_freq: float) -> np.ndarray | None:
    """Design the block's Butterworth filter as float32 sections, or None when there is none.

    Returns
    -------
    float32 array of shape (order // 2, 6), or None
        None when ``filter_type`` is ``none`` or ``order`` is 0.

    Raises
    ------
    ConfigError
        When a pole of the float32 sections lies on or outside the unit circle (a cut-off too
        close to 0 or to Nyquist for float32 coefficients).
    """
    if filter_type not in ("low", "high") or order == 0:
        return None
    from scipy.signal import butter

    sos = butter(order, cutoff_hz, btype=filter_type + "pass", fs=sampling_freq, output="sos").astype(np.float32)
    denominators = sos[:, 3:].astype(np.float64)
    for a0, a1, a2 in denominators:
        poles = np.roots([a0, a1, a2])
        if np.any(np.abs(poles) >= 1.0):
            raise ConfigError(
                f"filter created is not stable with a cut-off of {cutoff_hz} Hz at {sampling_freq} Hz; "
                f"move the cut-off away from 0 or nyquist (spectral-analysis v{version}, field filter_cutoff)"
            )
    return sos


def apply_sos(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Run float32 sections over each float32 row of ``x`` from a zero state (float32 result)."""
    from scipy.signal import sosfilt

    return sosfilt(sos, x, axis=-1)


def kept_bins(version: int, filter_type: str, cutoff_hz: float, fft_length: int, sampling_freq: float) -> np.ndarray:
    """FFT bins (1..N/2, DC dropped) that survive the cut-off mask.

    The cut-off is clipped to Nyquist and ``b = cutoff * N / fs``. Low-pass keeps bins
    ``1..int(b + 0.5)``; high-pass keeps ``max(1, int(b - 0.5) + 1)..N/2``.

    Returns
    -------
    int64 array of bin indices, ascending

    Raises
    ------
    ConfigError
        When the mask leaves no bin.
    """
    half = fft_length // 2
    if filter_type not in ("low", "high"):
        return np.arange(1, half + 1)
    boundary = min(cutoff_hz, sampling_freq / 2) * fft_length / sampling_freq
    if filter_type == "low":
        bins = np.arange(1, min(int(boundary + 0.5), half) + 1)
    else:
        bins = np.arange(max(1, int(boundary - 0.5) + 1), half + 1)
    if bins.size == 0:
        raise ConfigError(
            f"cut-off frequency {cutoff_hz} Hz masked all fft bins at {sampling_freq} Hz with fft length "
            f"{fft_length} (spectral-analysis v{version}, field filter_cutoff)"
        )
    return bins
