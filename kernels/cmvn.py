"""Cepstral mean and variance normalisation over a sliding window (speechpy ``cmvnw``).

``sliding_mean_centre`` and ``sliding_std_scale`` are the two passes of speechpy's ``cmvnw``
(MFE v1/v2, MFCC; called by ``evalcore.dsp._framing.sliding_normalize``). Their sums run in
window order, one row at a time, in the dtype of the data: the same order and precision as the
reference's ``np.mean`` / ``np.std`` over axis 0 of a (win_size, columns) block, so the results
are bit-identical (checked against ``naive_sliding_normalize`` of tests/naive.py in
tests/test_kernels_cmvn.py).

Both take ``rows``, the row index of each padded position (``np.pad(arange(F), pad, "symmetric")``),
instead of a padded copy of the data. Each output row keeps one accumulator per column and adds the
window's rows to all of them in turn: every column's sum still runs in window order (so the bits
do not change), and the innermost loop, over the contiguous columns, is vectorised (one running
sum at a time, as before, was bound by the latency of the adds: 45 % of an MFCC window).

Array letters: W windows, F frames (rows), C columns; P = F + win_size - 1 padded rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)

__all__ = ["sliding_mean_centre", "sliding_std_scale"]


@njit(cache=True)
def _window_sums(values, w, r, rows, win_size, total):
    """``total[c]``: the sum of ``values[w, rows[r + k], c]`` over the window's ``k``, added in
    window order in ``total``'s dtype (the column is the inner loop, so it vectorises).
    """
    first = rows[r]
    for c in range(total.size):
        total[c] = values[w, first, c]
    for k in range(1, win_size):
        source = rows[r + k]
        for c in range(total.size):
            total[c] += values[w, source, c]


@njit(cache=True)
def sliding_mean_centre(values, rows, win_size):
    """Numba JIT-compiled: ``values`` minus the mean of each row's window, cast to float32.

    Parameters
    ----------
    values : float64 array of shape (W, F, C)
    rows : int64 array of shape (P,)
        Row of ``values`` at each padded position: ``(win_size - 1) // 2`` mirrored rows on each side.
    win_size : int

    Returns
    -------
    float32 array of shape (W, F, C)
    """
    n_windows, n_rows, n_cols = values.shape
    out = np.empty((n_windows, n_rows, n_cols), dtype=np.float32)
    total = np.empty(n_cols)
    for w in range(n_windows):
        for r in range(n_rows):
            _window_sums(values, w, r, rows, win_size, total)
            for c in range(n_cols):
                out[w, r, c] = np.float32(values[w, r, c] - total[c] / win_size)
    return out


@njit(cache=True)
def sliding_std_scale(centred, rows, win_size):
    """Numba JIT-compiled: ``centred`` divided by its window's population std + 1e-10, in float32.

    Parameters
    ----------
    centred : float32 array of shape (W, F, C)
    rows : int64 array of shape (P,)
        Row of ``centred`` at each padded position, as for ``sliding_mean_centre``.
    win_size : int

    Returns
    -------
    float32 array of shape (W, F, C)
        The window mean and the sum of squares accumulate in float32 and are divided by
        ``float32(win_size)``, as numpy 1.21's ``np.std`` did on float32 data.
    """
    n_windows, n_rows, n_cols = centred.shape
    count = np.float32(win_size)
    eps = np.float32(1e-10)
    out = np.empty((n_windows, n_rows, n_cols), dtype=np.float32)
    total = np.empty(n_cols, dtype=np.float32)
    mean = np.empty(n_cols, dtype=np.float32)
    squares = np.empty(n_cols, dtype=np.float32)
    for w in range(n_windows):
        for r in range(n_rows):
            first = rows[r]
            _window_sums(centred, w, r, rows, win_size, total)
            for c in range(n_cols):
                mean[c] = total[c] / count
                deviation = centred[w, first, c] - mean[c]
                squares[c] = deviation * deviation
            for k in range(1, win_size):
                source = rows[r + k]
                for c in range(n_cols):
                    deviation = centred[w, source, c] - mean[c]
                    squares[c] += deviation * deviation
            for c in range(n_cols):
                out[w, r, c] = centred[w, r, c] / (np.sqrt(squares[c] / count) + eps)
    return out
