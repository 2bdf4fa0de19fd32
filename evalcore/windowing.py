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

Array letters: N values, A axes, W windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from evalcore.errors import BundleError, ConfigError

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

LABELING_METHODS = ("end-of-window", "anywhere-in-window")
RESAMPLE_MODES = ("linear", "poly", "refuse")
TRAILING_MODES = ("drop", "pad")


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


@dataclass(frozen=True)
class WindowPlan:
    """Where the windows of one sample lie.

    Attributes
    ----------
    starts : int64 array of shape (W,)
        First value index of each window in the (resampled) series, ascending.
    n_window_values : int
        Values (readings) per window, ``win``.
    start_ms, end_ms : float64 arrays of shape (W,)
        Window boundaries in ms.
    n_values : int
        Length N of the series the windows are cut from (after resampling).
    frequency_hz, interval_ms : float
        Rate of that series.
    source_n_values : int
        Length of the sample as stored.
    source_interval_ms : float
        Interval of the sample as stored.
    resample : str or None
        ``"linear"`` or ``"poly"`` when ``extract_windows`` must resample, else None.
    """

    starts: np.ndarray
    n_window_values: int
    start_ms: np.ndarray
    end_ms: np.ndarray
    n_values: int
    frequency_hz: float
    interval_ms: float
    source_n_values: int
    source_interval_ms: float
    resample: str | None = None

    @property
    def n_windows(self) -> int:
        """Number of windows W."""
        return int(self.starts.shape[0])

    @property
    def n_padded(self) -> np.ndarray:
        """int64 array of shape (W,): zero readings appended to each window."""
        return np.maximum(self.starts + self.n_window_values - self.n_values, 0)


#: Largest time-series window, in readings per axis, accepted when it is also longer than the
#: sample (2**24: 17 minutes of 16 kHz audio): such a window is refused before it is allocated.
MAX_WINDOW_VALUES = 2**24
#: Largest series, in readings per axis, that resampling may make out of a shorter sample
#: (2**26: 70 minutes of 16 kHz audio, 512 MiB per axis): a sample whose stated rate is far below
#: the impulse's (a WAV header saying 1 Hz) is refused before the series is allocated.
MAX_RESAMPLED_VALUES = 2**26


def _positive(name: str, value) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        raise ConfigError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


def resampled_length(n_values: int, source_hz: float, target_hz: float) -> int:
    """Length of a series of ``n_values`` readings resampled from ``source_hz`` to ``target_hz``.

    ``round_half_up(n_values * target_hz / source_hz)``, at least 1 when ``n_values > 0``.
    """
    if n_values == 0:
        return 0
    return max(1, _round_half_up(n_values * target_hz / source_hz))


