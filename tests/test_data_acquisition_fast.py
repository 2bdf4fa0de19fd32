"""The fast path for acquisition values must be exactly the general path."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.data.acquisition import _values
from evalcore.errors import BundleError


def test_fast_path_equals_numpy_on_mixed_ints_and_floats():
    """Without it the fast path could change a value (int vs float, row order) unnoticed."""
    rng = np.random.default_rng(0)
    rows = [[float(v) for v in r] for r in rng.normal(size=(50, 3))]
    rows[3] = [1, -2, 3]  # JSON integers
    got = _values(rows, 3, "f.json", "s")
    assert got.dtype == np.float64 and got.shape == (50, 3)
    assert got.tobytes() == np.array(rows, dtype=np.float64).tobytes()


@pytest.mark.parametrize(
    "rows, field",
    [
        ([[1.0, 2.0, 3.0], [1.0, True, 3.0]], "payload.values"),  # a boolean is not a number
        ([[1.0, 2.0, 3.0], [1.0, 2.0]], "payload.values[1]"),  # ragged rows
        ([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]], "payload.values[1]"),
        ([[1.0, 2.0, 3.0], [1.0, "x", 3.0]], "payload.values"),
        ([[1.0, 2.0, 3.0], [1.0, float("nan"), 3.0]], "payload.values[1][1]"),
        ([[1.0, 2.0, 3.0], [1.0, None, 3.0]], "payload.values"),
        ([[1, 2, 3], [1, False, 3]], "payload.values"),  # all ints: numpy would read false as 0
    ],
)
def test_fast_path_refuses_what_the_general_path_refuses(rows, field):
    """Without it `true`, a short row or NaN could slip through as a number or shift the rows."""
    with pytest.raises(BundleError) as info:
        _values(rows, 3, "f.json", "s")
    assert info.value.field == field


@pytest.mark.parametrize(
    "rows, n_axes",
    [
        ([[0.0, 1.0, 0.0], [1, 0, 1]], 3),  # items equal to true/false that are numbers
        ([[2**70, 1.5, -3]], 3),  # an int beyond int64
        ([1.5, 0, 1, -2.25], 1),  # one sensor written flat
        ([[1.5], [0], [1.0]], 1),
        ([[5, 6], [7, 8]], 2),  # all ints
    ],
)
def test_fast_path_keeps_numbers_that_look_like_booleans_or_overflow(rows, n_axes):
    """Without it 0/1 values could be refused as booleans, or a huge int could change value."""
    got = _values(rows, n_axes, "f.json", "s")
    want = np.array([float(v) for r in rows for v in (r if isinstance(r, list) else [r])], dtype=np.float64)
    assert got.tobytes() == want.reshape(len(rows), n_axes).tobytes()


def test_one_axis_nested_boolean_is_refused():
    """Without it a one-sensor file written as [[v], [true]] would read true as 1.0."""
    with pytest.raises(BundleError, match="boolean"):
        _values([[1.0], [True]], 1, "f.json", "s")
