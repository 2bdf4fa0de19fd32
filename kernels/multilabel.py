"""Multi-label counting kernel: truth and decision matrices in, per-label and per-row counts out.

Dimension letters: N windows (rows), K labels (columns).

A multi-label classifier decides each label of a window on its own (its sigmoid score against
the threshold), so a window has a *set* of true labels and a set of predicted labels, each a
row of a bool matrix. Every multi-label metric (``evalcore.metrics.multilabel``) is a function
of two kinds of counts, which :func:`multilabel_counts` takes in one pass over both matrices,
without the three N x K temporaries numpy would make (``truth & pred``, ``~truth & pred``, ...):

- per label (column): true positives, false positives, false negatives (true negatives are
  ``N - tp - fp - fn``), i.e. ``sklearn.metrics.multilabel_confusion_matrix`` in another layout;
- per window (row): true positives, predicted labels, true labels, which give the
  ``average="samples"`` readings and subset accuracy (a row is an exact match when
  ``tp == predicted == true``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (NUMBA_CACHE_DIR fallback before numba compiles)

__all__ = ["multilabel_counts"]


@njit(cache=True)
def _counts_into(truth, pred, label_counts, row_counts):
    """Fill ``label_counts`` (K, 3: tp, fp, fn) and ``row_counts`` (N, 3: tp, pred, true). Numba JIT-compiled."""
    n, k = truth.shape
    for i in range(n):
        tp = 0
        n_pred = 0
        n_true = 0
        for j in range(k):
            t = truth[i, j]
            p = pred[i, j]
            if t and p:
                tp += 1
                label_counts[j, 0] += 1
            elif p:
                label_counts[j, 1] += 1
            elif t:
                label_counts[j, 2] += 1
            if p:
                n_pred += 1
            if t:
                n_true += 1
        row_counts[i, 0] = tp
        row_counts[i, 1] = n_pred
        row_counts[i, 2] = n_true


def multilabel_counts(truth: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-label and per-row counts of a multi-label truth / decision pair.

    Parameters
    ----------
    truth, pred : bool array of shape (N, K)
        ``truth[i, j]``: label j belongs to window i; ``pred[i, j]``: the model selects it.

    Returns
    -------
    label_counts : int64 array of shape (K, 3)
        Per label: true positives, false positives, false negatives.
    row_counts : int64 array of shape (N, 3)
        Per window: true positives, number of predicted labels, number of true labels.

    Raises
    ------
    TypeError
        When an input is not a bool array.
    ValueError
        When the inputs are not 2-D of the same shape.
    """
    for name, arr in (("truth", truth), ("pred", pred)):
        if not isinstance(arr, np.ndarray) or arr.dtype != np.bool_:
            raise TypeError(f"{name} must be a bool array")
    if truth.ndim != 2 or truth.shape != pred.shape:
        raise ValueError(f"truth and pred must be 2-D of the same shape, got {truth.shape} and {pred.shape}")
    n, k = truth.shape
    label_counts = np.zeros((k, 3), dtype=np.int64)
    row_counts = np.zeros((n, 3), dtype=np.int64)
    if n and k:
        _counts_into(np.ascontiguousarray(truth), np.ascontiguousarray(pred), label_counts, row_counts)
    return label_counts, row_counts
