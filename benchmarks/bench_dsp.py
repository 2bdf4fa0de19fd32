"""DSP blocks: evalcore's time per window against Edge Impulse's own blocks, in the same run.

The anchor is Edge Impulse's processing-blocks code itself (the commit named in
``shared/golden/dsp/README.md``, 9b0ceb2), from a checkout you fetch and pass with ``--ei-path``;
it is never part of this repository. Each EI block runs in its own subprocess
(``benchmarks/ei_worker.py``) because the blocks cannot share a process; ``--ei-python`` picks its
interpreter, e.g. a venv with the golden data's pins (Python 3.10, numpy 1.21.5, scipy 1.7.3,
PyWavelets 1.3.0, PeakUtils 1.3.2, Pillow 9.0.1, matplotlib for the blocks' imports). The worker
times ``generate_features`` inside its own process, so the pipe costs nothing.

For every block configuration (parameters taken verbatim from a golden case; windows synthetic,
of the same length and rate as that case's input):

- EI: ``generate_features(version, False, window, axes, fs, **params)``, one window a call;
- per window: evalcore's ``generate_features``, one window a call (EI's calling convention);
- batched: evalcore's ``compute_features`` on ``--batch`` windows a call (what the engine does).

The three are timed interleaved, ``--rounds`` times, each for ``--seconds``; medians are printed.
For the raw block, whose Edge Impulse version does almost nothing, a fourth figure is timed in the
same rounds, the "floor": a function with ``generate_features``' signature, called the same way,
that only returns ``raw_data * scale_axes`` (no checks, no result dict): less than any
implementation of the block can do. It is printed under the table with the highest ratio it allows.
The ratio is EI's ms/window divided by evalcore's (above 1 means faster than Edge Impulse). Before
timing, the first windows' features of both sides are compared at the golden README's tolerance
("parity" column). Without ``--ei-path`` there is no anchor: only evalcore's figures are printed,
and the ratio columns say so.

Usage::

    python benchmarks/bench_dsp.py --ei-path /work/ei-processing-blocks --ei-python /tmp/eivenv/bin/python [--rounds 5] [--seconds 0.3] [--batch 64] [--only spectrogram]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evalcore.dsp import compute_features, generate_features  # noqa: E402

GOLDEN = ROOT.parent / "shared" / "golden" / "dsp"

# (label, golden case whose params/version/axes/rate are used). Inputs: acc100_2s (3 axes, 100 Hz,
# 2 s), 16 kHz audio of 1 s, 96x96 images.
CONFIGS = [
    ("raw", "raw-v1-004"),
    ("flatten", "flatten-v1-003"),
    ("spectral v1 fft128", "spectral-analysis-v1-004"),
    ("spectral v2 high fft32", "spectral-analysis-v2-007"),
    ("spectral v3 fft64 linear", "spectral-analysis-v3-002"),
    ("spectral v3 wavelet haar/2", "spectral-analysis-v3-007"),
    ("spectral v4 low fft64", "spectral-analysis-v4-016"),
    ("spectral v4 fft32 +ELF", "spectral-analysis-v4-026"),
    ("spectral v4 wavelet coif1", "spectral-analysis-v4-040"),
    ("spectrogram v1", "spectrogram-v1-001"),
    ("spectrogram v2", "spectrogram-v2-001"),
    ("spectrogram v3", "spectrogram-v3-001"),
    ("spectrogram v4", "spectrogram-v4-001"),
    ("mfe v1 (30 filters)", "mfe-v1-001"),
    ("mfe v3 (30 filters)", "mfe-v3-001"),
    ("mfe v4", "mfe-v4-001"),
    ("mfcc v1 (26 filters)", "mfcc-v1-001"),
    ("mfcc v4", "mfcc-v4-001"),
    ("image RGB 96x96", "image-v1-009"),
    ("image Grayscale 96x96", "image-v1-010"),
]

# EI's directory of each block in the checkout.
EI_DIRS = {"raw": "raw", "flatten": "flatten", "spectral-analysis": "spectral_analysis",
           "spectrogram": "spectrogram", "mfe": "mfe", "mfcc": "mfcc", "image": "image"}

# (rtol, atol): the golden README's suggested tolerances (mfe v3/v4: multiples of 1/256).
TOLERANCES = {"raw": (0, 1e-12), "image": (0, 1e-12), "flatten": (1e-9, 1e-12),
              "spectral-analysis": (1e-4, 1e-4), "spectrogram": (1e-6, 1e-6), "mfe": (1e-5, 1e-6),
              "mfcc": (1e-5, 1e-5)}


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
    """96 x 96 images in the image block's raw_data layout: [96, 96, 0xRRGGBB...], int64."""
    pixels = rng.integers(0, 1 << 24, size=(n_windows, 96 * 96))
    return np.concatenate([np.full((n_windows, 2), 96), pixels], axis=1).astype(np.int64)


