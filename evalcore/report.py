"""The reduce: SampleOutcomes -> accumulators -> ``ClassifyJobResponse`` (and its pages).

What the impulse's learn blocks are decides the shape of the result:

- a classifier (optionally with anomaly blocks): each window's predicted label is the
  classifier's decision, overridden by ``anomaly`` when an anomaly block flags the window
  (``evalcore.learn.classification``); the ``accuracy`` object counts windows;
- a regression block: a window is good when ``|prediction - label| <= threshold``;
- anomaly blocks alone: the predicted label is ``anomaly`` / ``no anomaly``.

Per-sample JSON (``result[]``, ``predictions[]``) is built as outcomes arrive; dataset numbers
come from mergeable accumulators (``evalcore.metrics``) so a split run merges to the same bytes.
"""

from __future__ import annotations

import numpy as np

from evalcore.errors import BundleError

__all__ = ["ReportBuilder", "paginate", "ANOMALY", "NO_ANOMALY"]

ANOMALY = "anomaly"
NO_ANOMALY = "no anomaly"

_THRESHOLD_TEXT = {
    "classification": ("min_score", "Minimum confidence score",
                       "Windows whose top score is below this value are classified as uncertain"),
    "regression": ("max_error", "Maximum absolute error",
                   "Windows whose prediction is within this distance of the label count as correct"),
    "anomaly-kmeans": ("min_anomaly_score", "Minimum anomaly score",
                       "Windows scoring above this value are flagged as anomaly"),
    "anomaly-gmm": ("min_anomaly_score", "Minimum anomaly score",
                    "Windows scoring above this value are flagged as anomaly"),
    "object-detection": ("min_score", "Minimum confidence score",
                         "Boxes scoring below this value are not shown"),
    "visual-anomaly": ("min_anomaly_score", "Minimum anomaly score",
                       "Grid cells scoring at or above this value are flagged as anomaly"),
}


def _js_float_text(x: float) -> str:
    from evalcore.jsonio import format_number

    return format_number(float(x))


