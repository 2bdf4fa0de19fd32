"""Confusion-matrix and ROC AUC kernels against their bytes-read floor, sklearn and numpy.

Confusion matrix on N labels (K classes, 70% agreement), for int64, int32 and int8 labels, all
timed interleaved (one call of each per round, ``--repeats`` rounds, min / median in ms):

- the floor: reading the same bytes once, the faster of a numba loop and numpy ``.sum()`` over
  both label arrays viewed as uint64 words (nothing can count the pairs without reading them);
- ``kernels.confusion.confusion_matrix`` (the word path for K <= 16, see its module docstring);
- ``pair loop``: the one-pair-at-a-time kernel it falls back to (before issue 14, the only path);
- ``np.bincount(y_true * K + y_pred, minlength=K*K)``; sklearn (``--no-sklearn`` skips it) once.

"x floor" = min time / min floor (1.0 is the floor). The results are checked equal to bincount.

ROC AUC on N binary labels with float64 scores (``kernels.ranking.roc_auc_binary`` vs
``sklearn.metrics.roc_auc_score``; the anchor is one ``np.argsort``), and one-vs-rest macro AUC
with K = 10 on N / 10 rows.

Usage::

    python benchmarks/bench_confusion.py [--n 10000000] [--repeats 15] [--no-sklearn] [--no-auc]

Compilation is excluded (one warm-up call of each).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from numba import njit  # noqa: E402

from kernels.confusion import _confusion_into, confusion_matrix  # noqa: E402
from kernels.ranking import roc_auc_binary, roc_auc_ovr  # noqa: E402

N_CLASSES = 10


def _best_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


@njit(cache=True)
def _read_words(words_true, words_pred):
    """Sum of both arrays' uint64 words: every byte read once, nothing else."""
    total = np.uint64(0)
    for i in range(words_true.shape[0]):
        total += words_true[i]
    for i in range(words_pred.shape[0]):
        total += words_pred[i]
    return total


def _interleaved(calls: dict, repeats: int) -> dict:
    """Run each call once per round, ``repeats`` rounds; times in ms per call name."""
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            times[name].append(1e3 * (time.perf_counter() - start))
    return times


def _labels(rng, n, dtype):
    y_true = rng.integers(0, N_CLASSES, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, N_CLASSES, n))
    return y_true.astype(dtype), y_pred.astype(dtype)


def _pair_loop(y_true, y_pred):
    out = np.zeros(N_CLASSES * N_CLASSES, np.int64)
    _confusion_into(y_true, y_pred, N_CLASSES, out)
    return out


def _confusion_row(y_true, y_pred, repeats: int, with_sklearn: bool) -> str:
    """One dtype's table row: floor, kernel, pair loop (min/median), bincount, sklearn."""
    words_true, words_pred = y_true.view(np.uint64), y_pred.view(np.uint64)
    check = np.bincount(y_true.astype(np.int64) * N_CLASSES + y_pred, minlength=N_CLASSES ** 2)
    if not (np.array_equal(confusion_matrix(y_true, y_pred, N_CLASSES).reshape(-1), check)
            and np.array_equal(_pair_loop(y_true, y_pred), check)):
        raise SystemExit("kernel result differs from np.bincount")
    _read_words(words_true, words_pred)
    times = _interleaved({
        "numba read": lambda: _read_words(words_true, words_pred),
        "numpy read": lambda: (words_true.sum(), words_pred.sum()),
        "kernel": lambda: confusion_matrix(y_true, y_pred, N_CLASSES),
        "pair loop": lambda: _pair_loop(y_true, y_pred),
    }, repeats)
    floor = min(min(times["numba read"]), min(times["numpy read"]))
    floor_med = min(np.median(times["numba read"]), np.median(times["numpy read"]))
    bincount = _best_ms(
        lambda: np.bincount(y_true.astype(np.int64) * N_CLASSES + y_pred, minlength=N_CLASSES ** 2),
        max(1, repeats // 4),
    )
    sk_text = "-"
    if with_sklearn:
        from sklearn.metrics import confusion_matrix as sk_confusion

        labels = list(range(N_CLASSES))
        sk_text = f"{_best_ms(lambda: sk_confusion(y_true, y_pred, labels=labels), 1):8.0f}"

    def cell(name):
        return f"{min(times[name]):5.2f}/{np.median(times[name]):5.2f}"

    return (f"{y_true.dtype.name:>6} {2 * y_true.nbytes / 1e6:8.0f} {floor:5.2f}/{floor_med:5.2f} "
            f"{cell('kernel'):>11} {min(times['kernel']) / floor:8.2f} {cell('pair loop'):>11} "
            f"{min(times['pair loop']) / floor:8.2f} {bincount:9.2f} {sk_text:>8}")


def bench_confusion(n: int, repeats: int, with_sklearn: bool) -> None:
    """Print the confusion-matrix table."""
    rng = np.random.default_rng(0)
    print(f"confusion matrix, N = {n:.0e}, K = {N_CLASSES} (ms, min/median of {repeats} interleaved rounds)")
    print(f"{'dtype':>6} {'MB read':>8} {'floor':>11} {'kernel':>11} {'x floor':>8} {'pair loop':>11} "
          f"{'x floor':>8} {'bincount':>9} {'sklearn':>8}")
    for dtype in (np.int64, np.int32, np.int8):
        y_true, y_pred = _labels(rng, n - n % 8, dtype)
        print(_confusion_row(y_true, y_pred, repeats, with_sklearn))


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
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-sklearn", action="store_true", help="skip the (slow) sklearn timings")
    parser.add_argument("--no-auc", action="store_true", help="only the confusion-matrix table")
    args = parser.parse_args(argv)
    bench_confusion(args.n, args.repeats, not args.no_sklearn)
    if not args.no_auc:
        bench_auc(args.n, args.repeats, not args.no_sklearn)


if __name__ == "__main__":
    main()
