"""Readers for the label files of an Edge Impulse dataset export.

``info.labels`` (the "Edge Impulse exporter format") comes in two forms:

- JSON: ``{"version": 1, "files": [...]}``. Real exports may omit ``version`` (the
  python-sdk ``dataset/info.labels`` has none), so a missing version is accepted; any other
  value than 1 is refused.
- NDJSON, written for large exports: the text starts with ``{"__ndjson":true,``; the first
  line is a header object (``version`` and other small keys) and each further line is
  ``{"__key": "files", "__item": {...}}``. Lines with another ``__key`` are ignored, as the
  edge-impulse-cli parser does; a line that is not JSON is an error naming its line number.

Each entry is ``{path, name?, category, label, metadata?, boundingBoxes?, attachments?}``
with ``label`` one of ``{"type":"unlabeled"}``, ``{"type":"label","label":...}``,
``{"type":"multi-label","labels":[{startIndex,endIndex,label,labelMap?}]}`` (value indices,
``endIndex`` inclusive) or ``{"type":"keyvalue-labels","labels":{k: v}}``
(edge-impulse-cli ``shared/bounding-box-file-types.ts``). Unknown keys are ignored.

``bounding_boxes.labels`` (older, per folder):
``{"version":1,"type":"bounding-box-labels","boundingBoxes":{"<file name>":[{label,x,y,width,height}]}}``.

Box rules, from the uploader's ``verifyBoundingBoxes``: ``label`` is a string, x/y/width/height
are numbers, ``width > 0`` and ``height > 0``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)
from pydantic.alias_generators import to_camel

from evalcore.data.records import BoundingBox, LabelInfo, LabelSegment
from evalcore.errors import BundleError

__all__ = ["InfoEntry", "parse_info_labels", "read_bounding_boxes_labels", "read_info_labels"]

NDJSON_MARKER = '{"__ndjson":true,'
#: The NDJSON header as any JSON writer may space it (``{"__ndjson": true, ...``).
_NDJSON_HEAD = re.compile(r'\{\s*"__ndjson"\s*:\s*true\s*[,}]')
CATEGORIES = ("training", "testing", "validation", "post-processing", "split")
LABEL_TYPES = ("label", "multi-label", "unlabeled", "keyvalue-labels")



def _finite(value: int | float) -> int | float:
    if not math.isfinite(value):  # ``json`` reads NaN and Infinity; a box cannot be scored with them
        raise ValueError("must be a finite number")
    return value


_Number = Annotated[StrictInt | StrictFloat, AfterValidator(_finite)]


class _Input(BaseModel):
    """Base of the input models: exports gain fields, so unknown keys are ignored."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, alias_generator=to_camel, validate_by_name=True, defer_build=True
    )


class _Box(_Input):
    label: StrictStr
    x: _Number
    y: _Number
    width: Annotated[_Number, Field(gt=0)]
    height: Annotated[_Number, Field(gt=0)]


class _Unlabeled(_Input):
    type: Literal["unlabeled"]


class _Single(_Input):
    type: Literal["label"]
    label: StrictStr


class _Segment(_Input):
    start_index: Annotated[StrictInt, Field(ge=0)]
    end_index: Annotated[StrictInt, Field(ge=0)]
    label: StrictStr
    label_map: dict[StrictStr, StrictStr] | None = None


class _Multi(_Input):
    type: Literal["multi-label"]
    labels: list[_Segment]


class _KeyValues(_Input):
    type: Literal["keyvalue-labels"]
    labels: dict[StrictStr, StrictStr]


_Label = Annotated[_Unlabeled | _Single | _Multi | _KeyValues, Field(discriminator="type")]


class _Entry(_Input):
    path: Annotated[StrictStr, Field(min_length=1)]
    name: StrictStr | None = None
    category: Literal["training", "testing", "validation", "post-processing", "split"]
    label: _Label
    metadata: dict[StrictStr, StrictStr] | None = None
    bounding_boxes: list[_Box] | None = None


class _BoxesFile(_Input):
    version: Literal[1]
    type: Literal["bounding-box-labels"]
    bounding_boxes: dict[StrictStr, list[_Box]]


@dataclass(frozen=True)
class InfoEntry:
    """One validated ``info.labels`` entry, in file order (``position`` is 0-based)."""

    position: int
    path: str
    name: str | None
    category: str
    label: LabelInfo
    bounding_boxes: tuple[BoundingBox, ...] | None
    metadata: dict[str, str] | None


