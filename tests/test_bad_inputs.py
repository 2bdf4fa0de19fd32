"""Issue 11's bad inputs, one case per reproduced defect: each must end in exit 2 with one line.

Every case copies a fixture bundle, breaks one thing (a non-finite number, a symbolic link out
of the bundle, JSON nested 200k levels deep, a forged ``.npy`` header ...) and runs the CLI in
process. The line must name the file and the field (and the sample where there is one), in the
file's own spelling (``windowSizeMs``, not ``window_size_ms``); no output file may appear. Before
the fixes these gave exit 0 with wrong numbers, a traceback, a link followed to ``/etc/passwd``,
or a message that blamed the wrong file or field.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from evalcore.cli import main

DEEP_JSON = "[" * 200_000 + "]" * 200_000
CLASSIFIER_META = "learn/3/metadata.json"
KMEANS_META = "learn/4/metadata.json"


@dataclass(frozen=True)
class Case:
    """One bad input: the fixture, how to break it, and what the error line must contain."""

    fixture: str
    breaks: object  # callable(bundle: Path, outside: Path) -> None
    needles: tuple[str, ...]
    args: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = field(default=("(None)",))


# --- ways to break a bundle ------------------------------------------------------------------

def _edit(rel: str, change):
    """Load ``bundle/rel`` as JSON, let ``change(doc)`` modify it, write it back (NaN allowed)."""

    def apply(bundle: Path, outside: Path) -> None:
        path = bundle / rel
        doc = json.loads(path.read_text())
        change(doc)
        path.write_text(json.dumps(doc))

    return apply


def _text(rel: str, old: str, new: str):
    def apply(bundle: Path, outside: Path) -> None:
        path = bundle / rel
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    return apply


def _write(rel: str, content: str):
    def apply(bundle: Path, outside: Path) -> None:
        (bundle / rel).write_text(content)

    return apply


def _input_block(key, value):
    def change(doc):
        doc["impulse"]["inputBlocks"][0][key] = value

    return _edit("impulse.json", change)


def _link_out(rel: str, target: str | None = None):
    """Replace ``bundle/rel`` (file or folder) by a link to a copy outside the bundle (or ``target``)."""

    def apply(bundle: Path, outside: Path) -> None:
        path = bundle / rel
        if target is None:
            moved = outside / path.name
            shutil.move(str(path), str(moved))
            os.symlink(moved, path)
        else:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            os.symlink(target, path)

    return apply


def _model_is_a_folder(bundle: Path, outside: Path) -> None:
    (bundle / "learn/3/model.onnx").unlink()
    (bundle / "learn/3/model.onnx").mkdir()


def _model_broken_link(bundle: Path, outside: Path) -> None:
    (bundle / "learn/3/model.onnx").unlink()
    os.symlink("missing.onnx", bundle / "learn/3/model.onnx")


def _sample_is_a_fifo(bundle: Path, outside: Path) -> None:
    path = bundle / "dataset/testing/idle.0.cbor"
    path.unlink()
    os.mkfifo(path)


def _scanned_sample_is_a_fifo(bundle: Path, outside: Path) -> None:
    """Without ``info.labels`` the folders are scanned; a FIFO there was silently left out."""
    (bundle / "dataset/info.labels").unlink()
    _sample_is_a_fifo(bundle, outside)


def _features_link_outside(bundle: Path, outside: Path) -> None:
    _features(np.zeros((4, 21), dtype=np.float32))(bundle, outside)
    _link_out("features/X_testing.npy")(bundle, outside)


def _set_center(doc):
    doc["clusters"][0]["center"] = [float("nan")] * 3


def _features(x: np.ndarray):
    def apply(bundle: Path, outside: Path) -> None:
        (bundle / "features").mkdir()
        np.save(bundle / "features/X_testing.npy", x)
        np.save(bundle / "features/y_testing.npy", np.arange(x.shape[0]) % 4)

    return apply


def _forged_npy_header(bundle: Path, outside: Path) -> None:
    _features(np.zeros((4, 21), dtype=np.float32))(bundle, outside)
    path = bundle / "features/X_testing.npy"
    raw = path.read_bytes()
    end = raw.index(b"\n") + 1
    header = raw[10:end].decode().replace("(4, 21)", "(100000000000, 21)")
    header = header.rstrip("\n").rstrip().ljust(end - 11) + "\n"  # same length: data offset kept
    path.write_bytes(raw[:10] + header.encode() + raw[end:])


def _random_npy(bundle: Path, outside: Path) -> None:
    _features(np.zeros((4, 21), dtype=np.float32))(bundle, outside)
    (bundle / "features/X_testing.npy").write_bytes(np.random.default_rng(11).bytes(300))


def _dsp_scale(value: str):
    def change(doc):
        doc["config"][0]["items"][0]["value"] = value

    return _edit("dsp/2.json", change)


def _dsp_param(name: str, value: str):
    def change(doc):
        items = [item for group in doc["config"] for item in group["items"] if item["param"] == name]
        items[0]["value"] = value

    return _edit("dsp/2.json", change)


def _nan_model(bundle: Path, outside: Path) -> None:
    """A classifier whose scores are 0/0 for every window."""
    from onnx import TensorProto, helper, numpy_helper

    zeros = numpy_helper.from_array(np.zeros((21, 4), dtype=np.float32), name="w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["z"]), helper.make_node("Div", ["z", "z"], ["y"])],
        "nan_scores",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 21])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])],
        initializer=[zeros],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    (bundle / "learn/3/model.onnx").write_bytes(model.SerializeToString())


# --- the cases -------------------------------------------------------------------------------

CASES: dict[str, Case] = {
    # silently wrong (exit 0, wrong numbers)
    "threshold_value_nan": Case("motion", _edit(CLASSIFIER_META, lambda d: d["thresholds"][0].__setitem__(
        "value", float("nan"))), (CLASSIFIER_META, "field thresholds[0].value", "finite")),
    "threshold_value_nan_string": Case("motion", _edit(CLASSIFIER_META, lambda d: d["thresholds"][0].__setitem__(
        "value", "nan")), (CLASSIFIER_META, "min_score", "finite")),
    "cli_threshold_nan": Case("motion", lambda b, o: None, ("--threshold", "'3=nan'", "finite"),
                              args=("--threshold", "3=nan")),
    "cli_threshold_inf": Case("motion", lambda b, o: None, ("--threshold", "'3=inf'", "finite"),
                              args=("--threshold", "3=inf")),
    "cli_threshold_unknown_id": Case("motion", lambda b, o: None,
                                     ("'99'", "3 (Classifier, Classification)", "4 (Anomaly detection"),
                                     args=("--threshold", "99=0.5")),
    "cli_threshold_misspelt_name": Case("motion", lambda b, o: None, ("'Clasifier'", "3 (Classifier"),
                                        args=("--threshold", "Clasifier=0.5")),
    "kmeans_center_nan": Case("motion", _edit(KMEANS_META, _set_center),
                              (KMEANS_META, "field clusters[0].center[0]", "finite")),
    "kmeans_scale_inf": Case("motion", _edit(KMEANS_META, lambda d: d["scale"].__setitem__(1, float("inf"))),
                             (KMEANS_META, "field scale[1]", "finite")),
    "kmeans_max_error_nan": Case("motion", _edit(KMEANS_META, lambda d: d["clusters"][2].__setitem__(
        "maxError", float("nan"))), (KMEANS_META, "field clusters[2].maxError", "finite")),
    "gmm_mean_nan": Case("motion-gmm", _edit("learn/4/gmm.json", lambda d: d["means"][1].__setitem__(
        0, float("nan"))), ("learn/4/gmm.json", "field means[1][0]", "finite")),
    "gmm_covariance_inf": Case("motion-gmm", _edit("learn/4/gmm.json", lambda d: d["covariances"][0][1].__setitem__(
        1, float("-inf"))), ("learn/4/gmm.json", "field covariances[0][1][1]", "finite")),
    "model_is_a_folder": Case("motion", _model_is_a_folder, ("learn/3/model.onnx", "not a regular file")),
    "model_links_to_dev_zero": Case("motion", _link_out("learn/3/model.onnx", "/dev/zero"),
                                    ("learn/3/model.onnx", "outside the bundle", "/dev/zero")),
    "model_links_to_dev_zero_followed": Case("motion", _link_out("learn/3/model.onnx", "/dev/zero"),
                                             ("learn/3/model.onnx", "not a regular file"), args=("--follow-links",)),
    "model_unreadable_broken_link": Case("motion", _model_broken_link, ("learn/3/model.onnx", "broken symbolic link")),
    # escapes
    "sample_links_outside": Case("motion", _link_out("dataset/testing/idle.0.cbor"),
                                 ("dataset/testing/idle.0.cbor", "sample testing/idle.0.cbor", "outside the dataset")),
    "sample_links_to_etc_passwd": Case("motion", _link_out("dataset/testing/idle.0.cbor", "/etc/passwd"),
                                       ("dataset/testing/idle.0.cbor", "/etc/passwd", "outside the dataset")),
    "testing_folder_links_outside": Case("motion", _link_out("dataset/testing"),
                                         ("dataset/testing/", "outside the dataset", "--follow-links")),
    "model_links_outside": Case("motion", _link_out("learn/3/model.onnx"),
                                ("learn/3/model.onnx", "outside the bundle", "--follow-links")),
    "scanned_sample_is_a_fifo": Case("motion", _scanned_sample_is_a_fifo,
                                     ("dataset/testing/idle.0.cbor", "sample testing/idle.0.cbor", "not a regular file")),
    "features_file_links_outside": Case("motion", _features_link_outside,
                                        ("features/X_testing.npy", "outside the bundle"), args=("--features", "precomputed")),
    "sample_is_a_fifo": Case("motion", _sample_is_a_fifo,
                             ("dataset/info.labels", "sample testing/idle.0.cbor", "not a regular file")),
    # tracebacks
    "frequency_nan": Case("motion", _text("impulse.json", '"frequencyHz": 62.5', '"frequencyHz": NaN'),
                          ("impulse.json", "field impulse.inputBlocks[0].frequencyHz", "finite")),
    "frequency_infinity": Case("motion", _text("impulse.json", '"frequencyHz": 62.5', '"frequencyHz": Infinity'),
                               ("impulse.json", "field impulse.inputBlocks[0].frequencyHz", "finite")),
    "deep_json_impulse": Case("motion", _write("impulse.json", DEEP_JSON), ("impulse.json", "nested too deeply")),
    "deep_json_dsp_config": Case("motion", _write("dsp/2.json", DEEP_JSON), ("dsp/2.json", "nested too deeply")),
    "deep_json_learn_metadata": Case("motion", _write(CLASSIFIER_META, DEEP_JSON),
                                     (CLASSIFIER_META, "nested too deeply")),
    "deep_json_info_labels": Case("motion", _write("dataset/info.labels", DEEP_JSON),
                                  ("dataset/info.labels", "nested too deeply")),
    "deep_json_bounding_boxes": Case("yolov5", _write("dataset/bounding_boxes.labels", DEEP_JSON),
                                     ("dataset/bounding_boxes.labels", "nested too deeply")),
    "window_size_1e12": Case("motion", _input_block("windowSizeMs", 10**12),
                             ("impulse.json", "field impulse.inputBlocks[0].windowSizeMs", "readings")),
    "window_size_1e12_sample_frequency": Case("motion", _edit("impulse.json", lambda d: d["impulse"]["inputBlocks"][0].update(
        windowSizeMs=10**12, frequencyHz=None)), ("impulse.json", "sample idle.0", "windowSizeMs", "more than the sample has")),
    "kmeans_no_clusters": Case("motion", _edit(KMEANS_META, lambda d: d.__setitem__("clusters", [])),
                               (KMEANS_META, "field clusters", "at least one cluster")),
    "kmeans_center_wrong_length": Case("motion", _edit(KMEANS_META, lambda d: d["clusters"][0].__setitem__(
        "center", [1.0, 2.0])), (KMEANS_META, "field clusters[0].center", "2 values")),
    "kmeans_scale_all_zero": Case("motion", _edit(KMEANS_META, lambda d: d.__setitem__("scale", [0.0, 0.0, 0.0])),
                                  (KMEANS_META, "field scale[0]", "must not be 0")),
    "bounding_box_x_nan": Case("yolov5", _text("dataset/bounding_boxes.labels", '"x":69', '"x":NaN'),
                               ("dataset/bounding_boxes.labels", "sample 1.png", "[0].x", "finite")),
    "npy_header_declares_1e11_rows": Case("motion", _forged_npy_header,
                                          ("features/X_testing.npy", "(100000000000, 21)", "336 bytes"),
                                          args=("--features", "precomputed")),
    "dsp_features_overflow": Case("motion", _dsp_scale("1e38"),
                                  ("dsp/2.json", "sample idle.0", "field features[", "non-finite feature")),
    # messages
    "window_size_zero_camel_case": Case("motion", _input_block("windowSizeMs", 0),
                                        ("impulse.json", "field impulse.inputBlocks[0].windowSizeMs", "greater than 0"),
                                        forbidden=("window_size_ms",)),
    "window_size_missing": Case("motion", _edit("impulse.json", lambda d: d["impulse"]["inputBlocks"][0].pop(
        "windowSizeMs")), ("impulse.json", "field impulse.inputBlocks[0].windowSizeMs", "needs windowSizeMs")),
    "dsp_value_named_as_in_config": Case("motion", _dsp_scale("abc"),
                                         ("dsp/2.json", "field config[0].items[0].value", "scale-axes", "'abc'"),
                                         forbidden=("scale_axes",)),
    "dsp_setting_fails_on_a_window": Case("kws", _dsp_param("fft_length", "100"),
                                          ("dsp/2.json", "sample hadouken.01", "field config[0].items[4].value",
                                           "power of 2")),
    "dsp_fft_length_huge": Case("kws", _dsp_param("fft_length", str(2**40)),
                                ("dsp/2.json", "sample hadouken.01", "field config[0].items[4].value",
                                 "at most 65536")),
    "duplicate_class_names": Case("motion", _edit(CLASSIFIER_META, lambda d: d.__setitem__(
        "classNames", ["idle", "idle", "updown", "wave"])), (CLASSIFIER_META, "field classNames", "['idle']")),
    "anomaly_axes_out_of_range": Case("motion", _edit(KMEANS_META, lambda d: d.__setitem__("axes", [0, 1, 99])),
                                      (KMEANS_META, "field axes", "[99]", "21 features")),
    "model_scores_nan": Case("motion", _nan_model, ("learn/3/model.onnx", "sample idle.0", "learn block 3", "NaN")),
    "duplicate_learn_block_id": Case("motion", _edit("impulse.json", lambda d: d["impulse"]["learnBlocks"][1].__setitem__(
        "id", 3)), ("impulse.json", "duplicate learn block id 3", "field impulse.learnBlocks[1].id"),
        forbidden=("anomaly metadata",)),
    "implementation_version_in_impulse": Case("motion", _edit("impulse.json", lambda d: d["impulse"]["dspBlocks"][0].__setitem__(
        "implementationVersion", 99)), ("impulse.json", "field impulse.dspBlocks[0].implementationVersion", "99"),
        forbidden=("dsp/2.json", "implementation_version")),
    "npy_random_bytes": Case("motion", _random_npy, ("features/X_testing.npy", "not a valid .npy file"),
                             args=("--features", "precomputed"), forbidden=("pickled",)),
    "missing_success": Case("motion", _edit("impulse.json", lambda d: d.pop("success")),
                            ("impulse.json", "field success", "missing"), forbidden=("inputBlocks",)),
}


def _bundle(fixtures_dir: Path, tmp_path: Path, case: Case) -> Path:
    bundle = tmp_path / "bundle"
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copytree(fixtures_dir / case.fixture, bundle, symlinks=True)
    case.breaks(bundle, outside)
    return bundle


def _one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert err.startswith(f"evalcore {command}: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_exit_2(fixtures_dir, tmp_path, name, capsys):
    """Without the fixes: exit 0 with wrong numbers, a traceback, a followed link, or a vague line."""
    case = CASES[name]
    bundle = _bundle(fixtures_dir, tmp_path, case)
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    code = main(["run", str(bundle), "--out", str(out), "--workers", "0", "-q", *case.args])
    err = _one_line_error(capsys, "run")
    assert code == 2, err
    for needle in case.needles:
        assert needle in err, (needle, err)
    for word in case.forbidden:
        assert word not in err, (word, err)
    assert list(out.parent.iterdir()) == []


def test_follow_links_reads_data_kept_elsewhere(fixtures_dir, tmp_path, capsys):
    """``--follow-links`` is the way to keep a dataset outside the bundle; the numbers are the same."""
    plain = tmp_path / "plain.json"
    assert main(["run", str(fixtures_dir / "motion"), "--out", str(plain), "--workers", "0", "-q"]) == 0
    bundle = _bundle(fixtures_dir, tmp_path, Case("motion", _link_out("dataset/testing"), ()))
    linked = tmp_path / "linked.json"
    assert main(["run", str(bundle), "--out", str(linked), "--workers", "0", "-q", "--follow-links"]) == 0
    assert json.loads(linked.read_text())["result"] == json.loads(plain.read_text())["result"]


def test_ndjson_header_with_spaces_is_recognised(fixtures_dir, tmp_path, capsys):
    """``{"__ndjson": true, ...}`` (a writer that spaces its JSON) reads as NDJSON, like the compact header."""
    bundle = _bundle(fixtures_dir, tmp_path, Case("motion", lambda b, o: None, ()))
    labels = bundle / "dataset/info.labels"
    files = json.loads(labels.read_text())["files"]
    lines = ['{"__ndjson": true, "version": 1}'] + [json.dumps({"__key": "files", "__item": f}) for f in files]
    labels.write_text("\n".join(lines) + "\n")
    plain, ndjson = tmp_path / "plain.json", tmp_path / "ndjson.json"
    assert main(["run", str(fixtures_dir / "motion"), "--out", str(plain), "--workers", "0", "-q"]) == 0
    assert main(["run", str(bundle), "--out", str(ndjson), "--workers", "0", "-q"]) == 0
    assert json.loads(ndjson.read_text())["result"] == json.loads(plain.read_text())["result"]


def test_compare_refuses_negative_tolerance(tmp_path, capsys):
    """``compare --rtol -1`` made every number differ (or raised ValueError, exit 1)."""
    a = tmp_path / "a.json"
    a.write_text('{"success": true}')
    assert main(["compare", str(a), str(a), "--rtol", "-1"]) == 2
    err = _one_line_error(capsys, "compare")
    assert "--rtol" in err and "-1" in err


def test_inspect_image_block_over_time_series(fixtures_dir, tmp_path, capsys):
    """``inspect`` crashed (TypeError) where ``run`` names the mismatch: both share the check now."""
    image_block = {"id": 1, "type": "image", "name": "Image", "title": "Image", "imageWidth": 32, "imageHeight": 32}
    case = Case("motion", _edit("impulse.json", lambda d: d["impulse"]["inputBlocks"].__setitem__(0, image_block)), ())
    bundle = _bundle(fixtures_dir, tmp_path, case)
    assert main(["inspect", str(bundle), "-q"]) == 2
    err = _one_line_error(capsys, "inspect")
    assert "impulse.inputBlocks[0].type" in err and "sample idle.0" in err and "time series" in err


def test_out_is_a_folder_refused_up_front(fixtures_dir, tmp_path, capsys):
    """``--out`` naming a folder failed after the whole run, naming an internal temporary file."""
    assert main(["run", str(fixtures_dir / "motion"), "--out", str(tmp_path), "--workers", "0", "-q"]) == 2
    err = _one_line_error(capsys, "run")
    assert "--out is a folder" in err and ".tmp" not in err
    assert list(tmp_path.iterdir()) == []


def test_full_disk_names_the_output_file(fixtures_dir, tmp_path, monkeypatch, capsys):
    """A disk-full write error carries no file name: the line ended in ``(None)``."""
    import evalcore.outputs

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(evalcore.outputs.os, "fsync", disk_full)
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    assert main(["run", str(fixtures_dir / "motion"), "--out", str(out), "--workers", "0", "-q"]) == 2
    err = _one_line_error(capsys, "run")
    named = (str(out), str(out.with_name("result.run.json")))  # the file whose write failed
    assert any(f"output {path}:" in err for path in named) and "(None)" not in err and "No space left" in err
    assert list(out.parent.iterdir()) == []