class ReportBuilder:
    """Collects outcomes and builds the response.

    Parameters
    ----------
    project : evalcore.bundle.Project
    pipeline : evalcore.pipeline.Pipeline
        Its runners give labels and thresholds.
    records : sequence of SampleRecord
        The samples of the run (their labels fix the accumulators' label sets up front).
    """

    def __init__(self, project, pipeline, records):
        from evalcore.metrics.classification import AccuracyOptions, ClassificationAccumulator

        self.project = project
        self.runners = pipeline.decoders
        self.classifier = next((r for r in self.runners.values() if r.kind == "classification"), None)
        self.regressor = next((r for r in self.runners.values() if r.kind == "regression"), None)
        self.anomaly_blocks = [r for r in self.runners.values() if r.kind in ("anomaly-kmeans", "anomaly-gmm")]
        structured = [r for r in self.runners.values() if r.kind in ("object-detection", "visual-anomaly")]
        self.detector = None
        if structured:
            from evalcore.report_detection import DetectionReducer

            if len(self.runners) > 1:
                raise BundleError(
                    "an impulse with an object-detection or visual anomaly block must have no other learn block",
                    path=project.root / "impulse.json", field="impulse.learnBlocks",
                )
            self.detector = DetectionReducer(structured[0], project, records)
        elif self.classifier is None and self.regressor is None and not self.anomaly_blocks:
            raise BundleError("the impulse has no learn block evalcore can evaluate", path=project.root / "impulse.json")
        self.results: list = []
        self.predictions: list = []  # validated ModelPrediction models, in sample order
        self._rows: list = []  # prediction rows not validated yet (see _validate_rows)
        self.n_windows = 0
        if self.classifier is not None:
            classes = self.classifier.labels
        elif self.regressor is not None:
            classes = ()
        else:
            classes = (NO_ANOMALY,)
        extras = ("uncertain", ANOMALY)
        seen = set(classes) | set(extras)
        test_only = sorted({lbl for r in records for lbl in _record_labels(r)} - seen) if self.regressor is None else []
        self.labels = tuple(classes) + extras + tuple(test_only)
        self.code_of = {name: i for i, name in enumerate(self.labels)}
        self.compat = compat = pipeline.options.compat
        accuracy_options = AccuracyOptions(
            uncertain_policy=compat["uncertain"],
            balanced_accuracy=compat["balanced-accuracy"],
            confusion_values=compat["confusion-values"],
        )
        self.accuracy = (
            None if self.regressor is not None
            else ClassificationAccumulator(classes, extras + tuple(test_only), options=accuracy_options)
        )
        self.metrics = {lb_id: _block_accumulator(r, compat) for lb_id, r in self.runners.items()}
        self.threshold_entries = {lb_id: _threshold_entry(r) for lb_id, r in self.runners.items()}

    # -- per sample ----------------------------------------------------------------------------

    def add(self, outcome) -> None:
        """Add one sample's outcome: its ``result`` entry, its predictions, the accumulators."""
        from evalcore import schema

        n = outcome.n_windows
        self.n_windows += n
        if self.detector is not None:
            self._add_structured(outcome)
            return
        predicted, correct, expected_anomaly = self._decide(outcome)
        classifications = [self._classification(outcome, r) for r in self.runners.values()]
        # One validation per sample, in pydantic-core: nested plain values are validated in Rust,
        # which costs a few microseconds per window where constructing a model per window costs 20.
        self.results.append(
            schema.ModelResult.model_validate(
                {"sample_id": outcome.record.id, "sample": outcome.sample, "classifications": classifications}
            )
        )
        has_anomaly = bool(self.anomaly_blocks)
        sample_id = outcome.record.id
        for w, (start, end) in enumerate(zip(outcome.start_ms.tolist(), outcome.end_ms.tolist())):
            exp = outcome.expected[w]
            row = {"sample_id": sample_id, "start_ms": start, "end_ms": end, "prediction": predicted[w]}
            if exp is not None:
                row["label"] = exp
                if correct is not None:
                    row["prediction_correct"] = bool(correct[w])
                if has_anomaly:
                    row["expected_anomaly_outcome"] = ANOMALY if expected_anomaly[w] else NO_ANOMALY
            self._rows.append(row)
        if len(self._rows) >= _VALIDATE_EVERY_ROWS:
            self._validate_rows()

    def _add_structured(self, outcome) -> None:
        from evalcore import schema

        runner = self.detector.runner
        entry, rows = self.detector.sample(outcome, outcome.decisions[runner.spec.id])
        self.results.append(
            schema.ModelResult.model_validate(
                {"sample_id": outcome.record.id, "sample": outcome.sample, "classifications": [entry]}
            )
        )
        self._rows.extend(rows)
        if len(self._rows) >= _VALIDATE_EVERY_ROWS:
            self._validate_rows()
        if runner.kind == "visual-anomaly":
            row = rows[0]
            expected = row.get("expected_anomaly_outcome")
            exp = np.array([self.code_of[expected] if expected else -1], dtype=np.int32)
            pred = np.array([self.code_of[row["prediction"]]], dtype=np.int32)
            self.accuracy.update(exp, pred, expected_is_anomaly=np.array([expected == ANOMALY]))

    def _decide(self, outcome):
        """Predicted label per window, correctness, expected anomaly outcome; updates accuracy."""
        if self.regressor is not None:
            return self._decide_regression(outcome)
        n = outcome.n_windows
        expected = outcome.expected
        class_set = set(self.classifier.labels) if self.classifier is not None else set()
        expected_anomaly = np.array(
            [e is not None and (e == ANOMALY or (bool(class_set) and e not in class_set)) for e in expected], dtype=bool
        )
        anomaly = [(outcome.decisions[r.spec.id].values, r.threshold) for r in self.anomaly_blocks]
        if self.classifier is not None:
            from evalcore.learn.classification import decode_classification

            scores = outcome.decisions[self.classifier.spec.id].values
            decoded = decode_classification(
                scores, self.classifier.threshold, anomaly=anomaly,
                classifier_inclusive=self.compat["classifier-threshold"] == ">=",
                anomaly_inclusive=self.compat["anomaly-threshold"] == ">=",
            )
            codes = decoded.predicted
            y_true = self._expected_codes(expected, only_classes=True)
            keep = y_true >= 0  # EI drops test labels the model was not trained on
            self.metrics[self.classifier.spec.id].update(y_true[keep], scores[keep])
        else:
            flagged = np.zeros(n, dtype=bool)
            inclusive = self.compat["anomaly-threshold"] == ">="
            for values, thr in anomaly:
                flagged |= (values >= thr) if inclusive else (values > thr)
            codes = np.where(flagged, self.code_of[ANOMALY], self.code_of[NO_ANOMALY]).astype(np.int32)
            expected = [None if e is None else (ANOMALY if e == ANOMALY else NO_ANOMALY) for e in expected]
        exp_codes = self._expected_codes(expected)
        if self.anomaly_blocks and self.classifier is not None and self.compat["unknown-label"] == "anomaly":
            # A window whose label the classifier was not trained on is an expected anomaly:
            # it is counted in the `anomaly` row, and predicting `anomaly` is correct for it.
            exp_codes[expected_anomaly] = self.code_of[ANOMALY]
        self.accuracy.update(exp_codes, codes, expected_is_anomaly=expected_anomaly if self.anomaly_blocks else None)
        labels = [self.labels[c] for c in codes]
        correct = codes == exp_codes
        return labels, correct, expected_anomaly

    def _decide_regression(self, outcome):
        from evalcore.learn.regression import decode_regression

        values = outcome.decisions[self.regressor.spec.id].values
        expected = np.array([_as_number(e, outcome) for e in outcome.expected], dtype=np.float64)
        decoded = decode_regression(
            values, expected, self.regressor.threshold, inclusive=self.compat["regression-threshold"] == "<="
        )
        acc = self.metrics[self.regressor.spec.id]
        acc.update(values, expected)
        labels = [_js_float_text(v) for v in decoded.value]
        return labels, decoded.is_good, np.zeros(outcome.n_windows, dtype=bool)

    def _expected_codes(self, expected, *, only_classes: bool = False) -> np.ndarray:
        n_classes = len(self.classifier.labels) if (only_classes and self.classifier) else len(self.labels)
        out = np.full(len(expected), -1, dtype=np.int32)
        for i, e in enumerate(expected):
            code = self.code_of.get(e, -1) if e is not None else -1
            out[i] = code if code < n_classes else -1
        return out

    def _classification(self, outcome, runner):
        values = outcome.decisions[runner.spec.id].values
        if runner.kind == "classification":
            names = runner.labels
            result = [dict(zip(names, map(float, row))) for row in values.tolist()]
        elif runner.kind == "regression":
            result = [{"value": float(v)} for v in values.tolist()]
        else:
            result = [{ANOMALY: float(v)} for v in values.tolist()]
        expected_labels = [
            {"start_index": a, "end_index": b, "label": e if e is not None else ""}
            for (a, b), e in zip(outcome.label_ranges.tolist(), outcome.expected)
        ]
        interval = float(outcome.window_interval_ms)
        return {
            "learn_block": runner.spec.block,
            "result": result,
            "minimum_confidence_rating": runner.threshold,
            "expected_labels": expected_labels,
            "thresholds": [self.threshold_entries[runner.spec.id]],
            "interval_ms": interval,
            "frequency_hz": 1000.0 / interval if interval > 0 else 0.0,
            "result_count": len(result),
        }

    def _validate_rows(self) -> None:
        """Validate the pending prediction rows in one pydantic-core call.

        Done every ``_VALIDATE_EVERY_ROWS`` rows rather than once at the end, so the work
        overlaps the model's (``Pipeline.outcomes`` runs models on a worker thread).
        """
        if self._rows:
            self.predictions.extend(_prediction_list_adapter().validate_python(self._rows))
            self._rows = []

    # -- dataset -------------------------------------------------------------------------------

    def merge(self, other: ReportBuilder) -> ReportBuilder:
        """Fold another shard of the same run into this one; returns self.

        Accumulators merge by their declared rule; per-sample entries are put back in sample-id
        order (the order a single run writes), so a sharded run gives the same bytes.
        """
        if other.labels != self.labels:
            raise BundleError("cannot merge runs with different label sets", path=self.project.root)
        if self.accuracy is not None:
            self.accuracy.merge(other.accuracy)
        for lb_id, acc in self.metrics.items():
            if acc is not None:
                acc.merge(other.metrics[lb_id])
        if self.detector is not None:
            self.detector.merge(other.detector)
        self.results = sorted(self.results + other.results, key=lambda r: r.sample_id)
        self._validate_rows()
        other._validate_rows()
        self.predictions = sorted(self.predictions + other.predictions, key=lambda p: p.sample_id)
        self.n_windows += other.n_windows
        return self

    def build(self):
        """The ``ClassifyJobResponse`` of everything added."""
        from evalcore import schema

        accuracy = self._accuracy_model()
        additional = []
        for lb_id, runner in self.runners.items():
            acc = self.metrics[lb_id]
            if acc is None and (self.detector is None or self.detector.runner is not runner):
                continue
            metrics = [
                schema.AdditionalMetric(
                    name=m.name, value=m.value, full_precision_value=float(m.full_precision_value),
                    tooltip_text=m.tooltip_text, link=m.link,
                )
                for m in _additional_metrics(runner, acc, self.detector)
            ]
            additional.append(
                schema.ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock(
                    learn_block_id=lb_id, learn_block_name=runner.spec.title or runner.spec.name, additional_metrics=metrics
                )
            )
        self._validate_rows()
        predictions = self.predictions
        return schema.ClassifyJobResponse(
            success=True,
            result=self.results,
            predictions=predictions,
            accuracy=accuracy,
            additional_metrics_by_learn_block=additional,
            available_variants=self.project.available_variants,
        )

    def _accuracy_model(self):
        from evalcore import schema

        if self.detector is not None and self.detector.kind == "object-detection":
            from evalcore.metrics.classification import AccuracySummary, GoodBad
            from evalcore.report_detection import F1_PSEUDO_CLASS

            good, bad = self.detector.good, self.detector.bad
            summary = AccuracySummary(
                total_summary=GoodBad(good, bad), summary_per_class={F1_PSEUDO_CLASS: GoodBad(good, bad)},
                confusion_matrix_values={}, all_labels=[],
                accuracy_score=good / (good + bad) if good + bad else None,
            )
        elif self.regressor is not None:
            summary = self.metrics[self.regressor.spec.id].compute().accuracy
        else:
            summary = self.accuracy.compute()
        gb = schema.ClassifyJobResponseAllOfAccuracyTotalSummary
        return schema.ClassifyJobResponseAllOfAccuracy(
            total_summary=gb(good=summary.total_summary.good, bad=summary.total_summary.bad),
            summary_per_class={k: gb(good=v.good, bad=v.bad) for k, v in summary.summary_per_class.items()},
            confusion_matrix_values={
                r: {c: float(v) for c, v in row.items()} for r, row in summary.confusion_matrix_values.items()
            },
            all_labels=list(summary.all_labels),
            accuracy_score=summary.accuracy_score,
            balanced_accuracy_score=summary.balanced_accuracy_score,
            anomaly_accuracy_score=summary.anomaly_accuracy_score,
            no_anomaly_accuracy_score=summary.no_anomaly_accuracy_score,
            mse_score=summary.mse_score,
        )


