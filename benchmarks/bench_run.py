"""`evalcore run` on a ~20k-window bundle vs a bare batched onnxruntime loop on the same features.

The bundle is generated in a temporary folder: N motion samples (3-axis, 10 s at 62.5 Hz, CBOR
acquisition files as Edge Impulse exports them) under an impulse with a 2 s window and a 400 ms
step (21 windows a sample), the ``raw`` DSP block (375 features = 125 readings x 3 axes, the
input of Edge Impulse's real ``gestures-i8.lite``) and a classifier exported to ONNX with a
dynamic batch dimension. Two classifier sizes are measured:

- ``mlp``: 375 -> 64 -> 4, about 24k multiply-adds: the size of Edge Impulse's default motion MLP;
- ``wide``: 375 -> 512 -> 512 -> 4, about 460k multiply-adds;
- ``cnn``: three 1-D convolutions on the raw window, about 3.1M multiply-adds (the size class of
  Edge Impulse's convolutional audio and vision models).

The anchor is the same model file in an onnxruntime session with the same options evalcore uses
(graph optimisation ALL, 1 intra-op thread, no spinning), fed the same float32 features in
batches of 1024 rows — the least any evaluation has to pay for the model. A second anchor adds
what Edge Impulse's formats cost by themselves: decoding every CBOR file to an array and
encoding the same response with Python's C JSON encoder. evalcore's time is the whole
``run_bundle`` (read every file, window, DSP, model, decode, metrics, response model) plus the
JSON serialisation, with a warm numba cache, once with the map in the main process
(``workers=0``) and once with two worker processes reading, windowing and featurizing
(``workers=2``, what ``--workers auto`` picks on a 2-CPU machine). The formats anchor is
single-threaded, so it is compared with ``workers=0``. The script's first run and the whole
``evalcore run`` command in a fresh process (imports, numba cache load, model load, output
files, default options) are reported apart. On a machine shared with other work the wall times
move with its load; the last two columns are the CPU seconds of the thread doing the work (the
run's main thread for ``workers=0``, the anchor's only thread for "formats", medians), which move
much less: their ratio is what the main thread costs against the formats alone.

Usage: ``python benchmarks/bench_run.py [--samples 1000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

LABELS = ["idle", "snake", "updown", "wave"]
FREQ_HZ = 62.5
N_READINGS = 625  # 10 s


def _model(path: Path, hidden: list[int], seed: int) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    sizes = [375, *hidden, len(LABELS)]
    nodes, inits, prev = [], [], "x"
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(np.zeros(b, np.float32), f"b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"h{i}"]))
        prev = f"h{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
            prev = f"r{i}"
    nodes.append(helper.make_node("Softmax", [prev], ["y"], axis=1))
    graph = helper.make_graph(
        nodes, "bench", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 375])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", len(LABELS)])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def _cnn_model(path: Path, seed: int) -> None:
    """A 1-D convolutional classifier on the raw window (375 = 125 readings x 3 axes): three
    5-tap convolutions (3 -> 32 -> 64 -> 64 channels, ReLU), global average pool, dense 64 -> 4,
    softmax; about 3.1M multiply-adds a window.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(np.array([-1, 125, 3], np.int64), "shape")]
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1])]
    prev, channels = "t", 3
    for i, out in enumerate((32, 64, 64)):
        w = (rng.standard_normal((out, channels, 5)) / np.sqrt(channels * 5)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"cw{i}"), numpy_helper.from_array(np.zeros(out, np.float32), f"cb{i}")]
        nodes += [helper.make_node("Conv", [prev, f"cw{i}", f"cb{i}"], [f"c{i}"], pads=[2, 2]),
                  helper.make_node("Relu", [f"c{i}"], [f"cr{i}"])]
        prev, channels = f"cr{i}", out
    w = (rng.standard_normal((channels, len(LABELS))) / np.sqrt(channels)).astype(np.float32)
    inits += [numpy_helper.from_array(w, "dw"), numpy_helper.from_array(np.zeros(len(LABELS), np.float32), "db")]
    nodes += [helper.make_node("GlobalAveragePool", [prev], ["gap"]),
              helper.make_node("Flatten", ["gap"], ["flat"]),
              helper.make_node("Gemm", ["flat", "dw", "db"], ["logits"]),
              helper.make_node("Softmax", ["logits"], ["y"], axis=1)]
    graph = helper.make_graph(
        nodes, "bench-cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 375])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", len(LABELS)])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def _impulse() -> dict:
    return {"success": True, "impulse": {
        "id": 1, "name": "bench",
        "inputBlocks": [{"id": 1, "type": "time-series", "name": "Time series", "title": "Time series data",
                         "windowSizeMs": 2000, "windowIncreaseMs": 400, "frequencyHz": FREQ_HZ, "padZeros": False}],
        "dspBlocks": [{"id": 2, "type": "raw", "name": "Raw data", "axes": ["accX", "accY", "accZ"],
                       "title": "Raw Data", "implementationVersion": 1}],
        "learnBlocks": [{"id": 3, "type": "keras", "name": "NN Classifier", "dsp": [2], "title": "Classification"}],
    }}


