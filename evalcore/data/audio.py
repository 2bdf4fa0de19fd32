"""WAV files -> one axis of int16-scale values, as Edge Impulse stores audio.

Why a small RIFF reader of our own (``struct`` + ``numpy.frombuffer``) rather than the
standard library or scipy:

- ``wave`` (stdlib) refuses IEEE-float WAVs ("unknown format: 3"); the real export
  ``hadouken.01.wav`` is one.
- ``scipy.io.wavfile.read`` returns a *shortened* array with only a ``WavFileWarning`` when the
  data chunk is truncated, which would let a corrupt file through silently; it also hands
  24-bit data back as left-justified int32, losing the bit depth that the conversion below needs.

The reader accepts PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64 bit, plain or
``WAVE_FORMAT_EXTENSIBLE``; it skips unknown chunks (``fact``, ``PEAK``, ``LIST``...).

Conversion to the int16 scale follows the Edge Impulse uploader, which calls the ``wavefile``
package's ``toBitDepth('16')`` and then averages the channels (``sum / n_channels``, not
rounded), with ``interval_ms = 1000 / rate``:

- 16-bit PCM: unchanged.
- other PCM widths (8-bit first made signed by subtracting 128): ``trunc(s / old_max * 32767)``
  for ``s > 0`` and ``trunc(s / old_min * 32768)`` otherwise, with ``old_max = 2**(b-1) - 1``,
  ``old_min = 2**(b-1)``.
- float: ``trunc(x * 32767)`` for ``x > 0``, ``trunc(x * 32768)`` otherwise, then clipped to
  [-32768, 32767] (``wavefile`` would wrap out-of-range values around; we clip instead).

The values come back as float64 so that the DSP sees the same numbers as for JSON audio.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from evalcore.data.records import Sensor
from evalcore.errors import BundleError

__all__ = ["AUDIO_SENSOR", "WavAudio", "read_wav"]

AUDIO_SENSOR = Sensor("audio", "wav")
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


class WavAudio(NamedTuple):
    """Decoded audio: ``values`` float64 (N, 1) on the int16 scale, ``rate_hz`` the sample rate."""

    values: np.ndarray
    rate_hz: int


def _chunks(raw: bytes, path, sample):
    """Yield ``(chunk_id, offset, size)``; a chunk running past the end raises BundleError."""
    pos = 12
    while pos + 8 <= len(raw):
        chunk_id = raw[pos : pos + 4]
        (size,) = struct.unpack_from("<I", raw, pos + 4)
        start = pos + 8
        if start + size > len(raw):
            raise BundleError(
                f"wav chunk {chunk_id.decode('latin-1')!r} is truncated: {size} bytes declared, "
                f"{len(raw) - start} present",
                path=path,
                sample=sample,
                field=chunk_id.decode("latin-1").strip(),
            )
        yield chunk_id, start, size
        pos = start + size + (size & 1)


def _format(raw: bytes, start: int, size: int, path, sample) -> tuple[int, int, int, int, int]:
    if size < 16:
        raise BundleError(f"wav fmt chunk too short ({size} bytes)", path=path, sample=sample, field="fmt")
    fmt_code, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", raw, start)
    if fmt_code == _EXTENSIBLE:
        if size < 26:
            raise BundleError("wav extensible fmt chunk too short", path=path, sample=sample, field="fmt")
        (fmt_code,) = struct.unpack_from("<H", raw, start + 24)
    return fmt_code, channels, rate, block_align, bits


def _decode(data: bytes, fmt_code: int, bits: int, path, sample) -> np.ndarray:
    """Interleaved samples -> int16-scale float64, per the uploader's bit-depth rules."""
    if fmt_code == _FLOAT and bits in (32, 64):
        x = np.frombuffer(data, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
        if not np.isfinite(x).all():
            raise BundleError("wav float samples must be finite", path=path, sample=sample, field="data")
        out = np.trunc(np.where(x > 0, x * 32767.0, x * 32768.0))
        return np.clip(out, -32768.0, 32767.0)
    if fmt_code != _PCM or bits not in (8, 16, 24, 32):
        raise BundleError(
            f"unsupported wav encoding: format {fmt_code} with {bits} bits, allowed: pcm 8/16/24/32, float 32/64",
            path=path,
            sample=sample,
            field="fmt",
        )
    if bits == 16:
        return np.frombuffer(data, dtype="<i2").astype(np.float64)
    if bits == 8:
        s = np.frombuffer(data, dtype=np.uint8).astype(np.float64) - 128.0
    elif bits == 24:
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        s = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)).astype(np.float64)
        s = np.where(s >= 2**23, s - 2**24, s)
    else:
        s = np.frombuffer(data, dtype="<i4").astype(np.float64)
    old_max, old_min = 2.0 ** (bits - 1) - 1.0, 2.0 ** (bits - 1)
    return np.trunc(np.where(s > 0, s / old_max * 32767.0, s / old_min * 32768.0))


def read_wav(raw: bytes, path, sample) -> WavAudio:
    """Decode WAV bytes to one int16-scale axis.

    Parameters
    ----------
    raw : bytes
        The whole file.
    path, sample
        For error messages.

    Returns
    -------
    WavAudio
        ``values``: float64 array of shape (N, 1), channels averaged; ``rate_hz``: int.

    Raises
    ------
    BundleError
        Not a RIFF/WAVE file, a truncated chunk, no fmt/data chunk, an unsupported encoding,
        a data size that is not a whole number of frames, no frames.
    """
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise BundleError("not a riff/wave file", path=path, sample=sample)
    fmt = data = None
    for chunk_id, start, size in _chunks(raw, path, sample):
        if chunk_id == b"fmt " and fmt is None:
            fmt = _format(raw, start, size, path, sample)
        elif chunk_id == b"data" and data is None:
            data = raw[start : start + size]
    if fmt is None or data is None:
        missing = "fmt" if fmt is None else "data"
        raise BundleError(f"wav file has no {missing} chunk", path=path, sample=sample, field=missing)
    fmt_code, channels, rate, block_align, bits = fmt
    if channels < 1 or rate < 1 or block_align != channels * ((bits + 7) // 8):
        raise BundleError(
            f"inconsistent wav fmt: {channels} channels, {rate} Hz, block align {block_align}, {bits} bits",
            path=path,
            sample=sample,
            field="fmt",
        )
    if len(data) == 0 or len(data) % block_align:
        raise BundleError(
            f"wav data holds {len(data)} bytes, not a positive multiple of the {block_align}-byte frame",
            path=path,
            sample=sample,
            field="data",
        )
    samples = _decode(data, fmt_code, bits, path, sample).reshape(-1, channels)
    mono = samples[:, 0] if channels == 1 else samples.sum(axis=1) / channels
    return WavAudio(np.ascontiguousarray(mono.reshape(-1, 1)), int(rate))
