"""The fast `np.fromiter` path for acquisition values must be exactly the general path."""

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
    ],
)
def test_fast_path_refuses_what_the_general_path_refuses(rows, field):
    """Without it `true`, a short row or NaN could slip through as a number or shift the rows."""
    with pytest.raises(BundleError) as info:
        _values(rows, 3, "f.json", "s")
    assert info.value.field == field
