"""evalcore.coco_eval: reading COCO files, clear errors, and the printed / JSON summary."""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings

import numpy as np
import pytest

from evalcore import coco_eval
from evalcore.coco_columns import decode_ground_truth, decode_results
from evalcore.coco_eval import (
    CocoInputWarning,
    evaluate_coco,
    evaluate_coco_files,
    load_coco,
    load_coco_files,
)
from evalcore.errors import BundleError, ConfigError
from evalcore.metrics.coco import UndefinedCocoStatWarning

pytestmark = pytest.mark.filterwarnings("ignore::evalcore.metrics.coco.UndefinedCocoStatWarning")


def _gt():
    return {
        "images": [{"id": 1}, {"id": 2}],
        "categories": [{"id": 7}, {"id": 8}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 10, 20, 20], "area": 400},
            {"id": 2, "image_id": 2, "category_id": 8, "bbox": [0, 0, 50, 40], "area": 2000,
             "iscrowd": 0},
        ],
    }


def _dt():
    return [
        {"image_id": 1, "category_id": 7, "bbox": [11, 10, 20, 20], "score": 0.9},
        {"image_id": 2, "category_id": 8, "bbox": [0, 0, 50, 40], "score": 0.8},
        {"image_id": 2, "category_id": 7, "bbox": [5, 5, 5, 5], "score": 0.3},
    ]


def _write(tmp_path, gt, dt):
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dt))
    return gt_path, dt_path


def _message_style_ok(err):
    msg = err.message
    return msg[:1].islower() and not msg.endswith(".")


def test_files_and_dicts_give_the_same_result(tmp_path):
    """The file reader and the in-memory API must evaluate the same data identically."""
    gt_path, dt_path = _write(tmp_path, _gt(), _dt())
    from_files = evaluate_coco_files(gt_path, dt_path)
    from_dicts = evaluate_coco(_gt(), _dt())
    assert from_files.stats.tobytes() == from_dicts.stats.tobytes()
    assert from_files.precision.tobytes() == from_dicts.precision.tobytes()
    assert from_files.image_ids.tolist() == [1, 2] and from_files.category_ids.tolist() == [7, 8]


def test_inputs_are_not_mutated():
    """pycocotools rewrites its inputs (ignore, area, id); our API must leave them untouched."""
    gt, dt = _gt(), _dt()
    gt_copy, dt_copy = copy.deepcopy(gt), copy.deepcopy(dt)
    evaluate_coco(gt, dt)
    assert gt == gt_copy and dt == dt_copy


@pytest.mark.parametrize(
    ("mutate", "where", "field"),
    [
        (lambda gt, dt: gt["annotations"][1].pop("bbox"), "gt", "annotations[1]"),
        (lambda gt, dt: gt["annotations"][0].update(bbox=[1, 2, 3]), "gt", "annotations[0].bbox"),
        (lambda gt, dt: gt["annotations"][1].update(area="big"), "gt", "annotations[1].area"),
        (lambda gt, dt: gt["annotations"][1].update(id=1), "gt", "annotations[0].id"),
        (lambda gt, dt: gt["annotations"][0].update(image_id=[1]), "gt", "annotations[0].image_id"),
        (lambda gt, dt: gt["images"].append({"id": "x"}), "gt", "images"),
        (lambda gt, dt: gt.update(categories={}), "gt", "categories"),
        (lambda gt, dt: dt[2].update(score="high"), "dt", "[2].score"),
        (lambda gt, dt: dt[1].update(bbox=[0, 0, float("nan"), 1]), "dt", "[1].bbox"),
        (lambda gt, dt: dt[0].update(image_id=99), "dt", "[0].image_id"),
        (lambda gt, dt: dt[1].pop("category_id"), "dt", "[1]"),
    ],
)
def test_bad_fields_name_file_index_and_field(tmp_path, mutate, where, field):
    """A malformed annotation or result raises BundleError naming the file and the exact field."""
    gt, dt = _gt(), _dt()
    mutate(gt, dt)
    gt_path, dt_path = _write(tmp_path, gt, dt)
    with pytest.raises(BundleError) as info:
        evaluate_coco_files(gt_path, dt_path)
    err = info.value
    assert err.path == str(gt_path if where == "gt" else dt_path)
    assert err.field == field, (err.field, str(err))
    assert _message_style_ok(err), err.message


def test_unreadable_and_non_json_files(tmp_path):
    """A missing file or broken JSON is a BundleError naming the file, not a traceback."""
    gt_path, dt_path = _write(tmp_path, _gt(), _dt())
    with pytest.raises(BundleError) as info:
        evaluate_coco_files(tmp_path / "missing.json", dt_path)
    assert info.value.path.endswith("missing.json") and _message_style_ok(info.value)
    dt_path.write_text("[{")
    with pytest.raises(BundleError) as info:
        evaluate_coco_files(gt_path, dt_path)
    assert info.value.path == str(dt_path) and "json" in info.value.message.lower()


