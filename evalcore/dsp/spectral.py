"""The ``spectral-analysis`` block: per-axis time statistics plus spectral powers or wavelet features.

Behaviour from ``shared/golden/dsp/README.md`` ("Spectral analysis"). Per axis, in float32:
scale, (v4) decimate, Butterworth filter, remove the mean. Then
- v1: RMS, ``spectral_peaks_count`` (frequency, height) peaks of a ``fft_length``-point FFT, and
  the mean boxcar periodogram power (/10) in each ``spectral_power_edges`` band;
- v2-v4 FFT: RMS, skewness, kurtosis, (v4) skewness and kurtosis of the power spectrum, and the
  max-hold power (log10 with ``do_log``) of the FFT bins the cut-off mask keeps; with
  ``extra_low_freq`` (v4) the same features again at a tenth of the rate, after all axes;
- v3/v4 Wavelet: see :mod:`evalcore.dsp.wavelet` (before v3 the FFT path runs instead).
Features are grouped by axis; labels cover one axis.

Array letters: W windows, A axes, R rows (W * A), N samples per axis, B FFT bins.
"""

from __future__ import annotations

import numpy as np

from evalcore.dsp import _filters, wavelet
from evalcore.dsp._framing import check_fft_length
from evalcore.dsp._plan import BlockPlan, axes_major, flat_output_config
from evalcore.dsp._stats import rms, skew_kurtosis
from evalcore.errors import ConfigError

_ELF_RATIO = 10  # extra_low_freq decimates by this much


def _band_label(low_hz: float, high_hz: float) -> str:
    return f"Spectral Power {low_hz} - {high_hz} Hz"


def _max_hold_power(x: np.ndarray, fft_length: int, hop: int) -> np.ndarray:
    """Max over frames of ``|rfft|^2 / N`` for float32 rows (R, N); float64 (R, B).

    Frames of ``fft_length`` start at 0, hop, 2*hop, ... while the start is <= N; tail frames are
    zero-padded (the empty frame at start == N adds nothing, as powers are >= 0).
    """
    n = x.shape[1]
    starts = np.arange(0, n + 1, hop)
    padded = np.zeros((x.shape[0], n + fft_length), dtype=np.float64)
    padded[:, :n] = x
    frames = padded[:, starts[:, None] + np.arange(fft_length)[None, :]]
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2 / fft_length
    return power.max(axis=1)


def _fft_features(x: np.ndarray, sampling_freq: float, params: dict, bins: np.ndarray,
                  spectral_stats: bool) -> np.ndarray:
    """v2-v4 FFT features of float32 rows (R, N); float64 (R, 3 [+2] + len(bins))."""
    fft_length = params["fft_length"]
    hop = fft_length // 2 if params["do_fft_overlap"] else fft_length
    skewness, kurtosis = skew_kurtosis(x)
    columns = [rms(x), skewness, kurtosis]
    power = _max_hold_power(x, fft_length, hop)
    if spectral_stats:
        columns.extend(skew_kurtosis(power))
    kept = power[:, bins]
    if params["do_log"]:
        kept = np.log10(np.where(kept == 0, 1e-10, kept))
    head = np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=-1)
    return np.concatenate([head, kept], axis=-1)


def _fft_labels(sampling_freq: float, fft_length: int, bins: np.ndarray, spectral_stats: bool,
                suffix: str) -> list[str]:
    names = ["RMS", "Skewness", "Kurtosis"] + (["Spectral Skewness", "Spectral Kurtosis"] if spectral_stats else [])
    step_hz = sampling_freq / fft_length
    bands = [_band_label(round((k - 0.5) * step_hz, 2), round((k + 0.5) * step_hz, 2)) for k in bins]
    return [name + suffix for name in names] + bands


