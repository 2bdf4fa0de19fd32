"""Data-set COCO metrics (``CocoAccumulator``) against ../shared/golden/coco (EI's own code)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evalcore.metrics.coco import EI_COCO_STAT_KEYS
from evalcore.metrics.ei_coco import CocoAccumulator, ei_coco_pixels, ei_normalise_gt
from tests.conftest import GOLDEN, require_shared

FOLDER = require_shared(GOLDEN / "coco")
CASES = json.loads((FOLDER / "cases.json").read_text())["cases"]

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# golden/README.md "coco": pycocotools stats atol 1e-9 (a re-implementation may sum in another
# order; ours keeps pycocotools' order and matches exactly), bes-dev mAP atol 2e-7 (float32),
# support exact.
COCO_STATS_ATOL = 1e-9
BESDEV_ATOL = 2e-7


@pytest.fixture(scope="module")
def golden():
    return CASES, np.load(FOLDER / "arrays.npz", allow_pickle=False)


def _accumulate(case, arrays, image_order=None):
    i = case["inputs"]
    gt, det = arrays[i["gt_key"]], arrays[i["det_key"]].reshape(-1, 7)
    acc = CocoAccumulator(i["num_classes"], i["width"], i["height"])
    for image in image_order if image_order is not None else range(i["n_images"]):
        g, d = gt[gt[:, 0] == image], det[det[:, 0] == image]
        acc.update(image, g[:, 1:5], g[:, 5].astype(np.int64), d[:, 1:5],
                   d[:, 5].astype(np.int64), d[:, 6])
    return acc


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_coco_case(golden, case):
    """Without it EI's conversion (reciprocal, clip, floor, transposed, imgIds) could drift."""
    got = _accumulate(case, golden[1]).compute()
    metrics = got.coco_metrics()
    want = case["expected"]["coco_metrics"]
    problems = [f"{k} {metrics[k]!r} != {want[k]!r}" for k in EI_COCO_STAT_KEYS
                if not abs(metrics[k] - want[k]) <= COCO_STATS_ATOL]
    if metrics["support"] != want["support"]:
        problems.append(f"support {metrics['support']} != {want['support']}")
    if not abs(got.coco_map_besdev - case["expected"]["coco_map_besdev"]) <= BESDEV_ATOL:
        problems.append(f"coco_map_besdev {got.coco_map_besdev!r} != {case['expected']['coco_map_besdev']!r}")
    assert not problems, f"{case['id']}: {'; '.join(problems)}"


def test_pixel_conversion_matches_ei_annotations(golden):
    """The floored-pixel COCO boxes equal EI's, incl. the S=96 reciprocal rounding quirk."""
    cases, arrays = golden
    for case in cases:
        i, diag = case["inputs"], case["diagnostics"]
        gt = arrays[i["gt_key"]]
        boxes, classes = ei_normalise_gt(gt[:, 1:5], gt[:, 5].astype(np.int64), i["width"],
                                         i["height"])
        want = arrays[diag["gt_coco_px_key"]].reshape(-1, 7)
        px = ei_coco_pixels(boxes, i["width"], i["height"])
        assert np.array_equal(px, want[:, 2:6]), case["id"]
        assert np.array_equal(px[:, 2] * px[:, 3], want[:, 6]), case["id"]
        assert np.array_equal(classes, want[:, 1].astype(np.int64)), case["id"]
        det = arrays[i["det_key"]].reshape(-1, 7)
        det_px = ei_coco_pixels(np.clip(det[:, 1:5], 0, 1), i["width"], i["height"])
        assert np.array_equal(det_px, arrays[diag["det_coco_px_key"]].reshape(-1, 7)[:, 2:6])


def test_update_order_and_shards_do_not_change_a_bit(golden):
    """Shuffled updates and a 3-way shard merge give byte-identical stats and bes-dev mAP."""
    cases, arrays = golden
    case = next(c for c in cases if c["id"] == "coco_1301_20")  # the tied-score data set
    ref = _accumulate(case, arrays).compute()
    n = case["inputs"]["n_images"]
    order = np.random.default_rng(0).permutation(n)
    shards = [_accumulate(case, arrays, order[k::3]) for k in range(3)]
    merged = shards[2].merge(shards[0]).merge(shards[1]).compute()
    assert merged.stats.tobytes() == ref.stats.tobytes()
    assert merged.coco_map_besdev == ref.coco_map_besdev
    assert merged.support == ref.support
