"""Model backends against the bare runtime: time per window on the same rows, same process.

For each model, ``ours`` is ``load_backend(...).run(rows)`` (quantisation, batching, probe
included; the backend is created and warmed up once, outside the timing). The anchor is the bare
runtime called one window at a time, the way Edge Impulse's Python runs its models:
``session.run(None, {name: row})`` with the perf-anchors.md session options for ONNX, and
``set_tensor / invoke / get_tensor`` for LiteRT (int8 rows quantised beforehand, not timed).

Models: the fixture ``motion_fc`` (dynamic batch, float32 and int8 ONNX) and Edge Impulse's real
exports from ``../shared/real`` (fixed batch 1). Akida is left out: its licence forbids publishing
benchmark results.

Usage::

    python benchmarks/bench_backend.py [--rows 4096] [--repeats 5]

Times are medians in microseconds per window, ours and the anchor timed in turn in each repeat;
"anchor / ours" is the speed-up (> 1 is faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evalcore.backends import load_backend  # noqa: E402

REAL = ROOT.parent / "shared" / "real"
SDK = REAL / "edgeimpulse-python-sdk-sample-data" / "sample_models"
MODELS = [
    ("motion_fc f32 onnx", ROOT / "fixtures/models/motion_fc.f32.onnx", "float32"),
    ("motion_fc i8 onnx", ROOT / "fixtures/models/motion_fc.i8.onnx", "int8"),
    ("accelerometer onnx", SDK / "accelerometer.onnx", "float32"),
    ("keywords-2d onnx", REAL / "edgeimpulse-benchmark-nn/keywords-2d-f32/keywords-2d-f32.onnx",
     "float32"),
    ("gestures-i8 lite", SDK / "gestures-i8.lite", "int8"),
    ("fomo 96x96 f32 lite", SDK / "fomo.96x96.f32.lite", "float32"),
]


def _interleaved_medians_s(fns, repeats: int) -> list[float]:
    """Median seconds of each callable, timed in turn per repeat so that drifting machine load
    hits all of them alike."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, acc in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def _anchor(backend, rows: np.ndarray):
    """Return a callable running the bare runtime one window per call on prepared rows."""
    x = backend._prepare(rows).reshape((rows.shape[0], 1, *backend.input_shape))
    if backend.engine == "onnxruntime":
        session, name = backend._session, backend.input_name
        return lambda: [session.run(None, {name: row}) for row in x]
    interp, index, outs = backend._interp, backend._input_index, backend._output_indices

    def loop():
        for row in x:
            interp.set_tensor(index, row)
            interp.invoke()
            [interp.get_tensor(i) for i in outs]
    return loop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'model':22s} {'mode':8s} {'ours us/win':>12s} {'anchor us/win':>14s} "
          f"{'anchor/ours':>12s}")
    for label, path, variant in MODELS:
        if not path.is_file():
            print(f"{label:22s} skipped: {path} not found")
            continue
        backend = load_backend(path, variant=variant)
        n_rows = args.rows if backend.n_features < 5000 else max(args.rows // 64, 16)
        rows = rng.random((n_rows, backend.n_features), dtype=np.float32)
        backend.run(rows[:64])  # warm-up and batch decision, not timed
        ours_s, anchor_s = _interleaved_medians_s(
            [lambda b=backend, x=rows: b.run(x), _anchor(backend, rows)], args.repeats)
        ours, anchor = ours_s / n_rows * 1e6, anchor_s / n_rows * 1e6
        print(f"{label:22s} {backend.batch_mode:8s} {ours:12.2f} {anchor:14.2f} "
              f"{anchor / ours:12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