_PREDICTIONS_ADAPTER = None
_VALIDATE_EVERY_ROWS = 2048


def _prediction_list_adapter():
    """A cached pydantic TypeAdapter validating all ``predictions`` rows in one core call."""
    global _PREDICTIONS_ADAPTER
    if _PREDICTIONS_ADAPTER is None:
        from pydantic import TypeAdapter

        from evalcore import schema

        _PREDICTIONS_ADAPTER = TypeAdapter(list[schema.ModelPrediction])
    return _PREDICTIONS_ADAPTER


def _block_accumulator(runner, compat):
    """The additional-metrics accumulator of a learn block (None for anomaly blocks)."""
    if runner.kind == "classification":
        from evalcore.metrics.classifier_scores import ClassifierMetricsAccumulator

        return ClassifierMetricsAccumulator(len(runner.labels))
    if runner.kind == "regression":
        from evalcore.metrics.regression import RegressionAccumulator

        return RegressionAccumulator(runner.threshold, inclusive=compat["regression-threshold"] == "<=")
    return None


def _additional_metrics(runner, acc, detector=None):
    from evalcore.metrics.additional import classifier_additional_metrics, regression_additional_metrics

    if detector is not None and detector.runner is runner:
        return detector.additional_metrics()
    if runner.kind == "classification":
        return classifier_additional_metrics(acc.compute())
    return regression_additional_metrics(acc.compute())


