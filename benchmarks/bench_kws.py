"""Keyword spotting: does the DSP stage cost more than the model? (issue 4's speed criterion)

On the ``fixtures/kws`` bundle (1 s windows of 16 kHz audio, MFCC -> 49 x 13 = 637 features,
Edge Impulse's real ``responding-to-your-voice`` model), this measures, on the same windows:

- DSP: ``evalcore.dsp.compute_features`` over all windows (batched, as a run does it);
- model: the float32 and the int8 model through evalcore's backend (LiteRT), and the same
  model in a bare LiteRT interpreter loop, one window per ``invoke`` (the anchor);

and prints milliseconds per window and the DSP/model ratio (goal: <= 1).

Usage: ``python benchmarks/bench_kws.py [--repeat 5] [--copies 20]`` (``--copies`` repeats the
test windows so each timing covers enough work to be stable).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

BUNDLE = Path(__file__).resolve().parent.parent / "fixtures" / "kws"


def _windows(copies: int):
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset, load_sample_data
    from evalcore.windowing import extract_windows, plan_windows

    project = load_project(BUNDLE)
    ib = project.input_block
    spec = next(iter(project.dsp.values()))
    parts = []
    for record in load_dataset(project.dataset_dir).records:
        data = load_sample_data(record)
        plan = plan_windows(data.values.shape[0], data.interval_ms, window_size_ms=ib.window_size_ms,
                            window_increase_ms=ib.window_increase_ms, frequency_hz=ib.frequency_hz,
                            pad_zeros=bool(ib.pad_zeros))
        parts.append(extract_windows(data.values, plan))
    return project, spec, np.concatenate(parts * copies)


def _median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _bare_litert(path: Path, x: np.ndarray) -> callable:
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    index, dtype = inp["index"], inp["dtype"]
    scale, zero = inp["quantization"]
    shape = inp["shape"]

    def run():
        for row in x:
            if dtype == np.float32:
                q = row.reshape(shape)
            else:
                info = np.iinfo(dtype)
                q = np.clip(np.round(row / scale + zero), info.min, info.max).astype(dtype).reshape(shape)
            interp.set_tensor(index, q)
            interp.invoke()
            interp.get_tensor(interp.get_output_details()[0]["index"])

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--copies", type=int, default=20)
    args = ap.parse_args()
    from evalcore.backends import load_backend
    from evalcore.dsp import compute_features

    project, spec, windows = _windows(args.copies)
    n = windows.shape[0]
    feats = compute_features(spec.type, spec.implementation_version, windows, list(spec.axes), 16000.0, spec.params)
    dsp_s = _median_time(
        lambda: compute_features(spec.type, spec.implementation_version, windows, list(spec.axes), 16000.0, spec.params),
        args.repeat,
    )
    print(f"{n} windows of 1 s at 16 kHz, MFCC v{spec.implementation_version} -> {feats.shape[1]} features")
    print(f"{'stage':34} {'ms/window':>10} {'DSP / stage':>12}")
    print(f"{'DSP (evalcore, batched)':34} {1e3 * dsp_s / n:10.3f} {'':>12}")
    learn = project.learn[0]
    for variant, path in sorted(learn.models.items()):
        backend = load_backend(path, variant=variant, threads=1)
        ours = _median_time(lambda b=backend: b.run(feats), args.repeat)
        bare = _median_time(_bare_litert(path, feats), args.repeat)
        print(f"{'model ' + variant + ' (evalcore backend)':34} {1e3 * ours / n:10.3f} {dsp_s / ours:12.2f}")
        print(f"{'model ' + variant + ' (bare LiteRT loop)':34} {1e3 * bare / n:10.3f} {dsp_s / bare:12.2f}")


if __name__ == "__main__":
    main()