def _field_path(loc: tuple, prefix: str) -> str:
    """Render a pydantic error location as ``files[3].label.labels[0].endIndex``.

    The discriminator tag pydantic inserts after ``label`` is dropped.
    """
    parts = [prefix] if prefix else []
    previous = None
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif previous == "label" and item in LABEL_TYPES:
            pass
        else:
            parts.append(to_camel(item) if "_" in item else item)
        previous = item
    return ".".join(parts)


def _translate(err: ValidationError, path: Path, prefix: str, sample: str | None) -> BundleError:
    """Turn the first pydantic error into a BundleError naming file, sample and field."""
    first = err.errors(include_url=False)[0]
    field = _field_path(first["loc"], prefix)
    if first["type"] == "union_tag_invalid":
        tag = first.get("input", {}).get("type") if isinstance(first.get("input"), dict) else None
        message = f"unknown label type {tag!r}, allowed: {', '.join(LABEL_TYPES)}"
    elif first["type"] == "union_tag_not_found":
        message = "label has no 'type' key"
    else:
        msg = first["msg"].removeprefix("Value error, ")
        message = f"invalid value: {msg[:1].lower()}{msg[1:]}"
        if "input" in first and not isinstance(first["input"], (dict, list)):
            message += f", got {first['input']!r}"
    return BundleError(message, path=path, sample=sample, field=field)


def _convert_label(label) -> LabelInfo:
    if isinstance(label, _Single):
        return LabelInfo.single(label.label)
    if isinstance(label, _Unlabeled):
        return LabelInfo.unlabeled()
    if isinstance(label, _KeyValues):
        return LabelInfo(kind="keyvalue-labels", key_values=dict(label.labels))
    segments = tuple(
        LabelSegment(s.start_index, s.end_index, s.label, None if s.label_map is None else dict(s.label_map))
        for s in label.labels
    )
    return LabelInfo(kind="multi-label", segments=segments)


def _convert_boxes(boxes) -> tuple[BoundingBox, ...]:
    return tuple(BoundingBox(b.label, b.x, b.y, b.width, b.height) for b in boxes)


def _validated(raw, path: Path, field_prefix: str) -> _Entry:
    """Validate one raw entry alone, turning the first problem into a BundleError."""
    sample = raw.get("path") if isinstance(raw, dict) and isinstance(raw.get("path"), str) else None
    try:
        return _Entry.model_validate(raw)
    except ValidationError as err:
        raise _translate(err, path, field_prefix, sample) from err


def _to_entry(model: _Entry, position: int, path: Path, field_prefix: str) -> InfoEntry:
    segments = model.label.labels if isinstance(model.label, _Multi) else ()
    for i, seg in enumerate(segments):
        if seg.end_index < seg.start_index:
            raise BundleError(
                f"endIndex must be >= startIndex, got {seg.end_index} < {seg.start_index}",
                path=path,
                sample=model.path,
                field=f"{field_prefix}.label.labels[{i}].endIndex",
            )
    return InfoEntry(
        position=position,
        path=model.path,
        name=model.name,
        category=model.category,
        label=_convert_label(model.label),
        bounding_boxes=None if model.bounding_boxes is None else _convert_boxes(model.bounding_boxes),
        metadata=None if model.metadata is None else dict(model.metadata),
    )


_ENTRY_LIST: TypeAdapter | None = None


def _entries(raws: list, prefixes: list[str], path: Path) -> list[InfoEntry]:
    """Validate the entries with one pydantic call per chunk (fast for 10^4+ entries); on failure
    the first bad entry is validated alone so that the error names it precisely.

    ``raws`` is consumed: each parsed entry is dropped once converted, so the parse of a large
    export never holds its raw, validated and converted forms all at once.
    """
    global _ENTRY_LIST
    if _ENTRY_LIST is None:
        _ENTRY_LIST = TypeAdapter(list[_Entry])
    out: list[InfoEntry] = []
    for start in range(0, len(raws), _CHUNK_ENTRIES):
        chunk = raws[start : start + _CHUNK_ENTRIES]
        try:
            models = _ENTRY_LIST.validate_python(chunk)
        except ValidationError as err:
            bad = start + err.errors(include_url=False)[0]["loc"][0]
            _validated(raws[bad], path, prefixes[bad])
            raise  # the entry alone passed: should not happen, keep pydantic's own report
        out.extend(_to_entry(model, start + i, path, prefixes[start + i]) for i, model in enumerate(models))
        raws[start : start + len(chunk)] = [None] * len(chunk)
        del chunk, models
    return out


#: Entries validated per pydantic call.
_CHUNK_ENTRIES = 4096


