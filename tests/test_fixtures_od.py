"""The object-detection and visual-anomaly fixture bundles (fixtures/build_od_fixtures.py).

fomo, yolov5, ssd and visual-anomaly: API bodies through evalcore.schema, datasets and boxes
through evalcore.data, models fitting their impulse, ``evalcore inspect`` and ``evalcore run``,
licences, size, and a rebuild that reproduces the committed files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REAL, skip_if_shared_missing

BUNDLES = ["fomo", "yolov5", "ssd", "visual-anomaly"]
NEEDS_REAL = {"fomo", "yolov5"}  # rebuilt only when ../shared/real is present
# Per bundle: learn block type, objectDetectionLastLayer, classNames, threshold (key, value),
# DSP colour depth, input side in pixels, model output shape per window (first output).
SPEC = {
    "fomo": ("keras-object-detection", "fomo", ["beer", "can"], ("min_score", 0.5),
             "Grayscale", 96, (12, 12, 3)),
    "yolov5": ("keras-object-detection", "yolov5", ["dog", "toy"], ("min_score", 0.5),
               "RGB", 320, (6300, 7)),
    "ssd": ("keras-object-detection", "mobilenet-ssd", ["blue", "red"], ("min_score", 0.5),
            "RGB", 64, (4, 4)),
    "visual-anomaly": ("keras-visual-anomaly", None, ["anomaly", "no anomaly"],
                       ("min_anomaly_score", 1.5), "RGB", 64, (3, 3, 1)),
}
# Testing samples, ground-truth boxes in them, and what the build script measured running the
# models (README.md of each bundle): float32 detections over the test set, or for visual
# anomaly the samples predicted as labelled.
EXPECTED = {
    "fomo": {"n_test": 8, "n_boxes": 8, "detections": 5},
    "yolov5": {"n_test": 2, "n_boxes": 5, "detections": 1},
    "ssd": {"n_test": 8, "n_boxes": 9, "detections": 5},
    "visual-anomaly": {"n_test": 10, "n_boxes": 0, "correct": 8},
}
LICENSED = {"fomo": ["learn/3"], "yolov5": ["dataset", "learn/3"]}
MAX_BUNDLE_BYTES = 3_000_000
# README tables print model scores rounded to 2-3 decimals; another CPU's float rounding may
# move one in the last printed digit.
README_ATOL = 2e-3


def _bundle(fixtures_dir: Path, name: str) -> Path:
    path = fixtures_dir / name
    assert (path / "impulse.json").is_file(), f"committed fixture bundle missing: {path}"
    return path


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _model(bundle: Path, name: str) -> Path:
    """The float32 model of learn block 3 (a committed file, never a link into ../shared)."""
    for file_name in ("model.onnx", "model.tflite"):
        path = bundle / "learn" / "3" / file_name
        assert not path.is_symlink(), f"{name}: {path} is a link; fixtures hold their own copies"
        if path.exists():
            return path
    raise AssertionError(f"{name}: no float32 model in learn/3")


@pytest.mark.parametrize("name", BUNDLES)
def test_api_bodies_validate_with_evalcore_schema(fixtures_dir, name):
    """A body evalcore.schema refuses would make `evalcore run` stop at load time."""
    from evalcore.schema import load_dsp_config, load_impulse, load_keras_metadata

    bundle = _bundle(fixtures_dir, name)
    impulse = load_impulse(_json(bundle / "impulse.json"), path=bundle / "impulse.json")
    dsp = load_dsp_config(_json(bundle / "dsp" / "2.json"), path=bundle / "dsp" / "2.json")
    meta = load_keras_metadata(_json(bundle / "learn" / "3" / "metadata.json"))
    learn_type, last_layer, classes, (key, value), channels, side, _ = SPEC[name]
    assert [b.type for b in impulse.learn_blocks] == [learn_type]
    block = impulse.input_blocks[0]
    assert (block.image_width, block.image_height, block.resize_mode) == (side, side, "squash")
    assert dsp.parameter_values()["channels"] == channels
    assert meta.object_detection_last_layer == last_layer
    assert meta.class_names == classes
    assert [(t.key, t.value) for t in meta.thresholds] == [(key, value)]


@pytest.mark.parametrize("name", BUNDLES)
def test_dataset_and_boxes_load_with_evalcore_data(fixtures_dir, name):
    """Boxes lost or misread by the index would turn every detection into a false positive."""
    from evalcore.data import load_dataset

    bundle = _bundle(fixtures_dir, name)
    side = SPEC[name][5]
    records = load_dataset(bundle / "dataset", category="testing").records
    assert len(records) == EXPECTED[name]["n_test"]
    boxes = [b for r in records for b in r.bounding_boxes]
    assert len(boxes) == EXPECTED[name]["n_boxes"]
    outside = [(r.rel_path, b) for r in records for b in r.bounding_boxes
               if b.x < 0 or b.y < 0 or b.x + b.width > side or b.y + b.height > side]
    assert outside == [], "boxes outside the image"
    if name == "visual-anomaly":
        assert sorted({r.label.label for r in records}) == ["anomaly", "no anomaly"]


@pytest.mark.parametrize("name", BUNDLES)
def test_models_fit_the_impulse(fixtures_dir, name):
    """A model not fed by the DSP output, or with outputs the decoder cannot read, cannot run."""
    from evalcore.backends import load_backend

    bundle = _bundle(fixtures_dir, name)
    *_, channels, side, out_shape = SPEC[name]
    variants = ["float32", "int8"] if name == "fomo" else ["float32"]
    paths = {"float32": _model(bundle, name),
             "int8": bundle / "learn" / "3" / "model_quantized_int8_io.tflite"}
    for variant in variants:
        backend = load_backend(paths[variant], variant=variant)
        assert backend.input_shape == (side, side, 1 if channels == "Grayscale" else 3)
        assert backend.output_shapes[0] == out_shape, variant
    if name == "ssd":
        names = ("StatefulPartitionedCall:3", "StatefulPartitionedCall:2",
                 "StatefulPartitionedCall:1", "StatefulPartitionedCall:0")
        assert backend.output_names == names
        assert backend.output_shapes == ((4, 4), (4,), (4,), ())


@pytest.mark.parametrize("name", BUNDLES)
def test_evalcore_inspect_succeeds(fixtures_dir, name, capsys):
    """`evalcore inspect` is the first thing a user runs on a bundle."""
    from evalcore.cli import main

    bundle = _bundle(fixtures_dir, name)
    _model(bundle, name)
    assert main(["inspect", str(bundle), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"testing: {EXPECTED[name]['n_test']} samples" in out


@pytest.mark.parametrize("name", BUNDLES)
def test_evalcore_run_gives_the_detections_the_build_measured(fixtures_dir, name):
    """A decode or pipeline change that loses or invents detections would otherwise go unseen."""
    from evalcore.engine import RunOptions, run_bundle

    bundle = _bundle(fixtures_dir, name)
    _model(bundle, name)
    result = run_bundle(bundle, RunOptions(variant="float32"))
    expected = EXPECTED[name]
    assert result.n_samples == expected["n_test"]
    predictions = result.response.predictions
    if name == "visual-anomaly":
        assert sum(bool(p.prediction_correct) for p in predictions) == expected["correct"]
    else:
        n_boxes = sum(len(p.bounding_boxes or ()) for p in predictions)
        assert n_boxes == expected["detections"]


@pytest.mark.parametrize("name", sorted(LICENSED))
def test_copied_real_files_carry_their_licence(fixtures_dir, name):
    """Edge Impulse's files may only be redistributed with their licence text next to them."""
    bundle = _bundle(fixtures_dir, name)
    for folder in LICENSED[name]:
        assert list((bundle / folder).glob("LICENSE-*.txt")), f"{name}/{folder}: no licence"
    assert "The Clear BSD License" in (bundle / "README.md").read_text(encoding="utf-8")


