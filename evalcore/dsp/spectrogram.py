"""The ``spectrogram`` block: the power spectrogram of one axis, scaled per version.

Behaviour from ``shared/golden/dsp/README.md`` ("Spectrogram"):
- v1/v2: min-max scale the power spectrogram over the whole window (a constant window gives 0);
- v3: if any sample lies outside [-1, 1], divide the window by 32768 (float32) first; then
  ``(10*log10(max(power, 1e-30)) - noise_floor_db) / (12 - noise_floor_db)`` clipped to [0, 1];
- v4: as v3 without the rescaling and without the upper clip.
``show_axes`` only affects Studio's graphs and is ignored.
"""

from __future__ import annotations

import numpy as np

from evalcore.dsp._framing import check_fft_length, check_single_axis, frame_layout
from evalcore.dsp._plan import BlockPlan
from evalcore.errors import ConfigError

# The spectrogram rejects frames and strides shorter than this many samples.
_MIN_FRAME_SAMPLES = 4

# 10 / ln(10): 10 * log10(p) == ln(p) * _DB_PER_NEPER (the two differ by ~1e-14 dB, far inside
# the golden tolerance of 1e-6).
_DB_PER_NEPER = 10 / np.log(10)


def make_plan(version: int, n_values: int, n_axes: int, sampling_freq: float, params: dict) -> BlockPlan:
    """Plan the spectrogram block.

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
        Resolved parameters (``frame_length``, ``frame_stride``, ``fft_length``,
        ``noise_floor_db``, ``show_axes``).

    Returns
    -------
    BlockPlan
        ``run`` returns float64 features of shape (W, frames * (fft_length // 2 + 1)), frame-major.

    Raises
    ------
    ConfigError
        More than one axis, an FFT length that is not a power of 2, frames or strides under 4
        samples, a frame longer than the window, or fewer than 1 or more than 500 frames.
    """
    check_single_axis("spectrogram", version, n_axes)
    fft_length = params["fft_length"]
    check_fft_length("spectrogram", version, fft_length)
    frame, stride, n_frames = frame_layout(
        "spectrogram", version, n_values, sampling_freq, params["frame_length"], params["frame_stride"]
    )
    for name, samples in (("frame_length", frame), ("frame_stride", stride)):
        if samples < _MIN_FRAME_SAMPLES:
            raise ConfigError(
                f"{name} must be at least {_MIN_FRAME_SAMPLES} samples, got {samples} "
                f"(spectrogram v{version}, field {name})"
            )
    n_bins = fft_length // 2 + 1
    n_features = n_frames * n_bins
    noise_floor_db = float(params["noise_floor_db"])
    # One numba call does every step of a batch (framing, FFT, scaling): see _spectrogram_kernels.
    from evalcore.dsp._spectrogram_kernels import fft_tables, spectrogram_rows

    tables = fft_tables(fft_length)

    def run(windows: np.ndarray) -> np.ndarray:
        out = np.empty((len(windows), n_features))
        spectrogram_rows(windows, frame, stride, n_frames, fft_length, tables, version, noise_floor_db,
                         _DB_PER_NEPER, out)
        return out

    def run_one(window: np.ndarray) -> np.ndarray:
        return run(window[None, :])[0]

    output_config = {"type": "spectrogram", "shape": {"width": n_frames, "height": n_bins}}
    return BlockPlan(n_features, output_config, [fft_length], None, run, run_one)
