"""`jsnumber.format_floats` (whole arrays) against `format_number` (one value) on a large sample.

`format_number` is checked against node's table and an ECMA-262 reference in test_jsonio.py;
here the array formatter, on both of its paths (the compiled pass once numba is loaded, and
``repr``'s), must give its text for every value of a large random sample that
crosses every notation boundary (1e-7, 1e-6, 1e-4, 2**53, 1e16, 1e21), subnormals, -0, NaN and
infinities, float32 model scores, and the integers where the array path writes ``int`` text.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalcore import jsnumber
from evalcore.jsnumber import format_floats, format_number
from evalcore.jsonio import float_object_rows, object_rows


@pytest.fixture(params=["compiled", "python"])
def path(request, monkeypatch):
    """Every test on both paths: the compiled pass (``kernels.jsfloat``) and ``repr``'s."""
    if request.param == "compiled":
        import numba  # noqa: F401  (the compiled pass is taken once numba is loaded)
    monkeypatch.setattr(jsnumber, "compiled_available", lambda: request.param == "compiled")
    return request.param

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


def test_format_floats_is_format_number_on_a_large_sample(path):
    """Without it the array formatter could write a value's notation (exponent, integral, -0,
    NaN) differently from the per-value formatter, which node's table holds."""
    values = _sample(0)
    got = format_floats(values)
    assert len(got) == values.size
    assert _first_difference(values, got) is None


@pytest.mark.parametrize("kind", ["scores", "small", "integral", "special"])
def test_format_floats_of_one_kind(kind, path):
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


def test_random_bit_patterns_by_the_million(monkeypatch):
    """Without it a rare double (a tie in the last digit, a bound that is a power of two) could
    get other digits from the compiled pass than from ``repr``."""
    import numba  # noqa: F401

    monkeypatch.setattr(jsnumber, "compiled_available", lambda: True)
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2**64, size=600_000, dtype=np.uint64).view(np.float64)
    singles = rng.integers(0, 2**32, size=400_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    powers = np.array([2.0**e for e in range(-1074, 1024)] + [10.0**e for e in range(-323, 309)])
    with np.errstate(all="ignore"):  # float32 NaNs, the neighbour of the largest double
        values = np.concatenate([bits, singles.astype(np.float64), powers, np.nextafter(powers, 0),
                                 np.nextafter(powers, math.inf)])
    assert _first_difference(values, format_floats(values)) is None


@pytest.mark.parametrize("keys", [("idle", "snake", "updown", "wave"), ("value",), ("b", "10", "a", "2"),
                                  ("sn\u00f6", "\u2603", "q\"uote", "back\\slash", "new\nline"),
                                  ("lone\ud800", "x")])
def test_float_object_rows_is_object_rows_of_format_floats(keys, path):
    """Without it a block's per-window ``result`` objects could differ from the generic writer's
    (key order of array-index keys, escaped keys, keys that are not UTF-8)."""
    rng = np.random.default_rng(5)
    values = _sample(5)[: 300 * len(keys)].reshape(300, len(keys))
    want = object_rows(keys, [format_floats(values[:, j]) for j in range(len(keys))])
    assert float_object_rows(keys, values) == want
    assert float_object_rows(keys, values[:0]) == []
    if len(keys) == 1:
        assert float_object_rows(keys, values[:, 0]) == want
    scores = rng.random((50, len(keys))).astype(np.float32)
    assert float_object_rows(keys, scores) == object_rows(
        keys, [format_floats(scores[:, j]) for j in range(len(keys))])


def test_float_object_rows_by_group(path):
    """Without it a sample's window results could take a neighbour's rows, or an empty sample
    could shift every later sample's."""
    keys = ("a", "b", "c")
    values = _sample(9)[:600].reshape(200, 3)
    groups = [0, 5, 21, 0, 0, 100, 73, 1, 0]
    rows = float_object_rows(keys, values)
    want, at = [], 0
    for n in groups:
        want.append(",".join(rows[at : at + n]))
        at += n
    assert float_object_rows(keys, values, groups) == want
    assert float_object_rows(keys, values[:0], []) == [] and float_object_rows(keys, values[:0], [0, 0]) == ["", ""]


def test_row_groups_must_cover_the_rows():
    """Without it a wrong count would write past the rows (the kernel does not check bounds)."""
    from kernels.jsfloat import js_object_rows

    for groups in ([1, 1], [2, 2], [4, -1]):
        with pytest.raises(ValueError, match="sum"):
            js_object_rows(np.zeros((3, 1)), [b"{", b"}"], groups)