def _dsp() -> dict:
    return {"success": True,
            "dsp": {"id": 2, "name": "Raw data", "windowLength": 2000, "type": "raw", "classes": LABELS,
                    "features": {"generated": True, "count": 375}, "expectedWindowCount": 21,
                    "inputAxes": ["accX", "accY", "accZ"], "canCalculateFeatureImportance": False,
                    "calculateFeatureImportance": False, "canNormalizeData": False, "normalizeData": "none"},
            "config": [{"group": "Scaling", "items": [{"name": "Scale axes", "value": "1", "type": "float",
                                                       "param": "scale-axes", "readonly": False,
                                                       "shouldShow": True, "required": True}]}]}


def _metadata() -> dict:
    return {"success": True, "classNames": LABELS, "labels": LABELS, "mode": "classification",
            "thresholds": [{"key": "min_score", "description": "Minimum confidence rating",
                            "helpText": "Scores below this are uncertain", "value": 0.6}]}


def build_bundle(root: Path, n_samples: int, hidden) -> Path:
    """Write the generated bundle (CBOR acquisition files, as Edge Impulse exports motion data)."""
    import cbor2

    rng = np.random.default_rng(0)
    (root / "dsp").mkdir(parents=True)
    (root / "learn" / "3").mkdir(parents=True)
    test = root / "dataset" / "testing"
    test.mkdir(parents=True)
    (root / "impulse.json").write_text(json.dumps(_impulse()))
    (root / "dsp" / "2.json").write_text(json.dumps(_dsp()))
    (root / "learn" / "3" / "metadata.json").write_text(json.dumps(_metadata()))
    if hidden == "cnn":
        _cnn_model(root / "learn" / "3" / "model.onnx", seed=1)
    else:
        _model(root / "learn" / "3" / "model.onnx", hidden, seed=1)
    files = []
    t = np.arange(N_READINGS) / FREQ_HZ
    for i in range(n_samples):
        label = LABELS[i % len(LABELS)]
        f = 0.5 + (i % len(LABELS))
        values = np.stack([np.sin(2 * np.pi * f * t + k) * (1 + k) for k in range(3)], axis=1)
        values += rng.standard_normal(values.shape) * 0.3
        body = {"protected": {"ver": "v1", "alg": "none"}, "signature": "0" * 64,
                "payload": {"device_type": "bench", "interval_ms": 1000 / FREQ_HZ,
                            "sensors": [{"name": n, "units": "m/s2"} for n in ("accX", "accY", "accZ")],
                            "values": np.round(values, 4).tolist()}}
        name = f"{label}.{i}.cbor"
        (test / name).write_bytes(cbor2.dumps(body))
        files.append({"path": f"testing/{name}", "name": f"{label}.{i}", "category": "testing",
                      "label": {"type": "label", "label": label}})
    (root / "dataset" / "info.labels").write_text(json.dumps({"version": 1, "files": files}))
    return root


def _features(bundle: Path) -> np.ndarray:
    """The model's input rows, computed once with evalcore's own windowing and DSP."""
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset
    from evalcore.engine import RunOptions
    from evalcore.pipeline.featurize import SampleFeaturizer

    project = load_project(bundle)
    featurizer = SampleFeaturizer(project, RunOptions(variant="float32"))
    rows = [featurizer.prepare(r).features[3] for r in load_dataset(project.dataset_dir).records]
    return np.ascontiguousarray(np.concatenate(rows), dtype=np.float32)


