"""``evalcore check``: a regression gate on a result's metrics (value and change thresholds).

A *requirement* (``--require 'accuracy>=85'``) compares one metric with a fixed value; a *max drop*
(``--max-drop 'accuracy=0.5'``) compares it with the same metric of a baseline result and fails when
it got worse by more than the amount. Each check gives one verdict, PASS or FAIL; the report prints
as a table, JUnit XML or Markdown. Everything here is a pure function of the parsed documents
except :func:`load_result` and :func:`check_files`, which read the files.

Metric names (``available_metrics`` lists those of a document):

- ``accuracy``, ``balancedAccuracy``, ``anomalyAccuracy``, ``noAnomalyAccuracy``: the
  ``accuracy.*AccuracyScore`` fields, always in **percent** (0-100) whatever the file's scale: a
  file written with ``--compat score-scale=fraction`` (or by evalcore before that setting) is
  converted, its scale read by :func:`evalcore.compare.score_scale`, else from the
  ``result.run.json`` sidecar next to it;
- ``mse``: ``accuracy.mseScore`` (regression);
- ``recall[LABEL]``: ``100 * good / (good + bad)`` of ``accuracy.summaryPerClass[LABEL]``, the
  percentage of the windows labelled LABEL that were classified LABEL (under ``--compat
  uncertain=exclude`` uncertain windows are out of both counts, as in Studio's per-class summary),
  for each LABEL of ``allLabels`` that has a summary (detection results have none);
- ``precision[LABEL]``: ``100 * M[LABEL][LABEL] / sum over rows r of M[r][LABEL]`` of the confusion
  matrix M (``confusionMatrixValues``), the percentage of the windows classified LABEL that are
  labelled LABEL, for each label that is both a row and a column; not available when the matrix
  holds row percentages (``--compat confusion-values=percent``) instead of counts (the sidecar
  says so, or the diagonal is not the per-class good counts, as a count matrix's is);
- every ``additionalMetrics`` entry by its display name (``Weighted average F1 score``, ``Loss``,
  ``mAP``, ``mAP@[IoU=50]``, ``Mean squared error``, ...), its ``fullPrecisionValue`` on its own
  scale (0-1 for F1 and mAP; detection's -1 for "undefined" is a value like any other). When
  several learn blocks report metrics, ``block ID: NAME`` names one block's (``block 3: Loss``;
  the qualified form is always accepted, the bare name only when one block has it).

A metric whose value is undefined (a class with no window, a column nobody was classified as, a
``null``) fails every check on it. Lower is better for :data:`LOWER_IS_BETTER` (``mse``, ``Loss``,
``Mean squared error``, ``Mean absolute error``): for them a rise is the drop. Comparisons allow a
relative 1e-9 so that a fraction converted to percent (0.57 * 100 = 56.99999999999999) still meets
``>= 57``.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from evalcore.errors import BundleError, ConfigError

__all__ = [
    "LOWER_IS_BETTER",
    "Requirement",
    "MaxDrop",
    "Metric",
    "Verdict",
    "CheckReport",
    "parse_requirements",
    "parse_max_drops",
    "ResultMetrics",
    "result_metrics",
    "available_metrics",
    "evaluate",
    "load_result",
    "check_documents",
    "check_files",
    "write_report",
]

#: Comparison operators of ``--require``, longest first (so ``>=`` is not read as ``>``).
OPERATORS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}

#: Top-level score name -> ``accuracy`` field; all on the percent scale here.
SCORE_FIELDS = {
    "accuracy": "accuracyScore",
    "balancedAccuracy": "balancedAccuracyScore",
    "anomalyAccuracy": "anomalyAccuracyScore",
    "noAnomalyAccuracy": "noAnomalyAccuracyScore",
}

#: Metrics (bare names, without a ``block ID:`` qualifier) where a smaller value is better.
LOWER_IS_BETTER = frozenset({"mse", "Loss", "Mean squared error", "Mean absolute error"})

# relative tolerance of every comparison (see the module notes)
_RTOL = 1e-9

_REQUIRE_RE = re.compile(r"^(?P<name>.+?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>[^<>=]+)$", re.S)
_BLOCK_RE = re.compile(r"^block\s*(?P<id>-?\d+)\s*:\s*(?P<name>.+)$", re.S)


@dataclass(frozen=True)
class Requirement:
    """A value threshold: ``metric op value`` (``accuracy >= 85``)."""

    metric: str
    op: str
    value: float

    @property
    def text(self) -> str:
        """The threshold as shown in reports: ``>= 85``."""
        return f"{self.op} {_num(self.value)}"


@dataclass(frozen=True)
class MaxDrop:
    """A change threshold: the metric may get worse than the baseline's by at most ``amount``."""

    metric: str
    amount: float

    @property
    def text(self) -> str:
        """The threshold as shown in reports: ``drop <= 0.5``."""
        return f"drop <= {_num(self.amount)}"


