"""The ``raw`` block: the window itself, times ``scale_axes``.

Edge Impulse's raw block (implementation version 1) returns the input multiplied by
``scale_axes``, or the input unchanged when the scale is 1.
"""

from __future__ import annotations

import numpy as np

from evalcore.dsp._plan import BlockPlan, flat_output_config


def make_plan(version: int, n_values: int, n_axes: int, sampling_freq: float, params: dict) -> BlockPlan:
    """Plan the raw block for windows of ``n_values`` interleaved values.

    Parameters
    ----------
    version : int
        Implementation version (1).
    n_values : int
        Values per window (readings times axes).
    n_axes : int
        Unused: the layout stays interleaved.
    sampling_freq : float
        Unused.
    params : dict
        Resolved parameters (``scale_axes``).

    Returns
    -------
    BlockPlan
    """
    scale = params["scale_axes"]

    def run(windows: np.ndarray) -> np.ndarray:
        return windows if scale == 1 else windows * scale

    def run_one(window: np.ndarray) -> np.ndarray:
        return window if scale == 1 else window * scale

    return BlockPlan(n_values, flat_output_config(n_values), [], None, run, run_one)
