"""The reduce: SampleOutcomes -> accumulators -> ``ClassifyJobResponse`` (and its pages).

What the impulse's learn blocks are decides the shape of the result:

- a classifier (optionally with anomaly blocks): each window's predicted label is the
  classifier's decision, overridden by ``anomaly`` when an anomaly block flags the window
  (``evalcore.learn.classification``); the ``accuracy`` object counts windows;
- a regression block: a window is good when ``|prediction - label| <= threshold``;
- anomaly blocks alone: the predicted label is ``anomaly`` / ``no anomaly``.

The ``*AccuracyScore`` fields are percentages (0-100) by default, fractions with ``--compat
score-scale=fraction`` (``evalcore.metrics.classification``, "Score scale").

Which blocks can produce ``uncertain`` (``--compat uncertain-column``): only a classifier block
(kind ``classification``), whose decision is ``uncertain`` when its scores do not reach the
block's threshold; with or without anomaly blocks. For those impulses the confusion matrix has an
``uncertain`` column even when no window is uncertain (studio-evidence.md E1, a single-label
classifier), with ``uncertain-column=when-present`` only where it occurs. Regression blocks,
anomaly blocks alone, object detection (FOMO included) and visual anomaly detection never predict
``uncertain``: their matrices list it only if a window is labelled so (``when-present`` whatever
the setting).
"""

from __future__ import annotations

import numpy as np

from evalcore.errors import BundleError
from evalcore.report_text import (
    ANOMALY,
    NO_ANOMALY,
    Entry,
    SampleData,
    SampleTexts,
    model_texts,
    prediction_list_adapter,
    splice,
)

__all__ = ["AccumulatorSet", "ReportBuilder", "paginate", "ANOMALY", "NO_ANOMALY"]

