"""The reduce: decided SampleOutcomes -> accumulators -> ``ClassifyJobResponse`` (and its pages).

The map decided every window (``evalcore.learn.decide``); here each sample's decisions update
the accumulators (``evalcore.metrics``) and its ``result`` / ``predictions`` parts are written as
JSON text. The ``*AccuracyScore`` fields are percentages (0-100) by default, fractions with
``--compat score-scale=fraction`` (``evalcore.metrics.accuracy``, "Score scale").

Which blocks can produce ``uncertain`` (``--compat uncertain-column``): only a classifier block
(kind ``classification``), whose decision is ``uncertain`` when its scores do not reach the
block's threshold; with or without anomaly blocks. For those impulses the confusion matrix has an
``uncertain`` column even when no window is uncertain (studio-evidence.md E1, a single-label
classifier), with ``uncertain-column=when-present`` only where it occurs. Regression blocks,
anomaly blocks alone, object detection (FOMO included) and visual anomaly detection never predict
``uncertain``: their matrices list it only if a window is labelled so (``when-present`` whatever
the setting).

A builder needs the project, the run's block plans and its records only: no model is loaded, so
a reduce can be built where no model runtime is installed (``evalcore merge``).
"""

from __future__ import annotations

import numpy as np

from evalcore.errors import BundleError, MergeError
from evalcore.outcome import ANOMALY, run_labels
from evalcore.report.pages import SampleSpool, page_chunks, response_chunks, to_utf8
from evalcore.report.text import (
    Entry,
    SampleRows,
    SampleTexts,
    model_texts,
    prediction_list_adapter,
)

__all__ = ["AccumulatorSet", "ReportBuilder"]

# Windows of pending samples from which their texts are written (one column pass per batch:
# numpy's per-call cost is paid once per batch, not per sample).
_TEXT_BATCH_WINDOWS = 4096

