"""Confusion-matrix and ROC AUC kernels against their bytes-read floor, sklearn and numpy.

Confusion matrix on N labels (K classes, 70% agreement), for int64, int32 and int8 labels, all
timed interleaved (one call of each per round, ``--repeats`` rounds, min / median in ms):

- the floor: reading the same bytes once, the fastest of numpy ``.sum()`` and two numba loops
  over both label arrays viewed as uint64 words, one array after the other and both in one loop
  (nothing can count the pairs without reading them); the last column, "x old", is the
  kernel's ratio to the floor of the fifth session (without the one-loop read);
- ``kernels.confusion.confusion_matrix`` (the chunk path for K <= 16, see its module docstring);
- ``before`` (with ``--before FILE``): ``confusion_matrix`` of another version of
  ``kernels/confusion.py``, e.g. ``git show c84448e:kernels/confusion.py > /tmp/before.py``;
- ``pair loop``: the one-pair-at-a-time kernel it falls back to (before issue 14, the only path);
- ``np.bincount(y_true * K + y_pred, minlength=K*K)``; sklearn (``--no-sklearn`` skips it) once.

"x floor" = min time / min floor (1.0 is the floor). The results are checked equal to bincount.
``--clock cpu`` times with the thread's CPU time instead of the wall clock: on a shared machine
it leaves out the time the process waits for a CPU (the memory traffic of others still counts).
``--strays RATE`` sets that fraction of the true labels to -1 (Edge Impulse's unknown label).
``--increments`` also times bare ``table[code] += 1`` loops, the floor of counting by a table.
``--stages`` splits the kernel's time (K <= 15): the floor, the chunk path's code loop alone (the
labels read and turned into byte codes, nothing counted), its counting alone (the kernel's own
``_count_code_words`` on the same number of codes, taken from a buffer in L1), and the kernel.

ROC AUC on N binary labels with float64 scores (``kernels.ranking.roc_auc_binary`` vs
``sklearn.metrics.roc_auc_score``; the anchor is one ``np.argsort``), and one-vs-rest macro AUC
with K = 10 on N / 10 rows.

Usage::

    python benchmarks/bench_confusion.py [--n 10000000] [--repeats 15] [--no-sklearn] [--no-auc]
        [--clock wall|cpu] [--dtypes int64,int32,int8] [--strays 0.01] [--before FILE]
        [--increments] [--stages] [--classes 3]

Compilation is excluded (one warm-up call of each).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from numba import literally, njit  # noqa: E402

from kernels import confusion as _confusion  # noqa: E402
from kernels.confusion import (  # noqa: E402
    _CHUNK_PAIRS_NARROW,
    _CHUNK_PAIRS_WIDE,
    _PIPELINE_SLOTS,
    _confusion_into,
    confusion_matrix,
)
from kernels.ranking import roc_auc_binary, roc_auc_ovr  # noqa: E402

N_CLASSES = 10
#: The timer of the interleaved rounds (``--clock``).
_clock = time.perf_counter


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


@njit(cache=True)
def _read_words_together(words_true, words_pred):
    """As ``_read_words``, both arrays in one loop: two streams at once, 15-25 % faster than one
    after the other on this machine (sixth session), so the floor is the faster of the two.
    """
    total = np.uint64(0)
    for i in range(words_true.shape[0]):
        total += words_true[i] + words_pred[i]
    return total


@njit(cache=True)
def _increment_all(cells, table, rounds):
    """``table[cell] += 1`` for every cell, ``rounds`` times: the chunk path's counting loop."""
    for _ in range(rounds):
        for i in range(cells.shape[0]):
            table[cells[i]] += np.uint32(1)


