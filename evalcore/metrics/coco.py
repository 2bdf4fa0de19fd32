"""COCO bbox metrics, exact to pycocotools, and Edge Impulse's data-set COCO metrics.

- ``evaluate_boxes``: pycocotools ``COCOeval(iouType='bbox')`` ``evaluate`` + ``accumulate`` +
  ``summarize`` on typed arrays (kernels ``coco_evaluate`` / ``coco_accumulate``); ``precision``,
  ``recall``, ``scores`` and ``stats`` are the same doubles pycocotools 2.0.11 produces
  (reference/perf-anchors.md section 1.3; tests/test_coco_oracle.py).
- ``CocoAccumulator``: what Edge Impulse's classify job reports as the test set's COCO metrics
  (``ei_coco.metrics.calculate_coco_metrics``) plus bes-dev's data-set mAP, mergeable across shards.

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
    "CocoAccumulator",
    "CocoResult",
    "EiCocoMetrics",
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
    from kernels.coco_accumulate import coco_accumulate
    from kernels.coco_evaluate import coco_evaluate

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
    table = coco_evaluate(
        dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category, gt_xywh,
        gt_area, gt_is_crowd, gt_id_is_zero, n_images=n_images, n_categories=n_categories,
        iou_thresholds=thresholds, area_ranges=AREA_RANGES, max_det=max_dets[-1],
    )
    precision, recall, scores = coco_accumulate(
        table.det_rank, table.score, table.codes, table.has_candidate, table.category_offsets,
        table.n_positives, recall_thresholds=RECALL_THRESHOLDS,
        max_dets=np.array(max_dets, dtype=np.int64),
    )
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


# --- Edge Impulse's data-set COCO metrics ---------------------------------------------------


@dataclass(frozen=True, eq=False)
class EiCocoMetrics:
    """Edge Impulse's test-set object-detection metrics.

    Attributes
    ----------
    stats : float64 array of shape (12,)
        pycocotools stats on EI's conversion (``EI_COCO_STAT_KEYS`` order).
    support : dict
        ``{"images", "annotations", "detections"}``: all images, GT boxes kept by the conversion
        (any label) and detections.
    coco_map_besdev : float
        bes-dev mAP over the whole set (float32 value): EI's ``coco_map``.
    result : CocoResult
        The full pycocotools-equivalent result behind ``stats``.
    """

    stats: np.ndarray
    support: dict
    coco_map_besdev: float
    result: CocoResult = field(repr=False)

    def coco_metrics(self, *, names="ei"):
        """The stats as a dict plus ``support``, as ``calculate_coco_metrics`` returns them.

        Parameters
        ----------
        names : {"ei", "studio", "plain", "short"}, default "ei"
            Keys: ``EI_COCO_STAT_KEYS`` (``MaP``, ...; EI's library), ``STUDIO_COCO_STAT_NAMES``
            (``mAP@[IoU=50]``, ...; Studio's display), ``PLAIN_COCO_STAT_NAMES``
            (``mAP@IoU=50``, ...) or ``COCO_STAT_NAMES`` (``AP``, ...).
        """
        keys = {"ei": EI_COCO_STAT_KEYS, "studio": STUDIO_COCO_STAT_NAMES,
                "plain": PLAIN_COCO_STAT_NAMES, "short": COCO_STAT_NAMES}.get(names)
        if keys is None:
            raise ConfigError(f"names must be 'ei', 'studio', 'plain' or 'short', got {names!r}")
        out = {k: float(v) for k, v in zip(keys, self.stats)}
        out["support"] = dict(self.support)
        return out


def ei_normalise_gt(gt_xywh_px, gt_labels, width, height):
    """EI's GT conversion for the COCO metrics (golden/README.md "coco" point 1).

    Boxes with ``w == 0`` or ``h == 0`` are dropped; the rest become ``(y, x, y+h, x+w)`` times the
    reciprocal ``1.0/height`` / ``1.0/width`` (a multiply, not a division: the last bit differs),
    clipped to [0, 1]; class = label - 1.

    Returns
    -------
    boxes : float64 array of shape (G', 4)
        ``[ymin, xmin, ymax, xmax]`` normalised.
    classes : int64 array of shape (G',)
    """
    x, y, w, h = (gt_xywh_px[:, i] for i in range(4))
    keep = (w != 0) & (h != 0)
    row_scale, col_scale = 1.0 / height, 1.0 / width
    boxes = np.column_stack([y * row_scale, x * col_scale, (y + h) * row_scale,
                             (x + w) * col_scale])[keep]
    return np.clip(boxes, 0.0, 1.0), (np.asarray(gt_labels, np.int64) - 1)[keep]


def ei_coco_pixels(boxes, width, height):
    """EI's normalised ``[ymin, xmin, ymax, xmax]`` -> integer-pixel COCO bbox (point 3).

    Each coordinate is multiplied by the input size and floored; the COCO "x" is the image row
    (EI keeps the transposed order for GTs and detections alike, so IoU is unaffected).

    Returns
    -------
    float64 array of shape (n, 4)
        ``[r0, c0, r1 - r0, c1 - c0]`` in whole pixels.
    """
    px = np.floor(boxes * np.array([height, width, height, width], dtype=np.float64))
    return np.column_stack([px[:, 0], px[:, 1], px[:, 2] - px[:, 0], px[:, 3] - px[:, 1]])


class CocoAccumulator:
    """Edge Impulse's test-set COCO metrics, accumulated per image and mergeable across shards.

    Mirrors ``ei_coco.metrics.calculate_coco_metrics`` and ``calculate_object_detection_metrics``
    as EI's 2024-04 classify job wires them (golden/README.md "coco"; reference/ei-semantics.md
    Q3): GT and detections are normalised and clipped, converted to floored pixels in transposed
    order, image ids are ``str(index)`` (so ties across images follow string order), and only
    images with at least one detection are evaluated (the others drop out with their GT).
    GT or detections whose class is outside ``0..num_classes-1`` (a test label the model was not
    trained on) are counted in ``support`` but never evaluated, as pycocotools only evaluates
    the listed categories.

    State: per image, its normalised GT and detection rows (concatenated on merge). ``compute``
    puts the rows in image-index order first, so the result does not depend on update or shard
    order.

    Parameters
    ----------
    num_classes : int
        Model classes; categories are ``0..num_classes-1``.
    width, height : int
        Model input size in pixels (EI uses one size S; different values scale rows by height
        and columns by width, a reading not covered by the golden data).
    """

    def __init__(self, num_classes, width, height=None):
        self.num_classes = int(num_classes)
        self.width = int(width)
        self.height = int(width if height is None else height)
        self._images = {}  # image index -> (gt boxes, gt classes, det boxes, det classes, scores)

    def update(self, image_index, gt_xywh_px, gt_labels, det_yxyx, det_labels, det_scores):
        """Add one image.

        Parameters
        ----------
        image_index : int
            The image's position in the test set (its COCO id is ``str(image_index)``).
        gt_xywh_px : float64 array of shape (G, 4)
            GT ``[x, y, w, h]`` in input pixels.
        gt_labels : int64 array of shape (G,)
            1-based GT labels (EI structured labels; -1 = not a training label).
        det_yxyx : float64 array of shape (D, 4)
            Detections ``[ymin, xmin, ymax, xmax]``, normalised (clipped here).
        det_labels : int64 array of shape (D,)
            0-based labels.
        det_scores : float64 array of shape (D,)
        """
        image_index = int(image_index)
        if image_index in self._images:
            raise ValueError(f"image {image_index} was already added to this accumulator")
        gt_boxes, gt_classes = ei_normalise_gt(np.asarray(gt_xywh_px, np.float64).reshape(-1, 4),
                                               gt_labels, self.width, self.height)
        det = np.clip(np.asarray(det_yxyx, np.float64).reshape(-1, 4), 0.0, 1.0)
        self._images[image_index] = (gt_boxes, gt_classes, det,
                                     np.asarray(det_labels, np.int64).reshape(-1),
                                     np.asarray(det_scores, np.float64).reshape(-1))

    def update_from_ei(self, image_index, bounding_boxes, raw_detections):
        """``update`` from EI-shaped lists, as ``ei_map.per_image_map_details`` takes them.

        Parameters
        ----------
        image_index : int
        bounding_boxes : sequence of mapping
            GT ``{"x", "y", "w", "h", "label"}``: input pixels, 1-based label.
        raw_detections : sequence of mapping
            ``{"box_ymin_xmin_ymax_xmax": [4 floats], "label": int (0-based), "score": float}``.
        """
        gt = np.array([[b["x"], b["y"], b["w"], b["h"]] for b in bounding_boxes],
                      dtype=np.float64).reshape(-1, 4)
        det = np.array([d["box_ymin_xmin_ymax_xmax"] for d in raw_detections],
                       dtype=np.float64).reshape(-1, 4)
        self.update(image_index, gt, np.array([b["label"] for b in bounding_boxes], np.int64),
                    det, np.array([d["label"] for d in raw_detections], np.int64),
                    np.array([d["score"] for d in raw_detections], np.float64))

    def merge(self, other):
        """Add another accumulator's images (in place); returns self.

        Raises
        ------
        ValueError
            If the two disagree on classes or size, or hold the same image.
        """
        if (other.num_classes, other.width, other.height) != (self.num_classes, self.width,
                                                              self.height):
            raise ValueError("cannot merge coco accumulators with different classes or size")
        shared = self._images.keys() & other._images.keys()
        if shared:
            raise ValueError(f"cannot merge: both accumulators hold image {min(shared)}")
        self._images.update(other._images)
        return self

    def renumbered(self):
        """A copy whose images are numbered 0, 1, ... in the order of their current indices.

        A subset of a test set (one ``--slice-by`` slice) added under the samples' ids gives,
        renumbered, the accumulator of a run on that subset alone (its images' positions).
        """
        other = CocoAccumulator(self.num_classes, self.width, self.height)
        other._images = {k: self._images[i] for k, i in enumerate(sorted(self._images))}
        return other

    def compute(self, *, stats0_max_dets=100, undefined=-1.0):
        """The metrics of all images added so far (the state is not changed).

        Returns
        -------
        EiCocoMetrics
        """
        order = sorted(self._images)
        parts = [self._images[i] for i in order]
        n_gt = np.array([len(p[1]) for p in parts], np.int64)
        n_det = np.array([len(p[3]) for p in parts], np.int64)
        index = np.array(order, np.int64)
        gt_img, det_img = np.repeat(index, n_gt), np.repeat(index, n_det)
        gt_boxes = np.concatenate([p[0] for p in parts] + [np.zeros((0, 4))])
        gt_cls = np.concatenate([p[1] for p in parts] + [np.zeros(0, np.int64)])
        det_boxes = np.concatenate([p[2] for p in parts] + [np.zeros((0, 4))])
        det_cls = np.concatenate([p[3] for p in parts] + [np.zeros(0, np.int64)])
        det_scores = np.concatenate([p[4] for p in parts] + [np.zeros(0)])
        result = self._coco(gt_img, gt_boxes, gt_cls, det_img, det_boxes, det_cls, det_scores,
                            stats0_max_dets, undefined)
        from evalcore.metrics.ei_map import besdev_map

        besdev, _ = besdev_map(det_img, det_cls, det_scores, det_boxes, gt_img, gt_cls,
                               gt_boxes, num_classes=self.num_classes)
        support = {"images": len(order), "annotations": int(gt_cls.size),
                   "detections": int(det_cls.size)}
        return EiCocoMetrics(result.stats, support, float(besdev), result)

    def _coco(self, gt_img, gt_boxes, gt_cls, det_img, det_boxes, det_cls, det_scores,
              stats0_max_dets, undefined):
        # imgIds = images with a detection, ordered as pycocotools orders str ids
        with_det = np.unique(det_img)
        ids = np.array(sorted(str(i) for i in with_det.tolist()), dtype=object)
        rank_of = {int(s): r for r, s in enumerate(ids)}
        n_cls = self.num_classes
        gt_keep = np.isin(gt_img, with_det) & (gt_cls >= 0) & (gt_cls < n_cls)
        det_keep = (det_cls >= 0) & (det_cls < n_cls)
        gt_xywh = ei_coco_pixels(gt_boxes[gt_keep], self.width, self.height)
        det_xywh = ei_coco_pixels(det_boxes[det_keep], self.width, self.height)
        to_rank = np.vectorize(rank_of.__getitem__, otypes=[np.int64])
        return evaluate_boxes(
            to_rank(det_img[det_keep]) if det_keep.any() else np.zeros(0, np.int64),
            det_cls[det_keep], det_scores[det_keep], det_xywh,
            to_rank(gt_img[gt_keep]) if gt_keep.any() else np.zeros(0, np.int64),
            gt_cls[gt_keep], gt_xywh, gt_xywh[:, 2] * gt_xywh[:, 3],
            n_images=ids.size, n_categories=n_cls, stats0_max_dets=stats0_max_dets,
            undefined=undefined, image_ids=ids, category_ids=np.arange(n_cls),
        )
