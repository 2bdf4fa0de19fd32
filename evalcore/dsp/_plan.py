"""The prepared form of one DSP block configuration, shared by every block module.

A block module's ``make_plan(version, n_values, n_axes, sampling_freq, params)`` validates the
configuration once (raising ConfigError) and returns a :class:`BlockPlan`; ``plan.run`` then
maps a batch of windows to features with no further checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BlockPlan:
    """A validated block configuration for windows of one length.

    Attributes
    ----------
    n_features : int
        Features per window (F).
    output_config : dict
        Edge Impulse's ``output_config`` for this configuration, verbatim.
    fft_used : list of int
        Edge Impulse's ``fft_used``.
    labels : list of str or None
        Feature names of one axis (flatten, spectral-analysis); None for blocks without labels.
    run : callable
        ``run(windows)`` maps a float64 array of shape (W, n_values) to an array of shape (W, F)
        (float64, or float32 where the block's last step is float32). Rows are independent: a row's
        result does not depend on the other rows of the batch.
    run_one : callable or None
        ``run_one(window)`` maps one float64 window of shape (n_values,) to float64 features of
        shape (F,), equal to ``run(window[None, :])[0]`` in float64; None means exactly that. A block
        sets it when one window can skip the batch machinery (raw: the window itself).
    """

    n_features: int
    output_config: dict[str, Any]
    fft_used: list[int]
    labels: list[str] | None
    run: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    run_one: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)


def flat_output_config(n_features: int) -> dict[str, Any]:
    """``{"type": "flat", "shape": {"width": n_features}}`` as raw, flatten and spectral return it."""
    return {"type": "flat", "shape": {"width": n_features}}


def axes_major(windows: np.ndarray, n_axes: int) -> np.ndarray:
    """Split interleaved readings into one contiguous row per axis.

    Parameters
    ----------
    windows : array of shape (W, N * n_axes)
        Readings interleaved per sample: ``x0, y0, z0, x1, ...``.
    n_axes : int

    Returns
    -------
    array of shape (W, n_axes, N), C-contiguous, same dtype
    """
    n_windows = windows.shape[0]
    return np.ascontiguousarray(windows.reshape(n_windows, -1, n_axes).transpose(0, 2, 1))
