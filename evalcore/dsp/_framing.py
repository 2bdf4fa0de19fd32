"""Framing, power spectra and mel filterbanks shared by the spectrogram, MFE and MFCC blocks.

Written from the behaviour described in ``shared/golden/dsp/README.md`` ("Shared framing and
filterbank rules"), which documents Edge Impulse's fork of speechpy: rectangular frames with no
padding, ``|rfft|^2 / n_fft`` with frames truncated to ``n_fft``, a 1127·ln mel scale and the
"old mels" bin mapping of implementation versions 1-3.

Array letters: W windows, F frames, B frequency bins (``n_fft // 2 + 1``), M mel filters.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from evalcore.errors import ConfigError

MAX_FRAMES = 500

#: Largest FFT length accepted (4 s frames of 16 kHz audio; Studio offers up to a few thousand):
#: with ``MAX_FRAMES`` frames a window's spectrum stays within ~260 MB, not a MemoryError deep
#: inside numpy for a misplaced digit.
MAX_FFT_LENGTH = 1 << 16
"""Edge Impulse rejects more frames than this per window."""

# Below this distance above an integer, fs*seconds is taken as that integer (absorbs float error).
_NEAR_INTEGER = 0.001

# Zero energies become this before any log (the reference's guard against log(0)).
ZERO_ENERGY_FLOOR = 1e-10


def seconds_to_samples(seconds: float, sampling_freq: float, *, rounding: str) -> int:
    """Convert a frame length or stride in seconds to samples.

    Parameters
    ----------
    seconds, sampling_freq : float
        Duration and rate.
    rounding : {"round", "ceil"}
        ``round`` rounds to the nearest integer (frame length in version 1). ``ceil`` takes the
        ceiling unless the product is less than 0.001 above an integer, then the floor.

    Returns
    -------
    int
    """
    product = sampling_freq * seconds
    if rounding == "round":
        return int(round(product))
    floor = math.floor(product)
    return int(floor) if product - floor < _NEAR_INTEGER else int(math.ceil(product))


def frame_layout(block: str, version: int, n_samples: int, sampling_freq: float,
                 frame_length_s: float, frame_stride_s: float) -> tuple[int, int, int]:
    """Return ``(frame_samples, stride_samples, n_frames)`` for one window, or raise ConfigError.

    Version 1 rounds the frame length and yields ``floor((N - L) / S)`` frames; later versions
    use the ceiling rule and yield one more frame. Leftover samples are dropped.
    """
    frame = seconds_to_samples(frame_length_s, sampling_freq, rounding="round" if version == 1 else "ceil")
    stride = seconds_to_samples(frame_stride_s, sampling_freq, rounding="ceil")
    where = f"{block} v{version}"
    if frame > n_samples:
        raise ConfigError(
            f"frame length is larger than the window: {frame} samples > {n_samples} "
            f"({where}, field frame_length)"
        )
    if stride < 1:
        raise ConfigError(f"frame stride must be at least 1 sample, got {stride} ({where}, field frame_stride)")
    n_frames = (n_samples - frame) // stride + (0 if version == 1 else 1)
    if n_frames < 1:
        raise ConfigError(f"window yields no frame: {n_samples} samples, frame {frame} ({where}, field frame_length)")
    if n_frames > MAX_FRAMES:
        raise ConfigError(
            f"number of frames is larger than {MAX_FRAMES} ({n_frames}); increase frame_stride or "
            f"decrease the window size ({where}, field frame_stride)"
        )
    return frame, stride, n_frames


def check_fft_length(block: str, version: int, fft_length: int) -> None:
    """Raise ConfigError unless ``fft_length`` is a power of two, 2 to ``MAX_FFT_LENGTH``."""
    if fft_length < 2 or fft_length & (fft_length - 1):
        raise ConfigError(f"fft length must be a power of 2, got {fft_length} ({block} v{version}, field fft_length)")
    if fft_length > MAX_FFT_LENGTH:
        raise ConfigError(f"fft length must be at most {MAX_FFT_LENGTH}, got {fft_length} "
                          f"({block} v{version}, field fft_length)")


def frame_spectrum(signal: np.ndarray, frame: int, stride: int, n_frames: int, fft_length: int) -> np.ndarray:
    """Frame each row and return the ``rfft`` of every frame.

    The frames are a strided view of the signal (no copy of the overlapping samples); frames
    longer than ``fft_length`` are truncated to their first ``fft_length`` samples, shorter ones
    are zero-padded by ``rfft``.

    Parameters
    ----------
    signal : float32 or float64 array of shape (W, N)
        One signal per row. float32 rows are widened to float64 first, as numpy < 2 did inside
        ``np.fft`` (the reference's environment).
    frame, stride, n_frames : int
        From :func:`frame_layout`.
    fft_length : int

    Returns
    -------
    complex128 array of shape (W, F, B)
    """
    signal = np.ascontiguousarray(signal, dtype=np.float64)
    step = signal.itemsize
    # A view on the signal's buffer (np.ndarray's constructor: as_strided costs ~8 us a call).
    frames = np.ndarray((signal.shape[0], n_frames, min(frame, fft_length)), np.float64, signal, 0,
                        (signal.shape[1] * step, stride * step, step))
    frames.flags.writeable = False
    return np.fft.rfft(frames, n=fft_length, axis=-1)


def power_spectrum(signal: np.ndarray, frame: int, stride: int, n_frames: int, fft_length: int) -> np.ndarray:
    """Frame each row and return the power spectrum of every frame.

    Parameters
    ----------
    signal : float32 or float64 array of shape (W, N)
        As for :func:`frame_spectrum`.
    frame, stride, n_frames : int
        From :func:`frame_layout`.
    fft_length : int
        Frames longer than this are truncated to their first ``fft_length`` samples, shorter ones
        are zero-padded.

    Returns
    -------
    float64 array of shape (W, F, B)
        ``|rfft(frame, n=fft_length)|^2 / fft_length``: the magnitude is taken first and squared
        after, then scaled by ``1/fft_length`` (exact for a power of two).
    """
    power = np.abs(frame_spectrum(signal, frame, stride, n_frames, fft_length))
    np.square(power, out=power)
    power *= 1.0 / fft_length
    return power


def hz_to_mel(hz):
    """Mel scale used by the blocks: ``1127 * ln(1 + hz / 700)``."""
    return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (np.exp(np.asarray(mel, dtype=np.float64) / 1127.0) - 1.0)


def mel_filterbank(block: str, version: int, num_filters: int, fft_length: int, sampling_freq: float,
                   low_frequency: float, high_frequency: float, *, old_mels: bool) -> np.ndarray:
    """Triangular mel filterbank, or ConfigError when a filter has no non-zero bin.

    Parameters
    ----------
    old_mels : bool
        True for versions 1-3: edges map to bins with ``K = fft_length // 2 + 1`` instead of
        ``K = fft_length``, which squeezes the bank into the lower half of the spectrum (a bug of
        the reference, kept for parity).

    Returns
    -------
    float64 array of shape (M, B)
        Row ``i`` rises from 0 at edge bin ``i`` to 1 at edge bin ``i+1`` and falls back to 0 at
        edge bin ``i+2``; ``B = fft_length // 2 + 1``.
    """
    where = f"{block} v{version}"
    n_bins = fft_length // 2 + 1
    high = high_frequency if high_frequency else sampling_freq / 2.0
    if high > sampling_freq / 2.0:
        raise ConfigError(
            f"high frequency must be at most half the sampling frequency ({sampling_freq / 2.0}), "
            f"got {high} ({where}, field high_frequency)"
        )
    if low_frequency < 0 or low_frequency >= high:
        raise ConfigError(
            f"low frequency must be >= 0 and below the high frequency ({high}), got {low_frequency} "
            f"({where}, field low_frequency)"
        )
    if num_filters > 2 * n_bins:
        # filter i is empty unless edge i+2 > edge i, and the edges are bins: checked before
        # a (num_filters, n_bins) bank is allocated (1e12 filters asked for terabytes)
        raise ConfigError(
            f"mel filterbank has empty rows with {num_filters} filters and fft length {fft_length} "
            f"(at most {2 * n_bins} filters fit); lower num_filters or increase fft_length ({where}, field num_filters)"
        )
    mels = np.linspace(hz_to_mel(low_frequency), hz_to_mel(high), num_filters + 2)
    hertz = mel_to_hz(mels)
    hertz[-1] -= 0.001  # the reference lowers the top edge so it never lands one bin too high
    k = n_bins if old_mels else fft_length
    edges = np.floor((k + 1) * hertz / sampling_freq).astype(np.int64)
    bank = np.zeros((num_filters, n_bins), dtype=np.float64)
    for i in range(num_filters):
        left, middle, right = int(edges[i]), int(edges[i + 1]), int(edges[i + 2])
        # Rising edge on (left, middle], falling edge on [middle, right); the falling edge wins
        # where both apply, so a filter whose left and middle edges coincide peaks at `left`.
        for b in range(left, right + 1):
            if left < b <= middle:
                bank[i, b] = (b - left) / (middle - left)
            if middle <= b < right:
                bank[i, b] = (right - b) / (right - middle)
    empty = np.flatnonzero(~bank.any(axis=1))
    if empty.size:
        raise ConfigError(
            f"mel filterbank row {int(empty[0])} is all zeros with {num_filters} filters and fft length "
            f"{fft_length}; lower num_filters or increase fft_length ({where}, field num_filters)"
        )
    return bank


def filterbank_energies(power: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Mel energies of every frame, with exact zeros replaced by ``ZERO_ENERGY_FLOOR``.

    Parameters
    ----------
    power : float64 array of shape (W, F, B)
    bank : float64 array of shape (M, B)

    Returns
    -------
    float64 array of shape (W, F, M)
    """
    energies = power @ bank.T
    energies[energies == 0.0] = ZERO_ENERGY_FLOOR
    return energies


def check_single_axis(block: str, version: int, n_axes: int) -> None:
    """Raise ConfigError unless the window has exactly one axis (audio-style blocks)."""
    if n_axes != 1:
        raise ConfigError(
            f"{block} blocks only support a single axis, got {n_axes}; create one {block} block per axis "
            f"({block} v{version}, field axes)"
        )


def check_win_size(block: str, version: int, win_size: int) -> None:
    """Raise ConfigError unless ``win_size`` is a positive odd number of rows."""
    if win_size < 1 or win_size % 2 == 0:
        raise ConfigError(
            f"win_size must be a positive odd number, got {win_size} ({block} v{version}, field win_size)"
        )


@lru_cache(maxsize=32)
def _mirrored_rows(n_rows: int, win_size: int) -> np.ndarray:
    """Row index of each position of the symmetric-padded frame axis (read-only, cached)."""
    pad = (win_size - 1) // 2
    rows = np.pad(np.arange(n_rows, dtype=np.int64), pad, mode="symmetric")
    rows.flags.writeable = False
    return rows


def sliding_normalize(values: np.ndarray, win_size: int, *, variance: bool) -> np.ndarray:
    """Sliding-window mean (and variance) normalisation over frames, as speechpy's ``cmvnw``.

    Rows (frames) are mirrored at both ends (``np.pad`` mode ``symmetric``, repeating the edge
    row), and each row has the mean of the ``win_size`` rows centred on it subtracted, per
    column. With ``variance``, the result is divided by the window's population std of the
    mean-subtracted values plus 1e-10.

    The window sums run one row at a time, in row order, like numpy's reduction over axis 0 of a
    (win_size, columns) block in the reference, so the results are bit-identical to it (numba
    kernels in ``kernels.cmvn``). The float32 std path divides by ``float32(win_size)`` as numpy 1.21
    did (value-based casting).

    Parameters
    ----------
    values : float64 array of shape (W, F, C)
    win_size : int
        Odd, >= 1.
    variance : bool

    Returns
    -------
    float32 array of shape (W, F, C)
    """
    from kernels.cmvn import sliding_mean_centre as _sliding_mean_centre
    from kernels.cmvn import sliding_std_scale as _sliding_std_scale

    rows = _mirrored_rows(values.shape[1], win_size)
    values = np.ascontiguousarray(values, dtype=np.float64)
    centred = _sliding_mean_centre(values, rows, win_size)
    if not variance:
        return centred
    return _sliding_std_scale(centred, rows, win_size)
