"""Compare two ``ClassifyJobResponse`` JSON documents (e.g. Studio's and evalcore's).

The comparison walks both documents together and reports each difference with its JSON path.
Numbers are equal when ``|a - b| <= atol + rtol * |b|`` (NaN equals NaN, as ``null`` does in the
JSON Studio writes). Lists of per-sample results are matched by key rather than by position, since
Studio's order is not ours to assume:

- ``result[]`` by ``sampleId``,
- ``predictions[]`` by ``(sampleId, startMs, endMs)``,
- ``additionalMetricsByLearnBlock[]`` by ``learnBlockId`` and its ``additionalMetrics[]`` by ``name``.

Keys present on one side only are differences too (``missing`` / ``extra``). Exit code of the
``evalcore compare`` command: 0 equal within tolerance, 1 different, 2 unreadable input.

Score scale. ``accuracy.accuracyScore`` and the other ``*AccuracyScore`` fields are percentages
(0-100) in Studio's reading and evalcore's default, fractions (0-1) with ``evalcore run --compat
score-scale=fraction`` and in evalcore before that setting. Two documents on different scales
give one difference of kind ``scale`` (path ``$.accuracy``, naming each side's scale), and their
scores are compared after converting A's to B's scale, so that a real difference still shows and
the scale is not reported as every score differing. Each side's scale is read, first match wins:

1. from the document itself: ``accuracyScore`` against ``totalSummary`` (it is good / (good +
   bad) on either scale, so it equals one of ``good / n`` or ``100 * good / n``, relative
   tolerance 1e-9; undecided when good is 0, where both are 0);
2. any ``*AccuracyScore`` above 1 is a percentage (a fraction never exceeds 1; the converse does
   not hold, so values at most 1 decide nothing);
3. for ``compare_files``, evalcore's sidecar next to the file (``result.run.json``): its
   ``options.compat["score-scale"]``, and ``fraction`` when an evalcore sidecar has no such
   setting (evalcore wrote only fractions before it);
4. else unknown: nothing is converted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from evalcore.errors import BundleError, ConfigError

__all__ = ["Difference", "Comparison", "compare_documents", "compare_files", "score_scale"]

_SCALE_TEXT = {"fraction": "fractions (0-1)", "percent": "percentages (0-100)"}
# relative tolerance of the accuracyScore-vs-totalSummary test (the two scales are 100x apart)
_SCALE_RTOL = 1e-9

# list field name -> function giving each element's matching key
_KEYED_LISTS = {
    "result": lambda e: e.get("sampleId") if isinstance(e, dict) else None,
    "predictions": lambda e: (e.get("sampleId"), e.get("startMs"), e.get("endMs")) if isinstance(e, dict) else None,
    "additionalMetricsByLearnBlock": lambda e: e.get("learnBlockId") if isinstance(e, dict) else None,
    "additionalMetrics": lambda e: e.get("name") if isinstance(e, dict) else None,
}


@dataclass(frozen=True)
class Difference:
    """One difference: the JSON path, what it is, and both values (``None`` when absent)."""

    path: str
    kind: str  # "value", "type", "missing" (in b), "extra" (only in b), "length"
    a: object = None
    b: object = None

    def to_text(self) -> str:
        """One line: the path and both values."""
        if self.kind == "missing":
            return f"{self.path}: only in A ({_short(self.a)})"
        if self.kind == "extra":
            return f"{self.path}: only in B ({_short(self.b)})"
        if self.kind == "scale":
            return (f"{self.path}: score scale differs: A writes the *AccuracyScore fields as "
                    f"{_SCALE_TEXT[self.a]}, B as {_SCALE_TEXT[self.b]} (evalcore run --compat "
                    f"score-scale=percent|fraction); A's scores were converted to B's scale for the comparison")
        return f"{self.path}: {_short(self.a)} != {_short(self.b)}"


@dataclass
class Comparison:
    """The outcome of a comparison; ``equal`` is True when no difference was found."""

    differences: list[Difference] = field(default_factory=list)
    n_numbers: int = 0
    max_abs_diff: float = 0.0

    @property
    def equal(self) -> bool:
        """True when no difference was found."""
        return not self.differences

    def to_text(self, max_diffs: int = 50) -> str:
        """A summary line and up to ``max_diffs`` differences, for people."""
        if self.equal:
            return f"equal ({self.n_numbers} numbers compared, max |diff| {self.max_abs_diff:.3g})\n"
        lines = [f"{len(self.differences)} difference(s) ({self.n_numbers} numbers compared)"]
        lines += ["  " + d.to_text() for d in self.differences[:max_diffs]]
        if len(self.differences) > max_diffs:
            lines.append(f"  ... {len(self.differences) - max_diffs} more")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """The comparison as one JSON document, for machines."""
        body = {
            "equal": self.equal,
            "numbersCompared": self.n_numbers,
            "maxAbsDiff": self.max_abs_diff,
            "differences": [{"path": d.path, "kind": d.kind, "a": d.a, "b": d.b} for d in self.differences],
        }
        return json.dumps(body, ensure_ascii=False, default=str) + "\n"


def _short(v: object, limit: int = 80) -> str:
    s = json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= limit else s[: limit - 3] + "..."


class _Walker:
    def __init__(self, rtol: float, atol: float):
        self.rtol = rtol
        self.atol = atol
        self.out = Comparison()

    def number(self, path: str, a: float, b: float) -> None:
        self.out.n_numbers += 1
        if (a is None or (isinstance(a, float) and math.isnan(a))) and (
            b is None or (isinstance(b, float) and math.isnan(b))
        ):
            return
        diff = abs(a - b)
        if diff > self.out.max_abs_diff:
            self.out.max_abs_diff = diff
        if not diff <= self.atol + self.rtol * abs(b):
            self.out.differences.append(Difference(path, "value", a, b))

    def walk(self, path: str, a: object, b: object, key: str | None = None) -> None:
        a_num = isinstance(a, (int, float)) and not isinstance(a, bool)
        b_num = isinstance(b, (int, float)) and not isinstance(b, bool)
        if a_num and b_num:
            self.number(path, a, b)
        elif isinstance(a, dict) and isinstance(b, dict):
            for k in a:
                sub = f"{path}.{k}"
                if k in b:
                    self.walk(sub, a[k], b[k], key=k)
                else:
                    self.out.differences.append(Difference(sub, "missing", a=a[k]))
            for k in b:
                if k not in a:
                    self.out.differences.append(Difference(f"{path}.{k}", "extra", b=b[k]))
        elif isinstance(a, list) and isinstance(b, list):
            self.walk_list(path, a, b, key)
        elif type(a) is not type(b) and not (a_num and b_num):
            self.out.differences.append(Difference(path, "type", a, b))
        elif a != b:
            self.out.differences.append(Difference(path, "value", a, b))

    def walk_list(self, path: str, a: list, b: list, key: str | None) -> None:
        key_of = _KEYED_LISTS.get(key or "")
        if key_of is not None:
            ka = {key_of(e): e for e in a}
            kb = {key_of(e): e for e in b}
            if None not in ka and None not in kb and len(ka) == len(a) and len(kb) == len(b):
                for k, ea in ka.items():
                    sub = f"{path}[{_key_text(k)}]"
                    if k in kb:
                        self.walk(sub, ea, kb[k])
                    else:
                        self.out.differences.append(Difference(sub, "missing", a=ea))
                for k, eb in kb.items():
                    if k not in ka:
                        self.out.differences.append(Difference(f"{path}[{_key_text(k)}]", "extra", b=eb))
                return
        if len(a) != len(b):
            self.out.differences.append(Difference(path, "length", len(a), len(b)))
        for i, (ea, eb) in enumerate(zip(a, b)):
            self.walk(f"{path}[{i}]", ea, eb)


def _key_text(k: object) -> str:
    if isinstance(k, tuple):
        return ",".join(str(x) for x in k)
    return str(k)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _score_keys(accuracy: dict) -> list[str]:
    return [k for k, v in accuracy.items() if k.endswith(("accuracyScore", "AccuracyScore")) and _is_number(v)]


def score_scale(doc: object) -> str | None:
    """``"percent"``, ``"fraction"`` or None: the scale of a document's scores (module notes 1-2)."""
    accuracy = doc.get("accuracy") if isinstance(doc, dict) else None
    if not isinstance(accuracy, dict):
        return None
    score = accuracy.get("accuracyScore")
    total = accuracy.get("totalSummary")
    if _is_number(score) and isinstance(total, dict):
        good, bad = total.get("good"), total.get("bad")
        if _is_number(good) and _is_number(bad) and good > 0 and good + bad > 0:
            for scale, value in (("fraction", good / (good + bad)), ("percent", 100 * good / (good + bad))):
                if abs(score - value) <= _SCALE_RTOL * abs(value):
                    return scale
    if any(accuracy[k] > 1 for k in _score_keys(accuracy)):
        return "percent"
    return None


