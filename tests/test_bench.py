"""``evalcore bench``: percentiles as numpy computes them, the table and JSON on the fixture bundles,
accuracy identical to a normal run, the memory method, and bad input exiting 2. No speed is asserted.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from evalcore.bench import BenchOptions, latency_summary, percentile, proc_status_kb, session_memory
from evalcore.cli import main
from evalcore.engine import RunOptions, run_bundle
from evalcore.errors import ConfigError

HAS_AKIDA = importlib.util.find_spec("akida") is not None
# small N: each fixture stays within seconds; the figures are not checked for speed
FAST = ["--runs", "15", "--warmup", "2", "--batch-size", "16", "-q"]
BUNDLES = {"motion": ("float32", "int8"), "kws": ("float32", "int8"), "akida": ("float32", "int8", "akida")}


# -- percentile ----------------------------------------------------------------------------------

def test_percentile_equals_numpy_default_bit_for_bit():
    """Without it the p50/p90/p99 could use another definition than the one the docs name (numpy's linear)."""
    rng = np.random.default_rng(12)
    qs = [0, 1, 25, 50, 90, 99, 99.9, 100, *rng.uniform(0, 100, size=20).tolist()]
    for n in (1, 2, 3, 7, 10, 100, 1001):
        ints = rng.integers(1_000, 5_000_000, size=n)
        floats = rng.lognormal(3.0, 1.0, size=n)
        for values in (ints, floats):
            for q in qs:
                assert percentile(values.tolist(), q) == float(np.percentile(values, q)), (n, q)


def test_percentile_small_cases_by_hand():
    """Without it an off-by-one rank would pass if numpy were mis-called the same way."""
    assert percentile([5], 99) == 5.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20], 90) == 19.0
    assert percentile([3, 1, 2], 100) == 3.0 and percentile([3, 1, 2], 0) == 1.0


@pytest.mark.parametrize("values,q", [([], 50), ([1, 2], -1), ([1, 2], 100.5)])
def test_percentile_rejects_bad_input(values, q):
    with pytest.raises(ValueError):
        percentile(values, q)


def test_latency_summary_in_microseconds_and_ordered():
    """Without it a ns/us mix-up or a swapped percentile would reach the table unnoticed."""
    ns = [1000 * (i + 1) for i in range(100)]
    s = latency_summary(ns)
    assert s["min"] == 1.0 and s["max"] == 100.0 and s["runs"] == 100
    assert s["p50"] == pytest.approx(50.5) and s["p50"] <= s["p90"] <= s["p99"] <= s["max"]


# -- memory --------------------------------------------------------------------------------------

def test_session_memory_sees_a_freed_peak():
    """Without it the peak could be the RSS after loading (missing transient buffers) or the process's old peak."""
    if not proc_status_kb():
        pytest.skip("no /proc/self/status on this system")

    def load():
        buf = np.ones(40 * 1024 * 1024 // 8)  # 40 MiB, touched
        total = float(buf.sum())
        del buf
        return total

    value, mem = session_memory(load)
    assert value == 40 * 1024 * 1024 // 8
    if mem["method"] != "VmHWM reset":
        pytest.skip("cannot reset VmHWM here (/proc/self/clear_refs)")
    assert mem["peakKb"] >= 39 * 1024
    assert mem["residentKb"] < mem["peakKb"] - 30 * 1024


# -- options -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{"variants": ("fp16",)}, {"variants": ()}, {"runs": 0}, {"warmup": -1},
                                    {"threads": 0}, {"batch_size": 0}])
def test_bench_options_reject_bad_values(kwargs):
    with pytest.raises(ConfigError):
        BenchOptions(**kwargs)


# -- the fixture bundles -----------------------------------------------------------------------

def _bundle(fixtures_dir, name):
    path = fixtures_dir / name
    if not (path / "impulse.json").is_file():
        pytest.skip(f"fixtures/{name} not built")
    return path


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_bench_fixture_table_and_json(fixtures_dir, tmp_path, capsys, name):
    """Without it bench could report another engine, a wrong model, misordered percentiles or an
    accuracy that is not the run's: each figure is checked against its source.
    """
    bundle = _bundle(fixtures_dir, name)
    out = tmp_path / "bench.json"
    assert main(["bench", str(bundle), "--in-process", "--json", str(out), *FAST]) == 0
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert "not a device estimate" in doc["label"] and doc["label"] in text
    assert doc["settings"]["runs"] == 15 and doc["settings"]["batchSize"] == 16
    assert doc["samples"] > 0 and doc["windows"] > 0 and doc["settings"]["dspPasses"] >= 1
    by_variant = {v["variant"]: v for v in doc["variants"]}
    assert list(by_variant) == ["float32", "int8", "akida"]
    expected = BUNDLES[name]
    for variant, entry in by_variant.items():
        if variant not in expected:
            assert entry["status"] == "absent"
            assert f"{variant}: absent" in text
            continue
        if variant == "akida" and not HAS_AKIDA:
            assert entry["status"] == "skipped"
            continue
        assert entry["status"] == "measured"
        normal = run_bundle(bundle, RunOptions(variant=variant, akida_device="software"))
        assert entry["accuracy"]["metric"] == "accuracyScore"
        assert entry["accuracy"]["value"] == normal.builder.accuracy_model().accuracy_score
        assert entry["accuracy"]["value"] == json.loads(normal.response_json())["accuracy"]["accuracyScore"]
        engines = normal.engines
        for block in entry["blocks"]:
            assert block["dspUsPerWindow"] > 0
            if block["model"] is None:
                continue
            row = rf"^{variant} +{block['id']} {re.escape(block['name'])} +{re.escape(block['engine'])} "
            assert len(re.findall(row, text, flags=re.M)) == 1, row
            assert block["engine"] == engines[block["id"]]
            assert block["engine"] in doc["label"]
            assert block["modelBytes"] == Path(block["model"]).stat().st_size > 0
            lat = block["latencyUs"]
            assert lat["runs"] == 15 and lat["warmup"] == 2
            assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
            assert block["throughputWindowsPerS"] > 0 and block["throughputPasses"] >= 1
            assert block["memory"]["residentKb"] is None or isinstance(block["memory"]["residentKb"], int)


