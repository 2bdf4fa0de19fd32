"""Compare two ``ClassifyJobResponse`` documents: whether a local run matches Studio's result.

The comparison walks both documents together and reports each difference with its JSON path.
Numbers are equal when ``|a - b| <= atol + rtol * |b|`` (NaN equals NaN, as ``null`` does in the
JSON Studio writes). Either side may be a full result, a page, a folder of pages or a list of
pages (``evalcore.compare_sources`` reads and stitches them).

Matching. Lists are matched by key rather than by position, since Studio's order is not ours to
assume:

- ``result[]`` (samples): by ``sampleId`` when both sides have the id and the samples'
  ``sample.filename`` agree; then the remaining samples by ``sample.filename`` when the name is
  unique among them on both sides (Studio's sample ids are not the ids of a dataset export, but
  the export's ``info.labels`` carries Studio's sample name, which evalcore writes as
  ``filename``; ``Sample`` has no other name field); then the remaining by ``sampleId`` alone (a
  renamed sample: its ``filename`` is reported). Paths name a sample by id (``$.result[17]``)
  or, matched by file name, by the quoted name (``$.result["idle.0"]``).
- ``predictions[]`` (windows): by (the sample as matched above, ``startMs``, ``endMs``).
- ``additionalMetricsByLearnBlock[]`` by ``learnBlockId`` and its ``additionalMetrics[]`` by ``name``.
- other lists, and the per-window lists inside a sample (``classifications[i].result[j]`` is
  window ``j`` of the sample's predictions), by position.

Keys present on one side only are differences too (``missing`` / ``extra``).

Volatile fields. What an export cannot know (README, Compatibility notes, "``Sample`` fields an
export cannot know") differs between Studio's download and a local run without meaning anything:
``VOLATILE_SAMPLE_FIELDS`` of each ``result[].sample`` (dates, ids, storage name, signature,
project and link fields) and the ``sampleId`` of a sample matched by file name. They are
compared but their differences are set aside as ``ignored`` (listed, never a reason to differ)
unless ``strict``. When one side is stitched pages and the other a full result, the full-only
fields (``accuracy``, ``additionalMetricsByLearnBlock``, ``availableVariants``) are not compared
and are listed as such.

Exit code of the ``evalcore compare`` command: 0 equal within tolerance, 1 different, 2 bad
input, 3 a bug in evalcore.

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

from evalcore.compare_sources import FULL_ONLY_FIELDS, ResultSource, load_result
from evalcore.errors import ConfigError

__all__ = [
    "Difference",
    "Comparison",
    "VOLATILE_SAMPLE_FIELDS",
    "compare_documents",
    "compare_files",
    "compare_results",
    "score_scale",
]

_SCALE_TEXT = {"fraction": "fractions (0-1)", "percent": "percentages (0-100)"}
# relative tolerance of the accuracyScore-vs-totalSummary test (the two scales are 100x apart)
_SCALE_RTOL = 1e-9

# ``Sample`` fields a dataset export cannot know (or Studio fills in about its storage and
# project): dates, ids, storage name, signature, project descriptors, links
VOLATILE_SAMPLE_FIELDS = (
    "id", "created", "lastModified", "added", "projectId", "projectOwnerName", "projectName",
    "projectLabelingMethod", "coldstorageFilename", "signatureValidate", "signatureMethod", "signatureKey",
    "processingJobId", "createdBySyntheticDataJobId", "lastUpdatedBy", "thumbnailVideo", "thumbnailVideoFull",
    "videoUrl", "videoUrlFull",
)
# lists inside a classification that hold one entry per window, in window order
_PER_WINDOW_LISTS = ("result", "anomalyResult", "details", "structuredResult", "labelMapResult", "labelMapScores")

# list field name -> function giving each element's matching key (same on both sides)
_KEYED_LISTS = {
    "additionalMetricsByLearnBlock": lambda e: e.get("learnBlockId") if isinstance(e, dict) else None,
    "additionalMetrics": lambda e: e.get("name") if isinstance(e, dict) else None,
}


@dataclass(frozen=True)
class Difference:
    """One difference: the JSON path, what it is, and both values (``None`` when absent).

    ``sample`` (its file name, else ``sample <id>``), ``window`` (``start-end ms``, or ``window
    j`` when its times are unknown) and ``field`` (the path inside the sample or window, or the
    volatile field's name) say where it is for people; None outside samples.
    """

    path: str
    kind: str  # "value", "type", "missing" (in b), "extra" (only in b), "length", "scale"
    a: object = None
    b: object = None
    sample: str | None = None
    window: str | None = None
    field: str | None = None

    def to_text(self) -> str:
        """One line: the path and both values."""
        if self.kind == "missing":
            return f"{self.path}: only in A ({_short(self.a)})"
        if self.kind == "extra":
            return f"{self.path}: only in B ({_short(self.b)})"
        if self.kind == "length":
            return f"{self.path}: {self.a} entries in A, {self.b} in B"
        if self.kind == "scale":
            return (f"{self.path}: score scale differs: A writes the *AccuracyScore fields as "
                    f"{_SCALE_TEXT[self.a]}, B as {_SCALE_TEXT[self.b]} (evalcore run --compat "
                    f"score-scale=percent|fraction); A's scores were converted to B's scale for the comparison")
        return f"{self.path}: {_short(self.a)} != {_short(self.b)}"

    def abs_diff(self) -> float | None:
        """``|a - b|`` for a numeric value difference, else None."""
        if self.kind == "value" and _is_number(self.a) and _is_number(self.b):
            return abs(self.a - self.b)
        return None

    def to_dict(self) -> dict:
        """The difference as JSON-ready fields (None ones left out but ``a`` and ``b``)."""
        out = {"path": self.path, "kind": self.kind, "a": self.a, "b": self.b}
        for name in ("sample", "window", "field"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


@dataclass
class Comparison:
    """The outcome of a comparison; ``equal`` is True when no difference was found.

    ``ignored`` holds the differences of volatile fields (module notes), set aside unless
    ``strict``; ``samples`` counts the sample matching (``matched``, ``byFilename``, ``onlyA``,
    ``onlyB``); ``not_compared`` names full-result fields left out against pages.
    """

    differences: list[Difference] = field(default_factory=list)
    n_numbers: int = 0
    max_abs_diff: float = 0.0
    ignored: list[Difference] = field(default_factory=list)
    samples: dict = field(default_factory=dict)
    not_compared: list[str] = field(default_factory=list)
    sources: tuple = (None, None)
    metrics: list = field(default_factory=list)
    rtol: float = 1e-6
    atol: float = 1e-9
    strict: bool = False

    @property
    def equal(self) -> bool:
        """True when no difference was found (ignored volatile fields aside)."""
        return not self.differences

    def to_text(self, max_diffs: int = 50) -> str:
        """The short summary for people, then up to ``max_diffs`` differences."""
        from evalcore.compare_summary import summary_text

        return summary_text(self, max_diffs=max_diffs)

    def to_dict(self) -> dict:
        """The full report as JSON-ready data."""
        from evalcore.compare_summary import report_dict

        return report_dict(self)

    def to_json(self) -> str:
        """The full report as one JSON document, for machines."""
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str) + "\n"


def _short(v: object, limit: int = 80) -> str:
    s = json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= limit else s[: limit - 3] + "..."


@dataclass(frozen=True)
class _Pairing:
    """How the samples of two documents pair up: a key per ``sampleId`` on each side."""

    key_a: dict
    key_b: dict
    labels: dict  # key -> the sample's name for people
    windows: dict  # key -> [(startMs, endMs), ...] of B (else A), in document order
    counts: dict


def _filename(entry: dict) -> str | None:
    sample = entry.get("sample")
    name = sample.get("filename") if isinstance(sample, dict) else None
    return name if isinstance(name, str) else None


def _sample_ids(results: object) -> dict | None:
    """``sampleId -> entry`` of a ``result[]``, or None when ids are absent or repeated."""
    if not isinstance(results, list):
        return None
    by_id = {}
    for e in results:
        sid = e.get("sampleId") if isinstance(e, dict) else None
        if sid is None or isinstance(sid, (dict, list)) or sid in by_id:
            return None
        by_id[sid] = e
    return by_id


def _pair_samples(a: object, b: object) -> _Pairing | None:
    """Pair ``result[]`` entries: by id (same file name), by file name, by id (module notes)."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return None
    ids_a, ids_b = _sample_ids(a.get("result")), _sample_ids(b.get("result"))
    if ids_a is None or ids_b is None:
        return None
    name_a = {sid: _filename(e) for sid, e in ids_a.items()}
    name_b = {sid: _filename(e) for sid, e in ids_b.items()}
    key_a, key_b, labels = {}, {}, {}

    def pair(sa, sb, key):
        key_a[sa], key_b[sb] = key, key
        labels[key] = name_b[sb] or name_a[sa] or f"sample {sb}"

    for sid in ids_a:
        if sid in ids_b and (name_a[sid] is None or name_b[sid] is None or name_a[sid] == name_b[sid]):
            pair(sid, sid, ("id", sid))
    rest_a = _unique_names({s: name_a[s] for s in ids_a if s not in key_a})
    rest_b = _unique_names({s: name_b[s] for s in ids_b if s not in key_b})
    by_filename = 0
    for name, sa in rest_a.items():
        if name in rest_b:
            pair(sa, rest_b[name], ("file", name))
            by_filename += 1
    for sid in ids_a:
        if sid not in key_a and sid in ids_b and sid not in key_b:
            pair(sid, sid, ("id", sid))
    for sid in ids_a:
        if sid not in key_a:
            key_a[sid] = ("id", sid)
            labels[key_a[sid]] = name_a[sid] or f"sample {sid}"
    for sid in ids_b:
        if sid not in key_b:
            key_b[sid] = ("id", sid)
            labels[key_b[sid]] = name_b[sid] or f"sample {sid}"
    matched = len(set(key_a.values()) & set(key_b.values()))
    counts = {"matched": matched, "byFilename": by_filename,
              "onlyA": len(ids_a) - matched, "onlyB": len(ids_b) - matched}
    windows = _windows(b, key_b) or _windows(a, key_a) or {}
    return _Pairing(key_a, key_b, labels, windows, counts)


def _unique_names(names: dict) -> dict:
    """``name -> sampleId`` for the names that occur once (None names left out)."""
    seen: dict = {}
    for sid, name in names.items():
        if name is not None:
            seen.setdefault(name, []).append(sid)
    return {name: sids[0] for name, sids in seen.items() if len(sids) == 1}


def _windows(doc: dict, keys: dict) -> dict | None:
    preds = doc.get("predictions")
    if not isinstance(preds, list):
        return None
    out: dict = {}
    for p in preds:
        if isinstance(p, dict) and p.get("sampleId") in keys:
            out.setdefault(keys[p["sampleId"]], []).append((p.get("startMs"), p.get("endMs")))
    return out


def _key_text(k: object) -> str:
    if isinstance(k, tuple) and len(k) == 2 and k[0] in ("id", "file"):
        return json.dumps(k[1], ensure_ascii=False) if k[0] == "file" else str(k[1])
    if isinstance(k, tuple):
        return ",".join(_key_text(x) for x in k)
    return str(k)


def _ms(v: object) -> str:
    return f"{v:g}" if _is_number(v) else str(v)


class _Walker:
    def __init__(self, rtol: float, atol: float, strict: bool, pairing: _Pairing | None):
        self.rtol = rtol
        self.atol = atol
        self.strict = strict
        self.pairing = pairing
        self.out = Comparison(rtol=rtol, atol=atol, strict=strict)
        self.sample_key = None  # the pair key of the sample being walked
        self.window_ms = None  # (startMs, endMs) of the prediction being walked

    # -- where a difference is, for people ---------------------------------------------------

    def _volatile(self, segs: tuple) -> str | None:
        """The volatile field's name when ``segs`` is one (module notes), else None."""
        if self.strict or len(segs) < 3 or segs[0] not in ("result", "predictions"):
            return None
        if segs[2] == "sampleId" and len(segs) == 3 and self.sample_key and self.sample_key[0] == "file":
            return "sampleId"
        if segs[0] == "result" and len(segs) >= 4 and segs[2] == "sample" and segs[3] in VOLATILE_SAMPLE_FIELDS:
            return f"sample.{segs[3]}"
        return None

    def _window(self, segs: tuple) -> str | None:
        if self.window_ms is not None:
            return f"{_ms(self.window_ms[0])}-{_ms(self.window_ms[1])} ms"
        if len(segs) >= 6 and segs[0] == "result" and segs[2] == "classifications" and segs[4] in _PER_WINDOW_LISTS:
            j = segs[5]
            if isinstance(j, int):
                known = self.pairing.windows.get(self.sample_key, []) if self.pairing else []
                if j < len(known):
                    return f"{_ms(known[j][0])}-{_ms(known[j][1])} ms"
                return f"window {j}"
        return None

    def add(self, path: str, segs: tuple, kind: str, a: object = None, b: object = None) -> None:
        volatile = self._volatile(segs)
        sample = self.pairing.labels.get(self.sample_key) if self.pairing and self.sample_key else None
        inner = _segs_text(segs[2:]) if sample is not None else None
        diff = Difference(path, kind, a, b, sample=sample, window=self._window(segs) if sample else None,
                          field=volatile or inner or None)
        (self.out.ignored if volatile else self.out.differences).append(diff)

    # -- the walk -------------------------------------------------------------------------------

    def number(self, path: str, segs: tuple, a: float, b: float) -> None:
        self.out.n_numbers += 1
        if (a is None or (isinstance(a, float) and math.isnan(a))) and (
            b is None or (isinstance(b, float) and math.isnan(b))
        ):
            return
        diff = abs(a - b)
        if diff > self.out.max_abs_diff and self._volatile(segs) is None:
            self.out.max_abs_diff = diff
        if not diff <= self.atol + self.rtol * abs(b):
            self.add(path, segs, "value", a, b)

    def walk(self, path: str, segs: tuple, a: object, b: object) -> None:
        a_num = isinstance(a, (int, float)) and not isinstance(a, bool)
        b_num = isinstance(b, (int, float)) and not isinstance(b, bool)
        if a_num and b_num:
            self.number(path, segs, a, b)
        elif isinstance(a, dict) and isinstance(b, dict):
            for k in a:
                if k in b:
                    self.walk(f"{path}.{k}", segs + (k,), a[k], b[k])
                else:
                    self.add(f"{path}.{k}", segs + (k,), "missing", a=a[k])
            for k in b:
                if k not in a:
                    self.add(f"{path}.{k}", segs + (k,), "extra", b=b[k])
        elif isinstance(a, list) and isinstance(b, list):
            self.walk_list(path, segs, a, b)
        elif type(a) is not type(b) and not (a_num and b_num):
            self.add(path, segs, "type", a, b)
        elif a != b:
            self.add(path, segs, "value", a, b)

    def _list_keys(self, segs: tuple, a: list, b: list):
        """Each side's element keys when the list is matched by key (module notes), else None."""
        if segs == ("result",) and self.pairing:
            ka = [self.pairing.key_a.get(e.get("sampleId")) if isinstance(e, dict) else None for e in a]
            kb = [self.pairing.key_b.get(e.get("sampleId")) if isinstance(e, dict) else None for e in b]
        elif segs == ("predictions",) and self.pairing:
            ka = [_prediction_key(e, self.pairing.key_a) for e in a]
            kb = [_prediction_key(e, self.pairing.key_b) for e in b]
        elif segs and segs[-1] in _KEYED_LISTS:
            key_of = _KEYED_LISTS[segs[-1]]
            ka, kb = [key_of(e) for e in a], [key_of(e) for e in b]
        else:
            return None
        for keys in (ka, kb):
            if None in keys or len(set(keys)) != len(keys):
                return None
        return ka, kb

    def walk_list(self, path: str, segs: tuple, a: list, b: list) -> None:
        keys = self._list_keys(segs, a, b)
        if keys is None:
            if len(a) != len(b):
                self.add(path, segs, "length", len(a), len(b))
            for i, (ea, eb) in enumerate(zip(a, b)):
                self.walk(f"{path}[{i}]", segs + (i,), ea, eb)
            return
        top = segs in (("result",), ("predictions",))
        kb = dict(zip(keys[1], b))
        for k, ea in zip(keys[0], a):
            if top:
                self._enter(segs, k)
            sub, sub_segs = f"{path}[{_key_text(k)}]", segs + (k,)
            if k in kb:
                self.walk(sub, sub_segs, ea, kb[k])
            else:
                self.add(sub, sub_segs, "missing", a=ea)
        ka = set(keys[0])
        for k, eb in zip(keys[1], b):
            if k not in ka:
                if top:
                    self._enter(segs, k)
                self.add(f"{path}[{_key_text(k)}]", segs + (k,), "extra", b=eb)
        if top:
            self._enter(segs, None)

    def _enter(self, segs: tuple, k: object) -> None:
        """Set which sample (and window) the walk is in, for the differences it finds."""
        if k is None:
            self.sample_key, self.window_ms = None, None
        elif segs == ("result",):
            self.sample_key, self.window_ms = k, None
        else:
            self.sample_key, self.window_ms = k[0], (k[1], k[2])


def _prediction_key(e: object, keys: dict):
    if not isinstance(e, dict) or e.get("sampleId") is None:
        return None
    sid = e["sampleId"]
    if isinstance(sid, (dict, list)):
        return None
    start, end = e.get("startMs"), e.get("endMs")
    if isinstance(start, (dict, list)) or isinstance(end, (dict, list)):
        return None
    return (keys.get(sid, ("id", sid)), start, end)


def _segs_text(segs: tuple) -> str:
    out = ""
    for s in segs:
        out += f"[{s}]" if isinstance(s, int) else f"[{_key_text(s)}]" if isinstance(s, tuple) else f".{s}"
    return out.lstrip(".")


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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
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
                      scales: tuple[str | None, str | None] = (None, None), strict: bool = False) -> Comparison:
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
    strict : bool
        Compare the volatile fields too (module notes); by default their differences are only
        listed in ``Comparison.ignored``.

    Returns
    -------
    Comparison
        Every difference with its JSON path; ``.equal`` is True when there is none. A score
        scale mismatch is one difference of kind ``scale``, listed first.
    """
    check_tolerances(rtol, atol)
    pairing = _pair_samples(a, b)
    walker = _Walker(rtol, atol, strict, pairing)
    if pairing is not None:
        walker.out.samples = dict(pairing.counts)
    scale_a, scale_b = score_scale(a) or scales[0], score_scale(b) or scales[1]
    has_accuracy = all(isinstance(d, dict) and isinstance(d.get("accuracy"), dict) for d in (a, b))
    walked_a = a
    if has_accuracy and scale_a and scale_b and scale_a != scale_b:
        walker.out.differences.append(Difference("$.accuracy", "scale", scale_a, scale_b))
        walked_a = _rescaled(a, scale_a, scale_b)
    walker.walk("$", (), walked_a, b)
    from evalcore.compare_summary import metric_rows

    walker.out.metrics = metric_rows(a, b, walker.out.differences)  # each side on its own scale
    return walker.out


def check_tolerances(rtol: float, atol: float) -> None:
    """Tolerances are finite and >= 0 (a negative one would make every number differ)."""
    for name, value in (("--rtol", rtol), ("--atol", atol)):
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")


def compare_results(a: ResultSource, b: ResultSource, *, rtol: float = 1e-6, atol: float = 1e-9,
                    strict: bool = False) -> Comparison:
    """Compare two sides read by ``compare_sources.load_result`` (full results or stitched pages).

    Against stitched pages, a full result's full-only fields (``accuracy``, ...) are not
    compared and are named in ``Comparison.not_compared``. An evalcore sidecar next to a full
    result file (``result.run.json``) tells its score scale when the document does not.
    """
    doc_a, doc_b = a.doc, b.doc
    not_compared: list[str] = []
    if {a.kind, b.kind} == {"full", "pages"}:
        full = doc_a if a.kind == "full" else doc_b
        if isinstance(full, dict):
            not_compared = [k for k in FULL_ONLY_FIELDS if k in full]
            trimmed = {k: v for k, v in full.items() if k not in not_compared}
            doc_a, doc_b = (trimmed, doc_b) if a.kind == "full" else (doc_a, trimmed)
    scales = tuple(_sidecar_scale(Path(s.label)) if s.kind == "full" else None for s in (a, b))
    out = compare_documents(doc_a, doc_b, rtol=rtol, atol=atol, scales=scales, strict=strict)
    out.not_compared = not_compared
    if not_compared:  # the full side's metrics still shown, next to nothing
        from evalcore.compare_summary import metric_rows

        out.metrics = metric_rows(a.doc, b.doc, out.differences)
    out.sources = (a, b)
    return out


def compare_files(a: str | Path | list, b: str | Path | list, *, rtol: float = 1e-6, atol: float = 1e-9,
                  strict: bool = False) -> Comparison:
    """Compare two results, each a file, a folder of ``page-K.json`` or a list of page files.

    See :func:`compare_documents` and :func:`compare_results`; bad input (unreadable, not JSON,
    inconsistent pages) raises ``BundleError`` naming the file and the field.
    """
    check_tolerances(rtol, atol)
    return compare_results(load_result(a), load_result(b), rtol=rtol, atol=atol, strict=strict)
