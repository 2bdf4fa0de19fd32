"""JavaScript number text of a whole score column vs Python's own float text (the floor).

A run writes every window's scores as JavaScript writes them (``evalcore.jsnumber.format_floats``).
The floor is Python's ``repr`` of each value (what the stdlib JSON encoder pays, with Python's
notation); the per-value reference is ``format_number`` mapped over the values. Columns are
float32 softmax scores of 4 classes over 21,000 windows at three confidence levels: the more
confident the model, the more scores fall below 1e-4, where Python's text (``1.5e-05``) and
JavaScript's (``0.000015``) differ and the text has to be rewritten.

Columns: ``array`` is ``format_floats``' Python path (``repr`` and string rewrites), ``compiled``
its compiled pass (``kernels.jsfloat``, taken once numba is loaded, as in a run), ``rows`` the
per-window ``{"label":score,...}`` objects a run writes (``jsonio.float_object_rows``, compiled),
all in ns a value and as a ratio to ``repr`` (the floor of Python's own text).

Usage: ``python benchmarks/bench_jsnumber.py [--windows 21000] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from evalcore import jsnumber
from evalcore.jsnumber import format_floats, format_number
from evalcore.jsonio import float_object_rows
from kernels.jsfloat import js_texts


def _scores(rng: np.random.Generator, n_windows: int, spread: float) -> np.ndarray:
    logits = rng.standard_normal((n_windows, 4)) * spread
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def _interleaved(fns: dict, repeat: int) -> dict:
    """Median seconds of each function, and of its ratio to the first, over rounds that run
    every function once in turn (a shared machine's speed drifts; the ratio is taken per round).
    """
    times: dict = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    first = next(iter(fns))
    return {name: (statistics.median(ts), statistics.median(a / b for a, b in zip(ts, times[first])))
            for name, ts in times.items()}


def main() -> None:
    """Print one row per confidence level: ns a value for the floor, per value and whole array."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=21_000)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'logit spread':>12} {'< 1e-4':>7} {'repr (ns)':>10} {'per value':>10} {'array':>7} "
          f"{'compiled':>9} {'rows':>6} {'array/repr':>11} {'compiled/repr':>14} {'rows/repr':>10}")
    keys = ("idle", "snake", "updown", "wave")

    compiled_available = jsnumber.compiled_available

    def python_path(scores):
        jsnumber.compiled_available = lambda: False
        try:
            return format_floats(scores)
        finally:
            jsnumber.compiled_available = compiled_available

    for spread in (1.0, 4.0, 12.0):
        scores = _scores(rng, args.windows, spread)
        items = scores.astype(np.float64).ravel().tolist()
        want = [format_number(v) for v in items]
        assert python_path(scores) == want and js_texts(scores) == want
        flat = scores.astype(np.float64).ravel()
        got = _interleaved({
            "repr": lambda flat=flat: list(map(float.__repr__, flat.tolist())),
            "per value": lambda flat=flat: [format_number(v) for v in flat.tolist()],
            "array": lambda scores=scores: python_path(scores),
            "compiled": lambda scores=scores: js_texts(scores),
            "rows": lambda scores=scores: float_object_rows(keys, scores),
        }, args.repeat)
        ns = 1e9 / len(items)
        small = float(np.mean(np.abs(scores) < 1e-4))
        print(f"{spread:12.0f} {small:7.1%} {got['repr'][0] * ns:10.0f} {got['per value'][0] * ns:10.0f} "
              f"{got['array'][0] * ns:7.0f} {got['compiled'][0] * ns:9.0f} {got['rows'][0] * ns:6.0f} "
              f"{got['array'][1]:11.2f} {got['compiled'][1]:14.2f} {got['rows'][1]:10.2f}", flush=True)


if __name__ == "__main__":
    main()