def _parse_edges(version: int, text: str) -> list[float]:
    try:
        edges = [float(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(
            f"spectral power edges must be comma-separated numbers, got {text!r} "
            f"(spectral-analysis v{version}, field spectral_power_edges)"
        ) from None
    if len(edges) < 2:
        raise ConfigError(
            f"need at least two spectral power edges, got {text!r} "
            f"(spectral-analysis v{version}, field spectral_power_edges)"
        )
    return edges


def _v1_features_function(sampling_freq: float, params: dict, edges: list[float]):
    """Return the v1 features function of float32 rows (R, N): RMS, peaks, band powers; float64.

    Everything that depends only on the configuration (frequency axes, the bins of each band) is
    computed here, once.
    """
    fft_length, n_peaks, threshold = params["fft_length"], params["spectral_peaks_count"], params["spectral_peaks_threshold"]
    half = fft_length // 2
    # The reference's frequency axis includes fs/2 in N/2 points, so its spacing is fs/2/(N/2 - 1).
    peak_hz = np.linspace(0, sampling_freq / 2, half)
    bin_hz = np.fft.rfftfreq(fft_length, 1 / sampling_freq)
    # Column j averages the bins of band [edge_j, edge_j+1) (all zero for an empty band), divided by
    # 10: powers = density @ band_means.
    band_means = np.zeros((len(bin_hz), len(edges) - 1))
    for j, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        in_band = (bin_hz >= low) & (bin_hz < high)
        band_means[in_band, j] = 1 / (10 * np.count_nonzero(in_band)) if in_band.any() else 0.0

    def features(x: np.ndarray) -> np.ndarray:
        n_rows = len(x)
        magnitude = 2.0 / fft_length * np.abs(np.fft.rfft(x.astype(np.float64), n=fft_length, axis=-1)[:, :half])
        is_peak = np.zeros_like(magnitude, dtype=bool)
        is_peak[:, 1:-1] = (magnitude[:, 1:-1] > magnitude[:, :-2]) & (magnitude[:, 1:-1] > magnitude[:, 2:])
        is_peak &= magnitude >= threshold
        order = np.argsort(np.where(is_peak, -magnitude, np.inf), axis=-1, kind="stable")[:, :n_peaks]
        found = np.take_along_axis(is_peak, order, axis=-1)
        peaks = np.zeros((n_rows, n_peaks, 2))
        n_found = order.shape[1]
        peaks[:, :n_found, 0] = np.where(found, peak_hz[order], 0.0)
        peaks[:, :n_found, 1] = np.where(found, np.take_along_axis(magnitude, order, axis=-1), 0.0)
        powers = _boxcar_density(x, sampling_freq, fft_length).astype(np.float64) @ band_means
        return np.concatenate([rms(x).astype(np.float64)[:, None], peaks.reshape(n_rows, -1), powers], axis=-1)

    return features


def _boxcar_density(x: np.ndarray, sampling_freq: float, fft_length: int) -> np.ndarray:
    """One-sided boxcar periodogram (density scaling, constant detrend) of float32 rows; float32 (R, B).

    What ``scipy.signal.periodogram(x, fs, window="boxcar", nfft=fft_length, detrend="constant",
    scaling="density")`` computes, without its per-call overhead: rows longer than ``fft_length``
    are truncated to it, shorter ones zero-padded after the mean is removed;
    ``|X|^2 / (fs * samples used)``, doubled for every bin but DC and Nyquist (``fft_length`` is
    even). In float32, as the reference (its FFT runs in single precision on float32 input).
    """
    segment = x[:, :fft_length]
    centred = segment - segment.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=fft_length, axis=-1)
    density = (spectrum.conj() * spectrum).real
    density *= 1 / (sampling_freq * segment.shape[1])
    density[:, 1:-1] *= 2
    return density


def _v1_labels(n_peaks: int, edges: list[float]) -> list[str]:
    peaks = [f"Peak {i} {kind}" for i in range(1, n_peaks + 1) for kind in ("Freq", "Height")]
    return ["RMS", *peaks, *(_band_label(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True))]


def _time_domain(version: int, n_values: int, n_axes: int, sampling_freq: float, params: dict):
    """Validate the time-domain settings; return ``(rate_hz, n_samples, process)``.

    ``rate_hz`` and ``n_samples`` are per axis after decimation; ``process`` maps float rows
    (R, N) to processed float32 rows: scaled, decimated (v4), filtered, mean removed.
    """
    where = f"spectral-analysis v{version}"
    ratio = params["input_decimation_ratio"]
    if n_axes < 1 or n_values % n_axes:
        raise ConfigError(f"window of {n_values} values is not whole readings of {n_axes} axes ({where}, field axes)")
    if ratio != 1 and version < 4:
        raise ConfigError(
            f"input decimation is only supported in implementation version 4 ({where}, field input_decimation_ratio)"
        )
    rate_hz = sampling_freq / ratio
    filter_type, cutoff_hz, order = params["filter_type"], params["filter_cutoff"], params["filter_order"]
    _filters.check_filter(version, filter_type, cutoff_hz, order, rate_hz, ratio)
    sos = _filters.butterworth_sos(version, filter_type, cutoff_hz, order, rate_hz)
    scale = params["scale_axes"]

    def process(rows: np.ndarray) -> np.ndarray:
        x = rows.astype(np.float32) * scale
        if ratio > 1:
            x = _filters.decimate(x, ratio)
        if sos is not None:
            x = _filters.apply_sos(sos, x)
        return x - x.mean(axis=-1, keepdims=True)

    return rate_hz, _filters.decimated_length(n_values // n_axes, ratio), process


def _analysis(version: int, params: dict, n_samples: int, rate_hz: float):
    """Validate the analysis settings; return ``(features function, labels of one axis)``."""
    if version >= 3 and params["analysis_type"] == "Wavelet":
        name, level = params["wavelet"], params["wavelet_level"]
        wavelet.check_wavelet(version, name, level, n_samples, rate_hz)
        return (lambda x: wavelet.wavelet_features(x, name, level)), wavelet.wavelet_labels(level)
    if version == 1:
        edges = _parse_edges(version, params["spectral_power_edges"])
        n_peaks = params["spectral_peaks_count"]
        if n_peaks < 0:
            raise ConfigError(
                f"spectral peaks count must be >= 0, got {n_peaks} "
                f"(spectral-analysis v{version}, field spectral_peaks_count)"
            )
        return _v1_features_function(rate_hz, params, edges), _v1_labels(n_peaks, edges)
    spectral_stats = version >= 4
    fft_length = params["fft_length"]
    bins = _filters.kept_bins(version, params["filter_type"], params["filter_cutoff"], fft_length, rate_hz)
    labels = _fft_labels(rate_hz, fft_length, bins, spectral_stats, "")
    return (lambda x: _fft_features(x, rate_hz, params, bins, spectral_stats)), labels


def _low_freq_stage(version: int, params: dict, n_samples: int, rate_hz: float):
    """Validate extra_low_freq; return ``(features function, labels)`` at a tenth of the rate."""
    fft_length = params["fft_length"]
    needed = _ELF_RATIO * fft_length / 2
    if n_samples < needed:
        raise ConfigError(
            f"extra low frequency requires at least {needed:g} samples, got {n_samples} "
            f"(spectral-analysis v{version}, field extra_low_freq)"
        )
    low_rate_hz = rate_hz / _ELF_RATIO
    bins = _filters.kept_bins(version, params["filter_type"], params["filter_cutoff"], fft_length, low_rate_hz)

    def features(x: np.ndarray) -> np.ndarray:
        low = _filters.decimate(x, _ELF_RATIO)
        low = low - low.mean(axis=-1, keepdims=True)
        return _fft_features(low, low_rate_hz, params, bins, True)

    return features, _fft_labels(low_rate_hz, fft_length, bins, True, " LF")


def make_plan(version: int, n_values: int, n_axes: int, sampling_freq: float, params: dict) -> BlockPlan:
    """Plan the spectral-analysis block.

    Parameters
    ----------
    version : int
        Implementation version, 1-4.
    n_values : int
        Values per window (readings times axes).
    n_axes : int
        Axes interleaved in the window.
    sampling_freq : float
        Hz, before decimation.
    params : dict
        Resolved parameters.

    Returns
    -------
    BlockPlan
        ``run`` returns float64 features of shape (W, F), grouped by axis; with
        ``extra_low_freq`` the low-frequency features of all axes follow the main ones.

    Raises
    ------
    ConfigError
        An FFT length that is not a power of 2, decimation before v4, a rejected filter
        (``_filters.check_filter``, an unstable design), a mask that keeps no bin, a window too
        short for the wavelet level or for extra_low_freq, an unknown wavelet.
    """
    fft_length = params["fft_length"]
    check_fft_length("spectral-analysis", version, fft_length)
    rate_hz, n_samples, process = _time_domain(version, n_values, n_axes, sampling_freq, params)
    main, labels = _analysis(version, params, n_samples, rate_hz)
    low = None
    if version >= 4 and params["analysis_type"] == "FFT" and params["extra_low_freq"]:
        low, low_labels = _low_freq_stage(version, params, n_samples, rate_hz)
        labels = labels + low_labels
    n_main = len(labels) - (len(low_labels) if low else 0)
    n_features = n_axes * len(labels)

    def run(windows: np.ndarray) -> np.ndarray:
        n_windows = len(windows)
        x = process(axes_major(windows, n_axes).reshape(n_windows * n_axes, -1))
        features = main(x).reshape(n_windows, n_axes * n_main)
        if low is None:
            return features
        return np.concatenate([features, low(x).reshape(n_windows, -1)], axis=-1)

    return BlockPlan(n_features, flat_output_config(n_features), [fft_length], labels, run)
