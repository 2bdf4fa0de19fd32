"""The map's last step: a sample's raw block outputs -> what the response shows and the metrics count.

``Decider.decide(outcome)`` runs once every learn block of a batch has run (``evalcore.pipeline``),
so the reduce (``evalcore.report``) only accumulates and writes. What the impulse's learn blocks
are decides the shape of the decision:

- a classifier (optionally with anomaly blocks): each window's predicted label is the
  classifier's decision, overridden by ``anomaly`` when an anomaly block flags the window
  (``evalcore.learn.classification``; multi-label: ``evalcore.learn.multilabel``);
- a regression block: a window is good when ``|prediction - label| <= threshold``;
- anomaly blocks alone: the predicted label is ``anomaly`` / ``no anomaly``;
- an object detection or visual anomaly block: the outputs are decoded into boxes (or a grid
  decision) and the sample's boxes are moved to model-input pixels
  (`ground_truth_in_input`); scoring them against each other is a metric, left to the reduce.

Which blocks can produce ``uncertain`` (``--compat uncertain-column``): only a classifier block,
whose decision is ``uncertain`` when its scores do not reach the block's threshold.
"""

from __future__ import annotations

import numpy as np

from evalcore.errors import BundleError
from evalcore.outcome import ANOMALY, NO_ANOMALY, Detections, StructuredDecisions, WindowDecisions

__all__ = ["Decider", "ground_truth_in_input"]


