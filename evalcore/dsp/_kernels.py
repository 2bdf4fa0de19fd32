"""numba kernels of the DSP blocks (imported only when a block needs them).

``_sliding_mean_centre`` and ``_sliding_std_scale`` are the two passes of speechpy's ``cmvnw``
(MFE v1/v2, MFCC). Their sums run in window order, one row at a time, in the dtype of the data:
the same order and precision as the reference's ``np.mean`` / ``np.std`` over axis 0 of a
(win_size, columns) block, so the results are bit-identical (checked against
``naive_sliding_normalize`` in tests/test_dsp_framing.py).

Both take ``rows``, the row index of each padded position (``np.pad(arange(F), pad, "symmetric")``),
instead of a padded copy of the data.

Array letters: W windows, F frames (rows), C columns; P = F + win_size - 1 padded rows.
"""

from __future__ import annotations

# isort: off
import kernels._cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
import numpy as np
from numba import njit
# isort: on


@njit(cache=True)
def _sliding_mean_centre(values, rows, win_size):
    """Numba JIT-compiled: ``values`` minus the mean of each row's window, cast to float32.

    Parameters
    ----------
    values : float64 array of shape (W, F, C)
    rows : int64 array of shape (P,)
        Row of ``values`` at each padded position: ``(win_size - 1) // 2`` mirrored rows on each side.
    win_size : int

    Returns
    -------
    float32 array of shape (W, F, C)
    """
    n_windows, n_rows, n_cols = values.shape
    out = np.empty((n_windows, n_rows, n_cols), dtype=np.float32)
    for w in range(n_windows):
        for r in range(n_rows):
            for c in range(n_cols):
                total = values[w, rows[r], c]
                for k in range(1, win_size):
                    total += values[w, rows[r + k], c]
                out[w, r, c] = np.float32(values[w, r, c] - total / win_size)
    return out


@njit(cache=True)
def _sliding_std_scale(centred, rows, win_size):
    """Numba JIT-compiled: ``centred`` divided by its window's population std + 1e-10, in float32.

    Parameters
    ----------
    centred : float32 array of shape (W, F, C)
    rows : int64 array of shape (P,)
        Row of ``centred`` at each padded position, as for ``_sliding_mean_centre``.
    win_size : int

    Returns
    -------
    float32 array of shape (W, F, C)
        The window mean and the sum of squares accumulate in float32 and are divided by
        ``float32(win_size)``, as numpy 1.21's ``np.std`` did on float32 data.
    """
    n_windows, n_rows, n_cols = centred.shape
    count = np.float32(win_size)
    eps = np.float32(1e-10)
    out = np.empty((n_windows, n_rows, n_cols), dtype=np.float32)
    for w in range(n_windows):
        for r in range(n_rows):
            for c in range(n_cols):
                total = centred[w, rows[r], c]
                for k in range(1, win_size):
                    total += centred[w, rows[r + k], c]
                mean = total / count
                deviation = centred[w, rows[r], c] - mean
                squares = deviation * deviation
                for k in range(1, win_size):
                    deviation = centred[w, rows[r + k], c] - mean
                    squares += deviation * deviation
                out[w, r, c] = centred[w, r, c] / (np.sqrt(squares / count) + eps)
    return out


@njit(cache=True)
def _power_from_spectrum(spectrum, inv_fft_length):
    """Numba JIT-compiled: ``|spectrum|^2 * inv_fft_length``, the magnitude taken first.

    Parameters
    ----------
    spectrum : complex128 array of shape (W, F, B)
        ``rfft`` of every frame.
    inv_fft_length : float
        ``1 / fft_length`` (exact for a power of two).

    Returns
    -------
    float64 array of shape (W, F, B)
        The same operations in the same order as ``np.square(np.abs(spectrum)) * inv_fft_length``;
        numba's complex magnitude may differ from numpy's vectorised one in the last bit.
    """
    n_windows, n_frames, n_bins = spectrum.shape
    out = np.empty((n_windows, n_frames, n_bins), dtype=np.float64)
    for w in range(n_windows):
        for f in range(n_frames):
            for b in range(n_bins):
                magnitude = abs(spectrum[w, f, b])
                out[w, f, b] = magnitude * magnitude * inv_fft_length
    return out


@njit(cache=True)
def _spectrogram_db(spectrum, inv_fft_length, noise_floor_db, clip_high):
    """Numba JIT-compiled: spectrogram v3/v4 scaling straight from the rfft of every frame.

    Parameters
    ----------
    spectrum : complex128 array of shape (W, F, B)
    inv_fft_length : float
    noise_floor_db : float
    clip_high : bool
        True for v3 (clip to [0, 1]), False for v4 (clip below at 0 only).

    Returns
    -------
    float64 array of shape (W, F * B), frame-major
        Per value, in this order: ``p = |X|^2 * inv_fft_length``, ``max(p, 1e-30)``,
        ``10 * log10``, ``- noise_floor_db``, ``/ (12 - noise_floor_db)``, clip: the steps of the
        numpy expression it replaces (``log10`` may differ from numpy's vectorised one by an ulp).
    """
    n_windows, n_frames, n_bins = spectrum.shape
    span = -noise_floor_db + 12
    out = np.empty((n_windows, n_frames * n_bins), dtype=np.float64)
    for w in range(n_windows):
        for f in range(n_frames):
            for b in range(n_bins):
                magnitude = abs(spectrum[w, f, b])
                value = magnitude * magnitude * inv_fft_length
                if value < 1e-30:
                    value = 1e-30
                value = (10 * np.log10(value) - noise_floor_db) / span
                if value < 0:
                    value = 0.0
                elif clip_high and value > 1:
                    value = 1.0
                out[w, f * n_bins + b] = value
    return out


@njit(cache=True)
def _spectrogram_min_max(spectrum, inv_fft_length):
    """Numba JIT-compiled: spectrogram v1/v2, the power min-max scaled over each window.

    Parameters
    ----------
    spectrum : complex128 array of shape (W, F, B)
    inv_fft_length : float

    Returns
    -------
    float64 array of shape (W, F * B), frame-major
        ``(p - min) / (max - min)`` with ``p = |X|^2 * inv_fft_length``; 0 where the window is
        constant (``max == min``).
    """
    n_windows, n_frames, n_bins = spectrum.shape
    n_values = n_frames * n_bins
    out = np.empty((n_windows, n_values), dtype=np.float64)
    for w in range(n_windows):
        low, high = np.inf, -np.inf
        for f in range(n_frames):
            for b in range(n_bins):
                magnitude = abs(spectrum[w, f, b])
                value = magnitude * magnitude * inv_fft_length
                out[w, f * n_bins + b] = value
                low = min(low, value)
                high = max(high, value)
        span = high - low
        for i in range(n_values):
            out[w, i] = 0.0 if span == 0 else (out[w, i] - low) / span
    return out
