"""`jsnumber.format_floats` (whole arrays) against `format_number` (one value) on a large sample.

`format_number` is checked against node's table and an ECMA-262 reference in test_jsonio.py;
here the array formatter must give its text for every value of a large random sample that
crosses every notation boundary (1e-7, 1e-6, 1e-4, 2**53, 1e16, 1e21), subnormals, -0, NaN and
infinities, float32 model scores, and the integers where the array path writes ``int`` text.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalcore.jsnumber import format_floats, format_number

_BOUNDARIES = [1e-7, 1e-6, 1e-5, 1e-4, 1.0, 2.0**53, 1e16, 1e17, 1e20, 1e21, 5e-324, 2.2250738585072014e-308,
               1.7976931348623157e308]


def _sample(seed: int) -> np.ndarray:
    """~200k float64 values: random bit patterns, log-uniform magnitudes, the neighbours of every
    boundary, integers, float32 softmax scores and the special values."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64, size=40_000, dtype=np.uint64).view(np.float64)
    magnitudes = 10.0 ** rng.uniform(-325, 308, size=60_000)
    log_uniform = np.where(rng.random(magnitudes.size) < 0.5, -magnitudes, magnitudes)
    near = []
    with np.errstate(over="ignore"):  # the neighbours of the largest double run into infinity
        for edge in _BOUNDARIES:
            for sign in (1.0, -1.0):
                below = above = sign * edge
                for _ in range(20):
                    near += [below, above]
                    below, above = np.nextafter(below, -math.inf), np.nextafter(above, math.inf)
    scaled = rng.integers(1, 10**6, size=20_000) * 10.0 ** rng.integers(-12, 23, size=20_000)
    integers = rng.integers(-(2**62), 2**62, size=20_000).astype(np.float64)
    small_ints = rng.integers(-1000, 1000, size=5_000).astype(np.float64)
    logits = rng.standard_normal((10_000, 4)) * 8
    scores = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores = (scores / scores.sum(axis=1, keepdims=True)).astype(np.float32).astype(np.float64).ravel()
    special = [0.0, -0.0, math.nan, -math.nan, math.inf, -math.inf]
    values = np.concatenate([bits, log_uniform, near, scaled, integers, small_ints, scores, special])
    return values[rng.permutation(values.size)]


def _first_difference(values: np.ndarray, got: list[str]) -> str | None:
    for value, text in zip(values.tolist(), got, strict=True):
        want = format_number(value)
        if text != want:
            return f"{value!r}: {text!r}, want {want!r}"
    return None


def test_format_floats_is_format_number_on_a_large_sample():
    """Without it the array formatter could write a value's notation (exponent, integral, -0,
    NaN) differently from the per-value formatter, which node's table holds."""
    values = _sample(0)
    got = format_floats(values)
    assert len(got) == values.size
    assert _first_difference(values, got) is None


@pytest.mark.parametrize("kind", ["scores", "small", "integral", "special"])
def test_format_floats_of_one_kind(kind):
    """Without it an array of a single kind (where the formatter takes a shortcut) could be
    written differently from the same values in a mixed array."""
    rng = np.random.default_rng(3)
    values = {
        "scores": rng.random(500),
        "small": rng.random(500) * 1e-5,
        "integral": np.round(rng.standard_normal(500) * 1e6),
        "special": np.array([math.nan, math.inf, -math.inf, 2.0**53 + 2, 1e17, 5e-324]),
    }[kind]
    assert _first_difference(values, format_floats(values)) is None
    assert format_floats(values.reshape(-1, 2)) == format_floats(values)
