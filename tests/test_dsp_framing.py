"""The vectorised helpers of evalcore.dsp against naive references written from the golden README."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.dsp import _filters
from evalcore.dsp._framing import (
    frame_layout,
    mel_filterbank,
    power_spectrum,
    seconds_to_samples,
    sliding_normalize,
)
from evalcore.dsp._stats import skew_kurtosis
from evalcore.dsp.mfe import quantize_unit
from evalcore.errors import ConfigError
from tests.naive import naive_mel_filterbank, naive_sliding_normalize


@pytest.mark.parametrize("win_size", [1, 3, 11, 101, 151])
@pytest.mark.parametrize("variance", [False, True])
def test_sliding_normalize_matches_naive(win_size, variance):
    """Without this, the vectorised cmvnw could drift from speechpy's loop (MFE v1/v2, MFCC) by a float32 ulp."""
    rng = np.random.default_rng(win_size)
    values = rng.standard_normal((3, 49, 13)) * 10 + 3
    got = sliding_normalize(values, win_size, variance=variance)
    for w in range(3):
        want = naive_sliding_normalize(values[w], win_size, variance)
        assert got[w].tobytes() == want.tobytes(), f"window {w}: first diff at {np.argwhere(got[w] != want)[:1]}"


@pytest.mark.parametrize(("num_filters", "fft_length", "fs", "low", "high", "old"), [
    (40, 256, 16000, 0, 0, False), (30, 256, 16000, 0, 0, True), (20, 256, 8000, 300, 3800, True),
    (64, 1024, 16000, 80, 7600, False), (16, 128, 8000, 0, 3000, False), (48, 512, 16000, 0, 0, True),
])
def test_mel_filterbank_matches_naive(num_filters, fft_length, fs, low, high, old):
    """Without this, a filterbank edge off by one bin would shift every MFE/MFCC feature."""
    got = mel_filterbank("mfe", 4, num_filters, fft_length, fs, low, high, old_mels=old)
    want = naive_mel_filterbank(num_filters, fft_length, fs, low, high, old)
    np.testing.assert_array_equal(got, want)


def test_old_mels_limit_at_16khz():
    """Without this, Studio's default 40 filters under the old mels would give a silent all-zero filter."""
    mel_filterbank("mfe", 3, 30, 256, 16000, 0, 0, old_mels=True)
    with pytest.raises(ConfigError, match="all zeros"):
        mel_filterbank("mfe", 3, 31, 256, 16000, 0, 0, old_mels=True)


@pytest.mark.parametrize(("seconds", "fs", "rounding", "samples"), [
    (0.025, 16000, "ceil", 400),      # 400.00000000000006 is absorbed
    (0.0333, 16000, "ceil", 533),     # 532.8 -> ceil
    (0.0125, 8000, "round", 100),
    (0.5, 62.5, "round", 31), (0.5, 62.5, "ceil", 32),
    (0.02, 16000, "ceil", 320),
])
def test_seconds_to_samples(seconds, fs, rounding, samples):
    """Without this, a frame one sample longer would change every frame count and feature."""
    assert seconds_to_samples(seconds, fs, rounding=rounding) == samples


def test_frame_counts_v1_one_fewer():
    """Without this, v1 spectrograms would have 99 frames where Edge Impulse has 98."""
    assert frame_layout("mfe", 1, 16000, 16000, 0.02, 0.01) == (320, 160, 98)
    assert frame_layout("mfe", 2, 16000, 16000, 0.02, 0.01) == (320, 160, 99)
    assert frame_layout("mfe", 1, 16000, 16000, 0.025, 0.01)[2] == 97  # floor(15600/160)


def test_power_spectrum_truncates_long_frames():
    """Without this, 320-sample frames with FFT 256 would be windowed differently from Edge Impulse."""
    rng = np.random.default_rng(1)
    signal = rng.standard_normal((1, 1000))
    got = power_spectrum(signal, 320, 160, 5, 256)
    for f in range(5):
        want = np.abs(np.fft.rfft(signal[0, f * 160:f * 160 + 256])) ** 2 / 256
        np.testing.assert_allclose(got[0, f], want, rtol=1e-13, atol=0)


def test_quantize_wraps_like_uint8():
    """Without this, MFE v3/v4 loud frames would read 1.0 where Edge Impulse's uint8 cast gives 0."""
    got = quantize_unit(np.array([0.0, 0.5, 254.5 / 256, 255.49 / 256, 255.5 / 256, 0.999, 1.0]))
    np.testing.assert_array_equal(got, np.array([0, 128, 254, 255, 0, 0, 0], dtype=np.float32) / 256)


def test_skew_kurtosis_constant_rows():
    """Without this, a flat window would give NaN features where scipy 1.7.3 (Studio's) gives 0 and -3."""
    skewness, kurtosis = skew_kurtosis(np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]))
    assert skewness[0] == 0 and kurtosis[0] == -3
    assert np.isfinite(skewness[1]) and np.isfinite(kurtosis[1])


def test_kept_bins_mask_rules():
    """Without this, a low or high cut-off would keep one FFT bin too many or too few."""
    assert _filters.kept_bins(4, "low", 3, 16, 62.5).tolist() == [1]            # b = 0.77 -> int(1.27)
    assert _filters.kept_bins(4, "high", 20, 16, 100).tolist() == [3, 4, 5, 6, 7, 8]  # b = 3.2 -> int(2.7) + 1 = 3
    assert _filters.kept_bins(4, "none", 3, 8, 100).tolist() == [1, 2, 3, 4]
    with pytest.raises(ConfigError, match="masked all fft bins"):
        _filters.kept_bins(4, "low", 1, 16, 100)


def test_decimated_length():
    """Without this, the wavelet and extra-low-frequency length checks would use the wrong sample count."""
    assert _filters.decimated_length(2000, 30) == 67   # 2000 -> 667 -> 67
    assert _filters.decimated_length(16000, 1000) == 16
    x = np.random.default_rng(2).standard_normal((2, 2000)).astype(np.float32)
    assert _filters.decimate(x, 30).shape == (2, 67)