def plan_windows(
    n_values: int,
    interval_ms: float,
    *,
    window_size_ms: float,
    window_increase_ms: float,
    frequency_hz: float | None = None,
    classification_window_increase_ms: float | None = None,
    pad_zeros: bool = False,
    trailing: str = "drop",
    resample: str = "linear",
    frequency_rtol: float = 1e-3,
    sample: str | None = None,
) -> WindowPlan:
    """Plan the windows of a time-series sample (rules in the module docstring).

    Parameters
    ----------
    n_values : int
        Readings in the sample as stored.
    interval_ms : float
        The sample's interval between readings.
    window_size_ms, window_increase_ms : float
        The input block's ``windowSizeMs`` and ``windowIncreaseMs``.
    frequency_hz : float, optional
        The input block's ``frequencyHz`` (None: use the sample's).
    classification_window_increase_ms : float, optional
        ``classificationWindowIncreaseMs``; replaces ``window_increase_ms`` when given.
    pad_zeros : bool, default False
        ``padZeros``.
    trailing : {"drop", "pad"}, default "drop"
        Trailing partial window rule.
    resample : {"linear", "poly", "refuse"}, default "linear"
        What to do when the sample's frequency differs from ``frequency_hz``.
    frequency_rtol : float, default 1e-3
        Relative difference under which the two frequencies count as equal.
    sample : str, optional
        Sample name for error messages.

    Returns
    -------
    WindowPlan

    Raises
    ------
    ConfigError
        A non-positive size, increase, interval or frequency, a window of 0 values, an
        unknown mode.
    BundleError
        ``resample="refuse"`` and the frequencies differ.
    """
    # named as in impulse.json, where these values come from
    window_size_ms = _positive("windowSizeMs", window_size_ms)
    increase_ms = _positive(
        "windowIncreaseMs" if classification_window_increase_ms is None else "classificationWindowIncreaseMs",
        window_increase_ms if classification_window_increase_ms is None else classification_window_increase_ms,
    )
    interval_ms = _positive("interval_ms", interval_ms)
    if trailing not in TRAILING_MODES:
        raise ConfigError(f"trailing must be one of {', '.join(TRAILING_MODES)}, got {trailing!r}")
    if resample not in RESAMPLE_MODES:
        raise ConfigError(f"resample must be one of {', '.join(RESAMPLE_MODES)}, got {resample!r}")
    source_hz = 1000.0 / interval_ms
    target_hz = source_hz if frequency_hz is None else _positive("frequencyHz", frequency_hz)
    mode = None
    n = int(n_values)
    if abs(source_hz - target_hz) > frequency_rtol * target_hz:
        if resample == "refuse":
            raise BundleError(
                f"sample frequency {source_hz:g} hz differs from the impulse frequency {target_hz:g} hz "
                "(--compat resample=refuse is set; use --compat resample=linear or --compat resample=poly to resample)",
                sample=sample,
                field="interval_ms",
            )
        mode, n = resample, resampled_length(n, source_hz, target_hz)
        if n > max(int(n_values), MAX_RESAMPLED_VALUES):
            raise BundleError(
                f"resampling the sample from {source_hz:g} hz to the impulse's {target_hz:g} hz makes {n} readings "
                f"per axis, more than evalcore allows ({MAX_RESAMPLED_VALUES})",
                sample=sample,
                field="interval_ms",
            )
    win = _round_half_up(window_size_ms * target_hz / 1000.0)
    step = _round_half_up(increase_ms * target_hz / 1000.0)
    if win < 1 or step < 1:
        raise ConfigError(
            f"window of {window_size_ms:g} ms with increase {increase_ms:g} ms at {target_hz:g} hz "
            f"gives {win} values per window and a step of {step}; both must be >= 1"
        )
    if win > max(n, MAX_WINDOW_VALUES):  # checked before any window is allocated
        raise ConfigError(
            f"windowSizeMs {window_size_ms:g} at {target_hz:g} hz gives {win} readings per window, more than "
            f"the sample has ({n}) and more than evalcore allows ({MAX_WINDOW_VALUES})"
        )
    step = min(step, n + 1)  # a longer step gives the same windows (one), and fits in int64
    if n >= win:
        starts = np.arange((n - win) // step + 1, dtype=np.int64) * step
        following = int(starts[-1]) + step
        if trailing == "pad" and pad_zeros and following < n and int(starts[-1]) + win < n:
            starts = np.append(starts, np.int64(following))
    elif pad_zeros and n > 0:
        starts = np.zeros(1, dtype=np.int64)
    else:
        starts = np.zeros(0, dtype=np.int64)
    period_ms = 1000.0 / target_hz
    start_ms = starts * period_ms
    return WindowPlan(
        starts=starts,
        n_window_values=win,
        start_ms=start_ms,
        end_ms=start_ms + window_size_ms,
        n_values=n,
        frequency_hz=target_hz,
        interval_ms=period_ms,
        source_n_values=int(n_values),
        source_interval_ms=interval_ms,
        resample=mode,
    )


def plan_single_window(*, start_ms: float = 0.0, end_ms: float = 0.0) -> WindowPlan:
    """The one "window" of an image or a feature row: start 0, one value."""
    return WindowPlan(
        starts=np.zeros(1, dtype=np.int64),
        n_window_values=1,
        start_ms=np.array([start_ms], dtype=np.float64),
        end_ms=np.array([end_ms], dtype=np.float64),
        n_values=1,
        frequency_hz=0.0,
        interval_ms=0.0,
        source_n_values=1,
        source_interval_ms=0.0,
    )


def resample_values(values: np.ndarray, source_hz: float, target_hz: float, mode: str = "linear") -> np.ndarray:
    """Resample readings to another rate (see the module docstring for the two methods).

    Parameters
    ----------
    values : float64 array of shape (N, A)
    source_hz, target_hz : float
    mode : {"linear", "poly"}

    Returns
    -------
    float64 array of shape (resampled_length(N, source_hz, target_hz), A)
    """
    n, n_axes = values.shape
    m = resampled_length(n, source_hz, target_hz)
    if n == 0:
        return np.zeros((0, n_axes), dtype=np.float64)
    if mode == "linear":
        t_src = np.arange(n, dtype=np.float64) * (1000.0 / source_hz)
        t_dst = np.arange(m, dtype=np.float64) * (1000.0 / target_hz)
        out = np.empty((m, n_axes), dtype=np.float64)
        for axis in range(n_axes):
            out[:, axis] = np.interp(t_dst, t_src, values[:, axis])
        return out
    if mode != "poly":
        raise ConfigError(f"resample mode must be 'linear' or 'poly', got {mode!r}")
    from scipy.signal import resample_poly

    ratio = Fraction(target_hz / source_hz).limit_denominator(1000)
    out = resample_poly(values, ratio.numerator, ratio.denominator, axis=0)
    if out.shape[0] < m:
        out = np.concatenate([out, np.repeat(out[-1:], m - out.shape[0], axis=0)])
    return np.ascontiguousarray(out[:m], dtype=np.float64)


def extract_windows(values: np.ndarray, plan: WindowPlan) -> np.ndarray:
    """Cut the planned windows out of a sample's readings.

    Parameters
    ----------
    values : float64 array of shape (N, A)
        The sample as stored (``plan.source_n_values`` rows); resampled here when the plan says so.
    plan : WindowPlan

    Returns
    -------
    float64 array of shape (W, plan.n_window_values * A)
        One row per window, interleaved per reading, zeros where a window runs past the end.
    """
    rows = _window_rows(values, plan)
    return rows[plan.starts]


def iter_window_chunks(values: np.ndarray, plan: WindowPlan, max_windows: int):
    """The planned windows in consecutive chunks of at most ``max_windows`` rows.

    What `extract_windows` returns, cut in pieces: the windows of a long sample (a million
    windows is gigabytes of float64) are never all in memory at once. The series is resampled
    and padded once; each chunk is a fresh array.

    Yields
    ------
    (int, float64 array of shape (w, plan.n_window_values * A))
        The index of the chunk's first window and its windows; one empty chunk when the plan
        has no window.
    """
    if max_windows < 1:
        raise ValueError(f"max_windows must be >= 1, got {max_windows}")
    rows = _window_rows(values, plan)
    if plan.n_windows == 0:
        yield 0, rows[plan.starts]
        return
    for first in range(0, plan.n_windows, max_windows):
        yield first, rows[plan.starts[first : first + max_windows]]


def _window_rows(values: np.ndarray, plan: WindowPlan) -> np.ndarray:
    """A read-only view with row k = the window starting at reading k (resampled, zero padded)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != plan.source_n_values:
        raise ValueError(f"values must have shape ({plan.source_n_values}, A), got {values.shape}")
    if plan.resample is not None:
        values = resample_values(values, 1000.0 / plan.source_interval_ms, plan.frequency_hz, plan.resample)
    n_axes, win = values.shape[1], plan.n_window_values
    if plan.n_windows == 0:
        return np.zeros((0, win * n_axes), dtype=np.float64)
    needed = int(plan.starts[-1]) + win
    if needed > values.shape[0]:
        padded = np.zeros((needed, n_axes), dtype=np.float64)
        padded[: values.shape[0]] = values
        values = padded
    values = np.ascontiguousarray(values)
    # A read-only strided view with one row per possible start (row k = readings k .. k+win-1,
    # interleaved); fancy indexing then copies only the planned windows. Built with the
    # ndarray constructor because sliding_window_view costs ~20 us per call, which dominates
    # for datasets of many short samples.
    n_rows = values.shape[0] - win + 1
    itemsize = values.itemsize
    return np.ndarray(
        shape=(n_rows, win * n_axes), dtype=np.float64, buffer=values, strides=(n_axes * itemsize, itemsize)
    )


def _source_index(index: np.ndarray, plan: WindowPlan) -> np.ndarray:
    if plan.resample is None:
        return index
    ratio = (1000.0 / plan.source_interval_ms) / plan.frequency_hz
    mapped = np.floor(index * ratio + 0.5).astype(np.int64)
    return np.clip(mapped, 0, plan.source_n_values - 1)


def window_labels(
    plan: WindowPlan,
    label,
    *,
    labeling_method: str = "end-of-window",
    anywhere_labels=(),
) -> list[str | None]:
    """Expected label of each planned window.

    Parameters
    ----------
    plan : WindowPlan
    label : evalcore.data.LabelInfo
        The sample's label.
    labeling_method : {"end-of-window", "anywhere-in-window"}
        The input block's ``labelingMethodMultiLabel`` method (multi-label samples only).
    anywhere_labels : sequence of str
        Its label list, in priority order for ties.

    Returns
    -------
    list of str or None, length W
        None where the sample gives no label (unlabeled, key-value, or readings outside every range).
    """
    if labeling_method not in LABELING_METHODS:
        raise ConfigError(f"labeling method must be one of {', '.join(LABELING_METHODS)}, got {labeling_method!r}")
    n_windows = plan.n_windows
    if label.kind == "label":
        return [label.label] * n_windows
    if label.kind != "multi-label" or n_windows == 0:
        return [None] * n_windows
    names = label.distinct_labels()
    code_of = {name: i for i, name in enumerate(names)}
    codes = np.full(plan.source_n_values, -1, dtype=np.int64)
    for segment in label.segments:
        codes[segment.start_index : segment.end_index + 1] = code_of[segment.label]
    first = plan.starts
    last = np.minimum(plan.starts + plan.n_window_values, plan.n_values) - 1
    first_src, last_src = _source_index(first, plan), _source_index(last, plan)
    chosen = codes[last_src]
    if labeling_method == "anywhere-in-window":
        wanted = [code_of[name] for name in dict.fromkeys(anywhere_labels) if name in code_of]
        if wanted:
            counts = np.empty((len(wanted), n_windows), dtype=np.int64)
            for row, code in enumerate(wanted):
                cumulative = np.concatenate(([0], np.cumsum(codes == code)))
                counts[row] = cumulative[last_src + 1] - cumulative[first_src]
            best = np.argmax(counts, axis=0)  # first maximum: ties go to the earlier listed label
            present = counts[best, np.arange(n_windows)] > 0
            chosen = np.where(present, np.asarray(wanted)[best], chosen)
    return [names[c] if c >= 0 else None for c in chosen.tolist()]
