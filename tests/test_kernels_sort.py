"""kernels._sort: the stable descending sorts against numpy's ``argsort(-x, kind='mergesort')``."""

from __future__ import annotations

import numpy as np

from kernels._sort import merge_sort_desc, radix_sort_desc


def test_score_sort_equals_numpy_mergesort():
    """The in-place sort must reproduce np.argsort(-x, kind='mergesort'): ties, -0.0, NaN last."""
    rng = np.random.default_rng(5)
    for n in (0, 1, 5, 16, 17, 33, 1000, 5000):
        for values in (rng.random(n), np.round(rng.normal(size=n), 1), rng.integers(-3, 3, n) * 1.0):
            values = values.copy()
            if n > 4:
                values[:3] = [np.nan, -0.0, 0.0]
                values[-1] = np.inf
            order, score = np.arange(n), values.copy()
            merge_sort_desc(order, score, 0, n, np.empty(n, np.int64), np.empty(n))
            assert order.tolist() == np.argsort(-values, kind="mergesort").tolist()


def test_radix_sort_equals_numpy_mergesort_on_ranges():
    """The radix path (categories over 1024 rows) must give the same order on any sub-range."""
    rng = np.random.default_rng(8)
    for n in (1, 1025, 5000):
        for values in (rng.random(n), np.round(rng.normal(size=n), 1), np.full(n, 0.5)):
            values = values.copy()
            if n > 4:
                values[:5] = [np.nan, -0.0, 0.0, np.inf, -np.inf]
            for lo, hi in ((0, n), (min(3, n), max(n - 2, min(3, n)))):
                order = np.arange(n)
                radix_sort_desc(order, values.view(np.uint64), lo, hi, np.empty(n, np.uint64),
                                np.empty(n, np.uint64), np.empty(n, np.int64))
                want = lo + np.argsort(-values[lo:hi], kind="mergesort")
                assert order[lo:hi].tolist() == want.tolist()
                assert order[:lo].tolist() == list(range(lo))
