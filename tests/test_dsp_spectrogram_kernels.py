"""The spectrogram block's numba kernels against naive pure-Python references (one value at a time)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalcore.dsp._spectrogram_kernels import (
    int16_scale_rows,
    natural_log,
    power_to_min_max_scaled,
    power_to_scaled_db,
    rescale_int16_rows,
)


def _spectrum(seed: int, shape=(3, 5, 9)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spectrum = rng.standard_normal(shape) * 10.0 ** rng.uniform(-20, 4, shape) + 1j * rng.standard_normal(shape)
    spectrum[0, 0, 0] = 0  # exact zero power: floored at 1e-30
    spectrum[1, 2, 3] = 1e-300j
    return spectrum


def naive_scaled_db(spectrum: np.ndarray, fft_length: int, noise_floor_db: float, upper: float | None) -> np.ndarray:
    out = np.empty(spectrum.shape)
    for index, value in np.ndenumerate(spectrum):
        power = abs(complex(value)) ** 2 / fft_length
        scaled = (10 * math.log10(max(power, 1e-30)) - noise_floor_db) / (12 - noise_floor_db)
        out[index] = max(0.0, scaled if upper is None else min(upper, scaled))
    return out


def naive_min_max(spectrum: np.ndarray, fft_length: int) -> np.ndarray:
    out = np.empty(spectrum.shape)
    for w in range(spectrum.shape[0]):
        powers = [[abs(complex(v)) ** 2 / fft_length for v in row] for row in spectrum[w]]
        low = min(min(row) for row in powers)
        high = max(max(row) for row in powers)
        for f, row in enumerate(powers):
            for b, power in enumerate(row):
                out[w, f, b] = 0.0 if high == low else (power - low) / (high - low)
    return out


@pytest.mark.parametrize("noise_floor_db, version", [(-52.0, 3), (-52.0, 4), (-100.0, 3), (-30.0, 4)])
def test_scaled_db_equals_naive(noise_floor_db, version):
    """Without this, the fused v3/v4 kernel could drift from the block's formula."""
    spectrum = _spectrum(int(-noise_floor_db) + version)
    out = np.empty(spectrum.shape)
    power_to_scaled_db(spectrum, 1 / 128, 10 / math.log(10), noise_floor_db, 1.0 if version == 3 else np.inf, out)
    expected = naive_scaled_db(spectrum, 128, noise_floor_db, 1.0 if version == 3 else None)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    assert (out == 0).any() and (out > 0).any()


def test_min_max_equals_naive():
    """Without this, the fused v1/v2 kernel could scale by the wrong extremes (or divide a constant window by 0)."""
    spectrum = _spectrum(1)
    spectrum[2] = 3 + 4j  # a constant window gives 0
    out = np.empty(spectrum.shape)
    power_to_min_max_scaled(spectrum, 1 / 64, out)
    np.testing.assert_allclose(out, naive_min_max(spectrum, 64), rtol=1e-12, atol=1e-15)
    assert (out[2] == 0).all() and out[0].max() == 1.0


def test_int16_rescale_equals_naive():
    """Without this, the v3 rescale could touch windows in [-1, 1] or round differently from float32."""
    rng = np.random.default_rng(3)
    windows = np.stack([rng.uniform(-1, 1, 50), np.round(rng.uniform(-32768, 32767, 50)), rng.uniform(-1, 1, 50)])
    windows[2, 49] = -1.0000001  # one sample outside [-1, 1] makes the whole window int16-scale
    flags = int16_scale_rows(windows)
    assert flags.tolist() == [any(abs(v) > 1 for v in row) for row in windows] == [False, True, True]
    out = rescale_int16_rows(windows, flags)
    for r, row in enumerate(windows):
        expected = [float(np.float32(v / 32768)) for v in row] if flags[r] else list(row)
        assert out[r].tolist() == expected


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
