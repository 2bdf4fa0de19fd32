"""The spectrogram block's numba kernels against naive pure-Python references (one value at a time)."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest

from evalcore.dsp._spectrogram_kernels import fft_tables, natural_log, spectrogram_rows

DB_PER_NEPER = 10 / math.log(10)


def naive_spectrogram(window, frame: int, stride: int, n_frames: int, fft_length: int, version: int,
                      noise_floor_db: float) -> list[float]:
    """The block's definition, one value at a time: a direct DFT of every frame, then the scaling."""
    samples = [float(v) for v in window]
    if version == 3 and any(v > 1 or v < -1 for v in samples):
        samples = [float(np.float32(v / 32768)) for v in samples]
    powers = []
    for f in range(n_frames):
        chunk = samples[f * stride:f * stride + min(frame, fft_length)]
        chunk += [0.0] * (fft_length - len(chunk))
        for k in range(fft_length // 2 + 1):
            x = sum(v * cmath.exp(-2j * math.pi * k * t / fft_length) for t, v in enumerate(chunk))
            powers.append(abs(x) ** 2 / fft_length)
    if version <= 2:
        low, high = min(powers), max(powers)
        return [0.0 if high == low else (p - low) / (high - low) for p in powers]
    scaled = [(10 * math.log10(max(p, 1e-30)) - noise_floor_db) / (12 - noise_floor_db) for p in powers]
    return [max(0.0, min(1.0, s) if version == 3 else s) for s in scaled]


def _run(windows, frame, stride, n_frames, fft_length, version, noise_floor_db=-52.0):
    out = np.full((len(windows), n_frames * (fft_length // 2 + 1)), np.nan)
    spectrogram_rows(np.asarray(windows, dtype=np.float64), frame, stride, n_frames, fft_length,
                     fft_tables(fft_length), version, noise_floor_db, DB_PER_NEPER, out)
    return out


@pytest.mark.parametrize("version", [1, 2, 3, 4])
@pytest.mark.parametrize("fft_length, frame, stride", [(2, 4, 4), (8, 12, 5), (16, 16, 7), (32, 20, 10)])
def test_spectrogram_rows_equal_naive_dft(version, fft_length, frame, stride):
    """Without this, the packed radix-2 FFT, the framing (truncate / zero-pad) or a scaling could be wrong."""
    rng = np.random.default_rng(fft_length + version)
    windows = np.stack([
        rng.uniform(-1, 1, 64),  # in [-1, 1]: v3 leaves it alone
        np.round(rng.uniform(-32768, 32767, 64)),  # int16 scale: v3 rescales it
        np.r_[rng.uniform(-1, 1, 63), 1.5],  # one sample out of [-1, 1]: v3 rescales it all
        np.zeros(64),  # a constant power spectrogram: v1/v2 give 0; v3/v4 floor every power
    ])
    n_frames = (64 - frame) // stride + 1
    out = _run(windows, frame, stride, n_frames, fft_length, version)
    for row, window in zip(out, windows):
        expected = naive_spectrogram(window, frame, stride, n_frames, fft_length, version, -52.0)
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-12)
    if version <= 2:
        assert (out[3] == 0).all() and out[0].max() == 1.0
    else:
        assert (out == 0).any() and (out > 0).any()


@pytest.mark.parametrize("version", [1, 3, 4])
def test_spectrogram_rows_match_numpy_rfft_at_audio_size(version):
    """Without this, a long transform (n = 128, 256) could accumulate error the small sizes do not show."""
    rng = np.random.default_rng(version)
    windows = np.round(8000 * np.sin(np.arange(4000) * 0.3) + 500 * rng.standard_normal((3, 4000)))
    windows[1] /= 40000  # in [-1, 1]
    for fft_length in (128, 256):
        frame, stride = 320, 160
        n_frames = (4000 - frame) // stride + 1
        out = _run(windows, frame, stride, n_frames, fft_length, version, noise_floor_db=-90.0)
        for row, window in zip(out, windows):
            signal = window
            if version == 3 and np.any(np.abs(window) > 1):
                signal = (window / 32768).astype(np.float32).astype(np.float64)
            frames = np.stack([signal[f * stride:f * stride + frame] for f in range(n_frames)])
            power = np.abs(np.fft.rfft(frames, n=fft_length)) ** 2 / fft_length
            if version == 1:
                expected = (power - power.min()) / (power.max() - power.min())
            else:
                expected = (10 * np.log10(np.maximum(power, 1e-30)) + 90.0) / 102.0
                expected = np.clip(expected, 0, 1 if version == 3 else None)
            np.testing.assert_allclose(row, expected.ravel(), rtol=1e-11, atol=1e-13)


def test_spectrogram_rows_nan_and_zero_span():
    """Without this, a NaN sample could come out as a number, or noise_floor_db = 12 could raise."""
    window = np.sin(np.arange(64) * 0.7)
    with_nan = window.copy()
    with_nan[3] = np.nan
    out = _run([window, with_nan], 16, 16, 4, 16, 4)
    assert np.isnan(out[1, :9]).all() and np.isfinite(out[1, 9:]).all()  # only the first frame
    loud_then_silent = np.r_[1000 * window[:32], np.zeros(32)]
    out = _run([loud_then_silent], 16, 16, 4, 16, 4, noise_floor_db=12.0)
    # (x - 12) / 0, as numpy divides in the reference: +inf above 12 dB, -inf (clipped to 0) below
    assert (out == np.inf).any() and (out == 0).any() and set(np.unique(out)) == {0.0, np.inf}


def test_natural_log_within_two_ulp_of_math_log():
    """Without this, the vectorisable logarithm could drift from libm's (range reduction, series, ln 2 split)."""
    rng = np.random.default_rng(5)
    values = np.concatenate([
        np.exp(rng.uniform(-700, 700, 2000)),
        1 + rng.uniform(-1e-3, 1e-3, 200),  # near 1, where ln is small and cancellation bites
        [1e-30, 1.0, 2.0, 0.5, math.sqrt(2), np.nextafter(math.sqrt(2), 2), np.nextafter(math.sqrt(2), 1),
         np.finfo(np.float64).tiny, np.finfo(np.float64).max],
    ])
    for value in values:
        got, expected = natural_log(float(value)), math.log(value)
        assert abs(got - expected) <= 2 * math.ulp(expected), (value, got, expected)
    assert natural_log(math.inf) == math.inf and math.isnan(natural_log(math.nan))
