"""Confusion-matrix kernels: label pairs in, int64 counts out, in one pass over the labels.

Dimension letters: N label pairs (windows), K labels.

The labels are integer indices ``0..K-1`` of any integer dtype; pass the narrowest dtype that
holds them (int8/uint8/int16/int32): the pass is bound by reading ``2 * N * itemsize`` bytes, so
narrow labels are faster (reference/perf-anchors.md section 2). Each dtype pair compiles once,
lazily, on first use.

Out-of-range labels: a pair whose true or predicted label lies outside ``0..K-1`` (for example
the ``-1`` Edge Impulse gives a test label the model was not trained on) is skipped, the way
``sklearn.metrics.confusion_matrix(..., labels=range(K))`` drops it.

Speed (issue 14, benchmarks/bench_confusion.py, benchmarks/README.md): a one-pair-at-a-time
scatter-add costs ~1 ns a pair whatever the dtype. For K <= 16 on long contiguous inputs of one
width the "chunk path" splits the work into two loops over chunks of 32 or 64 pairs: a loop LLVM
vectorises turns the labels into byte codes ``min(t, 15) << 4 | min(p, 15)`` (unsigned views
make a negative label large, so strays need no branch), and a scalar loop reads the codes as
16-bit pair codes, four to a 64-bit load (one load each for 8-byte labels), and counts them in a
65536-cell table, folded into the K x K matrix at the end. The loops are software-pipelined
(codes written three chunks ahead of their count). What remains is half a table increment a
pair: ~0.38 ns an increment on K = 10 codes (about one a cycle), 0.19 ns a pair, which is
already 3x the time of reading two byte labels (sixth session's profile, ``--stages``), and on
this machine the counting overlaps the label reads only in part: K = 10 byte labels stay ~4.5x
their read floor, 4-byte ~1.5x, 8-byte ~1.35x (1.25 / 1.1 against the fifth session's floor,
which read the two arrays one after the other).
"""

from __future__ import annotations

import numpy as np
from numba import literally, njit

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


#: Largest K the chunk path serves: a label fits 4 bits, a (true, predicted) code one byte.
_CHUNK_MAX_CLASSES = 16
#: Shortest input the chunk path serves; below it clearing and folding the 65536-cell table
#: (~14 us) costs more than the pair loop saves (break-even 2^15 - 2^16 pairs, measured).
_CHUNK_MIN_PAIRS = 1 << 16
#: Pairs per chunk, for 1- and 2-byte labels and for wider ones. Compiled in as literals, so
#: the code loop is unrolled into a few vector instructions without a remainder. Measured
#: (README): 64 best for 1 and 2 bytes (32: up to 25 % slower), 32 best for 4 and 8 bytes
#: (64: 15-30 % slower); 128 and up lose the overlap, 16 and less no longer vectorise.
_CHUNK_PAIRS_NARROW = 64
_CHUNK_PAIRS_WIDE = 32
#: Chunk buffers in the pipeline ring: codes are written three chunks ahead of their count
#: (measured 3-12 % faster than one ahead; seven ahead no better).
_PIPELINE_SLOTS = 4
#: Largest K of the small-K variant: a label clamped to 0..3 fits 2 bits, a pair's code 4 bits,
#: so a 16-bit code holds four pairs (a quarter of an increment a pair instead of a half).
_SMALL_MAX_CLASSES = 3
#: Pairs between table folds: at most one increment of a uint32 cell per two pairs.
_PAIRS_PER_FOLD = 1 << 31
#: Pairs per K = 16 stray check.
_PAIRS_PER_CHECK = 4096


@njit(cache=True)
def _count_code_words(code_words, first, n_words, pair_counts):
    """Count the four 16-bit pair codes of each of ``n_words`` 64-bit words from ``first``.

    One 8-byte load serves four increments (shifts pick the codes out of the register). An
    increment is a load and a store of its cell; with one more load for its code it takes three
    memory operations, as many as this CPU (AMD Zen 3) issues in a cycle. Measured (interleaved,
    benchmarks/README.md): 1- and 2-byte labels 10-15 % faster, 4-byte within the noise (-5 to
    +8 %), 8-byte 0-5 % slower, so those keep one load a code (``_count_code_pairs``). Numba
    JIT-compiled; LLVM inlines it into the chunk loops.
    """
    mask = np.uint64(0xFFFF)
    for j in range(n_words):
        word = code_words[first + j]
        pair_counts[word & mask] += np.uint32(1)
        pair_counts[(word >> np.uint64(16)) & mask] += np.uint32(1)
        pair_counts[(word >> np.uint64(32)) & mask] += np.uint32(1)
        pair_counts[word >> np.uint64(48)] += np.uint32(1)


@njit(cache=True)
def _count_code_pairs(code_pairs, first, n_codes, pair_counts):
    """Count ``n_codes`` 16-bit pair codes from ``first``, one load each. Numba JIT-compiled."""
    for j in range(n_codes):
        pair_counts[code_pairs[first + j]] += np.uint32(1)