def _windows(case: dict, n_values: int, n_windows: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    for make in (_motion, _audio, _images):
        windows = make(rng, n_windows)
        if windows.shape[1] == n_values:
            return windows
    raise SystemExit(f"no window generator for {case['id']} ({n_values} values)")


def _timed(call, seconds: float, n_windows_per_call: int) -> float:
    """Mean ms per window over about ``seconds`` of calls."""
    n_calls, start = 0, time.perf_counter()
    while True:
        call()
        n_calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / n_calls / n_windows_per_call * 1000


class EIBlock:
    """One of Edge Impulse's blocks in a worker subprocess (benchmarks/ei_worker.py)."""

    def __init__(self, python: str, checkout: Path, block: str):
        self.process = subprocess.Popen(
            [python, str(Path(__file__).with_name("ei_worker.py")), str(checkout), EI_DIRS[block]],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def request(self, **message) -> dict:
        """Send one request and return the worker's reply."""
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"Edge Impulse worker died (exit {self.process.wait()}); see its stderr above")
        return json.loads(line)

    def close(self) -> None:
        """Ask the worker to quit and reap it."""
        try:
            self.request(op="quit")
        except (SystemExit, BrokenPipeError):
            pass
        self.process.wait()


def _parity(block: str, ours: list[np.ndarray], theirs: list[list[float]]) -> str:
    rtol, atol = TOLERANCES[block]
    worst, ok = 0.0, True
    for got, expected in zip(ours, theirs):
        expected = np.asarray(expected)
        if got.shape != expected.shape:
            return f"shape {got.shape} != {expected.shape}"
        worst = max(worst, float(np.abs(got - expected).max(initial=0)))
        ok &= bool(np.allclose(got, expected, rtol=rtol, atol=atol))
    return f"{'ok' if ok else 'FAIL'} {worst:.0e}"


def _raw_floor(block, implementation_version, raw_data, axes, sampling_freq, scale_axes=1, **params):
    """The raw block's floor: generate_features' signature and the block's one multiply, nothing else."""
    return raw_data if scale_axes == 1 else raw_data * scale_axes


def _measure(label: str, case: dict, args, tmp: Path) -> dict:
    block, version = case["block"], case["implementation_version"]
    axes, fs, params = case["axes"], case["sampling_freq"], case["params"]
    n_values = json.loads((GOLDEN / "cases.json").read_text())["inputs"][Path(case["input_file"]).stem]["n_values"]
    windows = _windows(case, n_values, args.batch)
    rows = itertools.cycle(windows)

    def one_window():
        return generate_features(block, version, next(rows), axes, fs, **params)

    def batch():
        return compute_features(block, version, windows, axes, fs, params)

    def floor_call():
        return _raw_floor(block, version, next(rows), axes, fs, **params)

    n_check = 4
    ours = [generate_features(block, version, windows[i], axes, fs, **params)["features"] for i in range(n_check)]
    batch()  # warm plans and numba dispatchers
    row = {"label": label, "case": case["id"], "features": len(ours[0]), "ei": [], "one": [], "batched": []}
    if block == "raw":
        row["floor"] = []
    ei = None
    if args.ei_path:
        ei = EIBlock(args.ei_python, args.ei_path, block)
        path = tmp / f"{case['id']}.npy"
        np.save(path, windows)
        loaded = ei.request(op="load", windows=str(path), version=version, axes=axes, sampling_freq=fs,
                            params=params, n_check=n_check)
        row["parity"] = _parity(block, ours, loaded["features"])
        row["ei_env"] = f"python {loaded['python']}, numpy {loaded['numpy']}, scipy {loaded['scipy']}"
        ei.request(op="time", seconds=min(args.seconds, 0.1))  # warm
    try:
        for r in range(args.rounds):
            steps = ["ei", "one", "batched"] + (["floor"] if "floor" in row else [])
            steps = steps if r % 2 == 0 else steps[::-1]
            for step in steps:
                if step == "ei" and ei is not None:
                    row["ei"].append(ei.request(op="time", seconds=args.seconds)["ms_per_call"])
                elif step == "one":
                    row["one"].append(_timed(one_window, args.seconds, 1))
                elif step == "batched":
                    row["batched"].append(_timed(batch, args.seconds, len(windows)))
                elif step == "floor":
                    row["floor"].append(_timed(floor_call, args.seconds, 1))
    finally:
        if ei is not None:
            ei.close()
    return {key: statistics.median(value) if isinstance(value, list) and value else value
            for key, value in row.items()}


def main(argv: list[str] | None = None) -> None:
    """Time every configuration, EI and evalcore interleaved, and print the table of ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ei-path", type=Path, help="checkout of edgeimpulse/processing-blocks at 9b0ceb2")
    parser.add_argument("--ei-python", default=sys.executable,
                        help="interpreter for Edge Impulse's blocks (default: this one)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure (median taken)")
    parser.add_argument("--seconds", type=float, default=0.3, help="length of one timing loop")
    parser.add_argument("--batch", type=int, default=64, help="windows per compute_features call")
    parser.add_argument("--only", default="", help="only configurations whose label contains this")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.ei_path is None:
        print("ANCHOR MISSING: no --ei-path, so Edge Impulse's blocks are not timed and no ratio is "
              "printed.\nFetch edgeimpulse/processing-blocks at the commit of shared/golden/dsp/README.md "
              "and pass its path.", file=sys.stderr)
    elif not (args.ei_path / "spectrogram" / "dsp.py").is_file():
        raise SystemExit(f"--ei-path {args.ei_path}: no spectrogram/dsp.py there; not a processing-blocks checkout")
    cases = {case["id"]: case for case in json.loads((GOLDEN / "cases.json").read_text())["cases"]}

    header = (f"{'block / config':27s} {'case':25s} {'feat':>6s} {'EI ms/win':>10s} {'ours ms/win':>11s} "
              f"{'ratio':>6s} {'batched':>9s} {'ratio':>6s} {'parity':>10s}")
    print(header)
    print("-" * len(header))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, case_id in CONFIGS:
            if args.only not in label:
                continue
            row = _measure(label, cases[case_id], args, Path(tmp))
            rows.append(row)
            ei = row["ei"]
            ei_text = f"{ei:10.3f}" if ei else f"{'missing':>10s}"
            r1 = f"{ei / row['one']:6.1f}" if ei else f"{'-':>6s}"
            r2 = f"{ei / row['batched']:6.1f}" if ei else f"{'-':>6s}"
            print(f"{label:27s} {case_id:25s} {row['features']:6d} {ei_text} {row['one']:11.4f} {r1} "
                  f"{row['batched']:9.4f} {r2} {row.get('parity', '-'):>10s}", flush=True)
    for row in rows:
        if "floor" in row:
            best = f"; EI / floor = {row['ei'] / row['floor']:.1f}, the highest ratio possible" if row["ei"] else ""
            print(f"\nfloor ({row['label']}): generate_features' signature returning raw_data * scale_axes, "
                  f"called the same way: {row['floor']:.4f} ms/call{best}")
    if rows and rows[0].get("ei_env"):
        print(f"\nEdge Impulse side: {rows[0]['ei_env']}; evalcore side: python {sys.version.split()[0]}, "
              f"numpy {np.__version__}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
