"""metrics._rows.RowStore: the compact per-window state gives back exactly what was appended."""

from __future__ import annotations

import numpy as np

from evalcore.metrics import _rows
from evalcore.metrics._rows import RowStore


def test_rows_come_back_in_order_across_blocks(monkeypatch):
    """Without it a block boundary could drop, repeat or reorder windows (AUC over other windows)."""
    monkeypatch.setattr(_rows, "_BLOCK_ROWS", 7)
    rng = np.random.default_rng(3)
    parts = [rng.random((int(n), 3)).astype(np.float32) for n in rng.integers(0, 6, 40)]
    store = RowStore("float")
    for part in parts:
        store.append(part)
    want = np.concatenate(parts)
    assert store.rows == want.shape[0] and store.dtype == np.float32
    assert np.array_equal(store.array(), want)
    assert np.array_equal(store.array(np.float64), want.astype(np.float64))
    assert np.array_equal(np.concatenate(store.blocks()), want)
    other = RowStore("float")
    other.extend(store)
    assert np.array_equal(other.array(), want)


def test_float64_input_widens_without_changing_earlier_rows():
    """Without it a float64 update after float32 ones would be rounded to float32 (wrong scores)."""
    store = RowStore("float")
    first = np.array([[0.1, 0.2]], dtype=np.float32)
    second = np.array([[0.1, 1e-300]])
    store.append(first)
    store.append(second)
    assert store.dtype == np.float64
    assert np.array_equal(store.array(), np.concatenate([first.astype(np.float64), second]))


def test_empty_store_has_the_row_shape():
    """Without it an accumulator with no window would compute on a wrongly shaped array."""
    assert RowStore("float").array(np.float64, (4,)).shape == (0, 4)
    assert RowStore(np.int32).array().dtype == np.int32