@dataclass(frozen=True)
class Metric:
    """One metric of a result: its value (None when undefined, with the reason) and its direction."""

    name: str
    value: float | None
    lower_is_better: bool = False
    percent: bool = False
    undefined_reason: str = ""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check."""

    metric: str
    kind: str  # "require" or "max-drop"
    threshold: str  # e.g. ">= 85", "drop <= 0.5"
    value: float | None
    baseline: float | None
    passed: bool
    reason: str = ""  # why it failed, when not the threshold itself (an undefined value)
    percent: bool = False
    lower_is_better: bool = False

    @property
    def delta(self) -> float | None:
        """``value - baseline`` (None without both)."""
        if self.value is None or self.baseline is None:
            return None
        return self.value - self.baseline

    @property
    def name(self) -> str:
        """The check as one short phrase: ``accuracy >= 85``."""
        return f"{self.metric} {self.threshold}"

    def describe(self) -> str:
        """One line naming the metric, its value, the threshold and how far it moved."""
        unit = " %" if self.percent else ""
        value = "undefined" if self.value is None else f"{_num(self.value)}{unit}"
        parts = [f"{self.metric} = {value}"]
        if self.baseline is not None:
            moved = "" if self.delta is None else f", moved {_signed(self.delta)}{' points' if self.percent else ''}"
            parts.append(f"(baseline {_num(self.baseline)}{unit}{moved})")
        elif self.kind == "max-drop":
            parts.append("(baseline undefined)")
        verdict = "PASS" if self.passed else "FAIL"
        if self.kind == "require":
            rule = f"required {self.threshold}"
        else:
            rule = f"allowed {self.threshold}" + (" (lower is better: a rise is a drop)" if self.lower_is_better else "")
        text = f"{' '.join(parts)}: {verdict}, {rule}"
        return f"{text} ({self.reason})" if self.reason else text


@dataclass
class CheckReport:
    """Every verdict of one ``evalcore check``; ``passed`` when none failed."""

    result: str
    baseline: str | None = None
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(v.passed for v in self.verdicts)

    @property
    def failures(self) -> list[Verdict]:
        """The checks that failed."""
        return [v for v in self.verdicts if not v.passed]

    def summary_line(self) -> str:
        """``check: PASS, 3 checks (result.json vs baseline base.json)``."""
        n, bad = len(self.verdicts), len(self.failures)
        head = f"check: PASS, {n} check{'s' if n != 1 else ''}" if not bad else f"check: FAIL, {bad} of {n} failed"
        where = self.result + (f" vs baseline {self.baseline}" if self.baseline else "")
        return f"{head} ({where})"

    def rows(self) -> list[tuple[str, ...]]:
        """Table rows: metric, baseline, value, delta, threshold, verdict."""
        return [
            (v.metric, "" if self.baseline is None else _cell(v.baseline), _cell(v.value), "" if v.delta is None else _signed(v.delta),
             v.threshold, "PASS" if v.passed else "FAIL")
            for v in self.verdicts
        ]

    def to_text(self) -> str:
        """The table and a summary line, for people."""
        header = ("metric", "baseline", "value", "delta", "threshold", "verdict")
        rows = [header, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        right = {1, 2, 3}
        lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                 for r in rows]
        notes = [f"  {v.metric}: {v.reason}" for v in self.verdicts if v.reason]
        return "\n".join(lines + notes + [self.summary_line()]) + "\n"

    def to_markdown(self) -> str:
        """A Markdown summary (heading, table, failures) for CI pages such as GitHub's step summary."""
        lines = [f"### evalcore {self.summary_line()}", "",
                 "| metric | baseline | value | delta | threshold | verdict |", "|---|---:|---:|---:|---|---|"]
        for row in self.rows():
            cells = [_md(c) for c in row]
            if row[-1] == "FAIL":
                cells[-1] = "**FAIL**"
            lines.append("| " + " | ".join(cells) + " |")
        if self.failures:
            lines += ["", "Failures:", ""] + [f"- {_md(v.describe())}" for v in self.failures]
        return "\n".join(lines) + "\n"

    def to_junit(self) -> bytes:
        """JUnit XML: one ``testcase`` per check, a ``failure`` (message naming metric, value,
        threshold and delta) for each failed one.
        """
        import xml.etree.ElementTree as ET

        failures = str(len(self.failures))
        root = ET.Element("testsuites", name="evalcore check", tests=str(len(self.verdicts)), failures=failures,
                          errors="0")
        suite = ET.SubElement(root, "testsuite", name=f"evalcore check {self.result}",
                              tests=str(len(self.verdicts)), failures=failures, errors="0", skipped="0")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="result", value=self.result)
        if self.baseline:
            ET.SubElement(props, "property", name="baseline", value=self.baseline)
        for v in self.verdicts:
            case = ET.SubElement(suite, "testcase", classname="evalcore.check", name=v.name)
            if not v.passed:
                failure = ET.SubElement(case, "failure", message=v.describe(), type=v.kind)
                failure.text = v.describe()
        return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"

    def to_json(self) -> str:
        """The verdicts as one JSON document, for machines."""
        body = {
            "passed": self.passed, "result": self.result, "baseline": self.baseline,
            "checks": [{"metric": v.metric, "kind": v.kind, "threshold": v.threshold, "value": v.value,
                        "baseline": v.baseline, "delta": v.delta, "passed": v.passed, "reason": v.reason}
                       for v in self.verdicts],
        }
        return json.dumps(body, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# parsing the expressions


def _split(items: str | Iterable[str]) -> list[str]:
    """Each item split at commas outside ``[...]`` (so ``recall[a,b]`` stays whole), blanks dropped."""
    if isinstance(items, str):
        items = [items]
    out = []
    for item in items:
        depth, start = 0, 0
        for i, ch in enumerate(item):
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth = max(depth - 1, 0)
            elif ch == "," and depth == 0:
                out.append(item[start:i])
                start = i + 1
        out.append(item[start:])
    return [part.strip() for part in out if part.strip()]


def _number(text: str, what: str, expression: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(f"{what} must be a number, got {text.strip()!r} in {expression!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number, got {text.strip()!r} in {expression!r}")
    return value


def parse_requirements(items: str | Iterable[str]) -> list[Requirement]:
    """``["accuracy>=85", "recall[idle]>90,mse<0.5"]`` -> requirements, in order.

    Raises
    ------
    ConfigError
        An item is not ``NAME OP NUMBER`` (OP one of ``>=, >, <=, <, ==``) or the number is not finite.
    """
    out = []
    for expr in _split(items):
        m = _REQUIRE_RE.match(expr)
        if m is None or not m["name"].strip() or re.search(r"[<>=]", re.sub(r"\[[^\]]*\]", "", m["name"])):
            raise ConfigError(f"--require takes NAME OP VALUE with OP one of {', '.join(OPERATORS)} "
                              f"(e.g. 'accuracy>=85'), got {expr!r}")
        out.append(Requirement(m["name"].strip(), m["op"], _number(m["value"], "the required value", expr)))
    return out


def parse_max_drops(items: str | Iterable[str] | Mapping[str, float]) -> list[MaxDrop]:
    """``["accuracy=0.5,Loss=0.05"]`` (or ``{"accuracy": 0.5}``) -> max drops, in order.

    The name is everything before the last ``=`` (names such as ``mAP@[IoU=50]`` hold one).

    Raises
    ------
    ConfigError
        An item is not ``NAME=AMOUNT``, or the amount is not a finite number >= 0.
    """
    if isinstance(items, Mapping):
        pairs = [(str(k).strip(), str(v), f"{k}={v}") for k, v in items.items()]
    else:
        pairs = []
        for expr in _split(items):
            name, sep, amount = expr.rpartition("=")
            if not sep or not name.strip():
                raise ConfigError(f"--max-drop takes NAME=AMOUNT (e.g. 'accuracy=0.5'), got {expr!r}")
            pairs.append((name.strip(), amount, expr))
    out = []
    for name, amount, expr in pairs:
        value = _number(amount, "the allowed drop", expr)
        if value < 0:
            raise ConfigError(f"the allowed drop must be >= 0, got {_num(value)} in {expr!r}")
        out.append(MaxDrop(name, value))
    return out


# ---------------------------------------------------------------------------------------------
# metrics of a document


def _finite(v: object) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _count(v: object) -> float | None:
    value = _finite(v)
    return value if value is not None and value >= 0 else None


def _ratio(num: float, den: float) -> float:
    return 100.0 * num / den


def _score_metrics(accuracy: dict, scale: str | None, where: str) -> list[Metric]:
    present = {name: _finite(accuracy[key]) for name, key in SCORE_FIELDS.items() if key in accuracy}
    if scale is None and any(v for v in present.values()):
        raise BundleError("cannot tell whether the accuracy scores are percentages or fractions (no usable "
                          "totalSummary and no result.run.json sidecar)", path=where, field="accuracy")
    factor = 100.0 if scale == "fraction" else 1.0
    out = []
    for name, value in present.items():
        reason = "" if value is not None else f"accuracy.{SCORE_FIELDS[name]} is not a number"
        out.append(Metric(name, None if value is None else value * factor, percent=True, undefined_reason=reason))
    if "mseScore" in accuracy:
        value = _finite(accuracy["mseScore"])
        out.append(Metric("mse", value, lower_is_better=True,
                          undefined_reason="" if value is not None else "accuracy.mseScore is not a number"))
    return out


def _per_class_metrics(accuracy: dict, matrix_in_percent: bool) -> tuple[list[Metric], str]:
    """recall[...] and precision[...] (module notes), and why precision is missing when it is."""
    labels = [lb for lb in accuracy.get("allLabels") or [] if isinstance(lb, str)]
    summary = accuracy.get("summaryPerClass") if isinstance(accuracy.get("summaryPerClass"), dict) else {}
    matrix = accuracy.get("confusionMatrixValues") if isinstance(accuracy.get("confusionMatrixValues"), dict) else {}
    out = []
    for label in labels:
        counts = summary.get(label)
        if not isinstance(counts, dict):
            continue
        good, bad = _count(counts.get("good")), _count(counts.get("bad"))
        if good is None or bad is None:
            out.append(Metric(f"recall[{label}]", None, percent=True,
                              undefined_reason=f"summaryPerClass[{label}] has no good/bad counts"))
        elif good + bad == 0:
            out.append(Metric(f"recall[{label}]", None, percent=True, undefined_reason=f"no window is labelled {label}"))
        else:
            out.append(Metric(f"recall[{label}]", _ratio(good, good + bad), percent=True))
    if matrix_in_percent or not _matrix_holds_counts(matrix, summary):
        return out, ("the confusion matrix does not hold counts (it holds row percentages with --compat "
                     "confusion-values=percent)")
    for label in labels:
        row = matrix.get(label)
        if not isinstance(row, dict) or label not in row:
            continue
        column = sum(float(r.get(label, 0)) for r in matrix.values() if isinstance(r, dict))
        if column == 0:
            out.append(Metric(f"precision[{label}]", None, percent=True,
                              undefined_reason=f"no window was classified {label}"))
        else:
            out.append(Metric(f"precision[{label}]", _ratio(float(row[label]), column), percent=True))
    return out, ""


def _matrix_holds_counts(matrix: dict, summary: dict) -> bool:
    """True when every cell is a whole number >= 0 and each diagonal cell equals its class's good
    count (a count matrix's diagonal is good, studio-evidence E1; a row-percent one's is 100 * good
    / row total, which differs unless good is 0 or the row has 100 windows).
    """
    for label, row in matrix.items():
        if not isinstance(row, dict):
            return False
        if any(_count(v) is None or not float(v).is_integer() for v in row.values()):
            return False
        counts = summary.get(label)
        if isinstance(counts, dict) and label in row and _count(counts.get("good")) != float(row[label]):
            return False
    return True


def _additional_metrics(doc: dict) -> tuple[dict[str, Metric], dict[str, list[str]]]:
    """``block ID: NAME`` -> metric, and bare NAME -> the qualified names that carry it."""
    qualified: dict[str, Metric] = {}
    by_name: dict[str, list[str]] = {}
    for block in doc.get("additionalMetricsByLearnBlock") or []:
        if not isinstance(block, dict):
            continue
        for entry in block.get("additionalMetrics") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            name = entry["name"]
            key = f"block {block.get('learnBlockId')}: {name}"
            value = _finite(entry.get("fullPrecisionValue"))
            qualified[key] = Metric(key, value, lower_is_better=name in LOWER_IS_BETTER,
                                    undefined_reason="" if value is not None else "fullPrecisionValue is not a number")
            by_name.setdefault(name, []).append(key)
    return qualified, by_name


@dataclass(frozen=True)
class ResultMetrics:
    """Every metric of one document, and what ``resolve`` needs to explain a bad name."""

    where: str
    direct: dict[str, Metric]  # built-in names and bare additional names carried by one block
    qualified: dict[str, Metric]  # "block ID: NAME"
    ambiguous: dict[str, list[str]]  # bare NAME -> its qualified names, when several blocks have it
    precision_missing: str = ""

    def names(self) -> list[str]:
        """The names to show: built-in and bare names, and qualified ones where a bare name is ambiguous."""
        return list(self.direct) + [q for qs in self.ambiguous.values() for q in qs]

    def resolve(self, name: str) -> Metric:
        """The metric called ``name`` (bare or ``block ID: NAME``)."""
        m = _BLOCK_RE.match(name)
        if m is not None:
            key = f"block {int(m['id'])}: {m['name'].strip()}"
            if key in self.qualified:
                return self.qualified[key]
        elif name in self.direct:
            return self.direct[name]
        if name in self.ambiguous:
            raise ConfigError(f"metric {name!r} is reported by several learn blocks in {self.where}; "
                              f"name one: {', '.join(repr(q) for q in self.ambiguous[name])}")
        if name.startswith("precision[") and self.precision_missing:
            raise ConfigError(f"metric {name!r} is not available in {self.where}: {self.precision_missing}")
        import difflib

        names = self.names()
        close = [n for n in names if name.lower() in n.lower()][:3] or difflib.get_close_matches(name, names, n=3)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise ConfigError(f"unknown metric {name!r} in {self.where}{hint}; available: "
                          f"{', '.join(self.names()) or 'none'}")


def result_metrics(doc: object, *, where: str = "the result", scale: str | None = None,
                   matrix_in_percent: bool = False) -> ResultMetrics:
    """Every metric of a parsed ``ClassifyJobResponse`` (module notes).

    Parameters
    ----------
    doc : dict
        The parsed result.
    where : str
        How messages name it (its path).
    scale : {"percent", "fraction"} or None
        Its score scale when known from elsewhere (a sidecar); the document's own evidence wins.
    matrix_in_percent : bool
        Its confusion matrix holds row percentages (``--compat confusion-values=percent``).

    Raises
    ------
    BundleError
        Not a ``ClassifyJobResponse``, or accuracy scores of an unknown scale.
    """
    from evalcore.compare import score_scale

    if not isinstance(doc, dict) or not isinstance(doc.get("accuracy"), dict):
        raise BundleError("not a ClassifyJobResponse (no accuracy object)", path=where, field="accuracy")
    accuracy = doc["accuracy"]
    metrics = _score_metrics(accuracy, score_scale(doc) or scale, where)
    per_class, precision_missing = _per_class_metrics(accuracy, matrix_in_percent)
    qualified, by_name = _additional_metrics(doc)
    direct = {m.name: m for m in metrics + per_class}
    ambiguous = {}
    for name, keys in by_name.items():
        if len(keys) > 1:
            ambiguous[name] = keys
        elif name not in direct:
            direct[name] = replace(qualified[keys[0]], name=name)
    return ResultMetrics(where, direct, qualified, ambiguous, precision_missing)


def available_metrics(doc: object, *, scale: str | None = None) -> dict[str, float | None]:
    """Metric name -> value (percent for the accuracy-type ones; None when undefined) of a parsed result.

    ``scale`` is the document's score scale when known from elsewhere (a sidecar); the
    document's own evidence wins. Additional metrics of a name several blocks report are listed
    by their ``block ID: NAME``.
    """
    found = result_metrics(doc, scale=scale)
    return {name: found.resolve(name).value for name in found.names()}


# ---------------------------------------------------------------------------------------------
# verdicts


def _tol(x: float) -> float:
    return _RTOL * max(1.0, abs(x))


def _meets(value: float, op: str, threshold: float) -> bool:
    tol = _tol(threshold)
    if op == "==":
        return abs(value - threshold) <= tol
    if op in (">=", "<="):
        return OPERATORS[op](value + (tol if op == ">=" else -tol), threshold)
    return OPERATORS[op](value, threshold) and abs(value - threshold) > tol


def _require(metric: Metric, req: Requirement, base: Metric | None) -> Verdict:
    baseline = None if base is None else base.value
    if metric.value is None:
        return Verdict(metric.name, "require", req.text, None, baseline, False,
                       reason=f"undefined: {metric.undefined_reason}", percent=metric.percent)
    return Verdict(metric.name, "require", req.text, metric.value, baseline, _meets(metric.value, req.op, req.value),
                   percent=metric.percent)


def _max_drop(metric: Metric, drop: MaxDrop, base: Metric) -> Verdict:
    def verdict(passed: bool, reason: str = "") -> Verdict:
        return Verdict(metric.name, "max-drop", drop.text, metric.value, base.value, passed, reason, metric.percent,
                       metric.lower_is_better)

    if metric.value is None:
        return verdict(False, f"undefined: {metric.undefined_reason}")
    if base.value is None:
        return verdict(False, f"undefined in the baseline: {base.undefined_reason}")
    fell = metric.value - base.value if metric.lower_is_better else base.value - metric.value
    return verdict(fell <= drop.amount + _tol(drop.amount) + _tol(base.value))


def evaluate(result: ResultMetrics, requirements: Iterable[Requirement] = (), max_drops: Iterable[MaxDrop] = (),
             baseline: ResultMetrics | None = None) -> list[Verdict]:
    """Every check's verdict, requirements first, each list in the order given.

    Raises
    ------
    ConfigError
        A name is unknown (the message lists the available ones) or ambiguous, or max drops were
        asked without a baseline.
    """
    requirements, max_drops = list(requirements), list(max_drops)
    if max_drops and baseline is None:
        raise ConfigError("--max-drop compares with a baseline result: give --baseline FILE")
    # every name is resolved before any verdict, so a bad name fails the whole check (exit 2)
    req_pairs = [(result.resolve(r.metric), r) for r in requirements]
    drop_pairs = [(result.resolve(d.metric), d, baseline.resolve(d.metric)) for d in max_drops]
    base_of = {}
    if baseline is not None:
        for metric, _ in req_pairs:
            try:
                base_of[metric.name] = baseline.resolve(metric.name)
            except ConfigError:
                base_of[metric.name] = None  # informative only for a requirement
    out = [_require(m, r, base_of.get(m.name)) for m, r in req_pairs]
    out += [_max_drop(m, d, b) for m, d, b in drop_pairs]
    return out


# ---------------------------------------------------------------------------------------------
# files


def load_result(path: str | Path) -> ResultMetrics:
    """Read a result file and its metrics; evalcore's sidecar next to it (``result.run.json``)
    tells the score scale when the document does not, and whether the confusion matrix holds
    counts.

    Raises
    ------
    BundleError
        The file is unreadable, not JSON, or not a ``ClassifyJobResponse``.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise BundleError(f"cannot read result file: {err.strerror}", path=p) from err
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"not valid JSON: {err}", path=p) from err
    compat = _sidecar_compat(p)
    # an evalcore sidecar without score-scale is from before that setting: fractions (compare.py, note 3)
    scale = None if compat is None else compat.get("score-scale", "fraction")
    return result_metrics(doc, where=str(p), scale=scale if scale in ("percent", "fraction") else None,
                       matrix_in_percent=compat is not None and compat.get("confusion-values") == "percent")


def _sidecar_compat(path: Path) -> dict | None:
    """The ``--compat`` settings evalcore's sidecar next to ``path`` records (None without one)."""
    from evalcore.engine import run_info_path

    try:
        info = json.loads(run_info_path(path).read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    options = info.get("options") if isinstance(info, dict) and "evalcore" in info else None
    compat = options.get("compat") if isinstance(options, dict) else None
    return compat if isinstance(compat, dict) else None


def _as_metrics(source: object, what: str) -> tuple[ResultMetrics, str]:
    if isinstance(source, (str, Path)):
        return load_result(source), str(source)
    return result_metrics(source, where=what), what


def check_documents(result: object, *, require: str | Iterable[str] = (),
                    max_drop: str | Iterable[str] | Mapping[str, float] = (),
                    baseline: object = None) -> CheckReport:
    """Check a result (a file path or a parsed document) against value and change thresholds.

    Parameters
    ----------
    result, baseline : str, os.PathLike or dict
        A ``ClassifyJobResponse`` file or parsed document; ``baseline`` is needed by ``max_drop``.
    require : str or iterable of str
        ``NAME OP VALUE`` items (comma-separated lists allowed), e.g. ``"accuracy>=85"``.
    max_drop : str, iterable of str, or mapping
        ``NAME=AMOUNT`` items, or ``{NAME: AMOUNT}``: how much worse than the baseline each may get.

    Returns
    -------
    CheckReport
        One verdict per check; ``.passed`` when all passed.

    Raises
    ------
    ConfigError, BundleError
        Bad expressions, unknown metric names, unreadable or invalid files (``evalcore check`` exit 2).
    """
    requirements, drops = parse_requirements(require), parse_max_drops(max_drop)
    if not requirements and not drops:
        raise ConfigError("nothing to check: give --require NAME OP VALUE and/or --max-drop NAME=AMOUNT")
    if drops and baseline is None:
        raise ConfigError("--max-drop compares with a baseline result: give --baseline FILE")
    res, res_name = _as_metrics(result, "the result")
    base, base_name = (None, None) if baseline is None else _as_metrics(baseline, "the baseline")
    return CheckReport(res_name, base_name, evaluate(res, requirements, drops, base))


def check_files(result: str | Path, *, baseline: str | Path | None = None, require: Iterable[str] = (),
                max_drop: Iterable[str] = ()) -> CheckReport:
    """:func:`check_documents` on files (what ``evalcore check`` runs)."""
    return check_documents(Path(result), require=require, max_drop=max_drop,
                           baseline=None if baseline is None else Path(baseline))


def write_report(path: str | Path, data: bytes, option: str) -> None:
    """Write a report file atomically (temp file + rename); an unwritable path is bad input.

    Raises
    ------
    ConfigError
        The file cannot be written (missing folder, no permission, a directory, ...).
    """
    from evalcore.outputs import write_json_atomic

    try:
        write_json_atomic(path, data)  # bytes are written as they are
    except OSError as err:
        raise ConfigError(f"cannot write the {option} file {str(path)!r}: {err.strerror or err}") from err


# ---------------------------------------------------------------------------------------------
# formatting


def _num(x: float) -> str:
    return f"{x:.6g}"


def _signed(x: float) -> str:
    return f"{x:+.6g}"


def _cell(x: float | None) -> str:
    return "n/a" if x is None else _num(x)


def _md(text: str) -> str:
    return text.replace("|", "\\|")