def test_bench_isolated_process_reports_session_memory(fixtures_dir, tmp_path, capsys):
    """Without it the default (a fresh process per model) could lose its figures on the way back."""
    bundle = _bundle(fixtures_dir, "motion")
    out = tmp_path / "bench.json"
    assert main(["bench", str(bundle), "--variants", "int8", "--json", str(out), *FAST]) == 0
    doc = json.loads(out.read_text())
    assert [v["variant"] for v in doc["variants"]] == ["int8"]
    assert doc["settings"]["isolation"] == "subprocess per model"
    block = doc["variants"][0]["blocks"][0]
    mem = block["memory"]
    if mem["method"] == "VmHWM reset":
        assert mem["peakKb"] > 0 and mem["runtimeImportKb"] > 0
    assert block["latencyUs"]["p50"] <= block["latencyUs"]["p99"]
    assert "int8" in capsys.readouterr().out


def test_bench_broken_model_in_child_exits_2(fixtures_dir, tmp_path, capsys):
    """Without it a model the child cannot load would surface as a crash (exit 1) instead of one line."""
    bundle = tmp_path / "motion"
    shutil.copytree(_bundle(fixtures_dir, "motion"), bundle)
    (bundle / "learn" / "3" / "model.onnx").write_bytes(b"not an onnx model")
    assert main(["bench", str(bundle), "--variants", "float32", *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalcore bench: error:") and "model.onnx" in err and "Traceback" not in err


def test_bench_missing_variant_exits_2_naming_the_variants(fixtures_dir, capsys):
    """Without it asking for a variant the bundle lacks would be silently skipped or crash."""
    bundle = _bundle(fixtures_dir, "motion")
    assert main(["bench", str(bundle), "--variants", "float32,akida", *FAST]) == 2
    err = capsys.readouterr().err
    assert "akida" in err and "variants in the bundle: int8, float32" in err


@pytest.mark.parametrize("args", [["--variants", "fp16"], ["--runs", "0"], ["--json", "/nonexistent/dir/x.json"]])
def test_bench_bad_options_exit_2(fixtures_dir, capsys, args):
    bundle = _bundle(fixtures_dir, "motion")
    assert main(["bench", str(bundle), *args, "-q"]) == 2
    assert capsys.readouterr().err.startswith("evalcore bench: error:")


def test_featurizer_dsp_timing_leaves_features_unchanged(fixtures_dir):
    """Without it timing the DSP blocks could change the rows bench feeds the models."""
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset
    from evalcore.pipeline.featurize import SampleFeaturizer

    project = load_project(_bundle(fixtures_dir, "kws"))
    record = next(iter(load_dataset(project.dataset_dir, category="testing").records))
    plain = SampleFeaturizer(project, RunOptions()).prepare(record)
    timed_f = SampleFeaturizer(project, RunOptions())
    timed_f.dsp_ns = {}
    timed = timed_f.prepare(record)
    assert set(timed_f.dsp_ns) == set(project.dsp) and all(v > 0 for v in timed_f.dsp_ns.values())
    for lb_id, rows in plain.features.items():
        assert np.array_equal(rows, timed.features[lb_id])


def test_akida_without_runtime_is_skipped_unless_asked_for(fixtures_dir, monkeypatch):
    """Without it a machine lacking the akida runtime would fail every bench of an akida bundle,
    or silently drop an akida variant the user asked for.
    """
    from evalcore import bench
    from evalcore.bundle import load_project
    from evalcore.errors import BackendUnavailableError

    project = load_project(_bundle(fixtures_dir, "akida"))
    monkeypatch.setattr(bench, "_akida_importable", lambda: False)
    plan = dict(bench._plan_variants(project, BenchOptions()))
    assert plan["float32"] is None and plan["int8"] is None
    assert plan["akida"][0] == "skipped" and "evalcore[akida]" in plan["akida"][1]
    with pytest.raises(BackendUnavailableError, match="akida"):
        bench._plan_variants(project, BenchOptions(variants=("akida",)))
