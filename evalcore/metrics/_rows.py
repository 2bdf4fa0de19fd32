"""Compact per-window state for the accumulators that must keep every window (AUC, regression sums).

`RowStore` is append-only: small per-sample arrays are joined into blocks of ~65k rows, and float
rows stay float32 while every update is float32 (exact in float64 when read back).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import numpy as np

__all__ = ["RowStore"]

#: Rows gathered in small arrays before they are joined into one block of a `RowStore`.
_BLOCK_ROWS = 1 << 16


class RowStore:
    """Append-only rows (one dtype, one row shape) of an accumulator that must keep its windows.

    AUC and the regression sums need every window, so their state grows with the test set; it is
    kept compact and mostly on disk: small per-sample arrays are joined into blocks of ~65k rows
    (no per-array overhead), full blocks go to an anonymous temporary file (removed by the
    system when the process ends, however it ends) and are read back one at a time, and float
    rows stay float32 while every update is float32 (a float32 value is exact in float64, so
    `array` gives the same numbers as storing float64 would).

    Parameters
    ----------
    dtype : numpy dtype or "float"
        The rows' dtype; ``"float"``: float32 while all input is float32, float64 otherwise.
    spill : bool
        Keep full blocks on disk (default) or in memory.
    """

    def __init__(self, dtype="float", *, spill: bool = True):
        self._float = dtype == "float"
        self.dtype = np.dtype(np.float32 if self._float else dtype)
        self._spill = spill
        self._file = None
        self._sealed: list = []  # arrays, or (offset, shape) of blocks in self._file
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

    def blocks(self) -> _Blocks:
        """The rows as arrays in order: a sequence that reads each spilled block when it is reached.

        The rows not yet sealed come as one array (joined here, in memory), not as the small
        per-sample arrays they were added as: a reader's per-block numpy calls are then paid once
        per ~65k rows (a run's metrics read the blocks six times).
        """
        if len(self._pending) > 1:
            self._pending = [np.concatenate(self._pending)]
        return _Blocks(self, list(self._sealed) + list(self._pending))

    def array(self, dtype=None, tail: tuple = ()) -> np.ndarray:
        """All rows as one array (of ``dtype`` when given; ``tail`` is the row shape when empty)."""
        out_dtype = np.dtype(dtype) if dtype is not None else self.dtype
        parts = list(self.blocks())
        if not parts:
            return np.zeros((0, *tail), dtype=out_dtype)
        joined = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return joined.astype(out_dtype, copy=False)

    def _seal(self) -> None:
        block = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        self._pending, self._pending_rows = [], 0
        self._sealed.append(self._write(block) if self._spill else block)

    def _write(self, block: np.ndarray) -> tuple:
        from evalcore.errors import ConfigError

        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="evalcore-rows-", buffering=0)  # noqa: SIM115 (closed with the store)
            offset = self._file.seek(0, os.SEEK_END)
            data = memoryview(np.ascontiguousarray(block)).cast("B")
            while data:  # an unbuffered write may take part of it
                data = data[self._file.write(data):]
        except OSError as err:
            raise ConfigError(f"cannot write the run's temporary files in {tempfile.gettempdir()}: "
                              f"{err.strerror or err}") from err
        return offset, block.shape

    def _read(self, piece) -> np.ndarray:
        if isinstance(piece, np.ndarray):
            return piece
        offset, shape = piece
        count = int(np.prod(shape))
        data = os.pread(self._file.fileno(), count * self.dtype.itemsize, offset)
        return np.frombuffer(data, dtype=self.dtype, count=count).reshape(shape)

    def _widen(self) -> None:
        blocks = [self._read(piece).astype(np.float64) for piece in self._sealed]
        self.dtype = np.dtype(np.float64)
        if self._file is not None:
            self._file.close()
            self._file = None
        self._sealed = [self._write(b) if self._spill else b for b in blocks]
        self._pending = [b.astype(np.float64) for b in self._pending]


class _Blocks(Sequence):
    """A store's blocks at one moment; spilled ones are read when indexed or iterated."""

    def __init__(self, store: RowStore, pieces: list):
        self._store, self._pieces = store, pieces

    def __len__(self) -> int:
        return len(self._pieces)

    def __getitem__(self, i: int) -> np.ndarray:
        return self._store._read(self._pieces[i])