class Decider:
    """Decides the samples of one run.

    Parameters
    ----------
    plans : dict of int to evalcore.outcome.BlockPlan
        The run's learn blocks, in impulse order.
    labels : evalcore.outcome.RunLabels
        The run's label set (codes of the confusion matrix).
    compat : dict
        The run's ``--compat`` settings.
    project : evalcore.bundle.Project
        Its input block gives the model-input size of image blocks.
    """

    def __init__(self, plans: dict, labels, compat: dict, project=None):
        self.plans = plans
        self.labels = labels
        self.compat = compat
        self.classifier = next((p for p in plans.values() if p.kind == "classification"), None)
        self.regressor = next((p for p in plans.values() if p.kind == "regression"), None)
        self.anomaly_blocks = [p for p in plans.values() if p.kind in ("anomaly-kmeans", "anomaly-gmm")]
        self.structured = next((p for p in plans.values() if p.kind in ("object-detection", "visual-anomaly")), None)
        if self.structured is not None:
            ib = project.input_block
            self.width = int(ib.image_width or 0)
            self.height = int(ib.image_height or 0)
            self.resize_mode = ib.resize_mode or "squash"
            self.crop_anchor = ib.crop_anchor or "middle-center"
            meta = self.structured.spec.metadata
            self.last_layer = getattr(meta, "object_detection_last_layer", None) if meta is not None else None

    def decide(self, outcome) -> None:
        """Set ``outcome.decided`` from ``outcome.outputs`` (every block's part of the sample)."""
        if self.structured is not None:
            outcome.decided = self._structured(outcome)
        elif self.regressor is not None:
            outcome.decided = self._regression(outcome)
        else:
            outcome.decided = self._labelled(outcome)

    def decide_all(self, outcomes: list) -> None:
        """`decide` each outcome of a batch (samples in order).

        The windows of a classifier (single-label) and/or anomaly blocks are decided for the
        whole batch at once and then cut per sample: every step is window by window, so the
        decisions are the same as sample by sample, without ~15 small numpy calls a sample.
        """
        if (len(outcomes) < 2 or self.structured is not None or self.regressor is not None
                or (self.classifier is not None and self.classifier.multi_label)):
            for outcome in outcomes:
                self.decide(outcome)
            return
        block_ids = [p.id for p in self.anomaly_blocks] + ([self.classifier.id] if self.classifier is not None else [])
        expected = [label for outcome in outcomes for label in outcome.expected]
        values = {lb_id: np.concatenate([outcome.outputs[lb_id].values for outcome in outcomes])
                  for lb_id in block_ids}
        windows = _LabelledWindows(*self._labelled_windows(expected, values, len(expected)))
        start = 0
        for outcome in outcomes:
            end = start + outcome.n_windows
            outcome.decided = windows.sample(start, end)
            start = end

    # -- windows ---------------------------------------------------------------------------------

    def _labelled(self, outcome) -> WindowDecisions:
        """A classifier (single- or multi-label) and/or anomaly blocks."""
        values = {lb_id: output.values for lb_id, output in outcome.outputs.items()}
        windows = _LabelledWindows(*self._labelled_windows(outcome.expected, values, outcome.n_windows))
        return windows.sample(0, outcome.n_windows)

    def _labelled_windows(self, expected: list, values: dict, n_windows: int):
        """The decisions of windows with these expected labels and block outputs (``values``:
        learn block id -> its output rows): the fields of `_LabelledWindows`.
        """
        code_of = self.labels.code_of
        class_set = set(self.classifier.labels) if self.classifier is not None else set()
        flag_of = {e: e is not None and (e == ANOMALY or (bool(class_set) and e not in class_set)) for e in set(expected)}
        expected_anomaly = np.array([flag_of[e] for e in expected], dtype=bool)
        anomaly = [(values[p.id], p.threshold) for p in self.anomaly_blocks]
        classifier_inclusive = self.compat["classifier-threshold"] == ">="
        anomaly_inclusive = self.compat["anomaly-threshold"] == ">="
        predicted_texts = None
        updates: dict = {}  # learn block id -> (windows kept, the accumulator's arguments of every window)
        if self.classifier is not None:
            lb_id = self.classifier.id
            scores = values[lb_id]
            y_true = self._codes(expected, only_classes=True)
            keep = y_true >= 0  # EI drops test labels the model was not trained on
            if self.classifier.multi_label:
                from evalcore.learn.multilabel import decode_multilabel

                decoded = decode_multilabel(
                    scores, self.classifier.threshold, y_true, self.classifier.labels, anomaly=anomaly,
                    classifier_inclusive=classifier_inclusive, anomaly_inclusive=anomaly_inclusive,
                )
                codes, predicted_texts = decoded.predicted, decoded.prediction
                updates[lb_id] = (keep, (decoded.truth, decoded.selected, scores))
            else:
                from evalcore.learn.classification import decode_classification

                codes = decode_classification(
                    scores, self.classifier.threshold, anomaly=anomaly,
                    classifier_inclusive=classifier_inclusive, anomaly_inclusive=anomaly_inclusive,
                ).predicted
                updates[lb_id] = (keep, (y_true, scores))
        else:
            flagged = np.zeros(n_windows, dtype=bool)
            for block_values, thr in anomaly:
                flagged |= (block_values >= thr) if anomaly_inclusive else (block_values > thr)
            codes = np.where(flagged, code_of[ANOMALY], code_of[NO_ANOMALY]).astype(np.int32)
            expected = [None if e is None else (ANOMALY if e == ANOMALY else NO_ANOMALY) for e in expected]
        exp_codes = self._codes(expected)
        if self.anomaly_blocks and self.classifier is not None and self.compat["unknown-label"] == "anomaly":
            # A window whose label the classifier was not trained on is an expected anomaly:
            # it is counted in the `anomaly` row, and predicting `anomaly` is correct for it.
            exp_codes[expected_anomaly] = code_of[ANOMALY]
        is_anomaly = expected_anomaly if self.anomaly_blocks else None
        names = self.labels.labels
        predicted = predicted_texts if predicted_texts is not None else [names[c] for c in codes.tolist()]
        return predicted, codes == exp_codes, expected_anomaly, exp_codes, codes, is_anomaly, updates

    def _regression(self, outcome) -> WindowDecisions:
        from evalcore.jsnumber import format_floats
        from evalcore.learn.regression import decode_regression

        lb_id = self.regressor.id
        values = outcome.outputs[lb_id].values
        expected = np.array([_as_number(e, outcome) for e in outcome.expected], dtype=np.float64)
        decoded = decode_regression(
            values, expected, self.regressor.threshold, inclusive=self.compat["regression-threshold"] == "<="
        )
        return WindowDecisions(
            predicted=format_floats(np.asarray(decoded.value)), correct=decoded.is_good,
            expected_anomaly=np.zeros(outcome.n_windows, dtype=bool), accuracy=None,
            metric_updates={lb_id: (values, expected)},
        )

    def _codes(self, expected, *, only_classes: bool = False) -> np.ndarray:
        """Label codes of ``expected`` (-1: unlabelled; with ``only_classes``, also not a model class)."""
        labels = self.labels
        n = labels.n_classes if (only_classes and self.classifier is not None) else len(labels.labels)
        code_of = labels.code_of
        out = np.array([code_of.get(e, -1) if e is not None else -1 for e in expected], dtype=np.int32)
        out[out >= n] = -1
        return out

    # -- images ----------------------------------------------------------------------------------

    def _structured(self, outcome) -> StructuredDecisions:
        plan = self.structured
        outputs = [o[0] for o in outcome.outputs[plan.id].outputs]
        if plan.kind == "visual-anomaly":
            from evalcore.learn.visual_anomaly import visual_anomaly_result

            return StructuredDecisions(
                "visual-anomaly", visual=visual_anomaly_result(outputs[0], plan.threshold, self.width, self.height)
            )
        gt = self._ground_truth(outcome)
        if self.last_layer == "fomo":
            from evalcore.learn.fomo import decode_fomo, heatmap_shape

            boxes, labels, scores = decode_fomo(outputs[0], plan.threshold)
            return StructuredDecisions("fomo", detections=Detections(boxes, labels, scores),
                                       grid_shape=heatmap_shape(outputs[0]), ground_truth=gt)
        from evalcore.learn.detection import decode_detections

        det = decode_detections(self.last_layer, outputs, input_width=self.width, input_height=self.height,
                                threshold=plan.threshold)
        return StructuredDecisions("boxes", detections=det, ground_truth=gt)

    def _ground_truth(self, outcome) -> list[dict]:
        dims = outcome.sample_model().image_dimensions
        src_w, src_h = (dims.width, dims.height) if dims is not None else (self.width, self.height)
        index = {name: i + 1 for i, name in enumerate(self.structured.labels)}  # 1-based, 0 = background
        boxes = ground_truth_in_input(outcome.record.bounding_boxes, src_w, src_h, self.width, self.height,
                                      self.resize_mode, self.crop_anchor)
        return [{"x": x, "y": y, "w": w, "h": h, "label": index.get(name, -1)} for x, y, w, h, name in boxes]