def bare_ort(model: Path, x: np.ndarray, batch: int = 1024) -> float:
    """Seconds for the anchor loop (median of 5)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    sess.run(None, {"x": x[:batch]})  # warm-up
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for i in range(0, x.shape[0], batch):
            sess.run(None, {"x": x[i : i + batch]})
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def format_floor(bundle: Path, response) -> tuple[float, float]:
    """(wall, CPU) seconds any evaluator pays for Edge Impulse's formats alone (medians of 3):
    decode every CBOR acquisition file to a float array, and encode the same response with the C
    JSON encoder (faster than, and not byte-compatible with, JavaScript's JSON.stringify).
    """
    import cbor2

    files = sorted((bundle / "dataset" / "testing").iterdir())
    doc = response.model_dump(by_alias=True, exclude_none=True, mode="json")
    times, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.thread_time()
        for f in files:
            np.array(cbor2.loads(f.read_bytes())["payload"]["values"], dtype=np.float64)
        json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    return statistics.median(times), statistics.median(cpu)


def evalcore_run(bundle: Path, repeat: int, workers: int | None) -> tuple[float, float, object, float]:
    """(first-run seconds, warm median seconds, result, warm median CPU seconds of this thread) of
    run_bundle + the response's JSON bytes.
    """
    from evalcore.engine import RunOptions, run_bundle

    times, cpu = [], []
    res = None
    for _ in range(repeat + 1):
        t0, c0 = time.perf_counter(), time.thread_time()
        res = run_bundle(bundle, RunOptions(variant="float32", workers=workers))
        res.response_json()
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    return times[0], statistics.median(times[1:]), res, statistics.median(cpu[1:])


def cli_seconds(bundle: Path, out: Path) -> float:
    """Wall seconds of ``evalcore run`` as a user types it (a fresh process: imports, numba
    cache load, model load, run, output files), warm disk cache.
    """
    import subprocess
    import sys

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "evalcore", "run", str(bundle), "--out", str(out), "-q"], check=True)
    return time.perf_counter() - t0


def main() -> None:
    """Build the three bundles, run every measurement, print one row per model."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", default="mlp,wide,cnn", help="comma-separated subset of mlp,wide,cnn")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here (for run_all.py)")
    args = ap.parse_args()
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="evalcore-bench-"))
    try:
        print(f"{'model':6} {'windows':>8} {'bare ORT (s)':>13} {'evalcore w=0 (s)':>17} {'ratio':>6} "
              f"{'w=2 (s)':>8} {'ratio':>6} {'formats (s)':>12} {'w=0 / (ORT+formats)':>20} "
              f"{'first run (s)':>14} {'CLI (s)':>8} {'w=0 main CPU (s)':>17} {'/ formats CPU':>14}")
        for name, hidden in (("mlp", [64]), ("wide", [512, 512]), ("cnn", "cnn")):
            if name not in args.models.split(","):
                continue
            bundle = build_bundle(tmp / name, args.samples, hidden)
            x = _features(bundle)
            anchor = bare_ort(bundle / "learn" / "3" / "model.onnx", x)
            cold, one, res, one_cpu = evalcore_run(bundle, args.repeat, workers=0)
            _, pooled, res_pool, _ = evalcore_run(bundle, args.repeat, workers=2)
            assert res.n_windows == x.shape[0] and res_pool.response_json() == res.response_json()
            floor, floor_cpu = format_floor(bundle, res.response)
            cli = cli_seconds(bundle, tmp / f"{name}.json")
            print(f"{name:6} {res.n_windows:8d} {anchor:13.3f} {one:17.3f} {one / anchor:6.2f} "
                  f"{pooled:8.3f} {pooled / anchor:6.2f} {floor:12.3f} {one / (anchor + floor):20.2f} "
                  f"{cold:14.3f} {cli:8.2f} {one_cpu:17.3f} {one_cpu / floor_cpu:14.2f}", flush=True)
            rows.append({"model": name, "windows": res.n_windows, "bare_ort": anchor, "w0": one, "w2": pooled,
                         "formats": floor, "first_run": cold, "cli": cli, "w0_cpu": one_cpu,
                         "formats_cpu": floor_cpu})
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
