"""DSP blocks: evalcore's time per window against Edge Impulse's reference blocks.

Edge Impulse's Python blocks need numpy 1.21 / scipy 1.7 on Python 3.10 and cannot run next to
evalcore, so the anchor is the measured figure of ``shared/reference/perf-anchors.md`` section 5
("DSP blocks"): processing-blocks @ 9b0ceb2, one ``generate_features`` call per window, median of
7 half-second loops on a 2-core x86-64 machine. We time the same block configurations on windows
of the same size the same way:

- per window: ``generate_features`` on one window at a time (Edge Impulse's calling convention);
- batched: ``compute_features`` on ``--batch`` windows per call (what the engine does).

Usage::

    python benchmarks/bench_dsp.py [--loops 7] [--seconds 0.5] [--batch 256]

The ratio column is EI's ms/window divided by ours (above 1 means faster than Edge Impulse).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evalcore.dsp import compute_features, generate_features, image_features  # noqa: E402

# Edge Impulse's ms per window, perf-anchors.md section 5 (processing-blocks @ 9b0ceb2).
EI_MS_PER_WINDOW = {
    "raw": 0.010,
    "flatten": 0.634,
    "spectral-analysis": 3.43,
    "spectrogram": 0.717,
    "mfe": 2.85,
    "mfcc": 5.44,
    "image": 6.29,
}

MOTION_AXES = ["accX", "accY", "accZ"]


def _motion(rng: np.random.Generator, n_windows: int) -> np.ndarray:
    """2 s x 3 axes at 100 Hz: sine mixtures, noise, offset and gravity on Z, interleaved."""
    t = np.arange(200) / 100
    windows = np.empty((n_windows, 200, 3))
    for w in range(n_windows):
        f = rng.uniform(0.5, 8, size=3)
        windows[w] = np.sin(2 * np.pi * np.outer(t, f)) + 0.2 * rng.standard_normal((200, 3))
    windows[:, :, 2] += 9.81
    return windows.reshape(n_windows, 600)


def _audio(rng: np.random.Generator, n_windows: int) -> np.ndarray:
    """1 s at 16 kHz, int16 scale: two tones plus noise."""
    t = np.arange(16000) / 16000
    f = rng.uniform(200, 3000, size=(n_windows, 2, 1))
    tones = np.sin(2 * np.pi * f * t).sum(axis=1)
    return np.round(8000 * tones + 500 * rng.standard_normal((n_windows, 16000)))


def _images(rng: np.random.Generator, n_windows: int) -> np.ndarray:
    """96 x 96 RGB images in the image block's raw_data layout: [96, 96, 0xRRGGBB...]."""
    pixels = rng.integers(0, 1 << 24, size=(n_windows, 96 * 96))
    return np.concatenate([np.full((n_windows, 2), 96), pixels], axis=1).astype(np.int64)


def _configs(rng: np.random.Generator, n_windows: int) -> dict:
    """Map each block to (version, windows, axes, sampling_freq, params), as in perf-anchors.md."""
    motion, audio = _motion(rng, n_windows), _audio(rng, n_windows)
    return {
        "raw": (1, motion, MOTION_AXES, 100, {"scale_axes": 1}),
        "flatten": (1, motion, MOTION_AXES, 100, {}),
        "spectral-analysis": (4, motion, MOTION_AXES, 100,
                              {"filter_type": "low", "filter_cutoff": 3, "filter_order": 6, "fft_length": 128}),
        "spectrogram": (4, audio, ["audio"], 16000, {"frame_length": 0.02, "frame_stride": 0.01, "fft_length": 128}),
        "mfe": (4, audio, ["audio"], 16000,
                {"frame_length": 0.02, "frame_stride": 0.01, "num_filters": 40, "fft_length": 256}),
        "mfcc": (4, audio, ["audio"], 16000,
                 {"frame_length": 0.02, "frame_stride": 0.02, "num_filters": 32, "num_cepstral": 13,
                  "fft_length": 256}),
        "image": (1, _images(rng, n_windows), ["image"], 0, {"channels": "RGB"}),
    }


def _median_ms_per_call(call, loops: int, seconds: float) -> float:
    """Median over ``loops`` loops of ~``seconds`` each of the mean ms per call."""
    call()  # warm caches (plans, scipy imports)
    results = []
    for _ in range(loops):
        n_calls, start = 0, time.perf_counter()
        while True:
            call()
            n_calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        results.append(elapsed / n_calls * 1000)
    return statistics.median(results)


def main(argv: list[str] | None = None) -> None:
    """Time every block per window and batched, and print the table against EI's anchors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=7, help="timing loops per figure (median taken)")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one timing loop")
    parser.add_argument("--batch", type=int, default=256, help="windows per compute_features call")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    configs = _configs(rng, args.batch)
    header = (f"{'block':18s} {'features':>8s} {'EI ms/win':>10s} {'ours ms/win':>12s} {'ratio':>7s} "
              f"{'batched ms/win':>15s} {'ratio':>7s} {'batched win/s':>14s}")
    print(header)
    print("-" * len(header))
    for block, (version, windows, axes, fs, params) in configs.items():
        rows = itertools.cycle(windows)  # a different window on every call

        def one_window(block=block, version=version, rows=rows, axes=axes, fs=fs, params=params):
            return generate_features(block, version, next(rows), axes, fs, **params)

        def batch(block=block, version=version, windows=windows, axes=axes, fs=fs, params=params):
            return compute_features(block, version, windows, axes, fs, params)

        n_features = len(one_window()["features"])
        per_window = _median_ms_per_call(one_window, args.loops, args.seconds)
        batched = _median_ms_per_call(batch, args.loops, args.seconds) / len(windows)
        anchor = EI_MS_PER_WINDOW[block]
        print(f"{block:18s} {n_features:8d} {anchor:10.3f} {per_window:12.4f} {anchor / per_window:7.1f} "
              f"{batched:15.4f} {anchor / batched:7.1f} {1000 / batched:14.0f}")

    rgb = np.random.default_rng(1).integers(0, 256, size=(96, 96, 3), dtype=np.uint8)
    decoded = _median_ms_per_call(lambda: image_features(rgb, "RGB"), args.loops, args.seconds)
    print(f"\nimage_features(96x96 uint8 RGB): {decoded:.4f} ms/image "
          f"(ratio {EI_MS_PER_WINDOW['image'] / decoded:.1f} against EI's image block)")


if __name__ == "__main__":
    main()
