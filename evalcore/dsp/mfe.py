"""The ``mfe`` block: mel filterbank energies of one axis (audio).

Behaviour from ``shared/golden/dsp/README.md`` ("MFE"):
- v1/v2: linear mel energies of the unscaled signal, sliding-window mean normalisation over
  ``win_size`` frames (float32), then min-max scaling over the window, only when both the
  minimum and the maximum are non-zero; NaN becomes 0. ``noise_floor_db`` is ignored.
- v3/v4: the signal is divided by 32768 and cast to float32 (always, even when already in
  [-1, 1]), pre-emphasised with ``y[n] = x[n] - 0.98 x[n-1]`` (circular: the first sample uses
  the last), the energies go to dB (clipped below at 1e-30), are mapped to
  ``(dB - noise_floor_db) / (12 - noise_floor_db)``, clipped to [0, 1] and quantised to 1/256
  steps. ``win_size`` is ignored.
- v1-v3 use the "old mels" filterbank (see ``_framing.mel_filterbank``).
"""

from __future__ import annotations

import numpy as np

from evalcore.dsp._framing import (
    check_fft_length,
    check_single_axis,
    check_win_size,
    filterbank_energies,
    frame_layout,
    mel_filterbank,
    power_spectrum,
    sliding_normalize,
)
from evalcore.dsp._plan import BlockPlan
from evalcore.errors import ConfigError

_PRE_EMPHASIS = 0.98  # fixed in MFE v3/v4 (MFCC exposes it as pre_cof)


def quantize_unit(values: np.ndarray) -> np.ndarray:
    """Quantise [0, 1] values to multiples of 1/256 as the reference does, wrap included.

    The reference computes ``np.uint8(np.around(x * 256)) / 256``: round half to even, then a
    cast to uint8 in which 256 wraps to 0 (so any value >= 255.5/256 becomes 0; golden cases
    ``mfe-v3-003``, ``mfe-v4-002/003/014``). The wrap is written out explicitly here because a
    float-to-uint8 cast of an out-of-range value is undefined in C.

    Parameters
    ----------
    values : float64 array, values in [0, 1]

    Returns
    -------
    float32 array of the same shape
    """
    steps = np.rint(values * 256)
    steps[steps >= 256] -= 256
    return (steps / 256).astype(np.float32)


def _min_max_nonzero(values: np.ndarray) -> np.ndarray:
    """Scale each (F, M) window of float32 ``values`` to [0, 1] when its min and max are non-zero."""
    low = values.min(axis=(1, 2), keepdims=True)
    high = values.max(axis=(1, 2), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = (values - low) / (high - low)
    scaled = np.where((low != 0) & (high != 0), scaled, values)
    return np.where(np.isnan(scaled), np.float32(0), scaled)


def make_plan(version: int, n_values: int, n_axes: int, sampling_freq: float, params: dict) -> BlockPlan:
    """Plan the MFE block.

    Parameters
    ----------
    version : int
        Implementation version, 1-4.
    n_values : int
        Samples per window.
    n_axes : int
        Must be 1.
    sampling_freq : float
        Hz.
    params : dict
        Resolved parameters.

    Returns
    -------
    BlockPlan
        ``run`` returns float32 features of shape (W, frames * num_filters), frame-major.

    Raises
    ------
    ConfigError
        More than one axis, fewer than 2 filters, an FFT length that is not a power of 2, a bad
        frame layout, an empty filter, or (v1/v2) a ``win_size`` that is not positive and odd.
    """
    check_single_axis("mfe", version, n_axes)
    num_filters, fft_length = params["num_filters"], params["fft_length"]
    if num_filters < 2:
        raise ConfigError(f"num_filters must be at least 2, got {num_filters} (mfe v{version}, field num_filters)")
    check_fft_length("mfe", version, fft_length)
    if version <= 2:
        check_win_size("mfe", version, params["win_size"])
    frame, stride, n_frames = frame_layout(
        "mfe", version, n_values, sampling_freq, params["frame_length"], params["frame_stride"]
    )
    bank = mel_filterbank(
        "mfe", version, num_filters, fft_length, sampling_freq,
        params["low_frequency"], params["high_frequency"], old_mels=version <= 3,
    )
    win_size, noise_floor_db = params["win_size"], params["noise_floor_db"]

    def run(windows: np.ndarray) -> np.ndarray:
        if version <= 2:
            energies = filterbank_energies(power_spectrum(windows, frame, stride, n_frames, fft_length), bank)
            features = _min_max_nonzero(sliding_normalize(energies, win_size, variance=False))
        else:
            signal = (windows / 32768).astype(np.float32)
            signal = signal - _PRE_EMPHASIS * np.roll(signal, 1, axis=-1)
            energies = filterbank_energies(power_spectrum(signal, frame, stride, n_frames, fft_length), bank)
            db = 10 * np.log10(np.clip(energies, 1e-30, None))
            features = quantize_unit(np.clip((db - noise_floor_db) / (-noise_floor_db + 12), 0, 1))
        return features.reshape(len(windows), n_frames * num_filters)

    output_config = {"type": "spectrogram", "shape": {"width": n_frames, "height": num_filters}}
    return BlockPlan(n_frames * num_filters, output_config, [fft_length], None, run)
