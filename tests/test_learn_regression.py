"""evalcore.learn.regression: value, error and the good/bad threshold rule."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.errors import ConfigError
from evalcore.learn.regression import decode_regression


def test_inclusive_threshold_and_column_output():
    """|error| == threshold is good by default and bad when exclusive; a (W, 1) output is accepted."""
    out = decode_regression(np.array([[1.5], [2.0], [4.0]], dtype=np.float32), [1.0, 2.0, 3.0], 0.5)
    assert out.value.dtype == np.float64
    assert out.error.tolist() == [0.5, 0.0, 1.0]
    assert out.is_good.tolist() == [True, True, False]
    strict = decode_regression(np.array([1.5, 2.0, 4.0]), [1.0, 2.0, 3.0], 0.5, inclusive=False)
    assert strict.is_good.tolist() == [False, True, False]


def test_shape_errors():
    """Several outputs per window or a length mismatch must raise instead of broadcasting."""
    with pytest.raises(ConfigError):
        decode_regression(np.zeros((3, 2)), np.zeros(3), 1.0)
    with pytest.raises(ConfigError):
        decode_regression(np.zeros(3), np.zeros(2), 1.0)
