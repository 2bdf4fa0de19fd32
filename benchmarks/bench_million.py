"""A million windows (issue 16): wall time and peak memory of ``evalcore run`` on a tabular bundle.

What a tabular Studio project looks like here: sensor logs uploaded as CSV-like acquisition
files (JSON, Edge Impulse's acquisition format), each file one logging session of
``--windows-per-sample`` rows (default 100) of 8 numeric columns at 1 Hz, and an impulse whose
window is one row (``windowSizeMs`` = ``windowIncreaseMs`` = 1000 ms at 1 Hz): every row is
classified on its own, through the cheapest DSP (``raw``, 8 features) into a small classifier
(ONNX MLP 8 -> 16 -> 3, dynamic batch, built here with the ``onnx`` helper API). So 1M windows
is 10,000 files and the 100k-window run 1,000 files. The files are hard links (copies where
links are refused) of 30 generated templates (10 per class, values around a class mean), so
building a million windows takes seconds; bundles are kept under ``--work`` and reused.

Each run is one fresh child ``python -m evalcore run BUNDLE --out OUT -q`` (see ``_child.py``
for the two memory figures). Configurations: ``one`` = ``--workers 0`` (one process), ``auto`` =
``--workers auto``, ``dask`` = ``--executor dask --dask-workers 2`` (a local cluster of 2 workers),
measured only when ``evalcore run --help`` lists ``--executor``, else skipped with a note.
Issue 16's goal: the 1M-window peak within 1.3x of the 100k-window peak.

Usage::

    python benchmarks/bench_million.py [--windows 1000000] [--small 100000] [--configs one,auto,dask]
                                       [--work DIR] [--json FILE] [--evalcore SOURCE_TREE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import add_run_options, measure, unknown_configs  # noqa: E402
from bench_memory import link_or_copy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["high", "low", "normal"]
AXES = [f"col{i}" for i in range(8)]
N_TEMPLATES = 30
CONFIGS = {
    "one": ["--workers", "0"],
    "auto": ["--workers", "auto"],
    "dask": ["--executor", "dask", "--dask-workers", "2"],
}


def _model(path: Path, seed: int = 3) -> None:
    """An MLP 8 -> 16 -> 3 (ReLU, softmax) in ONNX, opset 13, dynamic batch."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w0 = (rng.standard_normal((len(AXES), 16)) / np.sqrt(len(AXES))).astype(np.float32)
    w1 = (rng.standard_normal((16, len(LABELS))) / 4).astype(np.float32)
    inits = [numpy_helper.from_array(w0, "w0"), numpy_helper.from_array(np.zeros(16, np.float32), "b0"),
             numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(np.zeros(len(LABELS), np.float32), "b1")]
    nodes = [helper.make_node("Gemm", ["x", "w0", "b0"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w1", "b1"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["y"], axis=1)]
    graph = helper.make_graph(
        nodes, "tabular", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", len(AXES)])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", len(LABELS)])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def _project_files(bundle: Path, windows_per_sample: int) -> None:
    impulse = {"success": True, "impulse": {
        "id": 1, "name": "tabular",
        "inputBlocks": [{"id": 1, "type": "time-series", "name": "Time series", "title": "Time series data",
                         "axes": AXES, "windowSizeMs": 1000, "windowIncreaseMs": 1000, "frequencyHz": 1.0,
                         "padZeros": False}],
        "dspBlocks": [{"id": 2, "type": "raw", "name": "Raw data", "axes": AXES, "title": "Raw Data",
                       "valuesPerAxis": 1, "input": 1, "implementationVersion": 1}],
        "learnBlocks": [{"id": 3, "type": "keras", "name": "Classifier", "dsp": [2], "title": "Classification"}],
        "postProcessingBlocks": [], "type": "default"}}
    dsp = {"success": True,
           "dsp": {"id": 2, "name": "Raw data", "windowLength": 1000, "type": "raw", "classes": LABELS,
                   "features": {"generated": True, "count": len(AXES)}, "expectedWindowCount": windows_per_sample,
                   "inputAxes": AXES, "canCalculateFeatureImportance": False, "calculateFeatureImportance": False,
                   "canNormalizeData": False, "normalizeData": "none"},
           "config": [{"group": "Scaling", "items": [{"name": "Scale axes", "value": "1", "type": "float",
                                                      "param": "scale-axes", "readonly": False,
                                                      "shouldShow": True, "required": True}]}]}
    metadata = {"success": True, "classNames": LABELS, "labels": LABELS, "mode": "classification",
                "thresholds": [{"key": "min_score", "description": "Minimum confidence rating",
                                "helpText": "Scores below this are uncertain", "value": 0.6}]}
    (bundle / "dsp").mkdir(parents=True)
    (bundle / "learn" / "3").mkdir(parents=True)
    (bundle / "impulse.json").write_text(json.dumps(impulse))
    (bundle / "dsp" / "2.json").write_text(json.dumps(dsp))
    (bundle / "learn" / "3" / "metadata.json").write_text(json.dumps(metadata))
    _model(bundle / "learn" / "3" / "model.onnx")


def _templates(store: Path, windows_per_sample: int) -> list[tuple[str, Path]]:
    """N_TEMPLATES acquisition files (label, path), rows around their class's mean."""
    rng = np.random.default_rng(0)
    store.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(N_TEMPLATES):
        label = LABELS[k % len(LABELS)]
        path = store / f"{label}.{k}.json"
        if not path.is_file():
            mean = (k % len(LABELS) - 1) * 2.0
            values = np.round(mean + rng.standard_normal((windows_per_sample, len(AXES))), 4)
            body = {"protected": {"ver": "v1", "alg": "none", "iat": 1735689600}, "signature": "0" * 64,
                    "payload": {"device_type": "TABULAR", "interval_ms": 1000,
                                "sensors": [{"name": a, "units": "N/A"} for a in AXES],
                                "values": values.tolist()}}
            path.write_text(json.dumps(body, separators=(",", ":")))
        out.append((label, path))
    return out


def build_tabular(work: Path, n_windows: int, windows_per_sample: int) -> Path:
    """The tabular bundle of ``n_windows`` windows under ``work`` (reused if built)."""
    n_samples = -(-n_windows // windows_per_sample)
    bundle = work / f"tabular-{n_samples}x{windows_per_sample}"
    done = bundle / "built.json"
    if done.is_file():
        return bundle
    shutil.rmtree(bundle, ignore_errors=True)
    _project_files(bundle, windows_per_sample)
    templates = _templates(work / f"tabular-templates-{windows_per_sample}", windows_per_sample)
    testing = bundle / "dataset" / "testing"
    testing.mkdir(parents=True)
    files = []
    for i in range(n_samples):
        label, source = templates[i % len(templates)]
        name = f"{label}.s{i}"
        link_or_copy(source, testing / f"{name}.json")
        files.append({"path": f"testing/{name}.json", "name": name, "category": "testing",
                      "label": {"type": "label", "label": label}})
    (bundle / "dataset" / "info.labels").write_text(json.dumps({"version": 1, "files": files}))
    done.write_text(json.dumps({"samples": n_samples, "windows_per_sample": windows_per_sample}))
    return bundle


def has_executor(tree: Path = ROOT) -> bool:
    """Whether the evalcore in ``tree`` has ``run --executor`` (issue 16's Dask executor)."""
    proc = subprocess.run([sys.executable, "-m", "evalcore", "run", "--help"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tree, check=False)
    return "--executor" in proc.stdout


def run_once(bundle: Path, config: list[str], out_dir: Path, tree: Path = ROOT) -> dict:
    """One fresh ``evalcore run`` child: seconds, peak RSS, tree PSS, samples and windows."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "evalcore", "run", str(bundle), "--out", str(out_dir / "result.json"), "-q",
            *config]
    row = measure(argv, env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tree)  # -m imports from cwd
    info = json.loads((out_dir / "result.run.json").read_text())
    row.update(samples=info["samples"], windows=info["windows"])
    return row


HEADER = (f"{'config':6} {'samples':>8} {'windows':>9} {'seconds':>8} {'peak RSS MB':>12} "
          f"{'tree PSS MB':>12} {'RSS / small':>12}")


def format_row(row: dict) -> str:
    """One table line (``RSS / small``: this peak over the small run's peak, same configuration)."""
    pss = "-" if row["tree_pss_mb"] is None else f"{row['tree_pss_mb']:12.0f}"
    ratio = "-" if row.get("rss_ratio") is None else f"{row['rss_ratio']:12.2f}"
    return (f"{row['config']:6} {row['samples']:8d} {row['windows']:9d} {row['seconds']:8.1f} "
            f"{row['peak_rss_mb']:12.0f} {pss:>12} {ratio:>12}")


def run(args) -> list[dict]:
    """Measure the small then the large bundle for every configuration."""
    configs = list(args.configs)
    if "dask" in configs and not has_executor(args.evalcore):
        print("dask: skipped, `evalcore run --help` has no --executor yet (issue 16 part 2)", flush=True)
        configs.remove("dask")
    small = build_tabular(args.work, args.small, args.windows_per_sample)
    large = build_tabular(args.work, args.windows, args.windows_per_sample)
    run_once(small, CONFIGS["one"], args.work / "out-million", args.evalcore)  # warm numba cache and page cache
    rows = []
    print(HEADER, flush=True)
    for name in configs:
        base = dict(run_once(small, CONFIGS[name], args.work / "out-million", args.evalcore), config=name, rss_ratio=1.0)
        print(format_row(base), flush=True)
        row = dict(run_once(large, CONFIGS[name], args.work / "out-million", args.evalcore), config=name)
        row["rss_ratio"] = row["peak_rss_mb"] / base["peak_rss_mb"]
        print(format_row(row), flush=True)
        rows += [base, row]
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    """The command line (also used by the smoke test)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="windows of the reference run")
    parser.add_argument("--windows-per-sample", type=int, default=100)
    add_run_options(parser, CONFIGS, ROOT)
    args = parser.parse_args(argv)
    args.evalcore = args.evalcore.resolve()
    unknown = unknown_configs(args, CONFIGS)
    if unknown or min(args.windows, args.small, args.windows_per_sample) < 1:
        parser.error(f"bad --configs {unknown} or a count below 1")
    return args


def main(argv=None) -> None:
    """Build, measure, print, and write the JSON rows when asked."""
    args = parse_args(argv)
    keep = args.work is not None
    args.work = args.work or Path(tempfile.mkdtemp(prefix="evalcore-bench-million-"))
    args.work.mkdir(parents=True, exist_ok=True)
    try:
        rows = run(args)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    finally:
        if not keep:
            shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
