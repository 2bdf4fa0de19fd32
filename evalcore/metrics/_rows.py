"""Compact per-window state for the accumulators that must keep every window (AUC, regression sums).

`RowStore` is append-only: small per-sample arrays are joined into blocks of ~65k rows, and float
rows stay float32 while every update is float32 (exact in float64 when read back).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RowStore"]

#: Rows gathered in small arrays before they are joined into one block of a `RowStore`.
_BLOCK_ROWS = 1 << 16


class RowStore:
    """Append-only rows (one dtype, one row shape) of an accumulator that must keep its windows.

    AUC and the regression sums need every window, so their state grows with the test set; it is
    kept compact: small per-sample arrays are joined into blocks of ~65k rows (no per-array
    overhead), and float rows stay float32 while every update is float32 (a float32 value is
    exact in float64, so `array` gives the same numbers as storing float64 would).

    Parameters
    ----------
    dtype : numpy dtype or "float"
        The rows' dtype; ``"float"``: float32 while all input is float32, float64 otherwise.
    """

    def __init__(self, dtype="float"):
        self._float = dtype == "float"
        self.dtype = np.dtype(np.float32 if self._float else dtype)
        self._blocks: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0
        self.rows = 0

    def append(self, values: np.ndarray) -> None:
        """Add rows (cast to the store's dtype: exact for the dtypes the accumulators pass)."""
        values = np.asarray(values)
        if self._float and values.dtype != np.float32 and self.dtype == np.float32:
            self._widen()
        self._pending.append(np.array(values, dtype=self.dtype, copy=True))
        self._pending_rows += len(values)
        self.rows += len(values)
        if self._pending_rows >= _BLOCK_ROWS:
            self._seal()

    def extend(self, other: RowStore) -> None:
        """Add every row of ``other`` after this store's."""
        for block in other.blocks():
            self.append(block)

    def blocks(self) -> list[np.ndarray]:
        """The rows as a list of arrays, in order."""
        return self._blocks + self._pending

    def array(self, dtype=None, tail: tuple = ()) -> np.ndarray:
        """All rows as one array (of ``dtype`` when given; ``tail`` is the row shape when empty)."""
        out_dtype = np.dtype(dtype) if dtype is not None else self.dtype
        parts = self.blocks()
        if not parts:
            return np.zeros((0, *tail), dtype=out_dtype)
        joined = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return joined.astype(out_dtype, copy=False)

    def _seal(self) -> None:
        if len(self._pending) > 1:
            self._blocks.append(np.concatenate(self._pending))
        elif self._pending:
            self._blocks.append(self._pending[0])
        self._pending, self._pending_rows = [], 0

    def _widen(self) -> None:
        self.dtype = np.dtype(np.float64)
        self._blocks = [b.astype(np.float64) for b in self._blocks]
        self._pending = [b.astype(np.float64) for b in self._pending]
