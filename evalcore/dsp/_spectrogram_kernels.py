"""Numba kernels of the spectrogram block's v3/v4 path: the int16 rescale and the fused dB scaling.

With numpy, one window's dB scaling was eight passes over the (frames x bins) array (magnitude,
square, scale, floor, log, and the affine map and clip), each allocating or rewriting 50 kB; on a
single window the passes and their call overhead cost as much as the FFT. ``power_to_scaled_db``
does them in one pass from the complex spectrum; the power is ``re^2 + im^2`` rather than
``|X|^2`` (equal within an ulp).

The logarithm is :func:`natural_log`, not libm's ``log``: a call into libm cannot be vectorised,
and one window's 6,435 calls took longer than its FFT. ``natural_log`` is straight-line float and
integer arithmetic that LLVM runs four values at a time (AVX2); it stays within 2 ulp of libm
(the tests hold it to ``math.log``), far inside the block's golden tolerance (1e-6). The dB
kernel uses numba's ``error_model="numpy"``: Python's model puts a zero check on every division,
which stops the vectorisation (a zero ``12 - noise_floor_db`` then gives inf/NaN, as numpy does in
Edge Impulse's block).

Kept out of ``_kernels`` (the MFE/MFCC kernels), which is moving to the ``kernels`` package.
"""

from __future__ import annotations

import math
import struct

import numpy as np
from numba import njit


def _bits(value: float) -> int:
    return struct.unpack("<q", struct.pack("<d", value))[0]


def _from_bits(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<q", bits))[0]


# float64 fields: the 52 mantissa bits, the exponent bias, and the mantissa bits of sqrt(2).
_MANTISSA_MASK = (1 << 52) - 1
_EXPONENT_BIAS = 1023
_SQRT2_MANTISSA = _bits(math.sqrt(2.0)) & _MANTISSA_MASK
# 2**52 as bits: OR-ing a small integer k into them gives the float 2**52 + k exactly.
_TWO_POW_52_BITS = _bits(2.0**52)
# ln 2 split in two: the high part keeps 21 significant bits, so exponent * _LN2_HIGH is exact.
_LN2_HIGH = _from_bits(_bits(math.log(2.0)) & ~((1 << 32) - 1))
_LN2_LOW = math.log(2.0) - _LN2_HIGH
_FLOAT64_MAX = np.finfo(np.float64).max


@njit(cache=True, error_model="numpy")
def natural_log(x):
    """ln(x) for a positive normal float64; +inf and NaN are returned as they are.

    ``x = 2**e * m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))`` (read from the bits), then
    ``ln x = e ln 2 + 2 atanh(s)`` with ``s = (m - 1) / (m + 1)``, ``|s| <= 0.1716``, and
    ``2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + ...`` summed up to ``s^19`` (the first term left out is
    below 2.4e-17 of the sum). Zero, negative and subnormal inputs give wrong values: callers
    floor their argument first (the spectrogram at 1e-30).
    """
    bits = np.float64(x).view(np.int64)
    mantissa = bits & _MANTISSA_MASK
    above_sqrt2 = np.int64(mantissa > _SQRT2_MANTISSA)  # then halve m and add one to e
    m = np.int64(mantissa | ((_EXPONENT_BIAS - above_sqrt2) << 52)).view(np.float64)
    biased_exponent = (bits >> 52) + above_sqrt2
    # int -> float without a conversion instruction (AVX2 has none for int64 lanes)
    e = np.int64(biased_exponent | _TWO_POW_52_BITS).view(np.float64) - (2.0**52 + _EXPONENT_BIAS)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    series = 2.0 / 19
    series = series * z + 2.0 / 17
    series = series * z + 2.0 / 15
    series = series * z + 2.0 / 13
    series = series * z + 2.0 / 11
    series = series * z + 2.0 / 9
    series = series * z + 2.0 / 7
    series = series * z + 2.0 / 5
    series = series * z + 2.0 / 3
    result = e * _LN2_HIGH + (s * z * series + (e * _LN2_LOW + 2.0 * s))
    return result if x <= _FLOAT64_MAX else x


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


@njit(cache=True, error_model="numpy")
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
        that order (a NaN power stays NaN, as in the reference).
    """
    n_windows, n_frames, n_bins = spectrum.shape
    span = -noise_floor_db + 12
    for w in range(n_windows):
        for f in range(n_frames):
            for b in range(n_bins):  # branch-free (selects), so LLVM vectorises this loop
                value = spectrum[w, f, b]
                power = (value.real * value.real + value.imag * value.imag) * inverse_fft_length
                power = 1e-30 if power < 1e-30 else power
                scaled = natural_log(power) * db_per_neper
                scaled = (scaled - noise_floor_db) / span
                scaled = 0.0 if scaled < 0.0 else scaled
                out[w, f, b] = upper if scaled > upper else scaled


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
