"""`evalcore inspect` fails on every bundle `run` rejects (exit 2, one line naming file and field),
and keeps its report on good bundles stable: same text and JSON, camelCase keys only.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys

import pytest

from evalcore.cli import main


def _copy(fixtures_dir, tmp_path, name):
    src = fixtures_dir / name
    if not (src / "impulse.json").is_file():
        pytest.skip(f"{name} fixture not built")
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def _edit_json(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _set_dsp_param(bundle, name, value):
    def change(doc):
        items = [item for group in doc["config"] for item in group["items"] if item["param"] == name]
        assert items, name
        items[0]["value"] = value

    _edit_json(bundle / "dsp" / "2.json", change)


def _truncate(path, n=300):
    path.write_bytes(path.read_bytes()[:n])


def _image_input_block(bundle):
    def change(doc):
        doc["impulse"]["inputBlocks"] = [{"id": 1, "type": "image", "name": "Image", "title": "Image",
                                          "imageWidth": 32, "imageHeight": 32, "resizeMode": "squash"}]

    _edit_json(bundle / "impulse.json", change)


def _kmeans(change):
    return lambda b: _edit_json(b / "learn" / "4" / "metadata.json", change)


def _classifier(change):
    return lambda b: _edit_json(b / "learn" / "3" / "metadata.json", change)


# (fixture, how to break it, substrings the one-line message must hold: the file, then the field)
BAD_BUNDLES = {
    "corrupt-onnx": ("motion", lambda b: (b / "learn/3/model.onnx").write_bytes(b"not a model" * 8),
                     ["learn/3/model.onnx"]),
    # `run` reads the int8 file only with --variant int8; inspect opens every variant present
    "truncated-int8-onnx": ("motion", lambda b: _truncate(b / "learn/3/model_int8.onnx"),
                            ["learn/3/model_int8.onnx"]),
    "truncated-tflite": ("kws", lambda b: _truncate(b / "learn/3/model.tflite", 2000), ["learn/3/model.tflite"]),
    "zeroed-int8-tflite": ("kws", lambda b: (b / "learn/3/model_quantized_int8_io.tflite").write_bytes(bytes(64)),
                           ["learn/3/model_quantized_int8_io.tflite"]),
    "truncated-fbz": ("akida", lambda b: _truncate(b / "learn/3/akida_model.fbz", 500), ["learn/3/akida_model.fbz"]),
    # flatten without skewness makes 18 features; the model takes 21
    "model-input-size": ("motion", lambda b: _set_dsp_param(b, "skewness", "false"),
                         ["learn/3/model.onnx", "takes 21 features", "produces 18"]),
    "classnames-short": ("motion", _classifier(lambda d: d.update(classNames=["idle", "snake", "updown"])),
                         ["learn/3/metadata.json", "field classNames"]),
    "classnames-empty": ("motion", _classifier(lambda d: d.update(classNames=[], labels=[])),
                         ["learn/3/metadata.json", "field classNames"]),
    "classnames-duplicate": ("motion", _classifier(lambda d: d.update(classNames=["idle", "idle", "updown", "wave"])),
                             ["learn/3/metadata.json", "field classNames"]),
    "kmeans-no-clusters": ("motion", _kmeans(lambda d: d.update(clusters=[])),
                           ["learn/4/metadata.json", "field clusters"]),
    "kmeans-centre-length": ("motion", _kmeans(lambda d: d["clusters"][1].update(center=[0.5, 0.5])),
                             ["learn/4/metadata.json", "field clusters[1].center"]),
    "kmeans-scale-zero": ("motion", _kmeans(lambda d: d.update(scale=[0.0, 0.0, 0.0])),
                          ["learn/4/metadata.json", "field scale"]),
    "kmeans-centre-nan": ("motion", _kmeans(lambda d: d["clusters"][0].update(center=[float("nan")] * 3)),
                          ["learn/4/metadata.json", "field clusters[0].center"]),
    "kmeans-axis-out-of-range": ("motion", _kmeans(lambda d: d.update(axes=[0, 1, 99])),
                                 ["learn/4/metadata.json", "field axes"]),
    "detection-last-layer-unknown": ("fomo", _classifier(lambda d: d.update(objectDetectionLastLayer="x")),
                                     ["learn/3/metadata.json", "field objectDetectionLastLayer"]),
    "fomo-classnames-short": ("fomo", _classifier(lambda d: d.update(classNames=d["classNames"][:1])),
                              ["learn/3/metadata.json", "field classNames", "3 channels"]),
    "mfcc-frame-longer-than-window": ("kws", lambda b: _set_dsp_param(b, "frame_length", "5"),
                                      ["dsp/2.json", "sample ", "field frame_length"]),
    "mfcc-filters-over-fft": ("kws", lambda b: _set_dsp_param(b, "fft_length", "16"),
                              ["dsp/2.json", "sample ", "field num_filters"]),
    "missing-impulse": ("motion", lambda b: (b / "impulse.json").unlink(), ["impulse.json", "not found"]),
    "image-block-over-time-series": ("motion", _image_input_block,
                                     ["sample idle.0", "field impulse.inputBlocks[0].type"]),
}


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_inspect_rejects_what_run_rejects(case, fixtures_dir, tmp_path, capsys):
    """Without it `inspect` could pass a bundle whose run fails (the 30 inputs issue 11 lists)."""
    name, breaks, expected = BAD_BUNDLES[case]
    if case == "truncated-fbz" and importlib.util.find_spec("akida") is None:
        pytest.skip("akida runtime not installed (test_inspect_says_akida_not_checked covers it)")
    if name in ("kws", "fomo") and importlib.util.find_spec("ai_edge_litert") is None:
        pytest.skip("LiteRT not installed")
    bundle = _copy(fixtures_dir, tmp_path, name)
    breaks(bundle)
    code = main(["inspect", str(bundle), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("evalcore inspect: error:")]
    assert len(lines) == 1, err
    for part in expected:
        assert part in lines[0], (part, lines[0])


def test_inspect_and_run_agree_on_a_model_input_size(fixtures_dir, tmp_path, capsys):
    """Without it the two commands could check the DSP output against the model differently."""
    bundle = _copy(fixtures_dir, tmp_path, "motion")
    _set_dsp_param(bundle, "skewness", "false")
    assert main(["inspect", str(bundle), "-q"]) == 2
    inspect_err = capsys.readouterr().err.split("error:", 1)[1]
    assert main(["run", str(bundle), "--out", str(tmp_path / "r.json"), "-q", "--workers", "0"]) == 2
    assert capsys.readouterr().err.split("error:", 1)[1] == inspect_err
    assert not (tmp_path / "r.json").exists()


def test_inspect_says_akida_not_checked_without_the_runtime(fixtures_dir, monkeypatch, capsys):
    """Without it a missing optional runtime would fail inspect (or be passed over silently)."""
    bundle = fixtures_dir / "akida"
    if not (bundle / "impulse.json").is_file():
        pytest.skip("akida fixture not built")
    monkeypatch.setitem(sys.modules, "akida", None)  # import akida raises ImportError
    assert main(["inspect", str(bundle), "-q"]) == 0
    out = capsys.readouterr().out
    assert "float32=model.onnx (opened)" in out
    assert re.search(r"akida=akida_model\.fbz \(not checked: [^)]*akida", out), out


def test_inspect_bare_dataset_export_still_reads(fixtures_dir, tmp_path, capsys):
    """Without it the rule "no impulse.json in a bundle = exit 2" could break the dataset-export mode."""
    export = tmp_path / "export"
    shutil.copytree(fixtures_dir / "motion" / "dataset", export)
    assert main(["inspect", str(export), "-q", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sampleCount"] == 10 and report["learnBlocks"] == []


GOOD_TEXT_MOTION = """\
bundle {bundle}
  input block: time-series window 2000 ms, step 400 ms, 62.5 Hz, zero padded
  dsp block 2: flatten v1 axes accX,accY,accZ, 21 features per window
  learn block 3: keras (classification) 'Classification' dsp [2] models: float32=model.onnx (opened), \