@njit(cache=True)
def _codes_only(labels_true, labels_pred, chunk):
    """The chunk path's code loop alone (``_count_chunks`` without its counting): every label
    read and turned into a byte code in a ring of chunk buffers; returns one word a chunk xor-ed
    so nothing is optimised away. ``chunk`` is a literal, as in the kernel.
    """
    literally(chunk)
    slots = _PIPELINE_SLOTS
    codes = np.empty(slots * chunk, np.uint8)
    code_words = codes.view(np.uint64)
    top = labels_true.dtype.type(15)
    check = np.uint64(0)
    for c in range(labels_true.shape[0] // chunk):
        fill = (c % slots) * chunk
        start = np.uint64(c * chunk)
        for i in range(chunk):
            t = labels_true[start + np.uint64(i)]
            p = labels_pred[start + np.uint64(i)]
            codes[fill + i] = np.uint8((min(t, top) << 4) | min(p, top))
        check ^= code_words[fill // 8]
    return check


@njit(cache=True)
def _codes_only_narrow(labels_true, labels_pred):
    """``_codes_only`` with the kernel's chunk for 1- and 2-byte labels (a literal, compiled in:
    called from Python with a plain int, ``literally`` would re-dispatch on every call).
    """
    return _codes_only(labels_true, labels_pred, _CHUNK_PAIRS_NARROW)


@njit(cache=True)
def _codes_only_wide(labels_true, labels_pred):
    """``_codes_only`` with the kernel's chunk for 4- and 8-byte labels."""
    return _codes_only(labels_true, labels_pred, _CHUNK_PAIRS_WIDE)


@njit(cache=True)
def _count_only(code_words, table, rounds):
    """The kernel's counting alone: ``_count_code_words`` over an L1-resident buffer of codes,
    ``rounds`` times.
    """
    for _ in range(rounds):
        _confusion._count_code_words(code_words, 0, code_words.shape[0], table)


def bench_stages(n: int, repeats: int, dtypes) -> None:
    """Print where the kernel's time goes, per dtype, all interleaved (``--stages``)."""
    rng = np.random.default_rng(3)
    print(f"\nstages of the chunk path, N = {n:.0e}, K = {N_CLASSES} (ms, min/median of {repeats} "
          f"interleaved rounds): floor | codes only | counting only | codes + counting | kernel")
    for dtype in dtypes:
        y_true, y_pred = _labels(rng, n - n % 1024, np.dtype(dtype))
        unsigned = np.dtype(f"u{y_true.dtype.itemsize}")
        labels_true, labels_pred = y_true.view(unsigned), y_pred.view(unsigned)
        words_true, words_pred = y_true.view(np.uint64), y_pred.view(np.uint64)
        codes_only = _codes_only_narrow if y_true.dtype.itemsize <= 2 else _codes_only_wide
        buffer = (np.minimum(y_true[:8192].astype(np.uint8), 15) << 4
                  | np.minimum(y_pred[:8192].astype(np.uint8), 15)).view(np.uint64)
        table = np.zeros(1 << 16, np.uint32)
        calls = {
            "floor": partial(_read_words_together, words_true, words_pred),
            "codes": partial(codes_only, labels_true, labels_pred),
            "count": partial(_count_only, buffer, table, y_true.shape[0] // 8192),
            "kernel": partial(confusion_matrix, y_true, y_pred, N_CLASSES),
        }
        for call in calls.values():
            call()
        times = _interleaved(calls, repeats)
        floor = min(times["floor"])
        cells = [f"{min(times[name]):5.2f}/{np.median(times[name]):5.2f} "
                 f"({min(times[name]) / floor:4.2f})" for name in calls]
        both = min(times["codes"]) + min(times["count"])
        cells.insert(3, f"{both:5.2f} ({both / floor:4.2f})")
        print(f"{y_true.dtype.name:>6} " + " | ".join(cells))


def bench_increments(repeats: int) -> None:
    """Print ns per table increment (the floor of counting): distinct cells in order, and the
    16-bit pair codes of the benchmark's labels (K = 10, 70 % agreement), from an L1 buffer.
    """
    rng = np.random.default_rng(2)
    y_true, y_pred = _labels(rng, 4096, np.uint8)
    codes = ((y_true << 4) | y_pred).astype(np.uint8)
    cases = {"distinct cells": np.arange(2048, dtype=np.uint16),
             f"K = {N_CLASSES} pair codes": codes.view(np.uint16)}
    table = np.zeros(1 << 16, np.uint32)
    rounds = 1000
    _increment_all(cases["distinct cells"], table, 1)
    times = _interleaved({name: (lambda cells=cells: _increment_all(cells, table, rounds))
                          for name, cells in cases.items()}, repeats)
    print("\ntable increments (uint32 cells, 65536-cell table), ns per increment, min/median:")
    for name, cells in cases.items():
        per = 1e6 / (rounds * cells.shape[0])  # ms -> ns per increment
        print(f"  {name:18s} {min(times[name]) * per:.3f}/{np.median(times[name]) * per:.3f}")


def _interleaved(calls: dict, repeats: int) -> dict:
    """Run each call once per round, ``repeats`` rounds; times in ms per call name."""
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            start = _clock()
            fn()
            times[name].append(1e3 * (_clock() - start))
    return times


def _labels(rng, n, dtype, strays=0.0):
    y_true = rng.integers(0, N_CLASSES, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, N_CLASSES, n))
    if strays:
        y_true[rng.random(n) < strays] = -1
    return y_true.astype(dtype), y_pred.astype(dtype)


def _load_before(path: str):
    """``confusion_matrix`` of another version of kernels/confusion.py (``--before``)."""
    spec = importlib.util.spec_from_file_location("confusion_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["confusion_before"] = module  # numba's cache looks the module up by name
    spec.loader.exec_module(module)
    return module.confusion_matrix


def _pair_loop(y_true, y_pred):
    out = np.zeros(N_CLASSES * N_CLASSES, np.int64)
    _confusion_into(y_true, y_pred, N_CLASSES, out)
    return out


def _bincount(y_true, y_pred):
    """The reference counts (pairs with a label outside 0..K-1 dropped), flat K*K."""
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    keep = (y_true >= 0) & (y_true < N_CLASSES) & (y_pred >= 0) & (y_pred < N_CLASSES)
    return np.bincount(y_true[keep] * N_CLASSES + y_pred[keep], minlength=N_CLASSES ** 2)


def _confusion_row(y_true, y_pred, repeats: int, with_sklearn: bool, before=None) -> str:
    """One dtype's table row: floor, kernel, before, pair loop (min/median), bincount, sklearn."""
    words_true, words_pred = y_true.view(np.uint64), y_pred.view(np.uint64)
    check = _bincount(y_true, y_pred)
    results = [confusion_matrix(y_true, y_pred, N_CLASSES), _pair_loop(y_true, y_pred)]
    if before is not None:
        results.append(before(y_true, y_pred, N_CLASSES))
    if not all(np.array_equal(result.reshape(-1), check) for result in results):
        raise SystemExit("kernel result differs from np.bincount")
    _read_words(words_true, words_pred)
    _read_words_together(words_true, words_pred)
    calls = {
        "numba read": lambda: _read_words(words_true, words_pred),
        "numba read together": lambda: _read_words_together(words_true, words_pred),
        "numpy read": lambda: (words_true.sum(), words_pred.sum()),
        "kernel": lambda: confusion_matrix(y_true, y_pred, N_CLASSES),
        "pair loop": lambda: _pair_loop(y_true, y_pred),
    }
    if before is not None:
        calls["before"] = lambda: before(y_true, y_pred, N_CLASSES)
    times = _interleaved(calls, repeats)
    floors = ("numba read", "numba read together", "numpy read")
    floor = min(min(times[name]) for name in floors)
    floor_med = min(np.median(times[name]) for name in floors)
    old_floor = min(min(times["numba read"]), min(times["numpy read"]))
    if check.sum() == y_true.shape[0]:  # no stray labels: numpy's plain one-liner
        bincount = _best_ms(lambda: np.bincount(y_true.astype(np.int64) * N_CLASSES + y_pred,
                                                minlength=N_CLASSES ** 2), max(1, repeats // 4))
    else:
        bincount = _best_ms(lambda: _bincount(y_true, y_pred), max(1, repeats // 4))
    sk_text = "-"
    if with_sklearn:
        from sklearn.metrics import confusion_matrix as sk_confusion

        labels = list(range(N_CLASSES))
        sk_text = f"{_best_ms(lambda: sk_confusion(y_true, y_pred, labels=labels), 1):8.0f}"

    def cell(name):
        return f"{min(times[name]):5.2f}/{np.median(times[name]):5.2f}"

    before_text = "-"
    if before is not None:
        before_text = f"{cell('before')} {min(times['before']) / floor:5.2f}"
    return (f"{y_true.dtype.name:>6} {2 * y_true.nbytes / 1e6:8.0f} {floor:5.2f}/{floor_med:5.2f} "
            f"{cell('kernel'):>11} {min(times['kernel']) / floor:8.2f} {before_text:>17} "
            f"{cell('pair loop'):>11} {min(times['pair loop']) / floor:8.2f} {bincount:9.2f} "
            f"{sk_text:>8} {min(times['kernel']) / old_floor:6.2f}")


def bench_confusion(n: int, repeats: int, with_sklearn: bool, dtypes=("int64", "int32", "int8"),
                    strays: float = 0.0, before=None) -> None:
    """Print the confusion-matrix table."""
    rng = np.random.default_rng(0)
    clock = "thread CPU time" if _clock is time.thread_time else "wall clock"
    print(f"confusion matrix, N = {n:.0e}, K = {N_CLASSES}, strays {strays:g} "
          f"(ms, min/median of {repeats} interleaved rounds, {clock})")
    print(f"{'dtype':>6} {'MB read':>8} {'floor':>11} {'kernel':>11} {'x floor':>8} "
          f"{'before  x floor':>17} {'pair loop':>11} {'x floor':>8} {'bincount':>9} {'sklearn':>8} "
          f"{'x old':>6}")
    for dtype in dtypes:
        y_true, y_pred = _labels(rng, n - n % 8, np.dtype(dtype), strays)
        print(_confusion_row(y_true, y_pred, repeats, with_sklearn, before))


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
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time the rounds by the wall clock or the thread's CPU time")
    parser.add_argument("--dtypes", default="int64,int32,int8", help="label dtypes, comma-separated")
    parser.add_argument("--strays", type=float, default=0.0,
                        help="fraction of true labels set to -1 (unknown)")
    parser.add_argument("--before", metavar="FILE",
                        help="another kernels/confusion.py to time in the same rounds")
    parser.add_argument("--classes", type=int, default=10, help="K, the number of labels")
    parser.add_argument("--increments", action="store_true",
                        help="also time bare table increments (the floor of counting)")
    parser.add_argument("--stages", action="store_true",
                        help="also split the kernel's time: codes only, counting only")
    args = parser.parse_args(argv)
    global _clock, N_CLASSES
    _clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    N_CLASSES = args.classes
    before = _load_before(args.before) if args.before else None
    bench_confusion(args.n, args.repeats, not args.no_sklearn, args.dtypes.split(","),
                    args.strays, before)
    if args.increments:
        bench_increments(args.repeats)
    if args.stages:
        bench_stages(args.n, args.repeats, args.dtypes.split(","))
    if not args.no_auc:
        bench_auc(args.n, args.repeats, not args.no_sklearn)


if __name__ == "__main__":
    main()