def _threshold_entry(runner):
    """The block's ``BlockThreshold`` as its metadata states it, with the value in force."""
    from evalcore import schema
    from evalcore.learn.blocks import THRESHOLD_KEYS

    keys = THRESHOLD_KEYS.get(runner.kind, ())
    for entry in getattr(runner.spec.metadata, "thresholds", None) or ():
        if getattr(entry, "key", None) in keys:
            return schema.BlockThreshold(
                key=entry.key, description=entry.description or "", help_text=entry.help_text or "",
                suggested_value=getattr(entry, "suggested_value", None), value=runner.threshold,
            )
    key, description, help_text = _THRESHOLD_TEXT.get(runner.kind, _THRESHOLD_TEXT["classification"])
    return schema.BlockThreshold(key=key, description=description, help_text=help_text, value=runner.threshold)


def _record_labels(record) -> list[str]:
    info = record.label
    if info.kind == "label" and info.label is not None:
        return [info.label]
    if info.kind == "multi-label":
        return [s.label for s in info.segments]
    return []


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


def paginate(response, page_size: int):
    """Split a response into ``ClassifyJobResponsePage``s of ``page_size`` samples each.

    Each page holds ``page_size`` entries of ``result`` (in order) and the predictions of those
    samples; ``totalCount`` is the number of samples, as Studio's page endpoint reports it.
    """
    from evalcore import schema

    total = len(response.result)
    by_sample: dict[int, list] = {}
    for p in response.predictions:
        by_sample.setdefault(p.sample_id, []).append(p)
    for start in range(0, max(total, 1), page_size):
        chunk = response.result[start : start + page_size]
        preds = [p for r in chunk for p in by_sample.get(r.sample_id, [])]
        yield schema.ClassifyJobResponsePage(success=True, result=chunk, predictions=preds, total_count=total)
