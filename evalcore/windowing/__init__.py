"""Input block -> windows: boundaries, window arrays, expected label per window.

Studio's windowing code is closed; these rules are the hypothesis of formats-and-akida.md B4,
to be checked against a real result's ``predictions[].startMs/endMs``. Every open choice is an
option with the default named here.

Frequency. The impulse's ``frequency_hz`` (the sample's own frequency when None) is the rate
windows are cut at. A sample whose frequency ``f_s = 1000 / interval_ms`` differs from it by
more than ``frequency_rtol`` (default 1e-3, relative) is resampled first; Studio resamples
too, with a closed algorithm (``resamplingAlgorithmVersion``), so ``resample`` picks ours:

- ``"linear"`` (default): ``numpy.interp`` of each axis at ``t_k = k * 1000 / f`` from the
  readings at ``t_i = i * interval_ms``, holding the last value past the end. The resampled
  length is ``round_half_up(N * f / f_s)`` (the duration is kept). No filter: a downsampled
  signal can alias.
- ``"poly"``: ``scipy.signal.resample_poly`` (polyphase FIR, anti-aliased) with the ratio
  ``f / f_s`` as a fraction of denominator <= 1000, cut or edge-padded to the same length.
- ``"refuse"``: raise BundleError naming the sample and both frequencies.

Windows (in values of the resampled series, N values):

- ``win = round_half_up(window_size_ms * f / 1000)``,
  ``step = round_half_up(increase_ms * f / 1000)`` with
  ``increase_ms = classification_window_increase_ms`` when given, else ``window_increase_ms``.
  Half-up rounding is JavaScript's ``Math.round`` (Studio is a Node service).
- Starts ``0, step, 2*step, ...`` while ``start + win <= N``.
- ``N < win``: one window at 0, zero padded at the end, when ``pad_zeros``; else none.
- Trailing partial window when ``N >= win`` (unknown in Studio): ``trailing="drop"`` (default)
  keeps only full windows; ``trailing="pad"`` (only with ``pad_zeros``) adds the next start
  as one zero-padded window when values past the last full window would otherwise be left out.
- ``start_ms = start * 1000 / f`` (time of the window's first reading),
  ``end_ms = start_ms + window_size_ms``.
- Images and feature rows are one window (``plan_single_window``), ``start_ms = end_ms = 0``
  by default.

Window arrays are interleaved per reading, ``[x0, y0, z0, x1, y1, z1, ...]`` (Edge Impulse's
raw-feature order), float64 of shape (W, win * A).

Expected labels per window (``window_labels``):

- single label: the label for every window; unlabeled and key-value samples: None.
- multi-label, ``end-of-window``: the label of the last real reading in the window (the
  padding is not a reading); ``anywhere-in-window`` with a label list: of the listed labels
  present in the window, the one covering the most readings (ties: first in the list), else
  the end-of-window label (docs.edgeimpulse.com, impulse design). Readings covered by no range
  have no label (None); where ranges overlap the later one wins. With resampling, a reading
  ``k`` of the resampled series takes the label of source reading ``round_half_up(k * f_s / f)``.

Modules: ``plan`` (``WindowPlan``, ``plan_windows``: where the windows lie), ``values``
(resampling, the window arrays), ``labels`` (``window_labels``). Import from the package.

Array letters: N values, A axes, W windows.
"""

from evalcore.windowing.labels import LABELING_METHODS, window_labels
from evalcore.windowing.plan import (
    MAX_RESAMPLED_VALUES,
    MAX_WINDOW_VALUES,
    RESAMPLE_MODES,
    TRAILING_MODES,
    WindowPlan,
    plan_single_window,
    plan_windows,
    resampled_length,
)
from evalcore.windowing.values import extract_windows, iter_window_chunks, resample_values

__all__ = [
    "LABELING_METHODS",
    "MAX_RESAMPLED_VALUES",
    "MAX_WINDOW_VALUES",
    "RESAMPLE_MODES",
    "TRAILING_MODES",
    "WindowPlan",
    "extract_windows",
    "iter_window_chunks",
    "plan_single_window",
    "plan_windows",
    "resample_values",
    "resampled_length",
    "window_labels",
]
