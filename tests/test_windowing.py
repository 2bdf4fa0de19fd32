"""Tests for evalcore.windowing: plans, window arrays and expected labels against naive loops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalcore.data import LabelInfo, LabelSegment, load_dataset, load_sample_data
from evalcore.errors import BundleError, ConfigError
from evalcore.windowing import (
    extract_windows,
    plan_single_window,
    plan_windows,
    resample_values,
    window_labels,
)
from tests.naive import naive_extract, naive_labels, naive_starts

SDK = "edgeimpulse-python-sdk-sample-data/sample_data"




def _first_diff(a, b) -> str:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"shapes {a.shape} vs {b.shape}"
    idx = np.argwhere(a != b)
    return "equal" if idx.size == 0 else f"first difference at {tuple(idx[0])}: {a[tuple(idx[0])]!r} vs {b[tuple(idx[0])]!r}"


# --- plans ---------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 400),
    interval_ms=st.sampled_from([1.0, 4.0, 10.0, 16.0, 0.0625, 5.0349121093750115]),
    win=st.integers(1, 120),
    step=st.integers(1, 60),
    pad_zeros=st.booleans(),
    trailing=st.sampled_from(["drop", "pad"]),
)
def test_plan_matches_naive_walk(n, interval_ms, win, step, pad_zeros, trailing):
    """Window count, starts and ms boundaries must equal a step-by-step walk for any length."""
    window_ms, increase_ms = win * interval_ms, step * interval_ms
    plan = plan_windows(n, interval_ms, window_size_ms=window_ms, window_increase_ms=increase_ms,
                        pad_zeros=pad_zeros, trailing=trailing)
    expected = naive_starts(n, win, step, pad_zeros, trailing)
    assert plan.n_window_values == win
    assert plan.starts.tolist() == expected
    assert np.array_equal(plan.start_ms, np.array(expected, dtype=np.float64) * (1000.0 / (1000.0 / interval_ms)))
    assert np.array_equal(plan.end_ms, plan.start_ms + window_ms)
    if not pad_zeros:
        assert all(s + win <= n for s in plan.starts.tolist())
        assert plan.n_padded.sum() == 0


def test_real_gestures_windows(real_dir):
    """622 readings at 62.5 Hz with 2000 ms / 80 ms windows must give 100 windows of 125 readings."""
    record = load_dataset(real_dir / SDK / "gestures")[0]
    data = load_sample_data(record)
    plan = plan_windows(data.n_values, data.interval_ms, window_size_ms=2000, window_increase_ms=80, frequency_hz=62.5)
    assert (plan.n_windows, plan.n_window_values, plan.resample) == (100, 125, None)
    assert plan.starts[-1] == 495 and plan.start_ms[-1] == 7920.0 and plan.end_ms[-1] == 9920.0
    windows = extract_windows(data.values, plan)
    assert windows.shape == (100, 375)
    assert np.array_equal(windows[1, :3], data.values[5]) and np.array_equal(windows[-1, -3:], data.values[619])


def test_short_sample_padded_or_dropped():
    """A sample shorter than a window gives one zero-padded window with padZeros, else none."""
    padded = plan_windows(3, 10.0, window_size_ms=50, window_increase_ms=10, pad_zeros=True)
    assert padded.starts.tolist() == [0] and padded.n_padded.tolist() == [2]
    values = np.array([[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]])
    assert extract_windows(values, padded).tolist() == [[1, -1, 2, -2, 3, -3, 0, 0, 0, 0]]
    dropped = plan_windows(3, 10.0, window_size_ms=50, window_increase_ms=10, pad_zeros=False)
    assert dropped.n_windows == 0 and extract_windows(values, dropped).shape == (0, 10)


def test_trailing_window_option():
    """trailing='pad' must add exactly one zero-padded window after the last full one."""
    kwargs = {"window_size_ms": 40, "window_increase_ms": 30, "pad_zeros": True}
    assert plan_windows(10, 10.0, **kwargs).starts.tolist() == [0, 3, 6]
    padded = plan_windows(11, 10.0, trailing="pad", **kwargs)
    assert padded.starts.tolist() == [0, 3, 6, 9] and padded.n_padded.tolist() == [0, 0, 0, 2]
    assert plan_windows(10, 10.0, trailing="pad", **kwargs).starts.tolist() == [0, 3, 6]


def test_classification_increase_overrides():
    """classificationWindowIncreaseMs, when set, must replace windowIncreaseMs as the step."""
    plan = plan_windows(100, 10.0, window_size_ms=200, window_increase_ms=100, classification_window_increase_ms=500)
    assert plan.starts.tolist() == [0, 50]


@pytest.mark.parametrize(("window_ms", "expected_win"), [(8, 1), (24, 2), (40, 3), (56, 4)])
def test_ms_to_values_rounds_half_up(window_ms, expected_win):
    """Half-way ms->values conversions must round up like JavaScript, not to even like Python."""
    plan = plan_windows(100, 16.0, window_size_ms=window_ms, window_increase_ms=16)
    assert plan.n_window_values == expected_win


def test_single_window_plan():
    """Images and feature rows are one window with the given (default 0) boundaries."""
    plan = plan_single_window()
    assert plan.starts.tolist() == [0] and plan.start_ms.tolist() == [0.0] and plan.end_ms.tolist() == [0.0]
    assert window_labels(plan, LabelInfo.single("cat")) == ["cat"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window_size_ms": 0, "window_increase_ms": 10},
        {"window_size_ms": 100, "window_increase_ms": -1},
        {"window_size_ms": 100, "window_increase_ms": 10, "frequency_hz": float("nan")},
        {"window_size_ms": 1, "window_increase_ms": 10, "frequency_hz": 100},
        {"window_size_ms": 100, "window_increase_ms": 10, "trailing": "keep"},
        {"window_size_ms": 100, "window_increase_ms": 10, "resample": "cubic"},
    ],
)
def test_invalid_window_settings(kwargs):
    """Impossible window settings must raise ConfigError instead of producing empty or endless plans."""
    with pytest.raises(ConfigError):
        plan_windows(100, 10.0, **kwargs)


# --- window arrays -------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 120),
    n_axes=st.integers(1, 4),
    win=st.integers(1, 40),
    step=st.integers(1, 25),
    pad_zeros=st.booleans(),
    trailing=st.sampled_from(["drop", "pad"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_extract_matches_naive(n, n_axes, win, step, pad_zeros, trailing, seed):
    """The strided window copy must equal reading-by-reading interleaving with zero padding."""
    values = np.random.default_rng(seed).normal(size=(n, n_axes))
    plan = plan_windows(n, 4.0, window_size_ms=win * 4.0, window_increase_ms=step * 4.0,
                        pad_zeros=pad_zeros, trailing=trailing)
    got = extract_windows(values, plan)
    want = naive_extract(values, plan.starts.tolist(), win)
    assert got.dtype == np.float64 and got.shape == (plan.n_windows, win * n_axes)
    assert np.array_equal(got, want), _first_diff(got, want)


def test_extract_does_not_alias_input():
    """Writing into the windows must not change the sample's readings (they are copies)."""
    values = np.arange(12.0).reshape(6, 2)
    plan = plan_windows(6, 1.0, window_size_ms=3, window_increase_ms=1)
    windows = extract_windows(values, plan)
    windows[:] = -1
    assert np.array_equal(values, np.arange(12.0).reshape(6, 2))


