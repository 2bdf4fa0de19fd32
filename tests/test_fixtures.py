"""The fixture bundles under ``fixtures/``: well-formed API bodies, loadable data, fitting models.

Also rebuilds them with ``fixtures/build_fixtures.py`` and checks the result is the committed
bytes (trained weights within ``TRAINED_RTOL``, see fixtures/README.md "Determinism").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evalcore import data as data_mod
from evalcore import schema
from tests._helpers import close_onnx, close_text

BUNDLES = ["motion", "motion-gmm", "regression", "gestures-real", "temperature-regression", "kws", "image",
           "coffee-multilabel"]
# Bundles whose models are trained by the build script (their weights may differ in the last
# bits on another CPU); the others only copy models and generate data with numpy's RNG.
TRAINED = {"motion", "motion-gmm", "regression", "coffee-multilabel"}
# Bundles with an anomaly learn block (K-means or GMM); test_anomaly_bundles_are_listed keeps it true.
ANOMALY_BUNDLES = ["motion", "motion-gmm"]
# Folders that hold copied real Edge Impulse files, which must carry their licence text.
LICENSED = {
    "motion": ["dataset"],
    "motion-gmm": ["dataset"],
    "gestures-real": ["dataset", "learn/3"],
    "temperature-regression": ["learn/3"],
    "kws": ["dataset", "learn/3"],
    "image": ["dataset", "learn/3"],
    "coffee-multilabel": ["dataset"],
}
MAX_BUNDLE_BYTES = 3_000_000
MAX_TOTAL_BYTES = 15_000_000
F32_NAMES = ("model.onnx", "model.tflite")
INT8_NAMES = ("model_int8.onnx", "model_quantized_int8_io.tflite")

# Required fields of each API body (edgeimpulse-api 1.96.3): key -> None (present) or the
# nested spec of the value; a one-element list means "each element of the list".
_LAYER_IO = {"shape": None, "name": None, "type": None}
_THRESHOLD = [{"key": None, "description": None, "helpText": None, "value": None}]
_METRICS = [{"type": None, "loss": None, "confusionMatrix": None, "report": None,
             "onDevicePerformance": None, "visualization": None, "isSupportedOnMcu": None,
             "additionalMetrics": None}]
REQUIRED = {
    "impulse": {"success": None, "impulse": {
        "id": None, "name": None, "postProcessingBlocks": None, "type": None,
        "inputBlocks": [{"id": None, "type": None, "name": None, "title": None}],
        "dspBlocks": [{"id": None, "type": None, "name": None, "axes": None, "title": None,
                       "implementationVersion": None}],
        "learnBlocks": [{"id": None, "type": None, "name": None, "dsp": None, "title": None}],
    }},
    "dsp": {"success": None, "dsp": {
        "id": None, "name": None, "windowLength": None, "type": None, "classes": None,
        "features": {"generated": None}, "expectedWindowCount": None, "inputAxes": None,
        "canCalculateFeatureImportance": None, "calculateFeatureImportance": None,
        "canNormalizeData": None, "normalizeData": None,
    }, "config": [{"group": None, "items": [{
        "name": None, "defaultValue": None, "type": None, "param": None, "readonly": None,
        "shouldShow": None, "required": None, "showClickToSet": None}]}]},
    "keras": {"success": None, "created": None, "classNames": None, "labels": None,
              "layers": [{"input": _LAYER_IO, "output": _LAYER_IO}],
              "availableModelTypes": None, "recommendedModelType": None,
              "modelValidationMetrics": _METRICS, "hasTrainedModel": None, "mode": None,
              "imageInputScaling": None, "thresholds": _THRESHOLD},
    "anomaly": {"success": None, "created": None, "scale": None, "mean": None,
                "clusters": [{"center": None, "maxError": None}], "axes": None,
                "defaultMinimumConfidenceRating": None, "thresholds": _THRESHOLD},
    "gmm": {"success": None, "means": None, "covariances": None, "weights": None},
}
_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
# Free-form objects inside API bodies whose keys are data, not field names.
_FREE_FORM_KEYS = {"report"}


def _bundle(fixtures_dir: Path, name: str) -> Path:
    """A committed fixture bundle; a missing one is a failure (they are in git, not built on demand)."""
    path = fixtures_dir / name
    assert (path / "impulse.json").is_file(), f"fixture bundle {name} is missing ({path / 'impulse.json'})"
    return path


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _bodies(bundle: Path):
    """(kind, path) of every API body in a bundle, kind as in ``REQUIRED``."""
    impulse = _json(bundle / "impulse.json")["impulse"]
    out = [("impulse", bundle / "impulse.json")]
    out += [("dsp", bundle / "dsp" / f"{b['id']}.json") for b in impulse["dspBlocks"]]
    for block in impulse["learnBlocks"]:
        kind = "anomaly" if block["type"] in ("anomaly", "anomaly-gmm") else "keras"
        out.append((kind, bundle / "learn" / str(block["id"]) / "metadata.json"))
        if block["type"] == "anomaly-gmm":
            out.append(("gmm", bundle / "learn" / str(block["id"]) / "gmm.json"))
    return out


def _missing(data, spec, where: str) -> list:
    if isinstance(spec, list):
        if not isinstance(data, list):
            return [f"{where} is not a list"]
        return [m for i, item in enumerate(data) for m in _missing(item, spec[0], f"{where}[{i}]")]
    if not isinstance(data, dict):
        return [f"{where} is not an object"]
    out = []
    for key, sub in spec.items():
        if key not in data:
            out.append(f"{where}.{key}")
        elif sub is not None:
            out += _missing(data[key], sub, f"{where}.{key}")
    return out


def _bad_keys(data, where: str) -> list:
    if isinstance(data, list):
        return [b for i, item in enumerate(data) for b in _bad_keys(item, f"{where}[{i}]")]
    if not isinstance(data, dict):
        return []
    out = []
    for key, value in data.items():
        if not _CAMEL.match(key):
            out.append(f"{where}.{key}")
        if key not in _FREE_FORM_KEYS:
            out += _bad_keys(value, f"{where}.{key}")
    return out


def _unknown_keys(model, data, where: str) -> list:
    """Keys of ``data`` that are no field (by API name) of the validated pydantic ``model``."""
    from pydantic import BaseModel

    by_alias = {(f.alias or n): n for n, f in type(model).model_fields.items()}
    out = []
    for key, value in data.items():
        if key not in by_alias:
            out.append(f"{where}.{key}")
            continue
        attr = getattr(model, by_alias[key])
        pairs = zip(attr, value) if isinstance(attr, list) and isinstance(value, list) else \
            [(attr, value)]
        for i, (sub_model, sub_data) in enumerate(pairs):
            if isinstance(sub_model, BaseModel) and isinstance(sub_data, dict):
                suffix = f"[{i}]" if isinstance(value, list) else ""
                out += _unknown_keys(sub_model, sub_data, f"{where}.{key}{suffix}")
    return out


@pytest.mark.parametrize("name", BUNDLES)
def test_bundle_has_every_file(fixtures_dir, name):
    """A missing body, model or dataset file would only show when `evalcore run` reads it."""
    bundle = _bundle(fixtures_dir, name)
    missing = [str(p.relative_to(bundle)) for _, p in _bodies(bundle) if not p.is_file()]
    for rel in ("README.md", "dataset/info.labels"):
        if not (bundle / rel).is_file():
            missing.append(rel)
    impulse = _json(bundle / "impulse.json")["impulse"]
    for block in impulse["learnBlocks"]:
        if block["type"].startswith("keras"):
            learn = bundle / "learn" / str(block["id"])
            if not any((learn / n).is_file() for n in F32_NAMES + INT8_NAMES):
                missing.append(f"learn/{block['id']}/<model>")
    assert missing == [], f"{name}: missing {missing}"


@pytest.mark.parametrize("name", BUNDLES)
def test_api_bodies_have_required_camel_case_fields(fixtures_dir, name):
    """A body lacking a field edgeimpulse-api requires, or with snake_case keys, is no API body."""
    bundle = _bundle(fixtures_dir, name)
    for kind, path in _bodies(bundle):
        data = _json(path)
        assert _missing(data, REQUIRED[kind], "$") == [], f"{path}: missing required fields"
        assert _bad_keys(data, "$") == [], f"{path}: keys not in camelCase"


@pytest.mark.parametrize("name", BUNDLES)
def test_api_bodies_validate_with_evalcore_schema(fixtures_dir, name):
    """evalcore.schema ignores unknown keys, so a misspelt field would be silently dropped."""
    bundle = _bundle(fixtures_dir, name)
    impulse = _json(bundle / "impulse.json")["impulse"]
    kinds = {str(b["id"]): b["type"] for b in impulse["learnBlocks"]}
    for kind, path in _bodies(bundle):
        data = _json(path)
        if kind == "impulse":
            model, data = schema.load_impulse(path), data["impulse"]
        elif kind == "dsp":
            model = schema.load_dsp_config(path)
        elif kind == "gmm":
            model = schema.load_anomaly_gmm_metadata(path)
        else:
            model = schema.load_learn_metadata(path, kind=kinds[path.parent.name])
        assert _unknown_keys(model, data, "$") == [], f"{path}: keys the schema does not know"


@pytest.mark.parametrize("name", BUNDLES)
def test_dataset_loads_with_evalcore_data(fixtures_dir, name):
    """Every sample listed in info.labels must read with evalcore.data, with the listed label."""
    bundle = _bundle(fixtures_dir, name)
    listed = {e["path"]: e for e in _json(bundle / "dataset" / "info.labels")["files"]}
    index = data_mod.load_dataset(bundle / "dataset", category=None)
    assert sorted(r.rel_path for r in index.records) == sorted(listed)
    for record in index.records:
        entry = listed[record.rel_path]
        assert record.category == entry["category"], record.rel_path
        assert record.label.kind == entry["label"]["type"], record.rel_path
        if record.label.kind == "label":
            assert record.label.label == entry["label"]["label"], record.rel_path
        else:
            got = [(g.label, g.start_index, g.end_index) for g in record.label.segments]
            want = [(g["label"], g["startIndex"], g["endIndex"]) for g in entry["label"]["labels"]]
            assert got == want, record.rel_path
        data_mod.load_sample_data(record)
    assert any(r.category == "testing" for r in index.records), f"{name}: no testing samples"


def _feature_count(bundle: Path, learn_block: dict) -> int:
    return sum(_json(bundle / "dsp" / f"{d}.json")["dsp"]["features"]["count"]
               for d in learn_block["dsp"])


def _onnx_io(path: Path):
    import onnx

    graph = onnx.load(str(path)).graph
    dims = [(d.dim_param, d.dim_value) for d in graph.input[0].type.tensor_type.shape.dim]
    return dims, graph.input[0].type.tensor_type.elem_type


@pytest.mark.parametrize("name", BUNDLES)
def test_models_fit_the_impulse(fixtures_dir, name):
    """A model not fed by the DSP output, or not giving one score per class, cannot run."""
    import onnxruntime as ort

    bundle = _bundle(fixtures_dir, name)
    impulse = _json(bundle / "impulse.json")["impulse"]
    checked = []
    for block in [b for b in impulse["learnBlocks"] if b["type"].startswith("keras")]:
        learn = bundle / "learn" / str(block["id"])
        n_features = _feature_count(bundle, block)
        n_outputs = len(_json(learn / "metadata.json")["classNames"])
        for model in [learn / n for n in F32_NAMES + INT8_NAMES if (learn / n).is_file()]:
            checked.append(model.name)
            if model.suffix == ".onnx":
                dims, elem = _onnx_io(model)
                assert dims[0][0] != "" and dims[0][1] == 0, f"{model}: batch dim not dynamic"
                assert int(np.prod([v for _, v in dims[1:]])) == n_features, model
                dtype = np.int8 if elem == 3 else np.float32
                session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
                out = session.run(None, {session.get_inputs()[0].name:
                                         np.zeros((3, n_features), dtype=dtype)})[0]
                assert out.shape == (3, n_outputs), f"{model}: output shape {out.shape}"
            else:
                litert = pytest.importorskip("ai_edge_litert.interpreter")
                interp = litert.Interpreter(model_path=str(model))
                n_in = int(np.prod(interp.get_input_details()[0]["shape"][1:]))
                n_out = int(np.prod(interp.get_output_details()[0]["shape"][1:]))
                assert (n_in, n_out) == (n_features, n_outputs), model
    assert checked, f"{name}: no model was checked"


def test_anomaly_bundles_are_listed(fixtures_dir):
    """Without it a new bundle with an anomaly block would escape the anomaly checks below."""
    with_anomaly = [n for n in BUNDLES if any(
        b["type"] in ("anomaly", "anomaly-gmm")
        for b in _json(_bundle(fixtures_dir, n) / "impulse.json")["impulse"]["learnBlocks"])]
    assert with_anomaly == ANOMALY_BUNDLES


@pytest.mark.parametrize("name", ANOMALY_BUNDLES)
def test_anomaly_metadata_fits_the_features(fixtures_dir, name):
    """Anomaly axes outside the DSP output, or parameters of the wrong shape, would crash scoring."""
    bundle = _bundle(fixtures_dir, name)
    impulse = _json(bundle / "impulse.json")["impulse"]
    blocks = [b for b in impulse["learnBlocks"] if b["type"] in ("anomaly", "anomaly-gmm")]
    assert blocks, f"{name}: no anomaly learn block"
    for block in blocks:
        learn = bundle / "learn" / str(block["id"])
        meta = _json(learn / "metadata.json")
        n_axes = len(meta["axes"])
        assert max(meta["axes"]) < _feature_count(bundle, block)
        if block["type"] == "anomaly":
            assert len(meta["scale"]) == len(meta["mean"]) == n_axes
            assert all(len(c["center"]) == n_axes and c["maxError"] >= 0
                       for c in meta["clusters"])
        else:
            gmm = _json(learn / "gmm.json")
            n_comp = len(gmm["weights"])
            assert len(meta["scale"]) == len(meta["mean"]) == 1  # the log-likelihood scaler
            assert np.asarray(gmm["means"]).shape == (n_comp, n_axes)
            assert np.asarray(gmm["covariances"]).shape == (n_comp, n_axes, n_axes)
            assert np.isclose(sum(gmm["weights"]), 1.0)


@pytest.mark.parametrize("name", sorted(LICENSED))
def test_real_material_carries_its_licence(fixtures_dir, name):
    """Copied Edge Impulse files may only be redistributed with their licence text next to them."""
    bundle = _bundle(fixtures_dir, name)
    for folder in LICENSED[name]:
        assert list((bundle / folder).glob("LICENSE-*.txt")), f"{name}/{folder}: no licence"


def test_fixtures_stay_small(fixtures_dir):
    """The demo must stay fast and the repository small."""
    sizes = {n: sum(p.stat().st_size for p in (fixtures_dir / n).rglob("*") if p.is_file())
             for n in BUNDLES if (fixtures_dir / n).is_dir()}
    assert all(s < MAX_BUNDLE_BYTES for s in sizes.values()), sizes
    assert sum(sizes.values()) < MAX_TOTAL_BYTES, sizes


@pytest.mark.slow
def test_rebuild_gives_the_committed_bundles(fixtures_dir, tmp_path):
    """A fixture edited by hand, or a builder that is not deterministic, would go unnoticed."""
    for module in ("sklearn", "ai_edge_litert"):  # dev-extra oracles; onnx/onnxruntime are required
        pytest.importorskip(module)
    real = fixtures_dir.parent.parent / "shared" / "real"
    names = BUNDLES if real.is_dir() else ["regression"]
    names = [n for n in names if (fixtures_dir / n / "impulse.json").is_file()]
    cmd = [sys.executable, str(fixtures_dir / "build_fixtures.py"), "--out", str(tmp_path)]
    for n in names:
        cmd += ["--only", n]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    problems = []
    for name in names:
        built, committed = tmp_path / name, fixtures_dir / name
        files = sorted({p.relative_to(built) for p in built.rglob("*") if p.is_file()}
                       | {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()})
        for rel in files:
            a, b = committed / rel, built / rel
            if not (a.is_file() and b.is_file()):
                problems.append(f"{name}/{rel}: only in one tree")
            elif a.read_bytes() != b.read_bytes() and not (
                    name in TRAINED and _trained_close(a, b)):
                problems.append(f"{name}/{rel}: differs")
    assert problems == [], "\n".join(problems)


def _trained_close(a: Path, b: Path) -> bool:
    if a.suffix == ".onnx":
        return close_onnx(a, b)
    if a.suffix in (".json", ".md") and "dataset" not in a.parts:
        return close_text(a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8"))
    return False
