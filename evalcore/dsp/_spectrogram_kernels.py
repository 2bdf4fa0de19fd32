"""Numba kernels of the spectrogram block's v3/v4 path: the int16 rescale and the fused dB scaling.

With numpy, one window's dB scaling was eight passes over the (frames x bins) array (magnitude,
square, scale, floor, log, and the affine map and clip), each allocating or rewriting 50 kB; on a
single window the passes and their call overhead cost as much as the FFT. ``power_to_scaled_db``
does them in one pass from the complex spectrum. The logarithm is libm's, as numpy's is on CPUs
without AVX-512; the power is ``re^2 + im^2`` rather than ``|X|^2`` (equal within an ulp).

Kept out of ``_kernels`` (the MFE/MFCC kernels), which is moving to the ``kernels`` package.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def int16_scale_rows(windows):
    """For each row (W, N) of float64 samples: True when some sample lies outside [-1, 1]."""
    n_rows, n = windows.shape
    flags = np.zeros(n_rows, np.bool_)
    for r in range(n_rows):
        for i in range(n):
            value = windows[r, i]
            if value > 1.0 or value < -1.0:
                flags[r] = True
                break
    return flags


@njit(cache=True)
def rescale_int16_rows(windows, flags):
    """Copy of ``windows`` (W, N) with each flagged row divided by 32768 and rounded to float32.

    The result stays float64 (the FFT's input type); a flagged value is
    ``float64(float32(value / 32768))``, as ``(row / 32768).astype(np.float32)`` gives it.
    """
    n_rows, n = windows.shape
    out = np.empty((n_rows, n), np.float64)
    for r in range(n_rows):
        if flags[r]:
            for i in range(n):
                out[r, i] = np.float32(windows[r, i] / 32768.0)
        else:
            for i in range(n):
                out[r, i] = windows[r, i]
    return out


@njit(cache=True)
def power_to_scaled_db(spectrum, inverse_fft_length, db_per_neper, noise_floor_db, upper, out):
    """Fill ``out`` with the v3/v4 scaled dB of the power of ``spectrum``.

    Parameters
    ----------
    spectrum : complex128 array of shape (W, F, B)
        The rfft of every frame.
    inverse_fft_length : float
        ``1 / fft_length``: the power is ``|X|^2 / fft_length``.
    db_per_neper : float
        ``10 / ln(10)``: dB are taken as ``ln(p) * db_per_neper``.
    noise_floor_db : float
    upper : float
        Upper clip: 1.0 (v3) or infinity (v4, no upper clip).
    out : float64 array of shape (W, F, B)
        ``clip((10 log10(max(p, 1e-30)) - nf) / (12 - nf), 0, upper)``, with the operations in
        that order.
    """
    n_windows, n_frames, n_bins = spectrum.shape
    span = -noise_floor_db + 12
    for w in range(n_windows):
        for f in range(n_frames):
            for b in range(n_bins):
                value = spectrum[w, f, b]
                power = (value.real * value.real + value.imag * value.imag) * inverse_fft_length
                scaled = np.log(max(power, 1e-30)) * db_per_neper
                scaled = (scaled - noise_floor_db) / span
                if scaled < 0.0:
                    scaled = 0.0
                elif scaled > upper:
                    scaled = upper
                out[w, f, b] = scaled


@njit(cache=True)
def power_to_min_max_scaled(spectrum, inverse_fft_length, out):
    """Fill ``out`` with the v1/v2 scaling: each window's power spectrogram min-max scaled to [0, 1].

    Parameters
    ----------
    spectrum : complex128 array of shape (W, F, B)
    inverse_fft_length : float
        ``1 / fft_length``: the power is ``|X|^2 / fft_length``.
    out : float64 array of shape (W, F, B)
        ``(p - min) / (max - min)`` over each window's (F, B) powers; 0 where max == min.
    """
    n_windows, n_frames, n_bins = spectrum.shape
    for w in range(n_windows):
        low = np.inf
        high = -np.inf
        for f in range(n_frames):
            for b in range(n_bins):
                value = spectrum[w, f, b]
                power = (value.real * value.real + value.imag * value.imag) * inverse_fft_length
                out[w, f, b] = power
                low = min(low, power)
                high = max(high, power)
        span = high - low
        for f in range(n_frames):
            for b in range(n_bins):
                out[w, f, b] = 0.0 if span == 0 else (out[w, f, b] - low) / span
