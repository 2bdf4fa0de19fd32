"""The ``mfcc`` block: mel-frequency cepstral coefficients of one axis (audio).

Behaviour from ``shared/golden/dsp/README.md`` ("MFCC"), the same in every version except the
framing (v1) and the filterbank (v1-v3 "old mels"):
1. circular pre-emphasis ``y = x - pre_cof * roll(x, pre_shift)`` on the unscaled signal;
2. mel energies, natural log, orthonormal DCT-II, first ``num_cepstral`` coefficients;
3. coefficient 0 replaced by the log of the frame's total power (all rfft bins; 0 -> 1e-10);
4. if ``win_size > 0``: sliding-window mean and variance normalisation (float32).
``output_config.shape.width`` is a float (``len(features) / num_cepstral`` in the reference).
"""

from __future__ import annotations

import numpy as np

from evalcore.dsp._framing import (
    ZERO_ENERGY_FLOOR,
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


def _check(version: int, params: dict) -> None:
    """Raise ConfigError for filter, cepstrum and window counts the block cannot use."""
    num_filters, num_cepstral = params["num_filters"], params["num_cepstral"]
    if num_filters < 2:
        raise ConfigError(f"num_filters must be at least 2, got {num_filters} (mfcc v{version}, field num_filters)")
    if not 1 <= num_cepstral <= num_filters:
        raise ConfigError(
            f"num_cepstral must be between 1 and num_filters ({num_filters}), got {num_cepstral} "
            f"(mfcc v{version}, field num_cepstral)"
        )
    check_fft_length("mfcc", version, params["fft_length"])
    if params["win_size"] != 0:
        check_win_size("mfcc", version, params["win_size"])


def make_plan(version: int, n_values: int, n_axes: int, sampling_freq: float, params: dict) -> BlockPlan:
    """Plan the MFCC block.

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
        ``run`` returns features of shape (W, frames * num_cepstral), frame-major: float32 with
        normalisation, float64 without (``win_size == 0``).

    Raises
    ------
    ConfigError
        More than one axis, fewer than 2 filters, ``num_cepstral`` outside 1..num_filters, an FFT
        length that is not a power of 2, a bad frame layout, an empty filter, or a ``win_size``
        that is neither 0 nor positive and odd.
    """
    from scipy.fft import dct

    check_single_axis("mfcc", version, n_axes)
    _check(version, params)
    fft_length, num_cepstral, win_size = params["fft_length"], params["num_cepstral"], params["win_size"]
    frame, stride, n_frames = frame_layout(
        "mfcc", version, n_values, sampling_freq, params["frame_length"], params["frame_stride"]
    )
    bank = mel_filterbank(
        "mfcc", version, params["num_filters"], fft_length, sampling_freq,
        params["low_frequency"], params["high_frequency"], old_mels=version <= 3,
    )
    pre_cof, pre_shift = params["pre_cof"], params["pre_shift"]

    def run(windows: np.ndarray) -> np.ndarray:
        signal = windows - pre_cof * np.roll(windows, pre_shift, axis=-1)
        power = power_spectrum(signal, frame, stride, n_frames, fft_length)
        energies = filterbank_energies(power, bank)
        cepstra = dct(np.log(energies), type=2, axis=-1, norm="ortho")[..., :num_cepstral]
        frame_energy = power.sum(axis=-1)
        frame_energy[frame_energy == 0.0] = ZERO_ENERGY_FLOOR
        cepstra[..., 0] = np.log(frame_energy)
        if win_size > 0:
            cepstra = sliding_normalize(cepstra, win_size, variance=True)
        return cepstra.reshape(len(windows), n_frames * num_cepstral)

    n_features = n_frames * num_cepstral
    output_config = {"type": "spectrogram", "shape": {"width": n_features / num_cepstral, "height": num_cepstral}}
    return BlockPlan(n_features, output_config, [params["num_filters"], fft_length], None, run)