@njit(cache=True)
def _count_chunks(labels_true, labels_pred, first, last, codes, pair_counts, chunk, by_words):
    """Count the pairs of chunks ``first..last-1`` into the pair-code table. Numba JIT-compiled.

    Each chunk's byte codes ``min(t, 15) << 4 | min(p, 15)`` are written by a loop LLVM
    vectorises (the labels are unsigned views, so a negative label is large and clamps to 15);
    the codes are then read two at a time as a 16-bit pair code and counted, one increment per
    two pairs (``by_words``: four codes a 64-bit load, ``_count_code_words``). The two loops are
    software-pipelined over a ring of ``_PIPELINE_SLOTS`` chunk buffers: chunk c's codes are
    written while chunk c - (slots - 1)'s are counted, so the label reads (vector units, memory)
    can overlap the increments (load/store units); on this machine they overlap only in part
    (benchmarks/README.md, ``--stages``). ``chunk`` and ``by_words`` are compiled in as literals
    (``numba.literally``).
    """
    literally(chunk)
    literally(by_words)
    code_words, code_pairs = codes.view(np.uint64), codes.view(np.uint16)
    top = labels_true.dtype.type(15)
    lag = _PIPELINE_SLOTS - 1
    for c in range(first, last + lag):
        if c < last:
            fill = (c % _PIPELINE_SLOTS) * chunk
            start = np.uint64(c * chunk)  # unsigned: no negative-index test, the loop vectorises
            for i in range(chunk):
                t = labels_true[start + np.uint64(i)]
                p = labels_pred[start + np.uint64(i)]
                codes[fill + i] = np.uint8((min(t, top) << 4) | min(p, top))
        if c >= first + lag and by_words:
            _count_code_words(code_words, ((c - lag) % _PIPELINE_SLOTS) * (chunk // 8),
                              chunk // 8, pair_counts)
        elif c >= first + lag:
            _count_code_pairs(code_pairs, ((c - lag) % _PIPELINE_SLOTS) * (chunk // 2),
                              chunk // 2, pair_counts)


@njit(cache=True)
def _count_chunks_small(labels_true, labels_pred, first, last, codes, pair_counts, chunk):
    """As ``_count_chunks`` for K <= 3: 4-bit codes ``min(t, 3) << 2 | min(p, 3)``, two a byte
    (pairs i and i + chunk / 2 of a chunk), so each 16-bit code counted holds four pairs. A
    label outside 0..K-1 clamps to 3 (>= K) and is dropped at the fold. Numba JIT-compiled.
    """
    literally(chunk)
    code_words = codes.view(np.uint64)
    top = labels_true.dtype.type(3)
    half = chunk // 2
    lag = _PIPELINE_SLOTS - 1
    for c in range(first, last + lag):
        if c < last:
            fill = (c % _PIPELINE_SLOTS) * half
            start = np.uint64(c * chunk)  # unsigned: no negative-index test, the loop vectorises
            for i in range(half):
                t_lo = labels_true[start + np.uint64(i)]
                p_lo = labels_pred[start + np.uint64(i)]
                t_hi = labels_true[start + np.uint64(half + i)]
                p_hi = labels_pred[start + np.uint64(half + i)]
                codes[fill + i] = np.uint8((min(t_hi, top) << 6) | (min(p_hi, top) << 4)
                                           | (min(t_lo, top) << 2) | min(p_lo, top))
        if c >= first + lag:
            _count_code_words(code_words, ((c - lag) % _PIPELINE_SLOTS) * (half // 8),
                              half // 8, pair_counts)


@njit(cache=True)
def _largest_label(labels_true, labels_pred, lo, n):
    """The largest of ``n`` labels of both arrays from ``lo`` (unsigned views). Numba
    JIT-compiled; ``max`` keeps the labels' type, so the loop vectorises in narrow lanes.
    """
    start = np.uint64(lo)
    largest = labels_true[start]
    for i in range(n):
        largest = max(largest, max(labels_true[start + np.uint64(i)],
                                   labels_pred[start + np.uint64(i)]))
    return largest


@njit(cache=True)
def _fold_pairs(pair_counts, n_classes, flat_counts):
    """Add the pair-code table (256 x 256, row = second code) into the K x K counts and clear it.

    Each cell counts two pairs, its row's code and its column's; codes holding a label K..15
    (a stray clamped to 15 among them) are dropped here. For K <= 3 (``_count_chunks_small``)
    each byte holds two 4-bit codes, so four pairs a cell. Numba JIT-compiled.
    """
    code_counts = np.zeros(256, np.int64)
    for row in range(256):
        row_total = 0
        for col in range(256):
            count = np.int64(pair_counts[row * 256 + col])
            row_total += count
            code_counts[col] += count
            pair_counts[row * 256 + col] = 0
        code_counts[row] += row_total
    if n_classes <= _SMALL_MAX_CLASSES:
        small_counts = np.zeros(16, np.int64)
        for code in range(256):
            small_counts[code & 15] += code_counts[code]
            small_counts[code >> 4] += code_counts[code]
        for t in range(n_classes):
            for p in range(n_classes):
                flat_counts[t * n_classes + p] += small_counts[(t << 2) | p]
        return
    for t in range(n_classes):
        for p in range(n_classes):
            flat_counts[t * n_classes + p] += code_counts[(t << 4) | p]


@njit(cache=True)
def _chunks_into(labels_true, labels_pred, n_classes, flat_counts, chunk, by_words):
    """The chunk path over the whole chunks of ``chunk`` pairs (a literal; ``by_words`` as in
    ``_count_chunks``); returns the number of pairs counted. Numba JIT-compiled.

    For K <= 15 every label is exact through the codes: 0..K-1 keep theirs, anything else
    (negative, K..15, >= 16) lands on a code holding a 15 (a 3 for K <= 3, four pairs a code)
    and is dropped at the fold. For K = 16, 15 is a label, so each run of 4096 pairs is checked
    first (one vectorised pass) and a run holding a label >= 16 is counted pair by pair.
    """
    literally(chunk)
    literally(by_words)
    codes = np.empty(_PIPELINE_SLOTS * chunk, np.uint8)
    pair_counts = np.zeros(1 << 16, np.uint32)
    top = labels_true.dtype.type(15)
    n_chunks = labels_true.shape[0] // chunk
    per_fold, per_check = _PAIRS_PER_FOLD // chunk, _PAIRS_PER_CHECK // chunk
    for first in range(0, n_chunks, per_fold):
        last = min(first + per_fold, n_chunks)
        if n_classes <= _SMALL_MAX_CLASSES:
            _count_chunks_small(labels_true, labels_pred, first, last, codes, pair_counts, chunk)
        elif n_classes < 16:
            _count_chunks(labels_true, labels_pred, first, last, codes, pair_counts, chunk,
                          by_words)
        else:
            for lo_chunk in range(first, last, per_check):
                hi_chunk = min(lo_chunk + per_check, last)
                lo, hi = lo_chunk * chunk, hi_chunk * chunk
                if _largest_label(labels_true, labels_pred, lo, hi - lo) > top:
                    _confusion_into(labels_true[lo:hi], labels_pred[lo:hi], n_classes,
                                    flat_counts)
                else:
                    _count_chunks(labels_true, labels_pred, lo_chunk, hi_chunk, codes,
                                  pair_counts, chunk, by_words)
        _fold_pairs(pair_counts, n_classes, flat_counts)
    return n_chunks * chunk


@njit(cache=True)
def _confusion_chunks_narrow(labels_true, labels_pred, n_classes, flat_counts):
    """The chunk path for 1- and 2-byte labels (unsigned views); returns the pairs counted."""
    return _chunks_into(labels_true, labels_pred, n_classes, flat_counts, _CHUNK_PAIRS_NARROW,
                        True)


@njit(cache=True)
def _confusion_chunks_wide(labels_true, labels_pred, n_classes, flat_counts):
    """The chunk path for 4-byte labels (unsigned views); returns the pairs counted."""
    return _chunks_into(labels_true, labels_pred, n_classes, flat_counts, _CHUNK_PAIRS_WIDE, True)


@njit(cache=True)
def _confusion_chunks_eight(labels_true, labels_pred, n_classes, flat_counts):
    """The chunk path for 8-byte labels (unsigned views); returns the pairs counted."""
    return _chunks_into(labels_true, labels_pred, n_classes, flat_counts, _CHUNK_PAIRS_WIDE, False)


def _count_pairs(y_true, y_pred, n_classes, flat_counts):
    """Dispatch: the chunk path for K <= 16 on long contiguous labels of one width (read through
    unsigned views of that width), else pair by pair; the tail pair by pair.
    """
    n = y_true.shape[0]
    width = y_true.dtype.itemsize
    if (n_classes > _CHUNK_MAX_CLASSES or n < _CHUNK_MIN_PAIRS
            or y_pred.dtype.itemsize != width
            or not (y_true.flags.c_contiguous and y_pred.flags.c_contiguous)):
        _confusion_into(y_true, y_pred, n_classes, flat_counts)
        return
    unsigned = np.dtype(f"u{width}")
    chunks_into = {1: _confusion_chunks_narrow, 2: _confusion_chunks_narrow,
                   4: _confusion_chunks_wide}.get(width, _confusion_chunks_eight)
    done = chunks_into(y_true.view(unsigned), y_pred.view(unsigned), n_classes, flat_counts)
    if done < n:
        _confusion_into(y_true[done:], y_pred[done:], n_classes, flat_counts)


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


def _native(labels):
    """``labels`` in the machine's byte order (numba compiles only native arrays, and the chunk
    path reads unsigned views of the same bytes): a copy when they are byte-swapped.
    """
    return labels if labels.dtype.isnative else labels.astype(labels.dtype.newbyteorder("="))


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
    y_true, y_pred = _native(y_true), _native(y_pred)
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
    y_true, y_pred = _native(y_true), _native(y_pred)
    if out is None:
        out = np.zeros((n_classes, 2), dtype=np.int64)
    else:
        _check_out(out, (n_classes, 2))
    if y_true.shape[0] and n_classes:
        _good_bad_into(y_true, y_pred, n_classes, out.reshape(-1))
    return out