def _json_error(err: json.JSONDecodeError, path: Path, line_no: int | None = None) -> BundleError:
    reason = f"{err.msg[:1].lower()}{err.msg[1:]}"
    line = err.lineno if line_no is None else line_no
    return BundleError(f"invalid json: {reason}", path=path, field=f"line {line} column {err.colno}")


def _too_deep(path: Path, line_no: int | None = None) -> BundleError:
    """JSON nested so deeply that the parser gives up (``RecursionError``)."""
    return BundleError("invalid json: nested too deeply", path=path, field=None if line_no is None else f"line {line_no}")


def _check_version(header: dict, path: Path, field: str) -> None:
    if "version" in header and (header["version"] != 1 or isinstance(header["version"], bool)):
        raise BundleError(f"unsupported info.labels version {header['version']!r}, allowed: 1", path=path, field=field)


def _parse_ndjson(text: str, path: Path) -> list[InfoEntry]:
    numbered = [(no, line) for no, line in enumerate(map(str.strip, text.splitlines()), start=1) if line]
    try:
        # One json.loads over all lines is several times faster than one call per line; a line
        # holding two values ("{..}, {..}") would shift the rows, hence the length check.
        rows = json.loads("[" + ",".join(line for _, line in numbered) + "]")
        if len(rows) != len(numbered):
            raise json.JSONDecodeError("a line holds more than one value", "", 0)
    except (json.JSONDecodeError, RecursionError):
        rows = []
        for line_no, line in numbered:  # parse line by line to name the first broken line
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise _json_error(err, path, line_no) from err
            except RecursionError as err:
                raise _too_deep(path, line_no) from err
    raws: list = []
    prefixes: list[str] = []
    for (line_no, _), row in zip(numbered, rows):
        if not isinstance(row, dict):
            continue
        if line_no == numbered[0][0] and "__key" not in row:
            _check_version(row, path, f"line {line_no}.version")
            continue
        if row.get("__key") != "files":
            continue
        raws.append(row.get("__item"))
        prefixes.append(f"line {line_no}.__item")
    return _entries(raws, prefixes, path)


def parse_info_labels(text: str, path: Path) -> list[InfoEntry]:
    """Parse the text of an ``info.labels`` file (JSON or NDJSON).

    Parameters
    ----------
    text : str
        The file content.
    path : pathlib.Path
        The file, for error messages.

    Returns
    -------
    list of InfoEntry
        The entries in file order.

    Raises
    ------
    BundleError
        Invalid JSON, wrong version, a missing or invalid field, an unknown label type.
    """
    text = text.removeprefix("\ufeff")
    if _NDJSON_HEAD.match(text.lstrip()):
        return _parse_ndjson(text, path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise _json_error(err, path) from err
    except RecursionError as err:
        raise _too_deep(path) from err
    if not isinstance(doc, dict):
        raise BundleError(f"info.labels must be a json object, got {type(doc).__name__}", path=path)
    _check_version(doc, path, "version")
    files = doc.get("files")
    if not isinstance(files, list):
        raise BundleError("info.labels has no 'files' array", path=path, field="files")
    return _entries(files, [f"files[{i}]" for i in range(len(files))], path)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as err:
        raise BundleError(f"cannot read file: {err.strerror or err}", path=path) from err
    except UnicodeDecodeError as err:
        raise BundleError(f"file is not utf-8 text (byte {err.start})", path=path) from err


def read_info_labels(path: Path) -> list[InfoEntry]:
    """Read and validate an ``info.labels`` file; see ``parse_info_labels``."""
    return parse_info_labels(_read_text(path), path)


def read_bounding_boxes_labels(path: Path) -> dict[str, tuple[BoundingBox, ...]]:
    """Read an older per-folder ``bounding_boxes.labels`` file.

    Returns
    -------
    dict of str to tuple of BoundingBox
        Boxes per file name (base name, as the uploader looks them up).

    Raises
    ------
    BundleError
        Invalid JSON, wrong ``version`` / ``type``, an invalid box.
    """
    text = _read_text(path)
    try:
        doc = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as err:
        raise _json_error(err, path) from err
    except RecursionError as err:
        raise _too_deep(path) from err
    try:
        model = _BoxesFile.model_validate(doc)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = first["loc"]
        sample = loc[1] if len(loc) > 1 and loc[0] == "boundingBoxes" else None
        raise _translate(err, path, "", sample) from err
    return {name: _convert_boxes(boxes) for name, boxes in model.bounding_boxes.items()}
