"""The per-sample parts of a ``ClassifyJobResponse`` as JSON text, written column-wise.

``ReportBuilder`` (``evalcore.report``) keeps one `Entry` per sample: the text of its
``result[]`` entry and of its ``predictions[]`` rows, and the values behind them. `SampleTexts`
writes the texts of a batch of samples a column at a time (each column's numbers formatted in
one pass), in the bytes ``jsonio.dumps`` gives for the validated models: camelCase keys in schema
field order, absent optional keys left out, numbers as JavaScript writes them. A sample with a
value outside what evalcore itself produces goes through pydantic instead, and ``entry_models``
gives the validated models on request (tests/test_report_fastjson.py holds both to the same
bytes for every fixture bundle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.jsonio import encode_string
from evalcore.outcome import ANOMALY, NO_ANOMALY

__all__ = ["Entry", "SampleRows", "SampleTexts", "model_texts",
           "prediction_list_adapter"]



class SampleTexts:
    """Writes the samples' texts for the learn blocks of one run.

    Parameters
    ----------
    plans : dict of int to evalcore.outcome.BlockPlan
        ``ReportBuilder.plans``, in the response's block order.
    has_anomaly : bool
        Whether an anomaly block runs (prediction rows then carry ``expectedAnomalyOutcome``).
    """

    def __init__(self, plans: dict, *, has_anomaly: bool) -> None:
        self.plans = plans
        self.has_anomaly = has_anomaly
        self._block_json: dict = {}  # learn block id -> (entry head, thresholds text), see _block_texts
        self._keys_ok: dict = {}  # learn block id -> whether its result keys can be written (`_keys_ok`)
        self._strings: dict = {}  # str -> its JSON text, for labels

    def write(self, entries: list) -> None:
        """Fill ``result_json`` / ``rows_json`` of a batch of classifier / regression / anomaly entries.

        The text is what ``jsonio.dumps`` writes for the validated models: camelCase keys in
        schema field order, absent optional keys left out, numbers as JavaScript writes them.
        Each column is formatted once for the whole batch. A sample with a value outside what
        evalcore itself produces (a non-float array, a label that is not a str, mismatched
        lengths) is validated instead (`_validated_texts`), which raises as before.
        """
        from evalcore.jsnumber import format_ints, format_number
        from evalcore.jsonio import fragment, object_rows

        fast = []
        for entry in entries:
            if self._text_ok(entry.data):
                fast.append(entry)
            else:
                entry.result_json, entry.rows_json = _validated_texts(
                    self.plain_result(entry.data), self.plain_rows(entry.data)
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
        for j, runner in enumerate(self.plans.values()):
            values = np.concatenate([d.values[j] for d in datas])
            block_rows.append((self._block_texts(runner), _window_results(runner, values, n_windows)))
        rows = self._prediction_rows(datas, labels)
        at = 0
        for k, (entry, data, n) in enumerate(zip(fast, datas, n_windows)):
            expected_json = "[" + ",".join(expected_rows[at : at + n]) + "]"
            interval = data.interval_ms
            tail = (format_number(interval) + ',"frequencyHz":'
                    + format_number(1000.0 / interval if interval > 0 else 0.0) + ',"resultCount":' + str(n) + "}")
            sample_json = data.sample_json if data.sample is None else fragment(data.sample)
            parts = ['{"sampleId":', format_number(data.sample_id), ',"sample":', sample_json,
                     ',"classifications":[']
            for j, (texts, results) in enumerate(block_rows):
                parts += ("," if j else "", texts[0], "[", results[k], "]", texts[1],
                          expected_json, texts[2], tail)
            parts.append("]}")
            entry.result_json = "".join(parts)
            entry.rows_json = ",".join(rows[at : at + n])
            at += n

    def _prediction_rows(self, datas: list, labels: list) -> list[str]:
        """``predictions[]`` rows of a batch (``ModelPrediction``'s field order), one per window.

        ``labels`` holds the JSON text of each window's expected label (``""`` when it has none).
        """
        from evalcore.jsnumber import format_floats, format_number

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
        if self.has_anomaly:
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

    def _text_ok(self, data: SampleRows) -> bool:
        """Whether `write` takes the sample (its values have the types it writes)."""
        from evalcore import schema

        n = len(data.expected)
        ranges = data.label_ranges
        sample_ok = type(data.sample) is schema.Sample or (data.sample is None and type(data.sample_json) is str)
        if not (type(data.sample_id) is int and sample_ok
                and ranges.dtype.kind in "iu" and ranges.shape == (n, 2)
                and data.start_ms.dtype.kind == "f" and data.end_ms.dtype.kind == "f" and data.correct is not None
                and all(len(x) == n for x in (data.start_ms, data.end_ms, data.predicted, data.correct,
                                              data.expected_anomaly))):
            return False
        for runner, values in zip(self.plans.values(), data.values):
            if self._block_texts(runner) is None or not _values_ok(runner, values, n, self._result_keys_ok(runner)):
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

    def _result_keys_ok(self, runner) -> bool:
        """Whether a classifier's labels are distinct strings (the keys of its ``result`` objects)."""
        found = self._keys_ok.get(runner.spec.id)
        if found is None:
            keys = runner.labels if runner.kind == "classification" else ()
            found = self._keys_ok[runner.spec.id] = len(set(keys)) == len(keys) and all(type(k) is str for k in keys)
        return found

    def _block_texts(self, runner) -> tuple[str, str, str] | None:
        """A learn block's constant parts of its ``classifications[]`` entry (None: validated path).

        ``{"learnBlock":...,"result":``, then ``,"minimumConfidenceRating":...,"expectedLabels":``,
        then ``,"thresholds":[...],"intervalMs":``.
        """
        cached = self._block_json.get(runner.spec.id)
        if cached is None:
            from evalcore import schema
            from evalcore.jsnumber import format_number
            from evalcore.jsonio import fragment

            threshold = runner.threshold_entry
            if (type(runner.spec.block) is schema.ImpulseLearnBlock and type(runner.threshold) is float
                    and type(threshold) is schema.BlockThreshold):
                cached = (
                    '{"learnBlock":' + fragment(runner.spec.block) + ',"result":',
                    ',"minimumConfidenceRating":' + format_number(runner.threshold) + ',"expectedLabels":',
                    ',"thresholds":[' + fragment(threshold) + "],"
                    + ('"isMultiLabel":true,' if getattr(runner, "multi_label", False) else "") + '"intervalMs":',
                )
            else:
                cached = ()
            self._block_json[runner.spec.id] = cached
        return cached or None

    def plain_result(self, data: SampleRows) -> dict:
        """The sample's ``ModelResult`` as plain values (snake_case keys), for validation."""
        expected_labels = [
            {"start_index": a, "end_index": b, "label": e if e is not None else ""}
            for (a, b), e in zip(data.label_ranges.tolist(), data.expected)
        ]
        interval = data.interval_ms
        classifications = []
        for runner, values in zip(self.plans.values(), data.values):
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
                "thresholds": [runner.threshold_entry],
                **({"is_multi_label": True} if getattr(runner, "multi_label", False) else {}),
                "interval_ms": interval,
                "frequency_hz": 1000.0 / interval if interval > 0 else 0.0,
                "result_count": len(result),
            })
        sample = data.sample
        if sample is None:
            from evalcore import schema

            sample = schema.Sample.model_validate_json(data.sample_json)
        return {"sample_id": data.sample_id, "sample": sample, "classifications": classifications}

    def plain_rows(self, data: SampleRows) -> list[dict]:
        """The sample's ``predictions[]`` rows as plain values (snake_case keys), for validation."""
        has_anomaly = self.has_anomaly
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

    def entry_models(self, entry: Entry):
        """(validated ``ModelResult``, plain or validated prediction rows) of one sample."""
        from evalcore import schema

        if isinstance(entry.data, SampleRows):
            return schema.ModelResult.model_validate(self.plain_result(entry.data)), self.plain_rows(entry.data)
        return entry.data