class ReportBuilder:
    """Collects decided outcomes and builds the response.

    Parameters
    ----------
    project : evalcore.bundle.Project
    plans : dict of int to evalcore.outcome.BlockPlan
        The run's learn blocks (``evalcore.learn.thresholds.plan_blocks``), in impulse order.
    records : sequence of SampleRecord
        Every sample of the run (their labels fix the accumulators' label sets up front).
    options : evalcore.options.RunOptions
        ``compat``, ``slice_by`` and ``category`` are read.
    keep_samples : bool
        Keep every sample's plain values so that `build` validates them on their own path (the
        byte tests do): memory then grows with the samples. By default nothing of a sample is
        kept once its texts are in the spool, and `build` parses the written text.
    spool_dir : str or Path, optional
        Where the per-sample texts wait for the output (``evalcore.report.pages.SampleSpool``).
    labels : evalcore.outcome.RunLabels, optional
        ``run_labels(plans, records)`` when the caller has it already (the map's `Decider`
        does): a pass over every record saved.
    """

    def __init__(self, project, plans: dict, records, options, *, keep_samples: bool = False, spool_dir=None,
                 labels=None):
        from evalcore.metrics.accuracy import AccuracyOptions

        self.project = project
        self.compat = compat = options.compat
        self.plans = plans
        self.classifier = next((r for r in plans.values() if r.kind == "classification"), None)
        self.regressor = next((r for r in plans.values() if r.kind == "regression"), None)
        self.anomaly_blocks = [r for r in plans.values() if r.kind in ("anomaly-kmeans", "anomaly-gmm")]
        structured = [r for r in plans.values() if r.kind in ("object-detection", "visual-anomaly")]
        self.run_labels = labels if labels is not None else run_labels(plans, records)
        self.labels = self.run_labels.labels
        self.code_of = self.run_labels.code_of
        self.detector = None
        if structured:
            from evalcore.report.structured import DetectionReducer

            if len(plans) > 1:
                raise BundleError(
                    "an impulse with an object-detection or visual anomaly block must have no other learn block",
                    path=project.root / "impulse.json", field="impulse.learnBlocks",
                )
            self.detector = DetectionReducer(structured[0], project, records, compat=compat)
        elif self.classifier is None and self.regressor is None and not self.anomaly_blocks:
            raise BundleError("the impulse has no learn block evalcore can evaluate", path=project.root / "impulse.json")
        self.keep_samples = keep_samples
        self.entries: list[Entry] = []  # with keep_samples: one per sample, in spool order
        self.spool = SampleSpool(spool_dir)  # every sample's texts, in add order (merge: sample-id order)
        self.n_windows = 0
        accuracy_options = AccuracyOptions(
            uncertain_policy=compat["uncertain"],
            balanced_accuracy=compat["balanced-accuracy"],
            confusion_values=compat["confusion-values"],
            score_scale=compat["score-scale"],
            uncertain_column=compat["uncertain-column"] if self.classifier is not None else "when-present",
        )
        self._accuracy_labels = (self.run_labels.classes, self.run_labels.extras, accuracy_options)
        self.accuracy = self._new_accuracy()
        self.metrics = self._new_metrics()
        # where add() sends the current sample's windows: the builder itself (its `accuracy` and
        # `metrics`), then one AccumulatorSet per --slice-by key (evalcore.slices)
        self._targets: tuple = (self,)
        self.slices = self._slice_groups(options, records)
        self._pending: list[Entry] = []  # entries whose texts are not written yet
        self._pending_windows = 0
        # decisions of the pending entries not yet in the accumulators (a run without --slice-by
        # updates them a batch of samples at a time: `_flush_updates`)
        self._pending_updates: list = []
        self.texts = SampleTexts(plans, has_anomaly=bool(self.anomaly_blocks))

    def _new_accuracy(self):
        from evalcore.metrics.accuracy import ClassificationAccumulator

        if self.regressor is not None:
            return None
        classes, extras, options = self._accuracy_labels
        return ClassificationAccumulator(classes, extras, options=options)

    def _new_metrics(self) -> dict:
        return {lb_id: _block_accumulator(r, self.compat) for lb_id, r in self.plans.items()}

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
        self._flush_updates()
        whole = AccumulatorSet(self, self.accuracy, self.metrics, self.detector)
        whole.n_samples, whole.n_windows = self.n_samples, self.n_windows
        return whole

    # -- per sample ----------------------------------------------------------------------------

    def add(self, outcome) -> None:
        """Add one sample's outcome: its ``result`` entry, its predictions, the accumulators.

        The sample's parts of the response are written as JSON text (`SampleTexts.write`, a batch of
        samples at a time), not validated, and go to the spool; nothing of the sample is kept
        (but with ``keep_samples``).
        """
        self.n_windows += outcome.n_windows
        if self.slices is not None:
            self._targets = (self, *self.slices.targets(outcome))
        if self.detector is not None:
            self._add_structured(outcome)
            return
        decided = outcome.decided
        if self.slices is None:
            self._pending_updates.append(decided)
        else:
            for target in self._targets:
                _update(target, [decided])
        data = SampleRows(
            sample_id=outcome.record.id, sample=outcome.sample, sample_json=outcome.sample_json,
            values=tuple(outcome.outputs[lb_id].values for lb_id in self.plans),
            label_ranges=outcome.label_ranges, expected=list(outcome.expected),
            interval_ms=float(outcome.window_interval_ms), start_ms=outcome.start_ms, end_ms=outcome.end_ms,
            predicted=decided.predicted, correct=decided.correct, expected_anomaly=decided.expected_anomaly,
        )
        entry = Entry(data.sample_id, None, None, data)
        self._pending.append(entry)
        self._pending_windows += len(data.start_ms)
        if self._pending_windows >= _TEXT_BATCH_WINDOWS:
            self._write_pending()

    def _add_structured(self, outcome) -> None:
        from evalcore import schema

        runner = self.detector.runner
        self.detector.sinks = tuple(target.detector for target in self._targets[1:])
        entry, rows = self.detector.sample(outcome, outcome.decided)
        result = schema.ModelResult.model_validate(
            {"sample_id": outcome.record.id, "sample": outcome.sample_model(), "classifications": [entry]}
        )
        predictions = prediction_list_adapter().validate_python(rows)
        texts = model_texts(result, predictions)
        self._spool_entries([Entry(outcome.record.id, texts[0], texts[1], (result, predictions))])
        if runner.kind == "visual-anomaly":
            row = rows[0]
            expected = row.get("expected_anomaly_outcome")
            exp = np.array([self.code_of[expected] if expected else -1], dtype=np.int32)
            pred = np.array([self.code_of[row["prediction"]]], dtype=np.int32)
            is_anomaly = np.array([expected == ANOMALY])
            for target in self._targets:
                target.accuracy.update(exp, pred, expected_is_anomaly=is_anomaly)

    def _flush_updates(self) -> None:
        """Add the pending samples' decisions to the run's accumulators, all in one update each
        (the accumulators count or keep windows, so one update of the joined windows is the same
        as one per sample, without ~10 small numpy calls a sample).
        """
        if self._pending_updates:
            pending, self._pending_updates = self._pending_updates, []
            _update(self, pending)

    def _write_pending(self) -> None:
        """Write the texts of the entries added since the last call, and spool them."""
        self._flush_updates()
        if self._pending:
            self.texts.write(self._pending)
            self._spool_entries(self._pending)
            self._pending = []
            self._pending_windows = 0

    def _spool_entries(self, entries: list) -> None:
        self.spool.extend([entry.sample_id for entry in entries], [to_utf8(entry.result_json) for entry in entries],
                          [to_utf8(entry.rows_json or "") for entry in entries])
        if self.keep_samples:
            self.entries.extend(entries)

    # -- dataset -------------------------------------------------------------------------------

    def merge(self, other: ReportBuilder) -> ReportBuilder:
        """Fold another shard of the same run into this one; returns self.

        Accumulators merge by their declared rule; per-sample texts are put back in sample-id
        order (the order a single run writes), so a sharded run gives the same bytes.
        """
        if other.labels != self.labels:
            raise MergeError(f"cannot merge: labels differ ({list(self.labels)} vs {list(other.labels)})")
        self._write_pending()
        other._write_pending()
        _merge_accumulators(self, other)
        if self.slices is not None:
            self.slices.merge(other.slices)
        spool = SampleSpool.merged([self.spool, other.spool])
        self.spool.close()
        self.spool = spool
        if self.keep_samples:
            self.entries = sorted(self.entries + other.entries, key=lambda e: e.sample_id)
        self.n_windows += other.n_windows
        return self

    @property
    def n_samples(self) -> int:
        """Number of samples added (merged shards included)."""
        return len(self.spool) + len(self._pending)

    def _kept_entries(self) -> list:
        self._write_pending()
        if not self.keep_samples:
            raise RuntimeError("the samples' values were not kept (ReportBuilder(keep_samples=True))")
        return self.entries

    @property
    def results(self) -> list:
        """The validated ``result[]`` entries (built from the response's text unless samples were kept)."""
        if not self.keep_samples:
            return self.build().result
        return [self.texts.entry_models(entry)[0] for entry in self._kept_entries()]

    @property
    def predictions(self) -> list:
        """The validated ``predictions[]`` rows."""
        if not self.keep_samples:
            return self.build().predictions
        rows = [row for entry in self._kept_entries() for row in self.texts.entry_models(entry)[1]]
        return prediction_list_adapter().validate_python(rows)

    def build(self):
        """The validated ``ClassifyJobResponse`` of everything added.

        With ``keep_samples`` it is built from the samples' values, on a path of its own (the
        byte tests hold it to the text's bytes); otherwise the response's text is parsed.
        """
        from evalcore import schema

        if not self.keep_samples:
            return schema.ClassifyJobResponse.model_validate_json(self.build_json())
        results, rows = [], []
        for entry in self._kept_entries():
            result, entry_rows = self.texts.entry_models(entry)
            results.append(result)
            rows.extend(entry_rows)
        return self._response(results, prediction_list_adapter().validate_python(rows))

    def response_chunks(self):
        """Yield the bytes of ``jsonio.dumps(self.build())``, streamed from the spool."""
        from evalcore.jsonio import fragment

        self._write_pending()
        yield from response_chunks(fragment(self._response([], [])), self.spool)

    def build_json(self) -> bytes:
        """``jsonio.dumps(self.build())`` in one bytes object (`response_chunks` streams it)."""
        return b"".join(self.response_chunks())

    def page_count(self, page_size: int) -> int:
        """Number of pages of ``page_size`` samples (one empty page when there is no sample)."""
        return max(1, -(-self.n_samples // page_size))

    def page_chunks(self, k: int, page_size: int):
        """Yield the bytes of page ``k`` of ``paginate(self.build(), page_size)``, from the spool."""
        from evalcore import schema
        from evalcore.jsonio import fragment

        self._write_pending()
        total = self.n_samples
        head = fragment(schema.ClassifyJobResponsePage(success=True, result=[], predictions=[], total_count=total))
        yield from page_chunks(head, self.spool, k * page_size, min(total, (k + 1) * page_size))

    def pages_json(self, page_size: int):
        """``jsonio.dumps`` of each page of ``paginate(self.build(), page_size)``, in order.

        Yields
        ------
        bytes
            One ``ClassifyJobResponsePage`` per ``page_size`` samples (one empty page when
            there is no sample).
        """
        for k in range(self.page_count(page_size)):
            yield b"".join(self.page_chunks(k, page_size))

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
            self._flush_updates()
            metrics, detector = self.metrics, self.detector
        additional = []
        for lb_id, runner in self.plans.items():
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
            self._flush_updates()
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


def _update(target, decisions: list) -> None:
    """Add the windows of samples' ``WindowDecisions`` to ``target``'s ``accuracy`` and ``metrics``,
    joined into one update per accumulator (one per sample where their parts do not join).
    """
    counted = [d.accuracy for d in decisions if d.accuracy is not None]
    if counted:
        flags = [part[2] for part in counted]
        if len(counted) > 1 and (all(f is None for f in flags) or all(isinstance(f, np.ndarray) for f in flags)):
            counted = [(np.concatenate([part[0] for part in counted]), np.concatenate([part[1] for part in counted]),
                        None if flags[0] is None else np.concatenate(flags))]
        for expected, predicted, is_anomaly in counted:
            target.accuracy.update(expected, predicted, expected_is_anomaly=is_anomaly)
    by_block: dict = {}
    for decided in decisions:
        for lb_id, args in decided.metric_updates.items():
            by_block.setdefault(lb_id, []).append(args)
    for lb_id, parts in by_block.items():
        if len(parts) > 1 and all(isinstance(a, np.ndarray) for args in parts for a in args):
            parts = [tuple(np.concatenate(column) for column in zip(*parts, strict=True))]
        for args in parts:
            target.metrics[lb_id].update(*args)


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
