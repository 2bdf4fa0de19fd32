"""kernels.coco_evaluate + kernels.coco_accumulate against the naive pycocotools re-statement."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.coco_accumulate import coco_accumulate
from kernels.coco_evaluate import CODE_FP, CODE_IGNORED, CODE_TP, coco_evaluate
from tests._helpers import assert_identical, random_coco_case
from tests.naive import naive_coco_evaluate

IOU_T = np.linspace(0.5, 0.95, 10)
REC_T = np.linspace(0.0, 1.0, 101)
AREAS = np.array([[0, 1e10], [0, 32**2], [32**2, 96**2], [96**2, 1e10]], dtype=np.float64)


def run_kernels(case, n_images, n_categories, max_dets=(1, 10, 100), iou_thresholds=IOU_T):
    """Both phases: (precision, recall, scores)."""
    max_dets = np.array(max_dets, dtype=np.int64)
    table = coco_evaluate(*case, n_images=n_images, n_categories=n_categories,
                          iou_thresholds=iou_thresholds, area_ranges=AREAS,
                          max_det=int(max_dets[-1]))
    return coco_accumulate(table.det_rank, table.score, table.codes, table.has_candidate,
                           table.category_offsets, table.n_positives, recall_thresholds=REC_T,
                           max_dets=max_dets)


def assert_same_curves(got, want):
    for g, w in zip(got, want):
        assert_identical(g, w)


@pytest.mark.parametrize("ties", [False, True])
def test_kernels_match_naive_on_random_sets(ties):
    """Without it any slip in grouping, matching, tie order or the curve walk goes unnoticed."""
    rng = np.random.default_rng(10 + ties)
    for i in range(40):
        case = random_coco_case(rng, n_det=int(rng.integers(0, 60)), n_gt=int(rng.integers(0, 20)),
                                ties=ties, scale=1.0 if i % 2 else 0.75)
        md = (1, 10, 100) if i % 3 else (1, 2, 3)
        want = naive_coco_evaluate(*case, 6, 3, IOU_T, AREAS, list(md), REC_T)
        assert_same_curves(run_kernels(case, 6, 3, md), want)


def test_kernels_match_naive_on_edge_cases():
    """Empty inputs, a class without GT, zero-area and boundary-area boxes, GT id 0, all crowd."""
    rng = np.random.default_rng(3)
    base = random_coco_case(rng, n_det=30, n_gt=12)
    cases = {
        "no detections": tuple(a[:0] if i < 5 else a for i, a in enumerate(base)),
        "no ground truth": tuple(a[:0] if i >= 5 else a for i, a in enumerate(base)),
        "nothing": tuple(a[:0] for a in base),
    }
    gt_cat = base[6].copy()
    gt_cat[gt_cat == 2] = 1  # category 2 keeps detections but loses its GT
    cases["class without gt"] = base[:6] + (gt_cat,) + base[7:]
    gt = base[7].copy()
    gt[0, 2:] = [32, 32]  # area exactly 32**2: both small and medium
    gt[1, 2:] = [0, 10]  # zero area
    gt[2, 2:] = [96, 96]
    area = gt[:, 2] * gt[:, 3]
    zero_id = np.zeros(12, bool)
    zero_id[0] = True
    cases["boundaries and id 0"] = base[:7] + (gt, area, base[9], zero_id)
    cases["all crowd"] = base[:9] + (np.ones(12, bool), base[10])
    for name, case in cases.items():
        want = naive_coco_evaluate(*case, 6, 3, IOU_T, AREAS, [1, 10, 100], REC_T)
        try:
            assert_same_curves(run_kernels(case, 6, 3), want)
        except AssertionError as err:
            raise AssertionError(f"{name}: {err}") from None


def test_all_scores_tied_follow_image_then_input_order():
    """With every score equal, pycocotools ranks by image order then input order; so must we."""
    rng = np.random.default_rng(4)
    case = list(random_coco_case(rng, n_det=50, n_gt=20))
    case[2] = np.full(50, 0.5)
    want = naive_coco_evaluate(*case, 6, 3, IOU_T, AREAS, [1, 10, 100], REC_T)
    assert_same_curves(run_kernels(tuple(case), 6, 3), want)


def test_match_table_codes_and_order():
    """The table is in accumulate order and its codes say TP / FP / ignored as documented."""
    dt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 5, 5]], np.float64)
    gt = np.array([[0, 0, 10, 10]], np.float64)
    table = coco_evaluate(
        np.zeros(3, np.int64), np.zeros(3, np.int64), np.array([0.2, 0.9, 0.5]), dt,
        dt[:, 2] * dt[:, 3], np.zeros(1, np.int64), np.zeros(1, np.int64), gt, np.array([100.0]),
        np.zeros(1, bool), np.zeros(1, bool), n_images=1, n_categories=1,
        iou_thresholds=IOU_T, area_ranges=AREAS, max_det=100)
    assert table.det_index.tolist() == [1, 2, 0]  # by score
    assert (table.codes[0, :, 0] == CODE_TP).all() and (table.codes[0, :, 2] == CODE_FP).all()
    assert (table.codes[2, :, 0] == CODE_IGNORED).all()  # medium range: small GT is ignored
    assert table.has_candidate.tolist() == [True, False, True]
    assert table.n_positives.tolist() == [[1, 1, 0, 0]]


def test_out_of_range_index_raises():
    """An image or category rank outside 0..n-1 raises instead of writing out of bounds."""
    case = random_coco_case(np.random.default_rng(6), n_det=5, n_gt=5)
    with pytest.raises(ValueError, match="out of range"):
        run_kernels(case, 6, 2)