def test_results_must_be_a_list(tmp_path):
    """A results file holding an object (e.g. a whole COCO dict) is rejected, as loadRes does."""
    gt_path, dt_path = _write(tmp_path, _gt(), {"annotations": _dt()})
    with pytest.raises(BundleError, match="results must be a list"):
        evaluate_coco_files(gt_path, dt_path)


def test_unknown_category_is_dropped_with_a_warning():
    """Results of unlisted categories are not evaluated (pycocotools) but never silently."""
    dt = _dt() + [{"image_id": 1, "category_id": 99, "bbox": [0, 0, 1, 1], "score": 0.99}]
    with pytest.warns(CocoInputWarning, match="1 detections"):
        with_extra = evaluate_coco(_gt(), dt)
    assert with_extra.stats.tobytes() == evaluate_coco(_gt(), _dt()).stats.tobytes()


def test_missing_area_defaults_to_box_area_and_ignore_is_overwritten():
    """No area field means w*h; a user ``ignore`` flag has no effect (pycocotools overwrites it)."""
    gt = _gt()
    del gt["annotations"][0]["area"]
    gt["annotations"][1]["ignore"] = 1
    data = load_coco(gt, _dt())
    assert data.gt_area.tolist() == [400.0, 2000.0]
    assert evaluate_coco(gt, _dt()).stats.tobytes() == evaluate_coco(_gt(), _dt()).stats.tobytes()


def test_empty_results_are_accepted():
    """No detections is a valid (bad) result: AP 0 for categories with GT, not an error."""
    result = evaluate_coco(_gt(), [])
    assert result.stats[0] == 0.0 and result.n_detections == 0


def test_format_stats_lines():
    """The printed summary keeps pycocotools' exact layout (the CLI prints it verbatim)."""
    text = evaluate_coco(_gt(), _dt()).format_stats()
    lines = text.splitlines()
    assert len(lines) == 12 and text.endswith("\n")
    assert lines[0] == " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.950"
    assert lines[1].startswith(" Average Precision  (AP) @[ IoU=0.50      | area=   all |")
    assert lines[11].startswith(" Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]")