# --- frequency mismatch ----------------------------------------------------------------------

def test_frequency_within_tolerance_is_not_resampled():
    """A frequency off by less than frequency_rtol must be windowed as is at the impulse rate."""
    plan = plan_windows(1000, 5.0349121093750115, window_size_ms=1000, window_increase_ms=500, frequency_hz=198.6)
    assert plan.resample is None and plan.n_values == 1000 and plan.n_window_values == 199


def test_refuse_mode_names_the_sample():
    """resample='refuse' must stop on a frequency mismatch and name the sample and both rates."""
    with pytest.raises(BundleError) as err:
        plan_windows(100, 16.0, window_size_ms=1000, window_increase_ms=100, frequency_hz=100, resample="refuse", sample="idle.0")
    assert err.value.sample == "idle.0" and "62.5 hz differs from the impulse frequency 100 hz" in err.value.message


def test_linear_resampling_matches_interp():
    """Linear resampling must equal numpy.interp on the two time grids, length kept in ms."""
    values = np.random.default_rng(1).normal(size=(50, 2))
    plan = plan_windows(50, 16.0, window_size_ms=160, window_increase_ms=80, frequency_hz=100.0)
    assert plan.resample == "linear" and plan.n_values == 80  # 50 readings * 100 / 62.5
    t_src, t_dst = np.arange(50) * 16.0, np.arange(plan.n_values) * 10.0
    want = np.stack([np.interp(t_dst, t_src, values[:, a]) for a in range(2)], axis=1)
    got = resample_values(values, 62.5, 100.0, "linear")
    assert np.array_equal(got, want), _first_diff(got, want)
    windows = extract_windows(values, plan)
    assert np.array_equal(windows[0], want[:16].reshape(-1))


def test_poly_resampling_length():
    """Polyphase resampling must give the same length rule as linear, e.g. 44.1 kHz -> 16 kHz."""
    values = np.sin(np.arange(4410) / 10.0).reshape(-1, 1)
    got = resample_values(values, 44100.0, 16000.0, "poly")
    assert got.shape == (1600, 1) and got.dtype == np.float64
    assert np.abs(got[100:-100, 0] - np.sin(np.arange(100, 1500) * 44100 / 16000 / 10.0)).max() < 1e-2


