"""Numba kernel of the spectrogram block: a batch of windows' features in one call, for every version.

``spectrogram_rows`` does, per window, what the block's numpy form did in a dozen calls: the v3
int16 check and rescale, the framing, a real FFT of every frame, the power and the per-version
scaling (v1/v2 min-max, v3/v4 clipped dB), written frame-major. Edge Impulse calls a block once a
window, and for one 1 s window of 16 kHz audio the numpy form spent more time in call overhead,
temporary arrays and unvectorised loops than in arithmetic.

The FFT is the textbook one, written here for many frames at once: a real frame of ``n`` samples
is packed into ``n/2`` complex values (even samples real, odd imaginary), transformed by an
iterative radix-2 decimation-in-time FFT, and unpacked into the ``n/2 + 1`` bins. The work arrays
are (values, frames), so every butterfly's innermost loop runs over the frames, contiguous in
memory: LLVM vectorises it (four frames at a time with AVX2). The results differ from numpy's
pocketfft by rounding only (about 1e-15 relative; the tests compare against ``np.fft.rfft``).

The logarithm is :func:`natural_log`, not libm's ``log``: a call into libm cannot be vectorised,
and one window's 6,435 calls took longer than its FFT. ``natural_log`` is straight-line float and
integer arithmetic that LLVM runs four values at a time; it stays within 2 ulp of libm (the tests
hold it to ``math.log``), far inside the block's golden tolerance (1e-6). The kernels use numba's
``error_model="numpy"``: Python's model puts a zero check on every division, which stops the
vectorisation. The dB map multiplies by ``1 / (12 - noise_floor_db)`` (within an ulp of the
division); a zero span gives inf/NaN, as numpy's division does in Edge Impulse's block.

Kept out of ``_kernels`` (the MFE/MFCC kernels), which is moving to the ``kernels`` package.
"""

from __future__ import annotations

import math
import struct
from functools import lru_cache

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


