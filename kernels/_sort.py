"""Stable descending sorts of scores with a carried index: the one sort the box kernels share.

Both orders are ``np.argsort(-score, kind='mergesort')``: descending score, equal scores (-0.0 and
0.0 included) keep their input order, NaN sorts last. pycocotools ranks detections this way
(``kernels.coco_evaluate``) and so does pandas' stable ``sort_values(ascending=False)`` that bes-dev
AP uses (``kernels.besdev_ap``).

- ``merge_sort_desc``: insertion sort of 16-runs, then bottom-up merges through caller buffers;
  no allocation, so it suits many small ranges.
- ``radix_sort_desc``: LSD radix sort on the float64 bits, branch-free; faster on long ranges.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)

_RUN = 16


@njit(cache=True)
def _first_before(a, b):
    """True when score ``a`` sorts strictly before ``b`` in ``np.argsort(-x)`` (NaN last)."""
    return a > b or (np.isnan(b) and not np.isnan(a))


@njit(cache=True)
def merge_sort_desc(order, score, lo, hi, buf_order, buf_score):
    """Stable in-place sort of ``order[lo:hi]`` and ``score[lo:hi]`` together by descending score.

    ``buf_order`` and ``buf_score`` are scratch arrays at least ``hi`` long (positions ``lo:hi``
    are used).
    """
    for run in range(lo, hi, _RUN):
        end = min(run + _RUN, hi)
        for i in range(run + 1, end):
            x, xs = order[i], score[i]
            j = i - 1
            while j >= run and _first_before(xs, score[j]):
                order[j + 1] = order[j]
                score[j + 1] = score[j]
                j -= 1
            order[j + 1] = x
            score[j + 1] = xs
    width = _RUN
    while width < hi - lo:
        for left in range(lo, hi, 2 * width):
            mid = min(left + width, hi)
            right = min(left + 2 * width, hi)
            i, j = left, mid
            for o in range(left, right):
                # the right run goes first only when strictly before: stability
                if j < right and (i >= mid or _first_before(score[j], score[i])):
                    buf_order[o] = order[j]
                    buf_score[o] = score[j]
                    j += 1
                else:
                    buf_order[o] = order[i]
                    buf_score[o] = score[i]
                    i += 1
        for o in range(lo, hi):  # a loop: slice assignment costs seconds of compilation
            order[o] = buf_order[o]
            score[o] = buf_score[o]
        width *= 2


@njit(cache=True)
def radix_sort_desc(order, score_bits, lo, hi, keys, buf_keys, buf_order):
    """Stable LSD radix sort of ``order[lo:hi]`` by descending score, the order of
    ``merge_sort_desc``; ``score_bits`` are the float64 bits of the scores at those positions.

    Each score becomes a uint64 key whose ascending order is the descending score order (-0.0
    folded into 0.0, NaN last); 11-bit digits, a digit constant over the range is skipped.
    """
    sign = np.uint64(0x8000000000000000)
    exponent = np.uint64(0x7FF0000000000000)
    mantissa = np.uint64(0x000FFFFFFFFFFFFF)
    for i in range(lo, hi):
        bits = score_bits[i]
        if bits == sign:
            bits = np.uint64(0)  # -0.0 ties with 0.0
        if (bits & exponent) == exponent and (bits & mantissa) != 0:
            keys[i] = np.uint64(0xFFFFFFFFFFFFFFFF)  # NaN: last
        elif bits & sign:
            keys[i] = bits
        else:
            keys[i] = ~(bits | sign)
    counts = np.empty(2049, np.int64)
    mask = np.uint64(0x7FF)
    src_keys, src_order, dst_keys, dst_order = keys, order, buf_keys, buf_order
    for shift in range(0, 64, 11):
        sh = np.uint64(shift)
        for b in range(2049):
            counts[b] = 0
        for i in range(lo, hi):
            counts[((src_keys[i] >> sh) & mask) + 1] += 1
        if counts[((src_keys[lo] >> sh) & mask) + 1] == hi - lo:
            continue
        counts[0] = lo
        for b in range(2048):
            counts[b + 1] += counts[b]
        for i in range(lo, hi):
            b = (src_keys[i] >> sh) & mask
            dst_keys[counts[b]] = src_keys[i]
            dst_order[counts[b]] = src_order[i]
            counts[b] += 1
        src_keys, src_order, dst_keys, dst_order = dst_keys, dst_order, src_keys, src_order
    if src_order is not order:
        for i in range(lo, hi):
            order[i] = src_order[i]
