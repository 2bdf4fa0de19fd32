"""Read one side of ``evalcore compare``: a full result, one page, a folder of pages or a list of pages.

Studio serves the model-testing result whole (``classify/all/result``, a ``ClassifyJobResponse``)
or in pages (``classify/all/result/page?limit=N&offset=K*N``, a ``ClassifyJobResponsePage``:
``success``, ``error``, ``result[]``, ``predictions[]``, ``totalCount``); ``evalcore run
--page-size N --out-dir DIR`` writes the same pages as ``DIR/page-K.json``. A side is:

- a JSON file: a page when it has ``totalCount`` and no ``accuracy``, else a full result (any
  other JSON is compared as it is, path by path);
- a folder: its ``page-K.json`` files in order of K (K = 0, 1, ... without gaps);
- a list of page files, in the order given (on the command line: joined by commas, unless the
  whole argument names an existing file or folder).

Pages are stitched into one document: ``result[]`` and ``predictions[]`` concatenated in page
order; every other field (``success``, ``error``, ``totalCount``, ...) must be the same on every
page, and ``totalCount`` must equal the number of samples stitched (a missing or repeated page
otherwise goes unnoticed); a sample id on two pages is a repeated page. Any of these is bad input
(``BundleError``) naming the page and the field. The stitched document keeps ``success`` and
``error``, drops ``totalCount`` and has no ``accuracy``, ``additionalMetricsByLearnBlock`` or
``availableVariants``: a page does not carry them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from evalcore.errors import BundleError

__all__ = ["ResultSource", "PAGE_ONLY_FIELDS", "FULL_ONLY_FIELDS", "load_result", "split_side"]

# the fields a page has and a full result has not, and the reverse (api-schema.md)
PAGE_ONLY_FIELDS = ("totalCount",)
FULL_ONLY_FIELDS = ("accuracy", "additionalMetricsByLearnBlock", "availableVariants", "noResultsBecauseThresholdsChanged")
_STITCHED = ("result", "predictions")
_PAGE_NAME = re.compile(r"page-(\d+)\.json")


@dataclass
class ResultSource:
    """One side of a comparison: the document and where it came from.

    ``kind`` is ``"full"`` (one file, compared as it is) or ``"pages"`` (one or more page files
    stitched together; ``pages`` lists them in order).
    """

    label: str
    kind: str
    doc: object
    pages: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """``r.json (full result, 10 samples, 189 windows)`` or ``pages/ (2 pages, ...)``."""
        counts = ""
        if isinstance(self.doc, dict) and isinstance(self.doc.get("result"), list):
            n_windows = len(self.doc["predictions"]) if isinstance(self.doc.get("predictions"), list) else 0
            counts = f", {len(self.doc['result'])} samples, {n_windows} windows"
        what = "full result" if self.kind == "full" else f"{len(self.pages)} page(s) stitched"
        return f"{self.label} ({what}{counts})"


def split_side(text: str) -> str | list[str]:
    """A command-line side: the path itself when it exists, else page files joined by commas."""
    if "," in text and not Path(text).exists():
        return [part for part in text.split(",") if part]
    return text


def read_json(path: Path) -> object:
    """Parse a JSON file; ``BundleError`` naming the file when it is unreadable or not JSON."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise BundleError(f"cannot read result file: {err.strerror}", path=path) from err
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"not valid JSON: {err}", path=path) from err
    except RecursionError as err:
        raise BundleError("not valid JSON: nested too deeply", path=path) from err


def is_page(doc: object) -> bool:
    """True for a ``ClassifyJobResponsePage``: ``totalCount`` and no ``accuracy``."""
    return isinstance(doc, dict) and "totalCount" in doc and "accuracy" not in doc


def load_result(side: str | Path | list) -> ResultSource:
    """Read one side (module notes): a file, a folder of ``page-K.json`` or a list of page files."""
    if isinstance(side, (list, tuple)):
        paths = [Path(p) for p in side]
        if not paths:
            raise BundleError("an empty list of page files")
        return _stitch([(p, read_json(p)) for p in paths], ",".join(str(p) for p in paths))
    path = Path(side)
    if path.is_dir():
        return _stitch([(p, read_json(p)) for p in _page_files(path)], str(path))
    doc = read_json(path)
    if is_page(doc):
        return _stitch([(path, doc)], str(path))
    return ResultSource(str(path), "full", doc)


def _page_files(folder: Path) -> list[Path]:
    """``page-K.json`` files of a folder in order of K; K must run 0, 1, ... without a gap."""
    numbered = {}
    for p in folder.iterdir():
        m = _PAGE_NAME.fullmatch(p.name)
        if m:
            numbered[int(m.group(1))] = p
    if not numbered:
        raise BundleError("no page-K.json files in the folder (evalcore run --page-size N --out-dir DIR "
                          "writes them)", path=folder)
    for k in range(max(numbered) + 1):
        if k not in numbered:
            raise BundleError(f"page-{k}.json is missing (the folder has pages up to page-{max(numbered)}.json)",
                              path=folder)
    return [numbered[k] for k in sorted(numbered)]


def _stitch(pages: list[tuple[Path, object]], label: str) -> ResultSource:
    """One document from pages in order (module notes); ``BundleError`` naming the bad page."""
    first_path, first = pages[0]
    stitched: dict = {}
    seen_ids: dict = {}
    for index, (path, page) in enumerate(pages):
        if not is_page(page):
            raise BundleError("not a ClassifyJobResponsePage (a page has totalCount and no accuracy)", path=path)
        for name in _STITCHED:
            if not isinstance(page.get(name), list):
                raise BundleError(f"a page needs a list {name}[]", path=path, field=name)
        for name, value in page.items():
            if name in _STITCHED:
                continue
            if name not in first:
                raise BundleError(f"the field is not on {first_path.name}", path=path, field=name)
            if value != first[name]:
                raise BundleError(f"pages disagree: {_short(value)} here, {_short(first[name])} on {first_path.name}",
                                  path=path, field=name)
        for name in first:
            if name not in page and name not in _STITCHED:
                raise BundleError(f"the field is missing (it is on {first_path.name})", path=path, field=name)
        for entry in page["result"]:
            sid = entry.get("sampleId") if isinstance(entry, dict) else None
            if sid is not None and sid in seen_ids:
                raise BundleError(f"sample {sid} is twice in the pages ({_where(seen_ids[sid], (index, path))})",
                                  path=path, field="result[].sampleId")
            seen_ids[sid] = (index, path)
        for name in _STITCHED:
            stitched.setdefault(name, []).extend(page[name])
    total = first.get("totalCount")
    n_samples = len(stitched["result"])
    if total != n_samples:
        raise BundleError(f"the pages hold {n_samples} samples but totalCount is {_short(total)} "
                          "(give every page: a folder of page-K.json or a list of page files)",
                          path=label, field="totalCount")
    doc = {k: v for k, v in first.items() if k not in _STITCHED and k not in PAGE_ONLY_FIELDS}
    doc.update(stitched)
    return ResultSource(label, "pages", doc, pages=[str(p) for p, _ in pages])


def _where(first: tuple[int, Path], again: tuple[int, Path]) -> str:
    if first[0] == again[0]:
        return "twice on this page"
    if first[1] == again[1]:
        return "this page is given twice"
    return f"also on {first[1].name}: a page repeated?"


def _short(v: object, limit: int = 60) -> str:
    s = json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= limit else s[: limit - 3] + "..."