@lru_cache(maxsize=16)
def fft_tables(fft_length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tables of :func:`spectrogram_rows` for a power-of-two ``fft_length`` >= 2 (read-only, cached).

    Returns
    -------
    bit_reversed : int64 array of shape (n/2,)
        Position of packed value ``j`` in the FFT's bit-reversed input order.
    stage_cos, stage_sin : float64 arrays of shape (max(n/4, 1),)
        ``exp(-2 pi i m / (n/2)) = stage_cos[m] + i stage_sin[m]``: the butterflies' twiddles.
    unpack_cos, unpack_sin : float64 arrays of shape (n/2 + 1,)
        ``exp(-2 pi i k / n)``: the twiddles that unpack bin ``k`` of the real transform.
    """
    half = fft_length // 2
    n_bits = half.bit_length() - 1
    positions = np.arange(half, dtype=np.int64)
    bit_reversed = np.zeros(half, dtype=np.int64)
    for bit in range(n_bits):
        bit_reversed |= ((positions >> bit) & 1) << (n_bits - 1 - bit)
    stage = np.arange(max(half // 2, 1)) * (2 * np.pi / half)
    unpack = np.arange(half + 1) * (2 * np.pi / fft_length)
    tables = (bit_reversed, np.cos(stage), -np.sin(stage), np.cos(unpack), -np.sin(unpack))
    for table in tables:
        table.flags.writeable = False
    return tables


@njit(cache=True, error_model="numpy")
def spectrogram_rows(windows, frame, stride, n_frames, fft_length, tables, version, noise_floor_db, db_per_neper,
                     out):
    """Fill ``out`` with the spectrogram features of every window.

    Parameters
    ----------
    windows : float64 array of shape (W, N)
    frame, stride, n_frames : int
        Frame layout in samples (``_framing.frame_layout``); frames longer than ``fft_length``
        are truncated to their first ``fft_length`` samples, shorter ones zero-padded.
    fft_length : int
        A power of two, >= 2.
    tables : tuple
        ``fft_tables(fft_length)``.
    version : int
        1-4. v3: a window with a sample outside [-1, 1] is first divided by 32768 and rounded to
        float32, value by value. v1/v2: each window's power min-max scaled to [0, 1] (0 when
        constant). v3/v4: ``clip((10 log10(max(p, 1e-30)) - nf) / (12 - nf), 0, 1)``, no upper
        clip in v4.
    noise_floor_db : float
    db_per_neper : float
        ``10 / ln 10``: dB are taken as ``ln(p) * db_per_neper``.
    out : float64 array of shape (W, n_frames * (fft_length // 2 + 1))
        Frame-major: bin ``k`` of frame ``f`` at ``f * n_bins + k``. The power is
        ``|X|^2 / fft_length`` with ``|X|^2 = re^2 + im^2``.
    """
    bit_reversed, stage_cos, stage_sin, unpack_cos, unpack_sin = tables
    n_windows, n_values = windows.shape
    half = fft_length // 2
    n_bins = half + 1
    used = min(frame, fft_length)
    inverse_fft_length = 1.0 / fft_length
    inverse_span = 1.0 / (-noise_floor_db + 12)
    upper = 1.0 if version == 3 else np.inf
    # (values, frames): each loop below runs innermost over the frames, contiguous. The frame
    # axis is padded to a multiple of 8 with zero frames, so the vectorised loops run whole
    # (no scalar remainder); the padding never reaches the output or the min-max.
    columns = (n_frames + 7) // 8 * 8
    real = np.zeros((half, columns))
    imag = np.zeros((half, columns))
    power = np.empty((n_bins, columns))
    flat_power = power.reshape(-1)
    for w in range(n_windows):
        rescale = False
        if version == 3:
            for i in range(n_values):
                value = windows[w, i]
                if value > 1.0 or value < -1.0:
                    rescale = True
                    break
        # pack: value j = sample 2j + i * sample 2j+1, stored at its bit-reversed position
        for j in range(half):
            destination = bit_reversed[j]
            even, odd = 2 * j, 2 * j + 1
            for f in range(n_frames):
                start = f * stride
                x_even = windows[w, start + even] if even < used else 0.0
                x_odd = windows[w, start + odd] if odd < used else 0.0
                if rescale:
                    x_even = np.float64(np.float32(x_even / 32768.0))
                    x_odd = np.float64(np.float32(x_odd / 32768.0))
                real[destination, f] = x_even
                imag[destination, f] = x_odd
        # radix-2 butterflies, in place
        size = 2
        while size <= half:
            span = size // 2
            step = half // size
            for first in range(0, half, size):
                for j in range(span):
                    w_re = stage_cos[j * step]
                    w_im = stage_sin[j * step]
                    top = first + j
                    bottom = top + span
                    for f in range(columns):
                        b_re = real[bottom, f] * w_re - imag[bottom, f] * w_im
                        b_im = real[bottom, f] * w_im + imag[bottom, f] * w_re
                        t_re = real[top, f]
                        t_im = imag[top, f]
                        real[top, f] = t_re + b_re
                        imag[top, f] = t_im + b_im
                        real[bottom, f] = t_re - b_re
                        imag[bottom, f] = t_im - b_im
            size *= 2
        # unpack bin k from Z[k] and conj(Z[n/2 - k]) (Z[n/2] = Z[0]), then its power
        for k in range(n_bins):
            index = k % half
            mirror = (half - k) % half
            w_re = unpack_cos[k]
            w_im = unpack_sin[k]
            for f in range(columns):
                z_re = real[index, f]
                z_im = imag[index, f]
                c_re = real[mirror, f]
                c_im = -imag[mirror, f]
                even_re = 0.5 * (z_re + c_re)
                even_im = 0.5 * (z_im + c_im)
                odd_re = 0.5 * (z_im - c_im)
                odd_im = -0.5 * (z_re - c_re)
                x_re = even_re + (w_re * odd_re - w_im * odd_im)
                x_im = even_im + (w_re * odd_im + w_im * odd_re)
                power[k, f] = (x_re * x_re + x_im * x_im) * inverse_fft_length
        if version >= 3:
            for i in range(flat_power.size):  # branch-free (selects), so LLVM vectorises this loop
                value = flat_power[i]
                value = 1e-30 if value < 1e-30 else value
                scaled = (natural_log(value) * db_per_neper - noise_floor_db) * inverse_span
                scaled = 0.0 if scaled < 0.0 else scaled
                flat_power[i] = upper if scaled > upper else scaled
        else:
            low = np.inf
            high = -np.inf
            for k in range(n_bins):
                for f in range(n_frames):
                    low = min(low, power[k, f])
                    high = max(high, power[k, f])
            extent = high - low
            for k in range(n_bins):
                for f in range(n_frames):
                    power[k, f] = 0.0 if extent == 0 else (power[k, f] - low) / extent
        for f in range(n_frames):
            for k in range(n_bins):
                out[w, f * n_bins + k] = power[k, f]