int8=model_int8.onnx (opened)
  learn block 4: anomaly (anomaly-kmeans) 'Anomaly Detection (K-means)' dsp [2] models: none (scored from metadata)
  available variants: int8, float32
  checked on sample idle.0 (1 window): learn block 3: 21, learn block 4: 21 features
  testing: 10 samples, 189 windows
  all categories: testing 10, training 16
    idle: 4 samples
    shake: 1 samples
    snake: 1 samples
    updown: 2 samples
    wave: 2 samples
  data: time-series 10
"""


def test_inspect_text_of_a_good_bundle(fixtures_dir, capsys):
    """Without it the report people read could change (or lose the model checks) unnoticed."""
    bundle = fixtures_dir / "motion"
    assert main(["inspect", str(bundle), "-q"]) == 0
    assert capsys.readouterr().out == GOOD_TEXT_MOTION.format(bundle=bundle)


# keys whose values are maps of data (labels, file names, variants, block ids), not field names
_DATA_MAPS = {"samplesPerLabel", "samplesPerCategory", "windowsPerSample", "dataKinds", "models", "modelChecks",
              "featuresPerLearnBlock"}


def _keys(node, parent=None):
    if isinstance(node, dict):
        for key, value in node.items():
            if parent not in _DATA_MAPS:
                yield key
            yield from _keys(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item, parent)


@pytest.mark.parametrize("name", ["motion", "motion-gmm", "kws", "image", "fomo", "regression", "akida"])
def test_inspect_json_is_stable_and_camel_case(name, fixtures_dir, capsys):
    """Without it `--json` could mix key styles again or change between two runs of one bundle."""
    bundle = fixtures_dir / name
    if not (bundle / "impulse.json").is_file():
        pytest.skip(f"{name} fixture not built")
    assert main(["inspect", str(bundle), "-q", "--json"]) == 0
    first = capsys.readouterr().out
    assert main(["inspect", str(bundle), "-q", "--json"]) == 0
    assert capsys.readouterr().out == first
    report = json.loads(first)
    keys = set(_keys(report))
    assert {"sampleCount", "windowCount", "learnBlocks", "inputBlock", "firstSample"} <= keys
    assert [k for k in keys if not re.fullmatch(r"[a-z][a-zA-Z0-9]*", k)] == []
    assert report["windowCount"] == sum(report["windowsPerSample"].values())
    assert report["sampleCount"] == sum(report["samplesPerLabel"].values())
    for lb in report["learnBlocks"]:
        assert set(lb["modelChecks"]) == set(lb["models"])


def test_inspect_without_the_default_variants_runtime(fixtures_dir, monkeypatch, capsys):
    """Without it a bundle whose run needs a missing runtime (LiteRT) would crash inspect's reduce check."""
    bundle = fixtures_dir / "kws"
    if not (bundle / "impulse.json").is_file():
        pytest.skip("kws fixture not built")
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    assert main(["inspect", str(bundle), "-q", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    checks = report["learnBlocks"][0]["modelChecks"]
    assert set(checks) == {"float32", "int8"}
    assert all(c.startswith("not checked: ") and "ai-edge-litert" in c for c in checks.values()), checks
    assert report["firstSample"]["featuresPerLearnBlock"] == {"3": 637}  # the DSP still ran
