"""COCO bbox metrics, exact to pycocotools.

``evaluate_boxes``: pycocotools ``COCOeval(iouType='bbox')`` ``evaluate`` + ``accumulate`` +
``summarize`` on typed arrays (kernels ``coco_evaluate`` / ``coco_accumulate``); ``precision``,
``recall``, ``scores`` and ``stats`` are the same doubles pycocotools 2.0.11 produces
(reference/perf-anchors.md section 1.3; tests/test_coco_oracle.py). What Edge Impulse's classify
job reports as the test set's COCO metrics (its conversion of boxes, the accumulator mergeable
across shards) is :mod:`evalcore.metrics.ei_coco`; ``evalcore coco-eval`` calls this module
directly.

Policies (each a keyword with the pycocotools / Edge Impulse behaviour as default):

- ``stats0_max_dets=100``: pycocotools' ``summarize()`` reads stats[0] (AP) at maxDets=100 even
  when ``max_dets`` does not contain 100, so AP is -1 then (faster-coco-eval and hotcoco use the
  last maxDets instead: pass ``stats0_max_dets=None`` for that).
- ``undefined=-1.0``: a stat whose selection holds no category with a non-ignored GT (e.g. no large
  objects) is -1 in pycocotools and in Edge Impulse's output. Such stats also raise an
  ``UndefinedCocoStatWarning`` naming them.

Letters: D detections, G ground truths, K categories, I images, A area ranges, T IoU thresholds,
R recall thresholds, M maxDets values.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import numpy as np

from evalcore.errors import ConfigError

__all__ = [
    "AREA_LABELS",
    "AREA_RANGES",
    "COCO_STAT_NAMES",
    "EI_COCO_STAT_KEYS",
    "IOU_THRESHOLDS",
    "MAX_DETS",
    "PLAIN_COCO_STAT_NAMES",
    "RECALL_THRESHOLDS",
    "STUDIO_COCO_STAT_NAMES",
    "CocoResult",
    "UndefinedCocoStatWarning",
    "evaluate_boxes",
    "summarize",
]

# pycocotools Params.setDetParams, built the same way (float64 linspace, never arange)
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
MAX_DETS = (1, 10, 100)
AREA_RANGES = np.array([[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]],
                       dtype=np.float64)
AREA_LABELS = ("all", "small", "medium", "large")

#: Short names of ``stats[0..11]``.
COCO_STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl",
                   "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
#: The keys Edge Impulse's ``calculate_coco_metrics`` returns (KerasCV naming, golden coco data).
EI_COCO_STAT_KEYS = (
    "MaP", "MaP@[IoU=50]", "MaP@[IoU=75]", "MaP@[area=small]", "MaP@[area=medium]",
    "MaP@[area=large]", "Recall@[max_detections=1]", "Recall@[max_detections=10]",
    "Recall@[max_detections=100]", "Recall@[area=small]", "Recall@[area=medium]",
    "Recall@[area=large]",
)
#: How Studio displays them: lower-case m, brackets kept (``mAP@[IoU=50]``,
#: ``Recall@[max_detections=100]``): reference/studio-evidence.md E5, two READMEs transcribing
#: Studio's validation-metrics table for object detection (weak evidence: another page of
#: Studio, but the only direct one).
STUDIO_COCO_STAT_NAMES = tuple(k.replace("MaP", "mAP") for k in EI_COCO_STAT_KEYS)
#: evalcore's earlier inference (lower-case m, no brackets: ``mAP@IoU=50``; ei-semantics.md Q3,
#: a secondary write-up), kept as ``--compat detection-metric-names=plain``.
PLAIN_COCO_STAT_NAMES = tuple(k.replace("[", "").replace("]", "") for k in STUDIO_COCO_STAT_NAMES)

# (is_ap, iou threshold or None, area label, which maxDets) per stat, pycocotools _summarizeDets;
# "stats0" marks the AP whose maxDets is the stats0_max_dets policy.
_STAT_SPECS = (
    (True, None, "all", "stats0"), (True, 0.5, "all", 2), (True, 0.75, "all", 2),
    (True, None, "small", 2), (True, None, "medium", 2), (True, None, "large", 2),
    (False, None, "all", 0), (False, None, "all", 1), (False, None, "all", 2),
    (False, None, "small", 2), (False, None, "medium", 2), (False, None, "large", 2),
)


class UndefinedCocoStatWarning(UserWarning):
    """A COCO summary stat has nothing to average (no category with a GT in its selection)."""


def _stat_max_dets(spec_m, max_dets, stats0_max_dets):
    if spec_m == "stats0":
        return max_dets[-1] if stats0_max_dets is None else stats0_max_dets
    return max_dets[spec_m]


def summarize(precision, recall, iou_thresholds, max_dets, *, stats0_max_dets=100,
              undefined=-1.0):
    """The 12 pycocotools bbox summary stats from ``precision`` and ``recall``.

    Each stat is ``np.mean(s[s > -1])`` over the selected entries, exactly as pycocotools takes it
    (same selection, same element order, numpy's mean), so the value is the same double.

    Parameters
    ----------
    precision : float64 array of shape (T, R, K, 4, M)
    recall : float64 array of shape (T, K, 4, M)
    iou_thresholds : float64 array of shape (T,)
        AP50/AP75 select thresholds equal to 0.5 / 0.75 exactly (none: the stat is undefined).
    max_dets : sequence of int, sorted, at least 3 values
    stats0_max_dets : int or None, default 100
        maxDets of stats[0]; see the module docstring.
    undefined : float, default -1.0
        Value of a stat with nothing to average.

    Returns
    -------
    float64 array of shape (12,)
    """
    iou_thresholds = np.asarray(iou_thresholds)
    stats = np.zeros(12)
    empty = []
    for i, (is_ap, iou, area, spec_m) in enumerate(_STAT_SPECS):
        aind = [j for j, label in enumerate(AREA_LABELS) if label == area]
        wanted = _stat_max_dets(spec_m, max_dets, stats0_max_dets)
        mind = [j for j, m in enumerate(max_dets) if m == wanted]
        s = precision if is_ap else recall
        if iou is not None:
            s = s[np.where(iou == iou_thresholds)[0]]
        s = s[:, :, :, aind, mind] if is_ap else s[:, :, aind, mind]
        valid = s[s > -1]
        if valid.size == 0:
            stats[i] = undefined
            empty.append(COCO_STAT_NAMES[i])
        else:
            stats[i] = np.mean(valid)
    if empty:
        warnings.warn(f"coco stats with nothing to average, set to {undefined}: "
                      f"{', '.join(empty)}", UndefinedCocoStatWarning, stacklevel=2)
    return stats


@dataclass(frozen=True, eq=False)
class CocoResult:
    """COCO bbox evaluation result, pycocotools ``COCOeval.eval`` / ``stats`` equivalents.

    Attributes
    ----------
    stats : float64 array of shape (12,)
        ``COCOeval.stats`` (names in ``COCO_STAT_NAMES``).
    precision : float64 array of shape (T, R, K, A, M)
        ``eval['precision']``; -1 for categories without a non-ignored GT.
    recall : float64 array of shape (T, K, A, M)
        ``eval['recall']``.
    scores : float64 array of shape (T, R, K, A, M)
        ``eval['scores']``.
    iou_thresholds, recall_thresholds : float64 arrays of shape (T,) and (R,)
    max_dets : tuple of int
        Sorted, as pycocotools sorts them.
    image_ids, category_ids : numpy arrays of shape (I,) and (K,)
        The evaluated ids in the order of the result axes (pycocotools' sorted unique order).
    n_ground_truths, n_detections : int
        Annotations of the evaluated images and categories (detections before the maxDets cut).
    stats0_max_dets : int or None
        The maxDets stats[0] was read at (None: ``max_dets[-1]``).
    """

    stats: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    iou_thresholds: np.ndarray
    recall_thresholds: np.ndarray
    max_dets: tuple
    image_ids: np.ndarray = field(repr=False)
    category_ids: np.ndarray = field(repr=False)
    n_ground_truths: int = 0
    n_detections: int = 0
    stats0_max_dets: int | None = 100

    def format_stats(self):
        """The 12 summary lines exactly as pycocotools ``summarize()`` prints them.

        Returns
        -------
        str
            12 lines, each ending in a newline (what ``summarize()`` writes to stdout).
        """
        lines = []
        for value, (is_ap, iou, area, spec_m) in zip(self.stats, _STAT_SPECS):
            title, kind = ("Average Precision", "(AP)") if is_ap else ("Average Recall", "(AR)")
            if iou is None:
                iou_text = f"{self.iou_thresholds[0]:0.2f}:{self.iou_thresholds[-1]:0.2f}"
            else:
                iou_text = f"{iou:0.2f}"
            max_det = _stat_max_dets(spec_m, self.max_dets, self.stats0_max_dets)
            lines.append(f" {title:<18} {kind} @[ IoU={iou_text:<9} | area={area:>6s} | "
                         f"maxDets={max_det:>3d} ] = {value:0.3f}")
        return "".join(line + "\n" for line in lines)

    def to_dict(self):
        """JSON-ready summary: the 12 stats by name plus what was evaluated."""
        return {
            "stats": {name: float(v) for name, v in zip(COCO_STAT_NAMES, self.stats)},
            "iou_thresholds": [float(t) for t in self.iou_thresholds],
            "max_dets": [int(m) for m in self.max_dets],
            "n_images": int(self.image_ids.size),
            "n_categories": int(self.category_ids.size),
            "n_ground_truths": int(self.n_ground_truths),
            "n_detections": int(self.n_detections),
        }

    def to_json(self, *, indent=2):
        """``to_dict()`` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent)


def evaluate_boxes(dt_image, dt_category, dt_score, dt_xywh, gt_image, gt_category, gt_xywh,
                   gt_area, gt_is_crowd=None, gt_id_is_zero=None, *, n_images, n_categories,
                   iou_thresholds=None, max_dets=MAX_DETS, stats0_max_dets=100, undefined=-1.0,
                   image_ids=None, category_ids=None):
    """COCO bbox evaluation of typed arrays, exact to pycocotools.

    Parameters
    ----------
    dt_image, gt_image : int64 arrays of shape (D,) and (G,)
        Image rank, 0..I-1, in pycocotools' sorted image-id order (it breaks score ties).
    dt_category, gt_category : int64 arrays of shape (D,) and (G,)
        Category rank 0..K-1 in sorted category-id order; rows of other images or categories
        must be dropped beforehand (pycocotools never sees them).
    dt_score : float64 array of shape (D,)
    dt_xywh, gt_xywh : float64 arrays of shape (D, 4) and (G, 4)
        [x, y, w, h]; rows in results-file / annotation order (ties keep it).
    gt_area : float64 array of shape (G,)
        The annotation ``area`` field (detections use ``w*h``, as ``loadRes`` sets it).
    gt_is_crowd : bool array of shape (G,), optional
        Default all False.
    gt_id_is_zero : bool array of shape (G,), optional
        GTs whose annotation id is 0 (pycocotools then counts their matches as unmatched).
    n_images, n_categories : int
    iou_thresholds : float64 array of shape (T,), optional
        Default ``IOU_THRESHOLDS``.
    max_dets : sequence of int, default (1, 10, 100)
        At least 3 values; sorted like pycocotools does.
    stats0_max_dets, undefined
        Policies, see the module docstring.
    image_ids, category_ids : array-like, optional
        Ids to record in the result (default the ranks).

    Returns
    -------
    CocoResult

    Raises
    ------
    ConfigError
        If ``max_dets`` has fewer than 3 values or a negative one.
    """
    max_dets = tuple(sorted(int(m) for m in max_dets))
    if len(max_dets) < 3 or max_dets[0] < 0:
        raise ConfigError(f"max_dets needs at least 3 values >= 0 (the summary reads 3), "
                          f"got {list(max_dets)}")
    thresholds = IOU_THRESHOLDS if iou_thresholds is None else np.asarray(iou_thresholds,
                                                                          dtype=np.float64)
    n_gt = gt_image.shape[0]
    gt_is_crowd = np.zeros(n_gt, bool) if gt_is_crowd is None else gt_is_crowd
    gt_id_is_zero = np.zeros(n_gt, bool) if gt_id_is_zero is None else gt_id_is_zero
    dt_area = dt_xywh[:, 2] * dt_xywh[:, 3]
    args = (dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category, gt_xywh,
            gt_area, gt_is_crowd, gt_id_is_zero)
    precision, recall, scores = _evaluate_accumulate(
        args, n_images, n_categories, thresholds, max_dets)
    stats = summarize(precision, recall, thresholds, max_dets, stats0_max_dets=stats0_max_dets,
                      undefined=undefined)
    return CocoResult(
        stats=stats, precision=precision, recall=recall, scores=scores,
        iou_thresholds=thresholds, recall_thresholds=RECALL_THRESHOLDS, max_dets=max_dets,
        image_ids=np.arange(n_images) if image_ids is None else np.asarray(image_ids),
        category_ids=np.arange(n_categories) if category_ids is None else np.asarray(category_ids),
        n_ground_truths=n_gt, n_detections=int(dt_image.shape[0]),
        stats0_max_dets=stats0_max_dets,
    )


def _evaluate_accumulate(args, n_images, n_categories, thresholds, max_dets):
    """Phases 1 and 2: ``(precision, recall, scores)``.

    By the kernels' saved machine code when it loads (``kernels.coco_entries``: no numba import),
    else by the numba kernels; both give the same bits. The numba path also words the errors
    of indices out of range.
    """
    from kernels.coco_common import check_evaluate_args
    from kernels.coco_entries import coco_kernels

    max_dets = np.array(max_dets, dtype=np.int64)
    native = coco_kernels()
    if native is not None:
        check_evaluate_args(*args, n_images, n_categories, thresholds, AREA_RANGES, max_dets[-1])
        out = native.evaluate_accumulate(*args, n_images, n_categories, thresholds, AREA_RANGES,
                                         max_dets[-1], RECALL_THRESHOLDS, max_dets)
        if out is not None:
            return out
    from kernels.coco_accumulate import coco_accumulate
    from kernels.coco_evaluate import coco_evaluate

    table = coco_evaluate(*args, n_images=n_images, n_categories=n_categories,
                          iou_thresholds=thresholds, area_ranges=AREA_RANGES,
                          max_det=max_dets[-1])
    return coco_accumulate(
        table.det_rank, table.score, table.codes, table.has_candidate, table.category_offsets,
        table.n_positives, recall_thresholds=RECALL_THRESHOLDS, max_dets=max_dets)