def test_to_json_has_the_twelve_stats():
    """The --json output carries every stat by name with what was evaluated."""
    result = evaluate_coco(_gt(), _dt())
    data = json.loads(result.to_json())
    assert list(data["stats"]) == ["AP", "AP50", "AP75", "APs", "APm", "APl",
                                   "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
    assert data["stats"]["AP"] == float(result.stats[0])
    assert data["n_images"] == 2 and data["n_detections"] == 3


def test_stats0_policy_and_bad_parameters():
    """maxDets without 100: -1 by default (pycocotools), the last maxDets on request; bad params."""
    default = evaluate_coco(_gt(), _dt(), max_dets=(1, 5, 20))
    fixed = evaluate_coco(_gt(), _dt(), max_dets=(1, 5, 20), stats0_max_dets=None)
    assert default.stats[0] == -1.0 and fixed.stats[0] > 0
    assert default.stats[1:].tobytes() == fixed.stats[1:].tobytes()
    with pytest.raises(ConfigError):
        evaluate_coco(_gt(), _dt(), max_dets=(1, 10))
    with pytest.raises(ConfigError):
        evaluate_coco(_gt(), _dt(), iou_thresholds=[0.5, float("nan")])


def test_undefined_stats_warn():
    """A stat with nothing to average is -1 and says so through UndefinedCocoStatWarning."""
    with pytest.warns(UndefinedCocoStatWarning, match="APl"):
        result = evaluate_coco(_gt(), _dt())
    assert result.stats[5] == -1.0


def test_string_ids_and_numpy_inputs():
    """String image ids and numpy scalars (in-memory callers) are accepted."""
    gt, dt = _gt(), _dt()
    for ann in gt["annotations"]:
        ann["image_id"] = f"img{ann['image_id']}"
    gt["images"] = [{"id": "img1"}, {"id": "img2"}]
    for det in dt:
        det["image_id"] = f"img{det['image_id']}"
        det["score"] = np.float32(det["score"])
    result = evaluate_coco(gt, dt)
    assert result.image_ids.tolist() == ["img1", "img2"]
    mixed = copy.deepcopy(gt)
    mixed["images"][0]["id"] = 1
    with pytest.raises(BundleError, match="all integers or all strings"):
        evaluate_coco(mixed, dt)


def test_boolean_iscrowd_and_empty_annotations():
    """``iscrowd: true`` counts as crowd (pycocotools tests truthiness); GT without annotations."""
    gt = _gt()
    gt["annotations"][1]["iscrowd"] = True
    as_int = _gt()
    as_int["annotations"][1]["iscrowd"] = 1
    assert evaluate_coco(gt, _dt()).precision.tobytes() == \
        evaluate_coco(as_int, _dt()).precision.tobytes()
    empty = _gt()
    empty["annotations"] = []
    assert (evaluate_coco(empty, _dt()).stats == -1.0).all()


def test_cli_prints_the_summary_json_and_errors(tmp_path, capsys):
    """``evalcore coco-eval`` wiring: pycocotools' 12 lines, --json, and exit 2 on bad input."""
    from evalcore.cli import main

    gt_path, dt_path = _write(tmp_path, _gt(), _dt())
    assert main(["coco-eval", str(gt_path), str(dt_path)]) == 0
    out = capsys.readouterr().out
    assert out == evaluate_coco(_gt(), _dt()).format_stats()
    assert main(["coco-eval", str(gt_path), str(dt_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stats"]["AP"] == pytest.approx(0.95, abs=1e-3)
    dt_path.write_text(json.dumps([{"image_id": 5, "category_id": 7, "bbox": [0, 0, 1, 1],
                                    "score": 0.5}]))
    assert main(["coco-eval", str(gt_path), str(dt_path)]) == 2
    assert "image_id 5 is not an image of the ground truth" in capsys.readouterr().err


def _variants():
    """Ground truth / results pairs in the forms files take, each read by both readers."""
    base_gt, base_dt = _gt(), _dt()
    yield "plain", base_gt, base_dt
    gt = _gt()
    del gt["annotations"][0]["area"]
    gt["annotations"][1]["area"] = None
    gt["annotations"][1]["iscrowd"] = True
    gt["annotations"][0]["segmentation"] = [[1, 2, 3, 4]]
    gt["info"] = {"year": 2017}
    yield "area missing or null, boolean iscrowd, extra fields", gt, _dt()
    gt = _gt()
    gt["annotations"].append({"id": 0, "image_id": 5, "category_id": 7, "bbox": [1, 1, 2, 2]})
    gt["annotations"].append({"id": 9, "image_id": 2, "category_id": 3, "bbox": [1.5, 1, 2, 2e-3]})
    dt = _dt() + [{"image_id": 1, "category_id": 99, "bbox": [0, 0, 1, 1], "score": 1, "id": 4}]
    yield "dropped rows, annotation id 0, integer score", gt, dt
    gt = _gt()
    gt["annotations"] = []
    yield "no annotations, no results", gt, []
    gt, dt = _gt(), _dt()
    gt["images"] = [{"id": "a"}, {"id": "b"}]
    for rec in gt["annotations"] + dt:
        rec["image_id"] = "ab"[rec["image_id"] - 1]
    yield "string ids (the json reader)", gt, dt


@pytest.mark.parametrize("name", [v[0] for v in _variants()])
def test_column_decoder_and_json_reader_agree(tmp_path, name):
    """``load_coco_files`` (typed decode into columns) gives the arrays ``load_coco`` gives."""
    _, gt, dt = next(v for v in _variants() if v[0] == name)
    gt_path, dt_path = _write(tmp_path, gt, dt)
    assert (decode_ground_truth(gt_path.read_bytes()) is None) == name.startswith("string ids")
    with warnings.catch_warnings(record=True) as from_files_warned:
        warnings.simplefilter("always")
        from_files = load_coco_files(gt_path, dt_path)
    with warnings.catch_warnings(record=True) as from_dicts_warned:
        warnings.simplefilter("always")
        from_dicts = load_coco(gt, dt, gt_source=gt_path, dt_source=dt_path)
    for field in dataclasses.fields(from_files):
        a, b = getattr(from_files, field.name), getattr(from_dicts, field.name)
        assert (a.dtype, a.shape, a.tobytes()) == (b.dtype, b.shape, b.tobytes()), field.name
    assert [str(w.message) for w in from_files_warned] == [str(w.message) for w in from_dicts_warned]


def test_column_decoder_declines_what_it_does_not_handle():
    """String ids, out-of-range numbers and bad types are left to the json reader (None)."""
    gt, dt = _gt(), _dt()
    assert decode_ground_truth(json.dumps(gt).encode())["id"].tolist() == [1, 2]
    assert decode_results(json.dumps(dt).encode())["score"].tolist() == [0.9, 0.8, 0.3]
    gt["images"][0]["id"] = "1"
    assert decode_ground_truth(json.dumps(gt).encode()) is None
    assert decode_results(b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1e999}]') is None
    assert decode_results(b'[{"image_id": 99999999999999999999, "category_id": 1, '
                          b'"bbox": [0, 0, 1, 1], "score": 1}]') is None
    assert decode_results(b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}]') is None
    assert decode_results(b'[{"image_id": true, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]') is None
    assert decode_results(b"[{") is None


def test_id_lookup_table_agrees_with_a_binary_search():
    """``_lookup``'s table (small id ranges) finds what ``np.searchsorted`` finds."""
    rng = np.random.default_rng(0)
    extremes = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max])
    for trial in range(300):
        ids = np.unique(rng.integers(-50, 50, rng.integers(1, 20)))
        values = rng.integers(-60, 60, rng.integers(1, 30))
        if trial % 3 == 0:
            values = np.concatenate([values, extremes])
        rank, ok = coco_eval._lookup(ids, values)
        expected = np.minimum(np.searchsorted(ids, values), ids.size - 1)
        assert rank.dtype == np.int64 and (ok == (ids[expected] == values)).all()
        assert (rank[ok] == expected[ok]).all()
