"""Confusion-matrix kernels: label pairs in, int64 counts out, in one pass over the labels.

Dimension letters: N label pairs (windows), K labels.

The labels are integer indices ``0..K-1`` of any integer dtype; pass the narrowest dtype that
holds them (int8/uint8/int16/int32): the pass is bound by reading ``2 * N * itemsize`` bytes, so
narrow labels are faster (reference/perf-anchors.md section 2). Each dtype pair compiles once,
lazily, on first use.

Out-of-range labels: a pair whose true or predicted label lies outside ``0..K-1`` (for example
the ``-1`` Edge Impulse gives a test label the model was not trained on) is skipped, the way
``sklearn.metrics.confusion_matrix(..., labels=range(K))`` drops it.

Speed (issue 14, benchmarks/bench_confusion.py): a one-pair-at-a-time scatter-add costs ~1 ns a
pair whatever the dtype, so narrow labels gained nothing. For K <= 16 on long inputs, 1-, 2- and
4-byte labels are read as 8-byte words instead ("SWAR", SIMD within a register): when every label
of a word is below 16, ``(t << 4) | p`` makes a one-byte code per lane in two operations, two
neighbouring codes form a 16-bit pair code that indexes a 65536-cell table, and the table is
folded into the K x K matrix at the end (codes holding a label K..15 are dropped there). A word
holding a label >= 16 or negative (high or sign bits set) is counted pair by pair with the exact
check. That is half a table increment per pair and a few shifts per word, instead of a load, a
range check, a multiply and an increment per pair. 8-byte labels stay pair by pair: reading
them is already slower than counting.
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


#: Largest K the word path serves: labels fit 4 bits, a pair code one byte, two codes 16 bits.
_WORD_MAX_CLASSES = 16
#: Shortest input the word path serves; below it folding the 65536-cell table would dominate.
_WORD_MIN_PAIRS = 1 << 18
#: Words per table fold: at most 4 increments a word, so a uint32 cell cannot overflow.
_WORDS_PER_FOLD = 1 << 29


@njit(cache=True)
def _pairs_int8(words_true, words_pred, lo, hi, pair_counts):
    """Count the pair codes of 1-byte-label words from ``lo`` up to the first word holding a
    label outside 0..15 (its index is returned; ``hi`` when none). Numba JIT-compiled.

    Eight codes ``(t << 4) | p`` sit one per byte; each 16 bits is a pair code.
    """
    high = np.uint64(0xF0F0F0F0F0F0F0F0)
    one = np.uint32(1)
    for w in range(lo, hi):
        t, p = words_true[w], words_pred[w]
        if (t | p) & high:
            return w
        codes = (t << 4) | p
        pair_counts[np.int64(codes & 0xFFFF)] += one
        pair_counts[np.int64((codes >> 16) & 0xFFFF)] += one
        pair_counts[np.int64((codes >> 32) & 0xFFFF)] += one
        pair_counts[np.int64(codes >> 48)] += one
    return hi


@njit(cache=True)
def _pairs_int16(words_true, words_pred, lo, hi, pair_counts):
    """As ``_pairs_int8`` for 2-byte labels: four codes in the low bytes of 16-bit lanes."""
    high = np.uint64(0xFFF0FFF0FFF0FFF0)
    one = np.uint32(1)
    for w in range(lo, hi):
        t, p = words_true[w], words_pred[w]
        if (t | p) & high:
            return w
        codes = (t << 4) | p
        pair_counts[np.int64((codes & 0xFF) | ((codes >> 8) & 0xFF00))] += one
        pair_counts[np.int64(((codes >> 32) & 0xFF) | ((codes >> 40) & 0xFF00))] += one
    return hi


@njit(cache=True)
def _pairs_int32(words_true, words_pred, lo, hi, pair_counts):
    """As ``_pairs_int8`` for 4-byte labels, two words a step (``lo``, ``hi`` even).

    The four labels of two words are packed into bytes 0, 1, 4 and 5 (``w0 | w1 << 8``), which
    gives two pair codes, as for 1-byte labels; the returned index is the step's first word.
    """
    high = np.uint64(0xFFFFFFF0FFFFFFF0)
    one = np.uint32(1)
    for w in range(lo, hi, 2):
        t0, t1, p0, p1 = words_true[w], words_true[w + 1], words_pred[w], words_pred[w + 1]
        if (t0 | t1 | p0 | p1) & high:
            return w
        codes = ((t0 | (t1 << 8)) << 4) | p0 | (p1 << 8)
        pair_counts[np.int64(codes & 0xFFFF)] += one
        pair_counts[np.int64((codes >> 32) & 0xFFFF)] += one
    return hi


@njit(cache=True)
def _fold_pairs(pair_counts, n_classes, flat_counts):
    """Add the pair-code table into the K x K counts and clear it. Numba JIT-compiled.

    Codes whose true or predicted label is K..15 are out of range and dropped here.
    """
    code_counts = np.zeros(256, np.int64)
    for pair in range(pair_counts.shape[0]):
        count = pair_counts[pair]
        if count:
            code_counts[pair & 0xFF] += count
            code_counts[pair >> 8] += count
            pair_counts[pair] = 0
    for t in range(n_classes):
        for p in range(n_classes):
            flat_counts[t * n_classes + p] += code_counts[(t << 4) | p]


@njit(cache=True)
def _confusion_words_into(words_true, words_pred, label_bytes, y_true, y_pred, n_classes,
                          flat_counts):
    """The word path over whole steps of words. Numba JIT-compiled.

    The hot loop of the label width runs until a step holds a label outside 0..15; that step's
    labels are counted by ``_confusion_into`` from the label arrays, then the loop resumes.
    """
    pair_counts = np.zeros(1 << 16, np.uint32)
    n_words = words_true.shape[0]
    step = 2 if label_bytes == 4 else 1
    per_word = 8 // label_bytes
    for lo in range(0, n_words, _WORDS_PER_FOLD):
        hi = min(lo + _WORDS_PER_FOLD, n_words)
        w = lo
        while w < hi:
            if label_bytes == 1:
                w = _pairs_int8(words_true, words_pred, w, hi, pair_counts)
            elif label_bytes == 2:
                w = _pairs_int16(words_true, words_pred, w, hi, pair_counts)
            else:
                w = _pairs_int32(words_true, words_pred, w, hi, pair_counts)
            if w < hi:
                first, last = w * per_word, (w + step) * per_word
                _confusion_into(y_true[first:last], y_pred[first:last], n_classes, flat_counts)
                w += step
        _fold_pairs(pair_counts, n_classes, flat_counts)


def _count_pairs(y_true, y_pred, n_classes, flat_counts):
    """Dispatch: the word path for K <= 16 on long, aligned labels of 1, 2 or 4 bytes (both
    arrays the same width), else pair by pair (8-byte labels are bound by reading them anyway).
    """
    n = y_true.shape[0]
    width = y_true.dtype.itemsize
    if (n_classes > _WORD_MAX_CLASSES or n < _WORD_MIN_PAIRS or width == 8
            or y_pred.dtype.itemsize != width
            or not (y_true.flags.c_contiguous and y_pred.flags.c_contiguous)
            or y_true.ctypes.data % 8 or y_pred.ctypes.data % 8):
        _confusion_into(y_true, y_pred, n_classes, flat_counts)
        return
    step = 16 // width if width == 4 else 8 // width  # labels per step of the hot loop
    whole = n - n % step
    _confusion_words_into(y_true[:whole].view(np.uint64), y_pred[:whole].view(np.uint64), width,
                          y_true, y_pred, n_classes, flat_counts)
    if whole < n:
        _confusion_into(y_true[whole:], y_pred[whole:], n_classes, flat_counts)


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
        _count_pairs(y_true, y_pred, n_classes, out.reshape(-1))
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