# --- expected labels -----------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 150),
    win=st.integers(1, 40),
    step=st.integers(1, 20),
    pad_zeros=st.booleans(),
    method=st.sampled_from(["end-of-window", "anywhere-in-window"]),
)
def test_labels_match_naive(data, n, win, step, pad_zeros, method):
    """Per-window labels must equal the per-reading reference for random (gappy) range layouts."""
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=6)) if n > 1 else set())
    bounds = [0, *cuts, n]
    names = ["a", "b", "c"]
    segments = []
    for i, (s, e) in enumerate(itertools.pairwise(bounds)):
        if data.draw(st.booleans()) or i == len(bounds) - 2:  # some gaps; last range always present
            segments.append((s, e - 1, data.draw(st.sampled_from(names))))
    wanted = data.draw(st.lists(st.sampled_from(names + ["zz"]), max_size=3, unique=True))
    label = LabelInfo(kind="multi-label", segments=tuple(LabelSegment(s, e, lab) for s, e, lab in segments))
    plan = plan_windows(n, 10.0, window_size_ms=win * 10.0, window_increase_ms=step * 10.0, pad_zeros=pad_zeros)
    got = window_labels(plan, label, labeling_method=method, anywhere_labels=wanted)
    assert got == naive_labels(n, plan.starts.tolist(), win, segments, method, wanted)


def test_real_coffee_labels(real_dir):
    """On a real multi-label export both methods must agree with the naive per-reading labels."""
    record = load_dataset(real_dir / SDK / "coffee")[0]
    data = load_sample_data(record)
    plan = plan_windows(data.n_values, data.interval_ms, window_size_ms=2000, window_increase_ms=250)
    segments = [(s.start_index, s.end_index, s.label) for s in record.label.segments]
    for method, wanted in (("end-of-window", []), ("anywhere-in-window", ["grind", "pump"])):
        got = window_labels(plan, record.label, labeling_method=method, anywhere_labels=wanted)
        assert got == naive_labels(data.n_values, plan.starts.tolist(), plan.n_window_values, segments, method, wanted)


def test_anywhere_tie_goes_to_first_listed():
    """Two listed labels with equal counts must resolve to the one listed first."""
    label = LabelInfo(kind="multi-label", segments=(LabelSegment(0, 1, "a"), LabelSegment(2, 3, "b")))
    plan = plan_windows(4, 1.0, window_size_ms=4, window_increase_ms=1)
    assert window_labels(plan, label, labeling_method="anywhere-in-window", anywhere_labels=["b", "a"]) == ["b"]
    assert window_labels(plan, label, labeling_method="anywhere-in-window", anywhere_labels=["a", "b"]) == ["a"]


def test_padded_window_uses_last_real_reading():
    """A zero-padded window's end-of-window label is that of the last real reading."""
    label = LabelInfo(kind="multi-label", segments=(LabelSegment(0, 0, "a"), LabelSegment(1, 2, "b")))
    plan = plan_windows(3, 1.0, window_size_ms=10, window_increase_ms=1, pad_zeros=True)
    assert window_labels(plan, label) == ["b"]


def test_resampled_labels_follow_source_readings():
    """After resampling, a reading's label must come from the source reading at the same time."""
    label = LabelInfo(kind="multi-label", segments=(LabelSegment(0, 49, "a"), LabelSegment(50, 99, "b")))
    plan = plan_windows(100, 10.0, window_size_ms=200, window_increase_ms=200, frequency_hz=50.0)
    assert plan.n_values == 50 and plan.n_window_values == 10
    assert window_labels(plan, label) == ["a", "a", "b", "b", "b"]


@pytest.mark.parametrize(
    ("label", "expected"),
    [(LabelInfo.single("wave"), ["wave"] * 3), (LabelInfo.unlabeled(), [None] * 3),
     (LabelInfo(kind="keyvalue-labels", key_values={"k": "v"}), [None] * 3)],
)
def test_non_multi_label_samples(label, expected):
    """Single-label samples repeat the label; unlabeled and key-value samples have no expected label."""
    plan = plan_windows(5, 1.0, window_size_ms=3, window_increase_ms=1)
    assert window_labels(plan, label) == expected


def test_unknown_labeling_method():
    """A labeling method other than the two Studio ones must be a configuration error."""
    plan = plan_windows(5, 1.0, window_size_ms=3, window_increase_ms=1)
    with pytest.raises(ConfigError):
        window_labels(plan, LabelInfo.single("a"), labeling_method="majority")

