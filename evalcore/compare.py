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
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from evalcore.errors import BundleError, ConfigError

__all__ = ["Difference", "Comparison", "compare_documents", "compare_files"]

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


def compare_documents(a: object, b: object, *, rtol: float = 1e-6, atol: float = 1e-9) -> Comparison:
    """Compare two parsed JSON documents.

    Parameters
    ----------
    a, b : object
        Parsed JSON (dicts, lists, numbers, strings, booleans, None).
    rtol, atol : float
        Numbers are equal when ``|a - b| <= atol + rtol * |b|``.

    Returns
    -------
    Comparison
        Every difference with its JSON path; ``.equal`` is True when there is none.
    """
    _check_tolerances(rtol, atol)
    walker = _Walker(rtol, atol)
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
    """Compare two result JSON files; see :func:`compare_documents`."""
    _check_tolerances(rtol, atol)
    return compare_documents(_load(a), _load(b), rtol=rtol, atol=atol)