class _LabelledWindows:
    """The decisions of consecutive windows (a sample's, or a batch's), cut per sample by `sample`."""

    def __init__(self, predicted, correct, expected_anomaly, exp_codes, codes, is_anomaly, updates):
        self.predicted, self.correct, self.expected_anomaly = predicted, correct, expected_anomaly
        self.exp_codes, self.codes, self.is_anomaly, self.updates = exp_codes, codes, is_anomaly, updates
        # windows whose label the classifier knows: all of them in most runs (then no mask to apply)
        self.keep_all = {lb_id: bool(keep.all()) for lb_id, (keep, _) in updates.items()}

    def sample(self, start: int, end: int) -> WindowDecisions:
        """The `WindowDecisions` of windows ``start..end-1``."""
        updates = {}
        for lb_id, (keep, args) in self.updates.items():
            if self.keep_all[lb_id]:
                updates[lb_id] = tuple(a[start:end] for a in args)
            else:
                mask = keep[start:end]
                updates[lb_id] = tuple(a[start:end][mask] for a in args)
        is_anomaly = None if self.is_anomaly is None else self.is_anomaly[start:end]
        return WindowDecisions(
            predicted=self.predicted[start:end], correct=self.correct[start:end],
            expected_anomaly=self.expected_anomaly[start:end],
            accuracy=(self.exp_codes[start:end], self.codes[start:end], is_anomaly), metric_updates=updates,
        )


def ground_truth_in_input(boxes, src_w: int, src_h: int, dst_w: int, dst_h: int, mode: str = "squash",
                          crop_anchor: str = "middle-center") -> list[tuple[float, float, float, float, str]]:
    """Map ground-truth boxes from image pixels to model-input pixels.

    Ground-truth boxes are in the original image's pixels; they move to the model input with the
    same geometry that moves the pixels (``evalcore.dsp.image.resize_transform``: squash,
    fit-short centre crop, fit-long letterbox, crop at the anchor). Boxes are clipped to the input.

    Returns
    -------
    list of (x, y, w, h, label)
        Boxes clipped to the input; boxes that fall entirely outside are dropped.
    """
    from evalcore.dsp.image import resize_transform

    if src_w <= 0 or src_h <= 0:
        return []
    sx, sy, ox, oy = resize_transform(src_w, src_h, dst_w, dst_h, mode, crop_anchor)
    out = []
    for b in boxes:
        x0 = min(max(b.x * sx + ox, 0.0), dst_w)
        y0 = min(max(b.y * sy + oy, 0.0), dst_h)
        x1 = min(max((b.x + b.width) * sx + ox, 0.0), dst_w)
        y1 = min(max((b.y + b.height) * sy + oy, 0.0), dst_h)
        if x1 > x0 and y1 > y0:
            out.append((x0, y0, x1 - x0, y1 - y0, b.label))
    return out


def _as_number(label, outcome) -> float:
    if label is None:
        return float("nan")
    try:
        return float(label)
    except ValueError as err:
        raise BundleError(
            f"a regression sample's label must be a number, got {label!r}",
            path=outcome.record.path, sample=outcome.record.filename, field="label",
        ) from err
