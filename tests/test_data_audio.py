"""Tests for evalcore.data.audio.read_wav: encodings, int16-scale conversion, channel averaging."""

from __future__ import annotations

import io
import struct
import warnings

import numpy as np
import pytest

from evalcore.data.audio import read_wav
from tests.naive import naive_to_int16_scale

SDK = "edgeimpulse-python-sdk-sample-data/sample_data"


def make_wav(frames: np.ndarray, rate: int, bits: int, fmt: int = 1, extensible: bool = False, extra_chunk: bytes = b"") -> bytes:
    """Build WAV bytes from an (n, channels) array of raw sample values (8-bit given signed)."""
    _n, channels = frames.shape
    flat = frames.reshape(-1)
    if fmt == 3:
        data = flat.astype("<f4" if bits == 32 else "<f8").tobytes()
    elif bits == 8:
        data = (flat + 128).astype(np.uint8).tobytes()
    elif bits == 24:
        data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in flat)
    else:
        data = flat.astype("<i2" if bits == 16 else "<i4").tobytes()
    align = channels * bits // 8
    code = 0xFFFE if extensible else fmt
    fmt_body = struct.pack("<HHIIHH", code, channels, rate, rate * align, align, bits)
    if extensible:
        fmt_body += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", fmt) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body + extra_chunk
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _expected(frames: np.ndarray, bits: int, is_float: bool) -> np.ndarray:
    conv = np.array([[naive_to_int16_scale(float(v), bits, is_float) for v in row] for row in frames])
    conv = np.clip(conv, -32768, 32767) if is_float else conv
    return (conv.sum(axis=1) / frames.shape[1]).reshape(-1, 1)


def _assert_same(got: np.ndarray, want: np.ndarray) -> None:
    bad = np.argwhere(got != want)
    assert bad.size == 0, f"first difference at {tuple(bad[0])}: {got[tuple(bad[0])]!r} vs {want[tuple(bad[0])]!r}"


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
def test_pcm_widths_match_uploader_rule(bits):
    """Every PCM width must convert to the int16 scale exactly as the uploader's truncating rule."""
    rng = np.random.default_rng(bits)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    frames = np.concatenate([rng.integers(lo, hi + 1, size=(200, 1)), [[lo], [hi], [0], [1], [-1]]]).astype(np.int64)
    audio = read_wav(make_wav(frames, 16000, bits), "a.wav", "a")
    _assert_same(audio.values, _expected(frames, bits, False))
    assert audio.rate_hz == 16000 and audio.values.dtype == np.float64


@pytest.mark.parametrize("bits", [32, 64])
def test_float_wav_scaled_and_clipped(bits):
    """Float samples scale by 32767 (positive) / 32768 (negative), truncated, and clip past full scale."""
    frames = np.array([[0.5], [-0.5], [1.0], [-1.0], [1.5], [-2.0], [1e-6], [0.0]])
    audio = read_wav(make_wav(frames, 8000, bits, fmt=3), "a.wav", "a")
    want = _expected(frames.astype(np.float32).astype(np.float64) if bits == 32 else frames, bits, True)
    _assert_same(audio.values, want)
    assert audio.values[4, 0] == 32767 and audio.values[5, 0] == -32768


def test_stereo_is_averaged_not_rounded():
    """Channels must be averaged as sum / n_channels without rounding (the uploader does)."""
    frames = np.array([[1, 2], [-3, 0], [100, -101]])
    audio = read_wav(make_wav(frames, 16000, 16), "a.wav", "a")
    _assert_same(audio.values, np.array([[1.5], [-1.5], [-0.5]]))


def test_extensible_format_and_unknown_odd_chunk():
    """WAVE_FORMAT_EXTENSIBLE and an odd-sized unknown chunk (with its pad byte) must be handled."""
    frames = np.array([[0.25], [-0.25]])
    extra = b"PEAK" + struct.pack("<I", 3) + b"abc" + b"\x00"
    audio = read_wav(make_wav(frames, 22050, 32, fmt=3, extensible=True, extra_chunk=extra), "a.wav", "a")
    _assert_same(audio.values, np.array([[8191.0], [-8192.0]]))


@pytest.mark.oracle
def test_real_float_wav_against_scipy(real_dir):
    """hadouken.01.wav must decode to scipy's float32 samples put through the uploader rule."""
    from scipy.io import wavfile
    raw = (real_dir / SDK / "hadouken.01.wav").read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about the PEAK chunk
        rate, samples = wavfile.read(io.BytesIO(raw))
    x = samples.astype(np.float64)
    want = np.trunc(np.where(x > 0, x * 32767, x * 32768)).reshape(-1, 1)
    audio = read_wav(raw, "hadouken.01.wav", "hadouken")
    assert audio.rate_hz == rate == 44100
    _assert_same(audio.values, want)