# Windows of pending samples from which their texts are written (one column pass per batch:
# numpy's per-call cost is paid once per batch, not per sample).
_TEXT_BATCH_WINDOWS = 4096

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
        from evalcore.metrics.classification import AccuracyOptions

        self.project = project
        self.compat = compat = pipeline.options.compat
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
            self.detector = DetectionReducer(structured[0], project, records, compat=compat)
        elif self.classifier is None and self.regressor is None and not self.anomaly_blocks:
            raise BundleError("the impulse has no learn block evalcore can evaluate", path=project.root / "impulse.json")
        self.entries: list[Entry] = []  # one per sample, in add order (merge: sample-id order)
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
        accuracy_options = AccuracyOptions(
            uncertain_policy=compat["uncertain"],
            balanced_accuracy=compat["balanced-accuracy"],
            confusion_values=compat["confusion-values"],
            score_scale=compat["score-scale"],
            uncertain_column=compat["uncertain-column"] if self.classifier is not None else "when-present",
        )
        self._accuracy_labels = (tuple(classes), extras + tuple(test_only), accuracy_options)
        self.accuracy = self._new_accuracy()
        self.metrics = self._new_metrics()
        # where add() sends the current sample's windows: the builder itself (its `accuracy` and
        # `metrics`), then one AccumulatorSet per --slice-by key (evalcore.slices)
        self._targets: tuple = (self,)
        self.slices = self._slice_groups(pipeline.options, records)
        self.threshold_entries = {lb_id: _threshold_entry(r) for lb_id, r in self.runners.items()}
        self._pending: list[Entry] = []  # entries whose texts are not written yet
        self._pending_windows = 0
        self.texts = SampleTexts(self.runners, self.threshold_entries, has_anomaly=bool(self.anomaly_blocks))

    def _new_accuracy(self):
        from evalcore.metrics.classification import ClassificationAccumulator

        if self.regressor is not None:
            return None
        classes, extras, options = self._accuracy_labels
        return ClassificationAccumulator(classes, extras, options=options)

    def _new_metrics(self) -> dict:
        return {lb_id: _block_accumulator(r, self.compat) for lb_id, r in self.runners.items()}

    def _slice_groups(self, options, records):
        """``SliceGroups`` of the run's ``--slice-by`` keys (None without)."""
        keys = getattr(options, "slice_by", ())
        if not keys:
            return None
        from evalcore.slices import SliceGroups, check_keys_exist

        check_keys_exist(keys, records, category=options.category)

        def new_set():
            detector = None if self.detector is None else self.detector.slice_copy()
            return AccumulatorSet(self, self._new_accuracy(), self._new_metrics(), detector)

        return SliceGroups(keys, new_set)

    def accumulator_set(self) -> AccumulatorSet:
        """The whole run's accumulators as an `AccumulatorSet` (shared, not copied)."""
        whole = AccumulatorSet(self, self.accuracy, self.metrics, self.detector)
        whole.n_samples, whole.n_windows = self.n_samples, self.n_windows
        return whole

    # -- per sample ----------------------------------------------------------------------------

    def add(self, outcome) -> None:
        """Add one sample's outcome: its ``result`` entry, its predictions, the accumulators.

        The sample's parts of the response are written as JSON text (`SampleTexts.write`, a batch of
        samples at a time), not validated: ``build_json`` joins them. The plain values are kept
        so that ``build`` can still give the validated model, with the same bytes.
        """
        self.n_windows += outcome.n_windows
        if self.slices is not None:
            self._targets = (self, *self.slices.targets(outcome))
        if self.detector is not None:
            self._add_structured(outcome)
            return
        predicted, correct, expected_anomaly = self._decide(outcome)
        data = SampleData(
            sample_id=outcome.record.id, sample=outcome.sample, sample_json=outcome.sample_json,
            values=tuple(outcome.decisions[r.spec.id].values for r in self.runners.values()),
            label_ranges=outcome.label_ranges, expected=list(outcome.expected),
            interval_ms=float(outcome.window_interval_ms), start_ms=outcome.start_ms, end_ms=outcome.end_ms,
            predicted=predicted, correct=correct, expected_anomaly=expected_anomaly,
        )
        entry = Entry(data.sample_id, None, None, data)
        self.entries.append(entry)
        self._pending.append(entry)
        self._pending_windows += len(data.start_ms)
        if self._pending_windows >= _TEXT_BATCH_WINDOWS:
            self._write_pending()

    def _add_structured(self, outcome) -> None:
        from evalcore import schema

        runner = self.detector.runner
        self.detector.sinks = tuple(target.detector for target in self._targets[1:])
        entry, rows = self.detector.sample(outcome, outcome.decisions[runner.spec.id])
        result = schema.ModelResult.model_validate(
            {"sample_id": outcome.record.id, "sample": outcome.sample_model(), "classifications": [entry]}
        )
        predictions = prediction_list_adapter().validate_python(rows)
        texts = model_texts(result, predictions)
        self.entries.append(Entry(outcome.record.id, texts[0], texts[1], (result, predictions)))
        if runner.kind == "visual-anomaly":
            row = rows[0]
            expected = row.get("expected_anomaly_outcome")
            exp = np.array([self.code_of[expected] if expected else -1], dtype=np.int32)
            pred = np.array([self.code_of[row["prediction"]]], dtype=np.int32)
            is_anomaly = np.array([expected == ANOMALY])
            for target in self._targets:
                target.accuracy.update(exp, pred, expected_is_anomaly=is_anomaly)

    def _decide(self, outcome):
        """Predicted label per window, correctness, expected anomaly outcome; updates accuracy."""
        if self.regressor is not None:
            return self._decide_regression(outcome)
        n = outcome.n_windows
        expected = outcome.expected
        class_set = set(self.classifier.labels) if self.classifier is not None else set()
        flag_of = {e: e is not None and (e == ANOMALY or (bool(class_set) and e not in class_set)) for e in set(expected)}
        expected_anomaly = np.array([flag_of[e] for e in expected], dtype=bool)
        anomaly = [(outcome.decisions[r.spec.id].values, r.threshold) for r in self.anomaly_blocks]
        predicted_texts = None
        if self.classifier is not None and getattr(self.classifier, "multi_label", False):
            codes, predicted_texts = self._decide_multilabel(outcome, anomaly)
        elif self.classifier is not None:
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
            lb_id = self.classifier.spec.id
            for target in self._targets:
                target.metrics[lb_id].update(y_true[keep], scores[keep])
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
        is_anomaly = expected_anomaly if self.anomaly_blocks else None
        for target in self._targets:
            target.accuracy.update(exp_codes, codes, expected_is_anomaly=is_anomaly)
        names = self.labels
        labels = predicted_texts if predicted_texts is not None else [names[c] for c in codes.tolist()]
        correct = codes == exp_codes
        return labels, correct, expected_anomaly

    def _decide_multilabel(self, outcome, anomaly):
        """Matrix codes and prediction texts of a multi-label classifier (evalcore.learn.multilabel)."""
        from evalcore.learn.multilabel import decode_multilabel

        scores = outcome.decisions[self.classifier.spec.id].values
        y_true = self._expected_codes(outcome.expected, only_classes=True)
        decoded = decode_multilabel(
            scores, self.classifier.threshold, y_true, self.classifier.labels, anomaly=anomaly,
            classifier_inclusive=self.compat["classifier-threshold"] == ">=",
            anomaly_inclusive=self.compat["anomaly-threshold"] == ">=",
        )
        keep = y_true >= 0  # as for single-label blocks: windows with an untrained label are dropped
        lb_id = self.classifier.spec.id
        for target in self._targets:
            target.metrics[lb_id].update(decoded.truth[keep], decoded.selected[keep], scores[keep])
        return decoded.predicted, decoded.prediction

    def _decide_regression(self, outcome):
        from evalcore.jsnumber import format_floats
        from evalcore.learn.regression import decode_regression

        values = outcome.decisions[self.regressor.spec.id].values
        expected = np.array([_as_number(e, outcome) for e in outcome.expected], dtype=np.float64)
        decoded = decode_regression(
            values, expected, self.regressor.threshold, inclusive=self.compat["regression-threshold"] == "<="
        )
        lb_id = self.regressor.spec.id
        for target in self._targets:
            target.metrics[lb_id].update(values, expected)
        labels = format_floats(np.asarray(decoded.value))
        return labels, decoded.is_good, np.zeros(outcome.n_windows, dtype=bool)

    def _expected_codes(self, expected, *, only_classes: bool = False) -> np.ndarray:
        n_classes = len(self.classifier.labels) if (only_classes and self.classifier) else len(self.labels)
        code_of = self.code_of
        out = np.array([code_of.get(e, -1) if e is not None else -1 for e in expected], dtype=np.int32)
        out[out >= n_classes] = -1
        return out

    def _write_pending(self) -> None:
        """Write the texts of the entries added since the last call."""
        if self._pending:
            self.texts.write(self._pending)
            self._pending = []
            self._pending_windows = 0

    # -- dataset -------------------------------------------------------------------------------

    def merge(self, other: ReportBuilder) -> ReportBuilder:
        """Fold another shard of the same run into this one; returns self.

        Accumulators merge by their declared rule; per-sample entries are put back in sample-id
        order (the order a single run writes), so a sharded run gives the same bytes.
        """
        if other.labels != self.labels:
            raise BundleError("cannot merge runs with different label sets", path=self.project.root)
        _merge_accumulators(self, other)
        if self.slices is not None:
            self.slices.merge(other.slices)
        self._write_pending()
        other._write_pending()
        self.entries = sorted(self.entries + other.entries, key=lambda e: e.sample_id)
        self.n_windows += other.n_windows
        return self

    @property
    def n_samples(self) -> int:
        """Number of samples added (merged shards included)."""
        return len(self.entries)

    @property
    def results(self) -> list:
        """The validated ``result[]`` entries (builds them: use `n_samples` to count)."""
        return [self.texts.entry_models(entry)[0] for entry in self.entries]

    @property
    def predictions(self) -> list:
        """The validated ``predictions[]`` rows (builds them)."""
        rows = [row for entry in self.entries for row in self.texts.entry_models(entry)[1]]
        return prediction_list_adapter().validate_python(rows)

    def build(self):
        """The validated ``ClassifyJobResponse`` of everything added.

        `build_json` gives the same bytes as ``jsonio.dumps(build())`` without building it.
        """
        results, rows = [], []
        for entry in self.entries:
            result, entry_rows = self.texts.entry_models(entry)
            results.append(result)
            rows.extend(entry_rows)
        return self._response(results, prediction_list_adapter().validate_python(rows))

    def build_json(self) -> bytes:
        """``jsonio.dumps(self.build())``, from the per-sample texts written by `add`."""
        from evalcore.jsonio import dumps, fragment

        self._write_pending()
        text = splice(fragment(self._response([], [])), self.entries, [e.rows_json for e in self.entries])
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in a label: dumps's slower string writer
            return dumps(self.build())

    def pages_json(self, page_size: int):
        """``jsonio.dumps`` of each page of ``paginate(self.build(), page_size)``, in order.

        Yields
        ------
        bytes
            One ``ClassifyJobResponsePage`` per ``page_size`` samples (one empty page when
            there is no sample).
        """
        from evalcore import schema
        from evalcore.jsonio import dumps, fragment

        self._write_pending()
        entries = self.entries
        total = len(entries)
        # As paginate: a page holds the rows of every sample whose id is on the page.
        by_sample: dict = {}
        for e in entries:
            if e.rows_json:
                by_sample.setdefault(e.sample_id, []).append(e.rows_json)
        head = fragment(schema.ClassifyJobResponsePage(success=True, result=[], predictions=[], total_count=total))
        pages = None
        for k, start in enumerate(range(0, max(total, 1), page_size)):
            chunk = entries[start : start + page_size]
            text = splice(head, chunk, [rows for e in chunk for rows in by_sample.get(e.sample_id, ())])
            try:
                yield text.encode("utf-8")
            except UnicodeEncodeError:
                if pages is None:
                    pages = list(paginate(self.build(), page_size))
                yield dumps(pages[k])

    def _response(self, results: list, predictions: list):
        """``ClassifyJobResponse`` with the given ``result`` and ``predictions`` and the dataset numbers."""
        from evalcore import schema

        return schema.ClassifyJobResponse(
            success=True,
            result=results,
            predictions=predictions,
            accuracy=self.accuracy_model(),
            additional_metrics_by_learn_block=self.additional_metrics(),
            available_variants=self.project.available_variants,
        )

    def additional_metrics(self, metrics: dict | None = None, detector=None) -> list:
        """The validated ``additionalMetricsByLearnBlock`` (the whole run's, or a slice's).

        ``metrics`` and ``detector``: a slice's accumulators (`AccumulatorSet`); default the run's.
        """
        from evalcore import schema

        if metrics is None:
            metrics, detector = self.metrics, self.detector
        additional = []
        for lb_id, runner in self.runners.items():
            acc = metrics[lb_id]
            if acc is None and (detector is None or detector.runner is not runner):
                continue
            values = [
                schema.AdditionalMetric(
                    name=m.name, value=m.value, full_precision_value=float(m.full_precision_value),
                    tooltip_text=m.tooltip_text, link=m.link,
                )
                for m in _additional_metrics(runner, acc, detector)
            ]
            additional.append(
                schema.ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock(
                    learn_block_id=lb_id, learn_block_name=runner.spec.title or runner.spec.name,
                    additional_metrics=values,
                )
            )
        return additional

    def accuracy_model(self, accuracy=None, metrics: dict | None = None, detector=None):
        """The validated ``accuracy`` object of the response (cheap: no per-sample part).

        ``accuracy``, ``metrics`` and ``detector``: another set of accumulators than the whole
        run's (a slice's, `AccumulatorSet`).
        """
        from evalcore import schema

        if metrics is None:
            accuracy, metrics, detector = self.accuracy, self.metrics, self.detector
        if detector is not None and detector.kind == "object-detection":
            summary = detector.accuracy_summary()
        elif self.regressor is not None:
            summary = metrics[self.regressor.spec.id].compute().accuracy
        else:
            summary = accuracy.compute()
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


