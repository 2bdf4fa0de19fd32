"""The reduce: SampleOutcomes -> accumulators -> ``ClassifyJobResponse`` (and its pages).

What the impulse's learn blocks are decides the shape of the result:

- a classifier (optionally with anomaly blocks): each window's predicted label is the
  classifier's decision, overridden by ``anomaly`` when an anomaly block flags the window
  (``evalcore.learn.classification``); the ``accuracy`` object counts windows;
- a regression block: a window is good when ``|prediction - label| <= threshold``;
- anomaly blocks alone: the predicted label is ``anomaly`` / ``no anomaly``.

Per-sample JSON (``result[]``, ``predictions[]``) is written as text while outcomes arrive, a
batch of samples and a column at a time, without pydantic: ``build_json()`` joins it and gives
the bytes of ``jsonio.dumps(build())``; ``build()`` validates the same values into the
``ClassifyJobResponse`` model only when it is asked for (tests/test_report_fastjson.py holds the
two to the same bytes). Dataset numbers come from mergeable accumulators (``evalcore.metrics``)
so a split run merges to the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.errors import BundleError
from evalcore.jsonio import encode_string

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
        self.entries: list[_Entry] = []  # one per sample, in add order (merge: sample-id order)
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
        self._block_json: dict = {}  # learn block id -> (entry head, thresholds text), see _block_texts
        self._pending: list[_Entry] = []  # entries whose texts are not written yet
        self._pending_windows = 0
        self._strings: dict = {}  # str -> its JSON text, for labels

    # -- per sample ----------------------------------------------------------------------------

    def add(self, outcome) -> None:
        """Add one sample's outcome: its ``result`` entry, its predictions, the accumulators.

        The sample's parts of the response are written as JSON text (`_write_texts`, a batch of
        samples at a time), not validated: ``build_json`` joins them. The plain values are kept
        so that ``build`` can still give the validated model, with the same bytes.
        """
        self.n_windows += outcome.n_windows
        if self.detector is not None:
            self._add_structured(outcome)
            return
        predicted, correct, expected_anomaly = self._decide(outcome)
        data = _SampleData(
            sample_id=outcome.record.id, sample=outcome.sample,
            values=tuple(outcome.decisions[r.spec.id].values for r in self.runners.values()),
            label_ranges=outcome.label_ranges, expected=list(outcome.expected),
            interval_ms=float(outcome.window_interval_ms), start_ms=outcome.start_ms, end_ms=outcome.end_ms,
            predicted=predicted, correct=correct, expected_anomaly=expected_anomaly,
        )
        entry = _Entry(data.sample_id, None, None, data)
        self.entries.append(entry)
        self._pending.append(entry)
        self._pending_windows += len(data.start_ms)
        if self._pending_windows >= _TEXT_BATCH_WINDOWS:
            self._write_pending()

    def _add_structured(self, outcome) -> None:
        from evalcore import schema

        runner = self.detector.runner
        entry, rows = self.detector.sample(outcome, outcome.decisions[runner.spec.id])
        result = schema.ModelResult.model_validate(
            {"sample_id": outcome.record.id, "sample": outcome.sample, "classifications": [entry]}
        )
        predictions = _prediction_list_adapter().validate_python(rows)
        texts = _model_texts(result, predictions)
        self.entries.append(_Entry(outcome.record.id, texts[0], texts[1], (result, predictions)))
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
        flag_of = {e: e is not None and (e == ANOMALY or (bool(class_set) and e not in class_set)) for e in set(expected)}
        expected_anomaly = np.array([flag_of[e] for e in expected], dtype=bool)
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
        names = self.labels
        labels = [names[c] for c in codes.tolist()]
        correct = codes == exp_codes
        return labels, correct, expected_anomaly

    def _decide_regression(self, outcome):
        from evalcore.jsonio import format_floats
        from evalcore.learn.regression import decode_regression

        values = outcome.decisions[self.regressor.spec.id].values
        expected = np.array([_as_number(e, outcome) for e in outcome.expected], dtype=np.float64)
        decoded = decode_regression(
            values, expected, self.regressor.threshold, inclusive=self.compat["regression-threshold"] == "<="
        )
        acc = self.metrics[self.regressor.spec.id]
        acc.update(values, expected)
        labels = format_floats(np.asarray(decoded.value))
        return labels, decoded.is_good, np.zeros(outcome.n_windows, dtype=bool)

    def _expected_codes(self, expected, *, only_classes: bool = False) -> np.ndarray:
        n_classes = len(self.classifier.labels) if (only_classes and self.classifier) else len(self.labels)
        code_of = self.code_of
        out = np.array([code_of.get(e, -1) if e is not None else -1 for e in expected], dtype=np.int32)
        out[out >= n_classes] = -1
        return out

    # -- the text path: samples' JSON written column-wise --------------------------------------

    def _write_pending(self) -> None:
        """Write the texts of the entries added since the last call."""
        if self._pending:
            self._write_texts(self._pending)
            self._pending = []
            self._pending_windows = 0

    def _write_texts(self, entries: list) -> None:
        """Fill ``result_json`` / ``rows_json`` of a batch of classifier / regression / anomaly entries.

        The text is what ``jsonio.dumps`` writes for the validated models: camelCase keys in
        schema field order, absent optional keys left out, numbers as JavaScript writes them.
        Each column is formatted once for the whole batch. A sample with a value outside what
        evalcore itself produces (a non-float array, a label that is not a str, mismatched
        lengths) is validated instead (`_validated_texts`), which raises as before.
        """
        from evalcore.jsonio import format_ints, format_number, fragment, object_rows

        fast = []
        for entry in entries:
            if self._text_ok(entry.data):
                fast.append(entry)
            else:
                entry.result_json, entry.rows_json = _validated_texts(
                    self._plain_result(entry.data), self._plain_rows(entry.data)
                )
        if not fast:
            return
        datas = [e.data for e in fast]
        strings = self._strings
        n_windows = [len(d.expected) for d in datas]
        bounds = format_ints(np.concatenate([d.label_ranges for d in datas]))
        labels = [strings["" if e is None else e] for d in datas for e in d.expected]
        expected_rows = object_rows(("startIndex", "endIndex", "label"), [bounds[0::2], bounds[1::2], labels])
        block_rows = []
        for j, runner in enumerate(self.runners.values()):
            values = np.concatenate([d.values[j] for d in datas])
            block_rows.append((self._block_texts(runner), _window_results(runner, values)))
        rows = self._prediction_rows(datas, labels)
        at = 0
        for entry, data, n in zip(fast, datas, n_windows):
            expected_json = "[" + ",".join(expected_rows[at : at + n]) + "]"
            interval = data.interval_ms
            tail = (format_number(interval) + ',"frequencyHz":'
                    + format_number(1000.0 / interval if interval > 0 else 0.0) + ',"resultCount":' + str(n) + "}")
            parts = ['{"sampleId":', format_number(data.sample_id), ',"sample":', fragment(data.sample),
                     ',"classifications":[']
            for j, (texts, results) in enumerate(block_rows):
                parts += ("," if j else "", texts[0], "[", ",".join(results[at : at + n]), "]", texts[1],
                          expected_json, texts[2], tail)
            parts.append("]}")
            entry.result_json = "".join(parts)
            entry.rows_json = ",".join(rows[at : at + n])
            at += n

    def _prediction_rows(self, datas: list, labels: list) -> list[str]:
        """``predictions[]`` rows of a batch (``ModelPrediction``'s field order), one per window.

        ``labels`` holds the JSON text of each window's expected label (``""`` when it has none).
        """
        from evalcore.jsonio import format_floats, format_number

        sample_ids = []
        for d in datas:
            sample_ids += [format_number(d.sample_id)] * len(d.expected)
        columns = [
            sample_ids,
            format_floats(np.concatenate([d.start_ms for d in datas])),
            format_floats(np.concatenate([d.end_ms for d in datas])),
            [None if e is None else text for e, text in zip([e for d in datas for e in d.expected], labels)],
            [self._strings[p] for d in datas for p in d.predicted],
            ["true" if c else "false" for c in np.concatenate([d.correct for d in datas]).tolist()],
        ]
        labelled = '{"sampleId":%s,"startMs":%s,"endMs":%s,"label":%s,"prediction":%s,"predictionCorrect":%s'
        if self.anomaly_blocks:
            labelled += ',"expectedAnomalyOutcome":%s'
            flags = np.concatenate([d.expected_anomaly for d in datas]).tolist()
            columns.append([_ANOMALY_TEXT if a else _NO_ANOMALY_TEXT for a in flags])
        labelled += "}"
        if None not in columns[3]:
            return [labelled % values for values in zip(*columns)]
        unlabelled = '{"sampleId":%s,"startMs":%s,"endMs":%s,"prediction":%s}'
        return [
            labelled % values if values[3] is not None else unlabelled % (values[0], values[1], values[2], values[4])
            for values in zip(*columns)
        ]

    def _text_ok(self, data: _SampleData) -> bool:
        """Whether `_write_texts` takes the sample (its values have the types it writes)."""
        from evalcore import schema

        n = len(data.expected)
        ranges = data.label_ranges
        if not (type(data.sample_id) is int and type(data.sample) is schema.Sample
                and ranges.dtype.kind in "iu" and ranges.shape == (n, 2)
                and data.start_ms.dtype.kind == "f" and data.end_ms.dtype.kind == "f" and data.correct is not None
                and all(len(x) == n for x in (data.start_ms, data.end_ms, data.predicted, data.correct,
                                              data.expected_anomaly))):
            return False
        for runner, values in zip(self.runners.values(), data.values):
            if self._block_texts(runner) is None or not _values_ok(runner, values, n):
                return False
        strings = self._strings
        for text in set(data.expected).union(data.predicted):
            if text is not None and text not in strings:
                if type(text) is not str:
                    return False
                strings[text] = encode_string(text)
        if "" not in strings:
            strings[""] = '""'
        return True

    def _block_texts(self, runner) -> tuple[str, str, str] | None:
        """A learn block's constant parts of its ``classifications[]`` entry (None: validated path).

        ``{"learnBlock":...,"result":``, then ``,"minimumConfidenceRating":...,"expectedLabels":``,
        then ``,"thresholds":[...],"intervalMs":``.
        """
        cached = self._block_json.get(runner.spec.id)
        if cached is None:
            from evalcore import schema
            from evalcore.jsonio import format_number, fragment

            threshold = self.threshold_entries[runner.spec.id]
            if (type(runner.spec.block) is schema.ImpulseLearnBlock and type(runner.threshold) is float
                    and type(threshold) is schema.BlockThreshold):
                cached = (
                    '{"learnBlock":' + fragment(runner.spec.block) + ',"result":',
                    ',"minimumConfidenceRating":' + format_number(runner.threshold) + ',"expectedLabels":',
                    ',"thresholds":[' + fragment(threshold) + '],"intervalMs":',
                )
            else:
                cached = ()
            self._block_json[runner.spec.id] = cached
        return cached or None

    # -- the validated path: plain values -> pydantic models -----------------------------------

    def _plain_result(self, data: _SampleData) -> dict:
        """The sample's ``ModelResult`` as plain values (snake_case keys), for validation."""
        expected_labels = [
            {"start_index": a, "end_index": b, "label": e if e is not None else ""}
            for (a, b), e in zip(data.label_ranges.tolist(), data.expected)
        ]
        interval = data.interval_ms
        classifications = []
        for runner, values in zip(self.runners.values(), data.values):
            if runner.kind == "classification":
                names = runner.labels
                result = [dict(zip(names, map(float, row))) for row in values.tolist()]
            elif runner.kind == "regression":
                result = [{"value": float(v)} for v in values.tolist()]
            else:
                result = [{ANOMALY: float(v)} for v in values.tolist()]
            classifications.append({
                "learn_block": runner.spec.block,
                "result": result,
                "minimum_confidence_rating": runner.threshold,
                "expected_labels": expected_labels,
                "thresholds": [self.threshold_entries[runner.spec.id]],
                "interval_ms": interval,
                "frequency_hz": 1000.0 / interval if interval > 0 else 0.0,
                "result_count": len(result),
            })
        return {"sample_id": data.sample_id, "sample": data.sample, "classifications": classifications}

    def _plain_rows(self, data: _SampleData) -> list[dict]:
        """The sample's ``predictions[]`` rows as plain values (snake_case keys), for validation."""
        has_anomaly = bool(self.anomaly_blocks)
        correct, expected_anomaly = data.correct, data.expected_anomaly
        rows = []
        for w, (start, end) in enumerate(zip(data.start_ms.tolist(), data.end_ms.tolist())):
            exp = data.expected[w]
            row = {"sample_id": data.sample_id, "start_ms": start, "end_ms": end, "prediction": data.predicted[w]}
            if exp is not None:
                row["label"] = exp
                if correct is not None:
                    row["prediction_correct"] = bool(correct[w])
                if has_anomaly:
                    row["expected_anomaly_outcome"] = ANOMALY if expected_anomaly[w] else NO_ANOMALY
            rows.append(row)
        return rows

    def _entry_models(self, entry: _Entry):
        """(validated ``ModelResult``, plain or validated prediction rows) of one sample."""
        from evalcore import schema

        if isinstance(entry.data, _SampleData):
            return schema.ModelResult.model_validate(self._plain_result(entry.data)), self._plain_rows(entry.data)
        return entry.data

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
        return [self._entry_models(entry)[0] for entry in self.entries]

    @property
    def predictions(self) -> list:
        """The validated ``predictions[]`` rows (builds them)."""
        rows = [row for entry in self.entries for row in self._entry_models(entry)[1]]
        return _prediction_list_adapter().validate_python(rows)

    def build(self):
        """The validated ``ClassifyJobResponse`` of everything added.

        `build_json` gives the same bytes as ``jsonio.dumps(build())`` without building it.
        """
        results, rows = [], []
        for entry in self.entries:
            result, entry_rows = self._entry_models(entry)
            results.append(result)
            rows.extend(entry_rows)
        return self._response(results, _prediction_list_adapter().validate_python(rows))

    def build_json(self) -> bytes:
        """``jsonio.dumps(self.build())``, from the per-sample texts written by `add`."""
        from evalcore.jsonio import dumps, fragment

        self._write_pending()
        text = _splice(fragment(self._response([], [])), self.entries, [e.rows_json for e in self.entries])
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
            text = _splice(head, chunk, [rows for e in chunk for rows in by_sample.get(e.sample_id, ())])
            try:
                yield text.encode("utf-8")
            except UnicodeEncodeError:
                if pages is None:
                    pages = list(paginate(self.build(), page_size))
                yield dumps(pages[k])

    def _response(self, results: list, predictions: list):
        """``ClassifyJobResponse`` with the given ``result`` and ``predictions`` and the dataset numbers."""
        from evalcore import schema

        accuracy = self.accuracy_model()
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
        return schema.ClassifyJobResponse(
            success=True,
            result=results,
            predictions=predictions,
            accuracy=accuracy,
            additional_metrics_by_learn_block=additional,
            available_variants=self.project.available_variants,
        )

    def accuracy_model(self):
        """The validated ``accuracy`` object of the response (cheap: no per-sample part)."""
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
# Windows of pending samples from which their texts are written (one column pass per batch:
# numpy's per-call cost is paid once per batch, not per sample).
_TEXT_BATCH_WINDOWS = 4096


def _prediction_list_adapter():
    """A cached pydantic TypeAdapter validating all ``predictions`` rows in one core call."""
    global _PREDICTIONS_ADAPTER
    if _PREDICTIONS_ADAPTER is None:
        from pydantic import TypeAdapter

        from evalcore import schema

        _PREDICTIONS_ADAPTER = TypeAdapter(list[schema.ModelPrediction])
    return _PREDICTIONS_ADAPTER


_EMPTY_HEAD = '{"success":true,"result":[],"predictions":[]'


def _splice(head: str, entries: list, rows: list[str]) -> str:
    """The response (or page) text: its ``result`` / ``predictions`` filled with sample texts.

    ``head`` is the text of the same response with both lists empty.
    """
    if not head.startswith(_EMPTY_HEAD):
        raise RuntimeError(f"unexpected response head {head[:80]!r}")
    return "".join((
        '{"success":true,"result":[', ",".join([e.result_json for e in entries]),
        '],"predictions":[', ",".join([r for r in rows if r]), "]", head[len(_EMPTY_HEAD):],
    ))


class _Entry:
    """One sample of the response: its ``result[]`` entry and ``predictions[]`` rows as JSON text.

    ``data`` is what `ReportBuilder._entry_models` validates when the model is asked for: a
    `_SampleData`, or (ModelResult, list of ModelPrediction) already validated.
    """

    __slots__ = ("sample_id", "result_json", "rows_json", "data")

    def __init__(self, sample_id, result_json: str, rows_json: str, data) -> None:
        self.sample_id = sample_id
        self.result_json = result_json
        self.rows_json = rows_json  # rows joined with ","; "" when the sample has none
        self.data = data


@dataclass(frozen=True, slots=True)
class _SampleData:
    """The values of one classifier / regression / anomaly sample that the response shows.

    ``values`` holds one array per learn block, in the order of ``ReportBuilder.runners``:
    (W, n_labels) scores of a classifier, (W,) values of a regression or anomaly block.
    """

    sample_id: int
    sample: object  # schema.Sample
    values: tuple
    label_ranges: np.ndarray  # int (W, 2)
    expected: list  # str or None per window
    interval_ms: float
    start_ms: np.ndarray  # float64 (W,)
    end_ms: np.ndarray  # float64 (W,)
    predicted: list  # str per window
    correct: np.ndarray | None  # bool (W,)
    expected_anomaly: np.ndarray  # bool (W,)


_ANOMALY_TEXT = '"anomaly"'
_NO_ANOMALY_TEXT = '"no anomaly"'


def _values_ok(runner, values, n_windows: int) -> bool:
    """Whether a block's per-window values are a float array of the shape its ``result`` needs."""
    if not isinstance(values, np.ndarray) or values.dtype.kind != "f" or len(values) != n_windows:
        return False
    if runner.kind == "classification":
        keys = runner.labels
        return (values.ndim == 2 and values.shape[1] == len(keys) and len(set(keys)) == len(keys)
                and all(type(k) is str for k in keys))
    return values.ndim == 1


def _window_results(runner, values: np.ndarray) -> list[str]:
    """A block's per-window ``result`` objects as text (values checked by `_values_ok`)."""
    from evalcore.jsonio import format_floats, object_rows

    if runner.kind == "classification":
        keys = tuple(runner.labels)
    else:
        keys = ("value",) if runner.kind == "regression" else (ANOMALY,)
    texts = format_floats(values)
    n_keys = len(keys)
    return object_rows(keys, [texts[j::n_keys] for j in range(n_keys)])


def _model_texts(result, predictions) -> tuple[str, str]:
    from evalcore.jsonio import fragment

    return fragment(result), ",".join([fragment(p) for p in predictions])


def _validated_texts(plain_result: dict, plain_rows: list) -> tuple[str, str]:
    from evalcore import schema

    return _model_texts(
        schema.ModelResult.model_validate(plain_result), _prediction_list_adapter().validate_python(plain_rows)
    )


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
