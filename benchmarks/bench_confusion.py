"""Confusion-matrix and ROC AUC kernels against sklearn, numpy and a memory-bandwidth anchor.

Confusion matrix on N labels (K classes, 70% agreement), for int64, int32 and int8 labels:

- ``kernels.confusion.confusion_matrix`` (one pass);
- ``sklearn.metrics.confusion_matrix(labels=range(K))``;
- ``np.bincount(y_true * K + y_pred, minlength=K*K)``;
- the anchor: ``.sum()`` over the same bytes viewed as int64 (a read-bandwidth-bound loop).

ROC AUC on N binary labels with float64 scores (``kernels.ranking.roc_auc_binary`` vs
``sklearn.metrics.roc_auc_score``; the anchor is one ``np.argsort``), and one-vs-rest macro AUC
with K = 10 on N / 10 rows.

Usage::

    python benchmarks/bench_confusion.py [--n 10000000] [--repeats 7] [--no-sklearn]

Times are the best of ``--repeats`` runs in ms (the minimum is the least disturbed by other
processes on a shared machine, as ``timeit`` advises); sklearn runs once. "x anchor" = ours /
anchor (1.0 is the bandwidth floor), "sklearn/ours" = speed-up. Compilation is excluded (one
warm-up call).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kernels.confusion import confusion_matrix  # noqa: E402
from kernels.ranking import roc_auc_binary, roc_auc_ovr  # noqa: E402

N_CLASSES = 10


def _best_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def _labels(rng, n, dtype):
    y_true = rng.integers(0, N_CLASSES, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, N_CLASSES, n))
    return y_true.astype(dtype), y_pred.astype(dtype)


def bench_confusion(n: int, repeats: int, with_sklearn: bool) -> None:
    """Print the confusion-matrix table."""
    rng = np.random.default_rng(0)
    print(f"confusion matrix, N = {n:.0e}, K = {N_CLASSES} (ms, best of {repeats})")
    print(f"{'dtype':>6} {'MB read':>8} {'anchor':>8} {'kernel':>8} {'x anchor':>9} "
          f"{'bincount':>9} {'sklearn':>9} {'sklearn/ours':>13}")
    for dtype in (np.int64, np.int32, np.int8):
        y_true, y_pred = _labels(rng, n - n % 8, dtype)
        expected = confusion_matrix(y_true[:100], y_pred[:100], N_CLASSES)  # compile
        del expected
        as_words_true, as_words_pred = y_true.view(np.int64), y_pred.view(np.int64)
        anchor = _best_ms(lambda: (as_words_true.sum(), as_words_pred.sum()), repeats)
        ours = _best_ms(lambda: confusion_matrix(y_true, y_pred, N_CLASSES), repeats)
        bincount = _best_ms(
            lambda: np.bincount(y_true.astype(np.int64) * N_CLASSES + y_pred, minlength=N_CLASSES ** 2),
            max(1, repeats // 2),
        )
        check = np.bincount(y_true.astype(np.int64) * N_CLASSES + y_pred, minlength=N_CLASSES ** 2)
        if not np.array_equal(confusion_matrix(y_true, y_pred, N_CLASSES).reshape(-1), check):
            raise SystemExit("kernel result differs from np.bincount")
        sk_text, ratio_text = "-", "-"
        if with_sklearn:
            from sklearn.metrics import confusion_matrix as sk_confusion

            labels = list(range(N_CLASSES))
            sk = _best_ms(lambda: sk_confusion(y_true, y_pred, labels=labels), 1)
            sk_text, ratio_text = f"{sk:9.1f}", f"{sk / ours:13.0f}"
        mb = 2 * y_true.nbytes / 1e6
        print(f"{np.dtype(dtype).name:>6} {mb:8.0f} {anchor:8.2f} {ours:8.2f} {ours / anchor:9.2f} "
              f"{bincount:9.2f} {sk_text:>9} {ratio_text:>13}")


def bench_auc(n: int, repeats: int, with_sklearn: bool) -> None:
    """Print the ROC AUC table."""
    rng = np.random.default_rng(1)
    is_positive = rng.random(n) < 0.4
    score = rng.random(n) + 0.3 * is_positive
    roc_auc_binary(is_positive[:100], score[:100])  # compile
    anchor = _best_ms(lambda: np.argsort(score), max(1, repeats // 2))
    ours = _best_ms(lambda: roc_auc_binary(is_positive, score), max(1, repeats // 2))
    print(f"\nROC AUC binary, N = {n:.0e} (ms)")
    line = f"argsort anchor {anchor:8.1f}   kernel {ours:8.1f}   x anchor {ours / anchor:5.2f}"
    if with_sklearn:
        from sklearn.metrics import roc_auc_score

        sk = _best_ms(lambda: roc_auc_score(is_positive, score), 1)
        delta = abs(roc_auc_score(is_positive, score) - roc_auc_binary(is_positive, score))
        line += f"   sklearn {sk:8.1f}   sklearn/ours {sk / ours:5.1f}   |delta| {delta:.1e}"
    print(line)

    n_ovr = n // 10
    y = rng.integers(0, N_CLASSES, n_ovr)
    probs = rng.random((n_ovr, N_CLASSES)) + 0.5 * np.eye(N_CLASSES)[y]
    probs /= probs.sum(axis=1, keepdims=True)
    ours = _best_ms(lambda: roc_auc_ovr(y, probs), max(1, repeats // 2))
    line = f"ROC AUC one-vs-rest macro, N = {n_ovr:.0e}, K = {N_CLASSES}: kernel {ours:8.1f} ms"
    if with_sklearn:
        from sklearn.metrics import roc_auc_score

        sk = _best_ms(lambda: roc_auc_score(y, probs, multi_class="ovr"), 1)
        line += f"   sklearn {sk:8.1f} ms   sklearn/ours {sk / ours:5.1f}"
    print(line)


def main(argv=None) -> None:
    """Parse arguments and run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-sklearn", action="store_true", help="skip the (slow) sklearn timings")
    args = parser.parse_args(argv)
    bench_confusion(args.n, args.repeats, not args.no_sklearn)
    bench_auc(args.n, args.repeats, not args.no_sklearn)


if __name__ == "__main__":
    main()
