"""O(1) argument checks shared by the box kernels' public wrappers (plain Python, not jitted)."""

from __future__ import annotations

import numpy as np


def check_1d(arr, dtype, length, name):
    """Raise unless ``arr`` is a 1-d ``dtype`` array of ``length`` items (``length < 0``: any)."""
    if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.ndim != 1:
        raise TypeError(f"{name} must be a 1-d {np.dtype(dtype).name} array")
    if length >= 0 and arr.shape[0] != length:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {length}")


def check_boxes(arr, name, length=-1):
    """Raise unless ``arr`` is a float64 (n, 4) array with ``length`` rows (``length < 0``: any)."""
    if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.ndim != 2 \
            or arr.shape[1] != 4:
        raise TypeError(f"{name} must be a float64 array of shape (n, 4)")
    if length >= 0 and arr.shape[0] != length:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {length}")
