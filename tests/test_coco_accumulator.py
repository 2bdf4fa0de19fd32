"""CocoAccumulator: merging shards equals one pass, bit for bit; names and misuse."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.errors import ConfigError, MergeError
from evalcore.metrics.ei_coco import CocoAccumulator

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

N_IMAGES = 14


def _images(seed):
    """Per-image (gt_xywh_px, gt_labels, det_yxyx, det_labels, det_scores), tied scores included."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(N_IMAGES):
        n_gt, n_det = int(rng.integers(0, 5)), int(rng.integers(0, 7))
        gt = np.column_stack([rng.integers(0, 80, (n_gt, 2)), rng.integers(0, 40, (n_gt, 2))])
        labels = rng.integers(1, 4, n_gt)
        src = rng.integers(0, max(n_gt, 1), n_det)
        if n_gt:
            x, y, w, h = (gt[src, i] / 96 for i in range(4))
            det = np.column_stack([y, x, y + h, x + w]) + rng.normal(0, 0.03, (n_det, 4))
            det_labels = labels[src] - 1
        else:
            det = rng.uniform(0, 1, (n_det, 4))
            det_labels = rng.integers(0, 3, n_det)
        out.append((gt.astype(float), labels, det, det_labels, np.round(rng.random(n_det), 1)))
    return out


def _fill(acc, images, indices):
    for i in indices:
        acc.update(i, *images[i])
    return acc


def _same(a, b):
    assert a.stats.tobytes() == b.stats.tobytes()
    assert a.result.precision.tobytes() == b.result.precision.tobytes()
    assert a.coco_map_besdev == b.coco_map_besdev
    assert a.support == b.support


def test_misuse_fails_loudly():
    """Without it the same image added or merged twice would be counted twice (other config
    mismatches: tests/test_accumulators.py)."""
    images = _images(1)
    acc = _fill(CocoAccumulator(3, 96), images, [0, 1])
    with pytest.raises(ConfigError, match="already added"):
        acc.update(1, *images[1])
    with pytest.raises(MergeError, match="both accumulators hold image 0"):
        acc.merge(_fill(CocoAccumulator(3, 96), images, [0]))


def test_stat_names():
    """EI's library keys, Studio's display names (E5: brackets kept), the plain names (the
    --compat reading) and the short names map to the same values."""
    metrics = _fill(CocoAccumulator(3, 96), _images(2), range(N_IMAGES)).compute()
    ei, studio = metrics.coco_metrics(), metrics.coco_metrics(names="studio")
    plain = metrics.coco_metrics(names="plain")
    assert list(ei)[:3] == ["MaP", "MaP@[IoU=50]", "MaP@[IoU=75]"]
    assert list(studio)[:4] == ["mAP", "mAP@[IoU=50]", "mAP@[IoU=75]", "mAP@[area=small]"]
    assert list(studio)[8] == "Recall@[max_detections=100]"
    assert list(plain)[:3] == ["mAP", "mAP@IoU=50", "mAP@IoU=75"]
    assert list(plain)[7] == "Recall@max_detections=10"
    assert list(ei.values()) == list(studio.values()) == list(plain.values())
    with pytest.raises(ConfigError):
        metrics.coco_metrics(names="keras")


def test_images_without_predictions_drop_out_with_their_gt():
    """EI evaluates only images with a detection: GT of other images must not count as misses."""
    images = _images(3)
    acc = _fill(CocoAccumulator(3, 96), images, range(N_IMAGES))
    lonely = (np.array([[10.0, 10, 30, 30]]), np.array([1]), np.zeros((0, 4)),
              np.zeros(0, np.int64), np.zeros(0))
    with_lonely = _fill(CocoAccumulator(3, 96), images, range(N_IMAGES))
    with_lonely.update(N_IMAGES, *lonely)
    a, b = acc.compute(), with_lonely.compute()
    assert a.stats.tobytes() == b.stats.tobytes()
    assert b.support["annotations"] == a.support["annotations"] + 1
    assert b.support["images"] == a.support["images"] + 1


def test_update_from_ei_dicts_equals_arrays():
    """The EI-shaped entry point (boundingBoxes / raw_detections) feeds the same state."""
    images = _images(4)
    by_arrays = _fill(CocoAccumulator(3, 96), images, range(N_IMAGES)).compute()
    by_dicts = CocoAccumulator(3, 96)
    for i, (gt, labels, det, det_labels, scores) in enumerate(images):
        boxes = [{"x": b[0], "y": b[1], "w": b[2], "h": b[3], "label": int(lab)}
                 for b, lab in zip(gt.tolist(), labels)]
        dets = [{"box_ymin_xmin_ymax_xmax": d, "label": int(lab), "score": float(s)}
                for d, lab, s in zip(det.tolist(), det_labels, scores)]
        by_dicts.update_from_ei(i, boxes, dets)
    _same(by_dicts.compute(), by_arrays)