# The real YOLOv5 model (3.6 MB) is committed so the bundle runs on a clone without ../shared;
# every other bundle stays under MAX_BUNDLE_BYTES.
MAX_YOLOV5_BYTES = 4_500_000


def test_bundles_stay_small(fixtures_dir):
    """The repository must stay small: only the real YOLOv5 model may exceed the per-bundle limit."""
    sizes = {}
    for name in BUNDLES:
        files = [p for p in (fixtures_dir / name).rglob("*") if p.is_file() or p.is_symlink()]
        sizes[name] = sum(p.lstat().st_size for p in files)
    assert all(s < (MAX_YOLOV5_BYTES if n == "yolov5" else MAX_BUNDLE_BYTES) for n, s in sizes.items()), sizes
    assert sum(sizes.values()) < MAX_BUNDLE_BYTES + MAX_YOLOV5_BYTES, sizes


def test_yolov5_model_is_the_real_edge_impulse_model(fixtures_dir):
    """Without it the bundle could hold a stale or altered copy of Edge Impulse's model."""
    model = _bundle(fixtures_dir, "yolov5") / "learn" / "3" / "model.tflite"
    assert model.is_file() and not model.is_symlink()
    real_model = skip_if_shared_missing(REAL / "edgeimpulse-python-sdk-sample-data" / "sample_models"
                                        / "object-detection-yolov5.f32.lite")
    assert model.read_bytes() == real_model.read_bytes()


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _same_text(a: str, b: str) -> bool:
    """Equal up to numbers that differ by at most README_ATOL."""
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    pairs = zip(_NUMBER.findall(a), _NUMBER.findall(b))
    return all(abs(float(x) - float(y)) <= README_ATOL for x, y in pairs)


def test_rebuild_gives_the_committed_bundles(fixtures_dir, tmp_path):
    """A hand-edited fixture, or a builder that is not deterministic, would go unnoticed."""
    from PIL import Image

    pytest.importorskip("ai_edge_litert")  # dev extra; onnx and onnxruntime are required dependencies
    real = fixtures_dir.parent.parent / "shared" / "real"
    names = [n for n in BUNDLES if real.is_dir() or n not in NEEDS_REAL]
    args = [sys.executable, str(fixtures_dir / "build_od_fixtures.py"), "--out", str(tmp_path)]
    for name in names:
        args += ["--only", name]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in names:
        committed, rebuilt = fixtures_dir / name, tmp_path / name
        rel = sorted(str(p.relative_to(committed)) for p in committed.rglob("*") if not p.is_dir())
        assert rel == sorted(str(p.relative_to(rebuilt)) for p in rebuilt.rglob("*")
                             if not p.is_dir()), name
        for path in rel:
            a, b = committed / path, rebuilt / path
            if a.is_symlink():
                assert a.resolve() == b.resolve(), path
            elif a.suffix == ".png":
                with Image.open(a) as img_a, Image.open(b) as img_b:
                    px_a, px_b = np.asarray(img_a), np.asarray(img_b)
                assert px_a.shape == px_b.shape, path
                bad = np.argwhere(px_a != px_b)
                assert bad.size == 0, (f"{name}/{path}: first differing pixel {bad[:1].tolist()}: "
                                       f"{px_a[tuple(bad[0])]} vs {px_b[tuple(bad[0])]}")
            elif a.name == "README.md":
                text_a, text_b = (p.read_text(encoding="utf-8") for p in (a, b))
                assert _same_text(text_a, text_b), f"{name}/{path} differs from a rebuild"
            else:
                assert a.read_bytes() == b.read_bytes(), f"{name}/{path} differs from a rebuild"
