"""Confusion-matrix kernels: label pairs in, int64 counts out, in one pass over the labels.

Dimension letters: N label pairs (windows), K labels.

The labels are integer indices ``0..K-1`` of any integer dtype; pass the narrowest dtype that
holds them (int8/uint8/int16/int32): the pass is bound by reading ``2 * N * itemsize`` bytes, so
narrow labels are faster (reference/perf-anchors.md section 2). Each dtype pair compiles once,
lazily, on first use.

Out-of-range labels: a pair whose true or predicted label lies outside ``0..K-1`` (for example
the ``-1`` Edge Impulse gives a test label the model was not trained on) is skipped, the way
``sklearn.metrics.confusion_matrix(..., labels=range(K))`` drops it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (NUMBA_CACHE_DIR fallback before numba compiles)

__all__ = ["confusion_matrix", "per_class_good_bad"]


@njit(cache=True)
def _confusion_into(y_true, y_pred, n_classes, flat_counts):
    """Add the pairs' counts into ``flat_counts`` (row-major K*K view). Numba JIT-compiled.

    One pass, no temporaries. The range test is one unsigned comparison of the larger label: a
    negative label wraps to a huge unsigned value and fails ``< n_classes`` like a too-large
    one (measured slightly faster than two tests, benchmarks/bench_confusion.py).
    """
    k = np.uint64(n_classes)
    for i in range(y_true.shape[0]):
        t = np.uint64(np.int64(y_true[i]))
        p = np.uint64(np.int64(y_pred[i]))
        if max(t, p) < k:
            flat_counts[t * k + p] += 1


@njit(cache=True)
def _good_bad_into(y_true, y_pred, n_classes, flat_counts):
    """Add per-true-label good (column 0) and bad (column 1) counts. Numba JIT-compiled.

    A pair is good when the predicted label equals the true label. Pairs with a true label
    outside ``0..K-1`` are skipped; a predicted label outside the range simply counts as bad.
    """
    k = np.uint64(n_classes)
    for i in range(y_true.shape[0]):
        t_signed = np.int64(y_true[i])
        t = np.uint64(t_signed)
        if t < k:
            if np.int64(y_pred[i]) == t_signed:
                flat_counts[t * np.uint64(2)] += 1
            else:
                flat_counts[t * np.uint64(2) + np.uint64(1)] += 1


def _check_labels(y_true, y_pred, n_classes):
    """O(1) contract of the label kernels: 1-D integer arrays of equal length, K >= 0."""
    if not isinstance(y_true, np.ndarray) or not isinstance(y_pred, np.ndarray):
        raise TypeError("y_true and y_pred must be numpy arrays")
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D, got ndim {y_true.ndim} and {y_pred.ndim}")
    if y_true.dtype.kind not in "iu" or y_pred.dtype.kind not in "iu":
        raise TypeError(
            f"labels must have an integer dtype, got {y_true.dtype} and {y_pred.dtype}"
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {y_true.shape[0]} and {y_pred.shape[0]}"
        )
    n_classes = int(n_classes)
    if n_classes < 0:
        raise ValueError(f"n_classes must be >= 0, got {n_classes}")
    return n_classes


def _check_out(out, shape):
    if out.dtype != np.int64 or out.shape != shape or not out.flags.c_contiguous:
        raise ValueError(
            f"out must be a C-contiguous int64 array of shape {shape}, got {out.dtype} {out.shape}"
        )


def confusion_matrix(y_true, y_pred, n_classes, *, out=None):
    """Count label pairs into a K x K matrix, rows = true label, columns = predicted label.

    Equals ``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(n_classes))``
    (pairs with a label outside ``0..K-1`` are skipped).

    Parameters
    ----------
    y_true, y_pred : integer array of shape (N,)
        Label indices; any integer dtype, the two may differ.
    n_classes : int
        K, the number of labels.
    out : int64 array of shape (K, K), optional
        C-contiguous; the counts are **added** into it in place (for accumulators).

    Returns
    -------
    int64 array of shape (K, K)
        ``out`` when given, else a new matrix.

    Raises
    ------
    TypeError, ValueError
        When the arrays are not 1-D integer arrays of equal length, or ``out`` does not fit.
    """
    n_classes = _check_labels(y_true, y_pred, n_classes)
    if out is None:
        out = np.zeros((n_classes, n_classes), dtype=np.int64)
    else:
        _check_out(out, (n_classes, n_classes))
    if y_true.shape[0] and n_classes:
        _confusion_into(y_true, y_pred, n_classes, out.reshape(-1))
    return out


def per_class_good_bad(y_true, y_pred, n_classes, *, out=None):
    """Count, per true label, the pairs predicted right (good) and wrong (bad).

    Parameters
    ----------
    y_true, y_pred : integer array of shape (N,)
        Label indices; any integer dtype. Pairs with ``y_true`` outside ``0..K-1`` are
        skipped; a ``y_pred`` outside the range counts as bad.
    n_classes : int
        K, the number of true labels.
    out : int64 array of shape (K, 2), optional
        C-contiguous; counts are added into it in place.

    Returns
    -------
    int64 array of shape (K, 2)
        Column 0 good, column 1 bad.
    """
    n_classes = _check_labels(y_true, y_pred, n_classes)
    if out is None:
        out = np.zeros((n_classes, 2), dtype=np.int64)
    else:
        _check_out(out, (n_classes, 2))
    if y_true.shape[0] and n_classes:
        _good_bad_into(y_true, y_pred, n_classes, out.reshape(-1))
    return out
