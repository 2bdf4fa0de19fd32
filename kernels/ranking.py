"""Rank-based ROC AUC (Mann-Whitney U), tie-aware, binary and one-vs-rest.

Dimension letters: N samples, K classes.

AUC is the probability that a random positive scores above a random negative, ties counting
one half. That is exactly what ``sklearn.metrics.roc_auc_score`` integrates with trapezoids, tie
groups included. Here it is counted instead: both classes' scores are sorted (values only), one
merge pass counts, for each tie group of positives, the negatives strictly below and equal to
it, and the sum is kept as an exact integer ``2U``. The result ``2U / (2 * n_pos * n_neg)`` is
one correctly rounded division (exact integers while ``2 * n_pos * n_neg < 2**53``), so it does
not depend on input order and may differ from sklearn's trapezoid sum by a few ulps.

Undefined AUC (no positive or no negative) is returned as NaN; callers map it to their policy.
NaN scores have no defined rank: the result is then unspecified (callers reject NaN first).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (NUMBA_CACHE_DIR fallback before numba compiles)

__all__ = ["roc_auc_binary", "roc_auc_ovr", "roc_auc_sorted"]


@njit(cache=True)
def _twice_u_sorted(pos_sorted, neg_sorted):
    """Return 2U for ascending positive and negative scores. Numba JIT-compiled.

    Tie rule: a negative equal to a positive counts 1 (half of 2), one below counts 2.
    """
    n_pos = pos_sorted.shape[0]
    n_neg = neg_sorted.shape[0]
    twice_u = np.int64(0)
    j = 0  # first negative not below the current positive value
    i = 0
    while i < n_pos:
        value = pos_sorted[i]
        group_end = i + 1  # at least one, so a NaN cannot stall the loop
        while group_end < n_pos and pos_sorted[group_end] == value:
            group_end += 1
        while j < n_neg and neg_sorted[j] < value:
            j += 1
        equal_end = j
        while equal_end < n_neg and neg_sorted[equal_end] == value:
            equal_end += 1
        twice_u += np.int64(group_end - i) * np.int64(2 * j + (equal_end - j))
        i = group_end
    return twice_u


def _auc_from_split(pos_scores, neg_scores):
    n_pos = pos_scores.shape[0]
    n_neg = neg_scores.shape[0]
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # numpy's value sort (SIMD where available) is several times faster than an argsort
    twice_u = _twice_u_sorted(np.sort(pos_scores), np.sort(neg_scores))
    return float(twice_u) / float(2 * n_pos * n_neg)


def roc_auc_sorted(pos_sorted, neg_sorted):
    """ROC AUC from the positives' and the negatives' scores, each sorted ascending (float64).

    What `roc_auc_binary` computes after its split and sorts, for a caller that sorted in place
    to save the copies. NaN when either side is empty.
    """
    if not isinstance(pos_sorted, np.ndarray) or not isinstance(neg_sorted, np.ndarray):
        raise TypeError("pos_sorted and neg_sorted must be numpy arrays")
    if pos_sorted.ndim != 1 or neg_sorted.ndim != 1:
        raise ValueError(f"pos_sorted and neg_sorted must be 1-D, got {pos_sorted.shape} and {neg_sorted.shape}")
    if pos_sorted.shape[0] == 0 or neg_sorted.shape[0] == 0:
        return float("nan")
    twice_u = _twice_u_sorted(pos_sorted, neg_sorted)
    return float(twice_u) / float(2 * pos_sorted.shape[0] * neg_sorted.shape[0])


def roc_auc_binary(is_positive, score):
    """ROC AUC of one binary problem, ties counted one half.

    Equals ``sklearn.metrics.roc_auc_score(is_positive, score)`` up to sklearn's own rounding
    (a few ulps; see the module docstring).

    Parameters
    ----------
    is_positive : bool array of shape (N,)
        True for the positive class.
    score : float or integer array of shape (N,)
        Higher means more positive.

    Returns
    -------
    float
        AUC in [0, 1], or NaN when there is no positive or no negative.
    """
    if not isinstance(is_positive, np.ndarray) or not isinstance(score, np.ndarray):
        raise TypeError("is_positive and score must be numpy arrays")
    if is_positive.dtype != np.bool_:
        raise TypeError(f"is_positive must be a bool array, got {is_positive.dtype}")
    if is_positive.ndim != 1 or score.ndim != 1 or is_positive.shape[0] != score.shape[0]:
        raise ValueError(
            f"is_positive and score must be 1-D of equal length, got {is_positive.shape} and {score.shape}"
        )
    return _auc_from_split(score[is_positive], score[~is_positive])


def roc_auc_ovr(y_true, scores):
    """One-vs-rest ROC AUC per class: class k positive against all others, on ``scores[:, k]``.

    The macro average sklearn reports for ``multi_class="ovr"`` is the mean of this array.

    Parameters
    ----------
    y_true : integer array of shape (N,)
        Class indices; values outside ``0..K-1`` are never positive.
    scores : float array of shape (N, K)

    Returns
    -------
    float64 array of shape (K,)
        NaN for a class with no positive or no negative sample.
    """
    if not isinstance(y_true, np.ndarray) or not isinstance(scores, np.ndarray):
        raise TypeError("y_true and scores must be numpy arrays")
    if y_true.dtype.kind not in "iu":
        raise TypeError(f"y_true must have an integer dtype, got {y_true.dtype}")
    if y_true.ndim != 1 or scores.ndim != 2 or scores.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true must be (N,) and scores (N, K), got {y_true.shape} and {scores.shape}"
        )
    n_classes = scores.shape[1]
    out = np.empty(n_classes, dtype=np.float64)
    for k in range(n_classes):
        is_positive = y_true == k
        column = scores[:, k]
        out[k] = _auc_from_split(column[is_positive], column[~is_positive])
    return out
