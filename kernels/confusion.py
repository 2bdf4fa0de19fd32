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
pair whatever the dtype, so narrow labels gained nothing. For K <= 16 and long inputs the labels
are read eight bytes at a time instead ("SWAR": SIMD within a register): when every label in a
word is below 16, ``(t << 4) | p`` makes a 4+4-bit pair code per lane in two operations, two
neighbouring codes index one cell of a 65536-cell table of code *pairs*, and the table is folded
into the K x K matrix at the end. A word holding any label >= 16 or negative (sign bits set) takes
the exact per-pair path. That is half a store per pair and a few shifts per word, instead of a
load, a check, a multiply and a store per pair.
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
#: Labels narrowed to bytes at a time (wider labels): two 4 KB buffers that stay in L1.
_BLOCK = 4096
#: Words per table fold: at most 4 increments a word, so a uint32 cell cannot overflow.
_WORDS_PER_FOLD = 1 << 29
@njit(cache=True)
def _pairs_int8(words_true, words_pred, lo, hi, pair_counts):
    """Count the pair codes of 1-byte-label words from ``lo`` to the first word with a label
    outside 0..15 (returned; ``hi`` when none). Numba JIT-compiled.

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
def _narrow(labels, out):
    """``out[j]`` = ``labels[j]`` as one byte when it is in 0..15, else 255. Numba JIT-compiled.

    A branch-free select the compiler vectorises (given a slice: an offset index defeats it);
    any label of 16 or more (or negative) is out of range for K <= 16, so 255 (also out of
    range) stands for all of them.
    """
    for j in range(out.shape[0]):
        v = labels[j]
        out[j] = np.uint8(v) if (v >= 0) & (v < 16) else np.uint8(255)


@njit(cache=True)
def _count_bytes(bytes_true, bytes_pred, lo, hi, n_classes, flat_counts):
    """Pair by pair over one-byte labels ``lo:hi`` (unsigned), exact range check."""
    for i in range(lo, hi):
        t, p = bytes_true[i], bytes_pred[i]
        if t < n_classes and p < n_classes:
            flat_counts[t * n_classes + p] += 1


@njit(cache=True)
def _confusion_narrowed_into(y_true, y_pred, n_classes, flat_counts):
    """The word path for labels wider than a byte: blocks narrowed to bytes, then the 1-byte loop.

    Each block of ``_BLOCK`` labels is narrowed into two small buffers (vectorised, the pass
    that reads the input) and counted by ``_pairs_int8`` while the buffers sit in L1. The few
    words holding an out-of-range byte are counted by ``_count_bytes``.
    """
    pair_counts = np.zeros(1 << 16, np.uint32)
    buf_true = np.empty(_BLOCK, np.uint8)
    buf_pred = np.empty(_BLOCK, np.uint8)
    words_true = buf_true.view(np.uint64)
    words_pred = buf_pred.view(np.uint64)
    n = y_true.shape[0]
    whole = n - n % _BLOCK
    since_fold = 0
    for start in range(0, whole, _BLOCK):
        _narrow(y_true[start:start + _BLOCK], buf_true)
        _narrow(y_pred[start:start + _BLOCK], buf_pred)
        w = 0
        n_words = _BLOCK // 8
        while w < n_words:
            w = _pairs_int8(words_true, words_pred, w, n_words, pair_counts)
            if w < n_words:
                _count_bytes(buf_true, buf_pred, 8 * w, 8 * w + 8, n_classes, flat_counts)
                w += 1
        since_fold += n_words
        if since_fold >= _WORDS_PER_FOLD:
            _fold_pairs(pair_counts, n_classes, flat_counts)
            since_fold = 0
    _fold_pairs(pair_counts, n_classes, flat_counts)
    if whole < n:
        _confusion_into(y_true[whole:], y_pred[whole:], n_classes, flat_counts)


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
def _confusion_words_into(words_true, words_pred, y_true, y_pred, n_classes, flat_counts):
    """The word path for one-byte labels over whole words. Numba JIT-compiled.

    ``_pairs_int8`` runs until a word holds a label outside 0..15; that word's labels are
    counted by ``_confusion_into`` from the label arrays, then the loop resumes.
    """
    pair_counts = np.zeros(1 << 16, np.uint32)
    n_words = words_true.shape[0]
    for lo in range(0, n_words, _WORDS_PER_FOLD):
        hi = min(lo + _WORDS_PER_FOLD, n_words)
        w = lo
        while w < hi:
            w = _pairs_int8(words_true, words_pred, w, hi, pair_counts)
            if w < hi:
                _confusion_into(y_true[8 * w:8 * w + 8], y_pred[8 * w:8 * w + 8], n_classes,
                                flat_counts)
                w += 1
        _fold_pairs(pair_counts, n_classes, flat_counts)


def _count_pairs(y_true, y_pred, n_classes, flat_counts):
    """Dispatch: the word path for K <= 16 on long inputs, else pair by pair."""
    n = y_true.shape[0]
    if n_classes > _WORD_MAX_CLASSES or n < _WORD_MIN_PAIRS:
        _confusion_into(y_true, y_pred, n_classes, flat_counts)
    elif (y_true.dtype.itemsize == 1 and y_pred.dtype.itemsize == 1 and y_true.flags.c_contiguous
            and y_pred.flags.c_contiguous and not y_true.ctypes.data % 8
            and not y_pred.ctypes.data % 8):
        whole = n - n % 8
        _confusion_words_into(y_true[:whole].view(np.uint64), y_pred[:whole].view(np.uint64),
                              y_true, y_pred, n_classes, flat_counts)
        if whole < n:
            _confusion_into(y_true[whole:], y_pred[whole:], n_classes, flat_counts)
    else:
        _confusion_narrowed_into(y_true, y_pred, n_classes, flat_counts)


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