_PREDICTIONS_ADAPTER = None


def prediction_list_adapter():
    """A cached pydantic TypeAdapter validating all ``predictions`` rows in one core call."""
    global _PREDICTIONS_ADAPTER
    if _PREDICTIONS_ADAPTER is None:
        from pydantic import TypeAdapter

        from evalcore import schema

        _PREDICTIONS_ADAPTER = TypeAdapter(list[schema.ModelPrediction])
    return _PREDICTIONS_ADAPTER


class Entry:
    """One sample of the response: its ``result[]`` entry and ``predictions[]`` rows as JSON text.

    ``data`` is what `SampleTexts.entry_models` validates when the model is asked for: a
    `SampleRows`, or (ModelResult, list of ModelPrediction) already validated.
    """

    __slots__ = ("sample_id", "result_json", "rows_json", "data")

    def __init__(self, sample_id, result_json: str, rows_json: str, data) -> None:
        self.sample_id = sample_id
        self.result_json = result_json
        self.rows_json = rows_json  # rows joined with ","; "" when the sample has none
        self.data = data


@dataclass(frozen=True, slots=True)
class SampleRows:
    """The values of one classifier / regression / anomaly sample that the response shows.

    ``values`` holds one array per learn block, in the order of ``ReportBuilder.plans``:
    (W, n_labels) scores of a classifier, (W,) values of a regression or anomaly block.
    """

    sample_id: int
    sample: object  # schema.Sample, or None when sample_json holds it
    values: tuple
    label_ranges: np.ndarray  # int (W, 2)
    expected: list  # str or None per window
    interval_ms: float
    start_ms: np.ndarray  # float64 (W,)
    end_ms: np.ndarray  # float64 (W,)
    predicted: list  # str per window
    correct: np.ndarray | None  # bool (W,)
    expected_anomaly: np.ndarray  # bool (W,)
    sample_json: str | None = None  # the Sample's text when it came from a worker (sample is None)


