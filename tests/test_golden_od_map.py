"""Per-image object-detection mAP (``details[].mAP``) against ../shared/golden/od_map (EI's code)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evalcore.metrics.ei_map import per_image_map, per_image_map_details
from tests.conftest import GOLDEN, require_shared

FOLDER = require_shared(GOLDEN / "od_map")
CASES = json.loads((FOLDER / "cases.json").read_text())["cases"]

# golden/README.md "od_map": the pipeline is float32 and numpy 1.x / 2.x differ by up to 6e-8 in
# the final division, so the README allows atol 2e-7 (we reproduce the recorded values exactly).
OD_MAP_ATOL = 2e-7


EDGE = [c for c in CASES if "edge" in c["tags"]]


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_od_map_case(case):
    """Without it any of EI's quirks (+1 IoU, strict >, soft matching, scaling) could drift."""
    i, e = case["inputs"], case["expected"]
    got = per_image_map_details(i["width"], i["height"], i["num_classes"], i["boundingBoxes"],
                                i["raw_detections"])
    problems = []
    if not abs(got.map - e["mAP"]) <= OD_MAP_ATOL:
        problems.append(f"mAP {got.map!r} != {e['mAP']!r}")
    diag = e["diagnostics"]
    if diag is None:
        if got.ap is not None:
            problems.append("diagnostics should be empty without GT")
    else:
        if not abs(got.unscaled_map - diag["unscaled_mAP_float32"]) <= OD_MAP_ATOL:
            problems.append(f"unscaled {got.unscaled_map!r} != {diag['unscaled_mAP_float32']!r}")
        want = np.array(diag["ap_per_iou_threshold_per_class"], dtype=np.float64)
        bad = np.argwhere(~(np.abs(got.ap - want) <= OD_MAP_ATOL))
        if bad.size:
            t, c = bad[0]
            problems.append(f"ap[{t},{c}] {got.ap[t, c]!r} != {want[t, c]!r}")
        if got.n_gt_classes != diag["classes_in_gt"]:
            problems.append(f"classes_in_gt {got.n_gt_classes} != {diag['classes_in_gt']}")
    assert not problems, f"{case['id']}: {'; '.join(problems)}"


@pytest.mark.parametrize("case", EDGE, ids=[c["id"] for c in EDGE])
def test_edge_case_is_exact(case):
    """The hand-built edge cases (empty GT, unknown label, soft matching...) give EI's exact value."""
    i = case["inputs"]
    got = per_image_map(i["width"], i["height"], i["num_classes"], i["boundingBoxes"], i["raw_detections"])
    assert got == case["expected"]["mAP"], (case["id"], got, case["expected"]["mAP"])
