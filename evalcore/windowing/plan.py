"""Window boundaries of one sample: ``WindowPlan`` and the rules that place the windows.

The rules (frequency, resampling, window size and step, padding, the trailing window) are
written out in the ``evalcore.windowing`` package docstring; ``evalcore.windowing.values`` cuts
the planned windows out of the readings and ``evalcore.windowing.labels`` gives their labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evalcore.errors import BundleError, ConfigError

__all__ = [
    "MAX_RESAMPLED_VALUES",
    "MAX_WINDOW_VALUES",
    "RESAMPLE_MODES",
    "TRAILING_MODES",
    "WindowPlan",
    "plan_single_window",
    "plan_windows",
    "resampled_length",
]

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
