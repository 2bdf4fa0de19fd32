"""COCO bbox evaluation against pycocotools itself: every array and stat, byte for byte."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest

from evalcore.coco_eval import evaluate_coco
from tests._helpers import assert_identical, random_coco_case

pytestmark = [pytest.mark.oracle, pytest.mark.filterwarnings("ignore::UserWarning")]


def oracle_pycocotools_bbox(gt, dt, max_dets=(1, 10, 100), iou_thresholds=None):
    """pycocotools on its own deep copies (it mutates its inputs): eval arrays, stats, text."""
    coco_mod = pytest.importorskip("pycocotools.coco")
    cocoeval_mod = pytest.importorskip("pycocotools.cocoeval")
    gt, dt = copy.deepcopy(gt), copy.deepcopy(dt)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = coco_mod.COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        if dt:
            coco_dt = coco_gt.loadRes(dt)
        else:  # loadRes cannot take an empty list: an empty results set by hand
            coco_dt = coco_mod.COCO()
            coco_dt.dataset = {"images": gt["images"], "categories": gt["categories"],
                               "annotations": []}
            coco_dt.createIndex()
        ev = cocoeval_mod.COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.maxDets = list(max_dets)
        if iou_thresholds is not None:
            ev.params.iouThrs = np.asarray(iou_thresholds, dtype=np.float64)
        ev.evaluate()
        ev.accumulate()
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        ev.summarize()
    return ev.eval, np.asarray(ev.stats, dtype=np.float64), text.getvalue()


def to_coco(case, n_images, n_categories, *, image_id=lambda i: 2 * i + 1,
            category_id=lambda k: 10 + 3 * k, first_ann_id=1):
    """The arrays of ``random_coco_case`` as a COCO GT dict and a results list (Python types)."""
    (dt_img, dt_cat, score, dt, _, gt_img, gt_cat, gt, gt_area, crowd, _) = case
    gt_json = {
        "images": [{"id": image_id(i)} for i in range(n_images)][::-1],
        "categories": [{"id": category_id(k)} for k in range(n_categories)],
        "annotations": [
            {"id": j + first_ann_id, "image_id": image_id(int(gt_img[j])),
             "category_id": category_id(int(gt_cat[j])), "bbox": gt[j].tolist(),
             "area": float(gt_area[j]), "iscrowd": int(crowd[j])}
            for j in range(len(gt_img))
        ],
    }
    dt_json = [{"image_id": image_id(int(dt_img[j])), "category_id": category_id(int(dt_cat[j])),
                "bbox": dt[j].tolist(), "score": float(score[j])} for j in range(len(dt_img))]
    return gt_json, dt_json


def assert_same_as_pycocotools(gt, dt, max_dets=(1, 10, 100), iou_thresholds=None):
    ours = evaluate_coco(gt, dt, max_dets=max_dets, iou_thresholds=iou_thresholds)
    ref, stats, text = oracle_pycocotools_bbox(gt, dt, max_dets, iou_thresholds)
    for name in ("precision", "recall", "scores"):
        try:
            assert_identical(getattr(ours, name), ref[name])
        except AssertionError as err:
            raise AssertionError(f"{name}: {err}") from None
    assert_identical(ours.stats, stats)
    assert ours.format_stats() == text
    return ours


def _case(seed, **kw):
    return random_coco_case(np.random.default_rng(seed), **kw)


def test_random_sets():
    """Without it a parity slip on ordinary data (the common case) could pass unseen."""
    for seed in range(6):
        case = _case(seed, n_det=int(40 + 10 * seed), n_gt=int(10 + 3 * seed), crowd_rate=0.0)
        assert_same_as_pycocotools(*to_coco(case, 6, 3))


def test_many_tied_scores():
    """Ties must break by image id order, then results-file order, as pycocotools' mergesort."""
    for seed in range(4):
        case = _case(100 + seed, n_det=80, n_gt=20, ties=True)
        assert_same_as_pycocotools(*to_coco(case, 6, 3))


def test_crowd_boxes():
    """Crowd GTs are ignored, absorb many detections and use the detection area as union."""
    case = _case(200, n_det=70, n_gt=20, crowd_rate=0.5)
    assert_same_as_pycocotools(*to_coco(case, 6, 3))


def test_empty_images_and_class_without_gt():
    """Images with nothing, and false positives in a class without GT (excluded from the mean)."""
    case = list(_case(300, n_det=60, n_gt=20, n_images=4))
    gt_cat = case[6].copy()
    gt_cat[gt_cat == 2] = 0
    case[6] = gt_cat
    assert_same_as_pycocotools(*to_coco(tuple(case), 9, 4))


def test_zero_area_and_boundary_areas():
    """Areas exactly 32**2 and 96**2 fall in two ranges (inclusive bounds); zero-area boxes."""
    case = list(_case(400, n_det=60, n_gt=16))
    gt = case[7].copy()
    gt[0, 2:], gt[1, 2:], gt[2, 2:], gt[3, 2:] = [32, 32], [96, 96], [0, 12], [16, 64]
    dt = case[3].copy()
    dt[:4] = gt[:4]
    dt[4, 2:] = [0, 0]
    case[3], case[4], case[7], case[8] = dt, dt[:, 2] * dt[:, 3], gt, gt[:, 2] * gt[:, 3]
    case[0][:4], case[1][:4] = case[5][:4], case[6][:4]
    assert_same_as_pycocotools(*to_coco(tuple(case), 6, 3))


def test_no_detections():
    """No results at all: categories with GT score 0, the rest -1."""
    case = _case(500, n_det=0, n_gt=12)
    assert_same_as_pycocotools(*to_coco(case, 6, 3))


def test_custom_max_dets_keeps_stats0_minus_one():
    """maxDets [1, 10, 50]: pycocotools' stats[0] stays -1 (hard-coded maxDets=100); we copy it."""
    case = _case(600, n_det=90, n_gt=20)
    ours = assert_same_as_pycocotools(*to_coco(case, 6, 3), max_dets=(1, 10, 50))
    assert ours.stats[0] == -1.0 and ours.stats[1] > -1.0


def test_custom_iou_thresholds_and_ann_id_zero():
    """Non-default IoU thresholds (AP50/AP75 then -1) and a GT with id 0 (counted unmatched)."""
    case = _case(700, n_det=60, n_gt=15)
    gt, dt = to_coco(case, 6, 3, first_ann_id=0)
    assert_same_as_pycocotools(gt, dt, iou_thresholds=np.linspace(0.3, 0.9, 7))


def test_string_image_ids_sort_as_strings():
    """String ids ("10" < "9") set the image order, which decides ties across images."""
    case = _case(800, n_det=80, n_gt=20, n_images=12, ties=True)
    gt, dt = to_coco(case, 12, 3, image_id=lambda i: str(i))
    assert_same_as_pycocotools(gt, dt)


def test_more_detections_than_max_dets_per_image():
    """maxDets is applied per (image, category) after a stable score sort, before matching."""
    case = _case(900, n_det=400, n_gt=30, n_images=2, n_categories=2, ties=True)
    assert_same_as_pycocotools(*to_coco(case, 2, 2))


def test_large_category_with_ties():
    """A category with thousands of detections (the radix-sorted path) ranks ties like pycocotools."""
    case = _case(1000, n_det=3000, n_gt=300, n_images=40, n_categories=2, ties=True)
    assert_same_as_pycocotools(*to_coco(case, 40, 2))
