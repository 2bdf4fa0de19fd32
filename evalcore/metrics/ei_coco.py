"""Edge Impulse's test-set COCO metrics (``ei_coco.metrics.calculate_coco_metrics``), mergeable.

:class:`CocoAccumulator` keeps each image's ground truth and detections as EI's classify job
converts them (golden/README.md "coco"; reference/ei-semantics.md Q3) and computes, with the
pycocotools-exact :func:`evalcore.metrics.coco.evaluate_boxes`, the 12 stats EI reports plus
bes-dev's data-set mAP (:func:`evalcore.metrics.ei_map.besdev_map`); :class:`EiCocoMetrics`
holds them and names them as EI, Studio or pycocotools do.

Letters: G ground truths, D detections, I images.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalcore.errors import ConfigError, MergeError
from evalcore.metrics._base import AccumulatorBase, state_array, state_field
from evalcore.metrics.coco import (
    COCO_STAT_NAMES,
    EI_COCO_STAT_KEYS,
    PLAIN_COCO_STAT_NAMES,
    STUDIO_COCO_STAT_NAMES,
    CocoResult,
    evaluate_boxes,
)

__all__ = ["CocoAccumulator", "EiCocoMetrics", "ei_coco_pixels", "ei_normalise_gt"]


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


class CocoAccumulator(AccumulatorBase):
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

    kind = "coco"
    state_version = 1

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
            raise ConfigError(f"image {image_index} was already added to this accumulator")
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
        MergeError
            If the two disagree on classes or size (naming the first that differs), or hold
            the same image.
        """
        self._check_mergeable(other)
        shared = self._images.keys() & other._images.keys()
        if shared:
            raise MergeError(f"cannot merge: both accumulators hold image {min(shared)}")
        self._images.update(other._images)
        return self

    def _config(self) -> dict:
        return {"num_classes": self.num_classes, "width": self.width, "height": self.height}

    def _arrays(self) -> dict:
        parts = list(self._images.values())
        return {
            "image": np.array(list(self._images), np.int64),
            "n_gt": np.array([len(p[1]) for p in parts], np.int64),
            "n_det": np.array([len(p[3]) for p in parts], np.int64),
            "gt_boxes": np.concatenate([p[0] for p in parts] + [np.zeros((0, 4))]),
            "gt_classes": np.concatenate([p[1] for p in parts] + [np.zeros(0, np.int64)]),
            "det_boxes": np.concatenate([p[2] for p in parts] + [np.zeros((0, 4))]),
            "det_labels": np.concatenate([p[3] for p in parts] + [np.zeros(0, np.int64)]),
            "det_scores": np.concatenate([p[4] for p in parts] + [np.zeros(0)]),
        }

    @classmethod
    def _from_state(cls, fields, arrays):
        config = [state_field(fields, "num_classes", "classes")]
        config += [state_field(fields, name, "int") for name in ("width", "height")]
        if min(config[1:]) < 1:
            raise ConfigError(f"width and height must be >= 1, got {config[1:]}")
        acc = cls(*config)
        image = state_array(arrays, "image", np.int64, (None,))
        n_gt = state_array(arrays, "n_gt", np.int64, image.shape, nonnegative=True)
        n_det = state_array(arrays, "n_det", np.int64, image.shape, nonnegative=True)
        if np.unique(image).size != image.size:
            raise ConfigError("array image holds an image twice")
        g, d = int(n_gt.sum()), int(n_det.sum())
        gt_boxes = state_array(arrays, "gt_boxes", np.float64, (g, 4))
        gt_classes = state_array(arrays, "gt_classes", np.int64, (g,))
        det_boxes = state_array(arrays, "det_boxes", np.float64, (d, 4))
        det_labels = state_array(arrays, "det_labels", np.int64, (d,))
        det_scores = state_array(arrays, "det_scores", np.float64, (d,))
        gt_end, det_end = np.cumsum(n_gt), np.cumsum(n_det)
        for k, index in enumerate(image.tolist()):
            gt = slice(gt_end[k] - n_gt[k], gt_end[k])
            det = slice(det_end[k] - n_det[k], det_end[k])
            acc._images[index] = (gt_boxes[gt], gt_classes[gt], det_boxes[det], det_labels[det],
                                  det_scores[det])
        return acc

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