def _sidecar_scale(path: Path) -> str | None:
    """The score scale an evalcore sidecar (``<stem>.run.json``) records (module note 3)."""
    from evalcore.engine import run_info_path

    try:
        info = json.loads(run_info_path(path).read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    options = info.get("options") if isinstance(info, dict) and "evalcore" in info else None
    compat = options.get("compat") if isinstance(options, dict) else None
    if not isinstance(compat, dict):
        return None
    scale = compat.get("score-scale", "fraction")
    return scale if scale in _SCALE_TEXT else None


def _rescaled(doc: dict, source: str, target: str) -> dict:
    """A shallow copy of ``doc`` whose ``*AccuracyScore`` fields are on ``target``'s scale."""
    accuracy = dict(doc["accuracy"])
    factor = 100.0 if (source, target) == ("fraction", "percent") else 0.01
    for k in _score_keys(accuracy):
        accuracy[k] = accuracy[k] * factor
    return {**doc, "accuracy": accuracy}


def compare_documents(a: object, b: object, *, rtol: float = 1e-6, atol: float = 1e-9,
                      scales: tuple[str | None, str | None] = (None, None)) -> Comparison:
    """Compare two parsed JSON documents.

    Parameters
    ----------
    a, b : object
        Parsed JSON (dicts, lists, numbers, strings, booleans, None).
    rtol, atol : float
        Numbers are equal when ``|a - b| <= atol + rtol * |b|``.
    scales : (str or None, str or None)
        Each side's score scale when known from elsewhere (a sidecar), used when the document
        itself does not tell (module notes, "Score scale").

    Returns
    -------
    Comparison
        Every difference with its JSON path; ``.equal`` is True when there is none. A score
        scale mismatch is one difference of kind ``scale``, listed first.
    """
    _check_tolerances(rtol, atol)
    walker = _Walker(rtol, atol)
    scale_a, scale_b = score_scale(a) or scales[0], score_scale(b) or scales[1]
    has_accuracy = all(isinstance(d, dict) and isinstance(d.get("accuracy"), dict) for d in (a, b))
    if has_accuracy and scale_a and scale_b and scale_a != scale_b:
        walker.out.differences.append(Difference("$.accuracy", "scale", scale_a, scale_b))
        a = _rescaled(a, scale_a, scale_b)
    walker.walk("$", a, b)
    return walker.out


def _load(path: str | Path) -> object:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise BundleError(f"cannot read result file: {err.strerror}", path=p) from err
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"not valid JSON: {err}", path=p) from err
    except RecursionError as err:
        raise BundleError("not valid JSON: nested too deeply", path=p) from err


def _check_tolerances(rtol: float, atol: float) -> None:
    """Tolerances are finite and >= 0 (a negative one would make every number differ)."""
    for name, value in (("--rtol", rtol), ("--atol", atol)):
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")


def compare_files(a: str | Path, b: str | Path, *, rtol: float = 1e-6, atol: float = 1e-9) -> Comparison:
    """Compare two result JSON files; see :func:`compare_documents`.

    An evalcore sidecar next to a file (``result.run.json``) tells its score scale when the
    document does not.
    """
    _check_tolerances(rtol, atol)
    scales = (_sidecar_scale(Path(a)), _sidecar_scale(Path(b)))
    return compare_documents(_load(a), _load(b), rtol=rtol, atol=atol, scales=scales)