def _merge_accumulators(into, other) -> None:
    """Merge ``other``'s ``accuracy``, ``metrics`` and ``detector`` into ``into``'s, each by its own
    rule: the one merge of `ReportBuilder` (the whole run) and `AccumulatorSet` (a slice).
    """
    if into.accuracy is not None:
        into.accuracy.merge(other.accuracy)
    for lb_id, acc in into.metrics.items():
        if acc is not None:
            acc.merge(other.metrics[lb_id])
    if into.detector is not None:
        into.detector.merge(other.detector)


class AccumulatorSet:
    """The dataset-level accumulators of some samples: one ``--slice-by`` value's (or the whole run's).

    ``accuracy``, ``metrics`` and ``detector`` are what `ReportBuilder` has in its attributes of
    the same names, built with the same labels and options, so `ReportBuilder.add` updates them
    alike.
    """

    def __init__(self, builder: ReportBuilder, accuracy, metrics: dict, detector=None):
        self.builder = builder
        self.accuracy = accuracy
        self.metrics = metrics
        self.detector = detector  # report_detection.DetectionReducer (a `slice_copy`) or None
        self.n_samples = 0
        self.n_windows = 0

    def merge(self, other: AccumulatorSet) -> AccumulatorSet:
        """Add another shard's accumulators of the same slice (each by its own rule); returns self."""
        _merge_accumulators(self, other)
        self.n_samples += other.n_samples
        self.n_windows += other.n_windows
        return self

    def accuracy_model(self):
        """The validated ``accuracy`` object of these samples."""
        return self.builder.accuracy_model(self.accuracy, self.metrics, self.detector)

    def additional_metrics(self) -> list:
        """The validated ``additionalMetricsByLearnBlock`` of these samples."""
        return self.builder.additional_metrics(self.metrics, self.detector)


def _block_accumulator(runner, compat):
    """The additional-metrics accumulator of a learn block (None for anomaly blocks)."""
    if runner.kind == "classification" and getattr(runner, "multi_label", False):
        from evalcore.metrics.multilabel import MultiLabelMetricsAccumulator

        return MultiLabelMetricsAccumulator(len(runner.labels), average=compat["multilabel-average"])
    if runner.kind == "classification":
        from evalcore.metrics.classifier_scores import ClassifierMetricsAccumulator

        return ClassifierMetricsAccumulator(len(runner.labels))
    if runner.kind == "regression":
        from evalcore.metrics.regression import RegressionAccumulator

        return RegressionAccumulator(runner.threshold, inclusive=compat["regression-threshold"] == "<=",
                                     score_scale=compat["score-scale"])
    return None


def _additional_metrics(runner, acc, detector=None):
    from evalcore.metrics.additional import classifier_additional_metrics, regression_additional_metrics

    if detector is not None and detector.runner is runner:
        return detector.additional_metrics()
    if runner.kind == "classification" and getattr(runner, "multi_label", False):
        from evalcore.metrics.multilabel import multilabel_additional_metrics

        return multilabel_additional_metrics(acc.compute(), acc.average)
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