_ANOMALY_TEXT = '"anomaly"'
_NO_ANOMALY_TEXT = '"no anomaly"'


def _values_ok(runner, values, n_windows: int, keys_ok: bool) -> bool:
    """Whether a block's per-window values are a float array of the shape its ``result`` needs
    (``keys_ok``: the classifier's labels are distinct strings).
    """
    if not isinstance(values, np.ndarray) or values.dtype.kind != "f" or len(values) != n_windows:
        return False
    if runner.kind == "classification":
        return keys_ok and values.ndim == 2 and values.shape[1] == len(runner.labels)
    return values.ndim == 1


def _window_results(runner, values: np.ndarray, n_windows: list[int]) -> list[str]:
    """A block's per-window ``result`` objects as text (values checked by `_values_ok`), those
    of each sample (``n_windows`` each) joined by ``,``.
    """
    from evalcore.jsonio import float_object_rows

    if runner.kind == "classification":
        keys = tuple(runner.labels)
    else:
        keys = ("value",) if runner.kind == "regression" else (ANOMALY,)
    return float_object_rows(keys, values, n_windows)


def model_texts(result, predictions) -> tuple[str, str]:
    """(text of a validated ``ModelResult``, its validated prediction rows joined with ",")."""
    from evalcore.jsonio import fragment

    return fragment(result), ",".join([fragment(p) for p in predictions])


def _validated_texts(plain_result: dict, plain_rows: list) -> tuple[str, str]:
    from evalcore import schema

    return model_texts(
        schema.ModelResult.model_validate(plain_result), prediction_list_adapter().validate_python(plain_rows)
    )
