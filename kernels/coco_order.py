"""COCO phase 1, ordering: rows grouped by (category, image), detections in score order.

The groups of pycocotools ``evaluateImg`` (one per image and category) come from two stable
counting sorts instead of per-image Python lists; inside a group detections run by descending
score with ties in input order (pycocotools' per-image mergesort), cut at ``max_det``. The same
pass also gives the order phase 2 (``kernels.coco_accumulate``) walks. ``kernels.coco_evaluate``
matches the groups.

Letters: D detections, G ground truths, K categories, I images.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from kernels._sort import merge_sort_desc, radix_sort_desc

# Ranges longer than this are sorted by radix (branch-free), shorter ones by merge sort.
RADIX_MIN = 1024


@njit(cache=True)
def group(image, category, n_images, n_categories):
    """Indices by (category, image), input order inside a group, and each row's group key.

    Two stable counting passes; the second carries the image along so that no pass reads
    ``image`` or ``category`` through a random index.
    """
    n = image.size
    counts = np.zeros(max(n_images, n_categories) + 1, np.int64)
    for i in range(n):
        if image[i] < 0 or image[i] >= n_images or category[i] < 0 \
                or category[i] >= n_categories:
            raise ValueError("image or category index out of range")
        counts[image[i] + 1] += 1
    for k in range(n_images):
        counts[k + 1] += counts[k]
    by_image = np.empty(n, np.int64)
    cat_by_image = np.empty(n, np.int64)
    for i in range(n):
        pos = counts[image[i]]
        by_image[pos] = i
        cat_by_image[pos] = category[i]
        counts[image[i]] += 1
    for k in range(counts.size):
        counts[k] = 0
    for i in range(n):
        counts[cat_by_image[i] + 1] += 1
    for k in range(n_categories):
        counts[k + 1] += counts[k]
    order = np.empty(n, np.int64)
    key = np.empty(n, np.int64)
    for i in range(n):
        c = cat_by_image[i]
        pos = counts[c]
        order[pos] = by_image[i]
        key[pos] = c * n_images + image[by_image[i]]
        counts[c] += 1
    return order, key


@njit(cache=True)
def _sort_groups_by_score(order, key, dt_score):
    """Sort each run of equal ``key`` in ``order`` by descending score, ties in input order."""
    n = order.size
    score = np.empty(n, np.float64)
    for p in range(n):
        score[p] = dt_score[order[p]]
    buf_order = np.empty(n, np.int64)
    buf_score = np.empty(n, np.float64)
    p = 0
    while p < n:
        end = p + 1
        while end < n and key[end] == key[p]:
            end += 1
        if end - p > 1:
            merge_sort_desc(order, score, p, end, buf_order, buf_score)
        p = end
    return score


@njit(cache=True)
def order_detections(dt_image, dt_category, dt_score, n_images, n_categories, max_det):
    """Per-(image, category) ranks and the kept detections, in group and in accumulate order.

    Groups run by (category, image); inside, by score descending with ties in input order
    (pycocotools' per-image mergesort), cut at max_det. The accumulate order of the kept rows is
    (category, score descending, image, rank): a stable score sort of each category's
    group-ordered rows, as pycocotools' ``argsort(-scores, kind='mergesort')`` over images
    concatenated in id order.
    """
    order, key = group(dt_image, dt_category, n_images, n_categories)
    score = _sort_groups_by_score(order, key, dt_score)
    n_dt = order.size
    rank = np.empty(n_dt, np.int64)
    n_keep = 0
    for p in range(n_dt):
        rank[p] = rank[p - 1] + 1 if p > 0 and key[p] == key[p - 1] else 0
        n_keep += rank[p] < max_det
    kept = np.empty(n_keep, np.int64)  # positions in group order
    kept_category = np.empty(n_keep, np.int64)
    q = 0
    for p in range(n_dt):
        if rank[p] < max_det:
            kept[q] = p
            kept_category[q] = key[p] // n_images
            q += 1
    offsets = np.zeros(n_categories + 1, np.int64)
    for q in range(n_keep):
        offsets[kept_category[q] + 1] += 1
    for k in range(n_categories):
        offsets[k + 1] += offsets[k]
    # kept rows of a category are contiguous and in (image, rank) order: sort each by score
    table = np.arange(n_keep)  # positions in `kept`, accumulate order
    kept_score = score[kept]
    kept_bits = kept_score.view(np.uint64)
    buf_order = np.empty(n_keep, np.int64)
    buf_score = np.empty(n_keep, np.float64)
    keys = np.empty(n_keep, np.uint64)
    buf_keys = np.empty(n_keep, np.uint64)
    for k in range(n_categories):
        lo, hi = offsets[k], offsets[k + 1]
        if hi - lo > RADIX_MIN:
            radix_sort_desc(table, kept_bits, lo, hi, keys, buf_keys, buf_order)
        else:
            merge_sort_desc(table, kept_score, lo, hi, buf_order, buf_score)
    return order, key, score, rank, kept, table, offsets
