"""The CLI on real bundles and on broken ones: `inspect` reports, bad input exits 2 with a clear line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from evalcore.cli import main

FIXTURE_BUNDLES = ["motion", "motion-gmm", "regression", "gestures-real", "temperature-regression", "kws",
                   "coffee-multilabel", "image", "fomo", "yolov5", "ssd", "visual-anomaly", "akida"]


@pytest.fixture()
def motion_copy(fixtures_dir, tmp_path):
    src = fixtures_dir / "motion"
    assert (src / "impulse.json").is_file(), f"committed fixture bundle missing: {src}"
    dst = tmp_path / "bundle"
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("name", FIXTURE_BUNDLES)
def test_inspect_every_fixture_bundle(fixtures_dir, name, capsys):
    """Without it a fixture could rot (unreadable file, wrong model size) without any test noticing."""
    bundle = fixtures_dir / name
    assert bundle.is_dir(), f"committed fixture bundle missing: {bundle}"
    assert main(["inspect", str(bundle), "--json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sampleCount"] > 0 and report["windowCount"] > 0
    assert report["learnBlocks"] and report["availableVariants"]


@pytest.mark.parametrize("export", ["gestures", "coffee", "dataset", "object_detection"])
def test_inspect_real_exports(real_dir, export, capsys):
    """Without it a real Edge Impulse export layout could fail to load and only users would see it."""
    path = real_dir / "edgeimpulse-python-sdk-sample-data" / "sample_data" / export
    assert main(["inspect", str(path), "-q"]) == 0
    assert "samples" in capsys.readouterr().out


def _corrupt_first_sample(bundle):
    labels = json.loads((bundle / "dataset" / "info.labels").read_text())
    first = next(f for f in labels["files"] if f["category"] == "testing")
    return bundle / "dataset" / first["path"], labels, first


def _set_labels(bundle, labels):
    (bundle / "dataset" / "info.labels").write_text(json.dumps(labels))


def _break_truncated_cbor(bundle):
    path, _, _ = _corrupt_first_sample(bundle)
    path.write_bytes(path.read_bytes()[:100])
    return path.name


def _break_missing_file(bundle):
    path, _, _ = _corrupt_first_sample(bundle)
    path.unlink()
    return path.name


def _break_escaping_path(bundle):
    _, labels, first = _corrupt_first_sample(bundle)
    first["path"] = "../../etc/passwd"
    _set_labels(bundle, labels)
    return "escapes"


def _break_label_type(bundle):
    _, labels, first = _corrupt_first_sample(bundle)
    first["label"] = {"type": "mystery"}
    _set_labels(bundle, labels)
    return "label"


def _break_empty_dataset(bundle):
    _, labels, _ = _corrupt_first_sample(bundle)
    labels["files"] = [f for f in labels["files"] if f["category"] != "testing"]
    _set_labels(bundle, labels)
    return "no samples in category"


def _break_impulse_json(bundle):
    (bundle / "impulse.json").write_text('{"success": true, "impulse": {')
    return "impulse.json"


def _break_model_file(bundle):
    (bundle / "learn" / "3" / "model.onnx").write_bytes(b"not a model")
    return "model.onnx"


def _break_feature_count(bundle):
    path = bundle / "dsp" / "2.json"
    config = json.loads(path.read_text())
    for group in config["config"]:
        for item in group["items"]:
            if item["param"] in ("skewness", "kurtosis"):
                item["value"] = "false"
    path.write_text(json.dumps(config))
    return "takes 21 features per window"


BREAKS = {
    "dsp_output_does_not_fit_the_model": _break_feature_count,
    "truncated_cbor": _break_truncated_cbor,
    "missing_listed_file": _break_missing_file,
    "path_escapes_dataset": _break_escaping_path,
    "unknown_label_type": _break_label_type,
    "empty_dataset": _break_empty_dataset,
    "corrupt_impulse_json": _break_impulse_json,
    "corrupt_model": _break_model_file,
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_bad_input_exits_2_with_one_clear_line_and_no_output(motion_copy, tmp_path, case, capsys):
    """Without it bad input would end in a traceback, exit 1, or leave a partial result behind."""
    needle = BREAKS[case](motion_copy)
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    assert main(["run", str(motion_copy), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalcore run: error: ") and err.count("\n") == 1, err
    assert needle in err, err
    assert list(out.parent.iterdir()) == []


HEAVY_MODULES = ("numpy", "numba", "onnxruntime", "scipy", "pydantic")
# Runs `python -m evalcore --help` (evalcore/__main__.py) in this fresh interpreter, then reports
# which heavy modules it imported; the help text goes to stdout before the report line.
_HELP_AND_REPORT = (
    "import runpy, sys\n"
    "sys.argv = ['evalcore', '--help']\n"
    "try:\n"
    "    runpy.run_module('evalcore', run_name='__main__', alter_sys=True)\n"
    "except SystemExit as exit_:\n"
    "    code = exit_.code\n"
    "else:\n"
    "    code = 'no exit'\n"
    f"heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
    "print('REPORT', code, ','.join(heavy))\n"
)


def test_python_dash_m_and_help_start_without_heavy_imports():
    """Without it `python -m evalcore` could break, or --help could pay seconds of imports."""
    res = subprocess.run([sys.executable, "-c", _HELP_AND_REPORT], capture_output=True, text=True, check=True)
    help_text, _, report = res.stdout.rpartition("REPORT ")
    for command in ("run", "inspect", "compare", "coco-eval"):
        assert command in help_text
    code, heavy = report.rstrip("\n").split(" ", 1)
    assert code == "0", f"--help exited with {code}"
    assert heavy == "", f"--help imported {heavy}"
