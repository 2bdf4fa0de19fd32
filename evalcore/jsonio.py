r"""JSON output in the form Studio's Node server writes it (JavaScript ``JSON.stringify``).

Rules (reference/api-schema.md, "Serialization quirks"):

- compact: no spaces, no trailing newline; UTF-8 without ``\\u`` escapes for non-ASCII;
  ``\\b \\f \\n \\r \\t \\" \\\\`` and other C0 controls as ``\\u00xx``; a lone surrogate as
  ``\\udxxx`` (well-formed ``JSON.stringify``);
- numbers as JavaScript's ``Number#toString`` (``16``, ``0.000001``, ``1e-7``, ``1e+21``; NaN
  and +-Infinity as ``null``), written by `evalcore.jsnumber`;
- dates as ``Date#toISOString()``: ``YYYY-MM-DDTHH:mm:ss.sssZ`` in UTC (truncated to ms);
- object keys in insertion order (model field order), except that keys which are array indices
  (``"0"``, ``"1"``, ... below 2**32 - 1) come first in ascending numeric order, as in every
  JavaScript object;
- pydantic models are dumped with ``by_alias=True, exclude_none=True``: optional keys that are
  ``None`` are omitted, never written as ``null``.

The output is deterministic: the same object gives the same bytes.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from json.encoder import encode_basestring as _encode_str
from typing import Any

from evalcore.jsnumber import format_float, format_int

__all__ = ["dumps", "encode_string", "escape_lone_surrogates", "fragment", "object_rows"]

_MAX_ARRAY_INDEX = 2**32 - 2
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_array_index(key: str) -> bool:
    # Canonical decimal of an integer in [0, 2**32 - 2]: no sign, no leading zero.
    if not key.isdigit() or not key.isascii() or (len(key) > 1 and key[0] == "0"):
        return False
    return int(key) <= _MAX_ARRAY_INDEX


def _make_plan(keys: tuple, encode_str: Callable[[str], str]) -> tuple:
    """Encode a dict's keys as prefixes (``{"k":`` then ``,"k":``) in JavaScript key order."""
    for key in keys:
        if type(key) is not str:
            raise TypeError(f"json object keys must be str, got {type(key).__name__}: {key!r}")
    order = None
    if any(key[:1].isdigit() and _is_array_index(key) for key in keys):
        index_keys = sorted((int(k), i) for i, k in enumerate(keys) if _is_array_index(k))
        index_positions = [i for _, i in index_keys]
        taken = set(index_positions)
        order = index_positions + [i for i in range(len(keys)) if i not in taken]
        keys = tuple(keys[i] for i in order)
    prefixes = [("," if i else "{") + encode_str(key) + ":" for i, key in enumerate(keys)]
    return prefixes, order


def _format_datetime(value: _dt.datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"cannot write a naive datetime (no time zone): {value.isoformat()}")
    utc = value.astimezone(_dt.timezone.utc)
    # Written field by field: strftime's %Y does not zero-pad years below 1000 on every platform.
    return (
        f'"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:'
        f'{utc.second:02d}.{utc.microsecond // 1000:03d}Z"'
    )


def escape_lone_surrogates(text: str) -> str:
    r"""JSON text with surrogate code points: pairs joined, lone ones escaped as ``\udxxx``.

    For text `fragment` wrote (it leaves surrogates as they are): the result encodes to UTF-8.
    """
    paired = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", paired)


def _encode_str_js(text: str) -> str:
    """Encode text holding surrogate code points: pair them, escape the lone ones."""
    return escape_lone_surrogates(_encode_str(text))


def _convert_other(value: Any) -> Any:
    """Turn a value of a type the fast walker does not know into a plain JSON-like value."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, _dt.datetime):
        return value
    if hasattr(value, "model_dump") and hasattr(type(value), "model_fields"):
        return value.model_dump(by_alias=True, exclude_none=True)
    dtype = getattr(value, "dtype", None)
    if dtype is not None and hasattr(value, "tolist"):
        # numpy scalars and arrays: tolist() gives Python bool / int / float / nested lists.
        return value.tolist()
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(f"object of type {type(value).__name__} is not JSON serialisable")


class _Writer:
    """One serialisation: appends string fragments to ``parts``; caches per key tuple."""

    def __init__(self, encode_str: Callable[[str], str]) -> None:
        self.parts: list[str] = []
        self.plans: dict[tuple, tuple] = {}
        self.encode_str = encode_str

    def write(self, value: Any) -> None:  # noqa: C901 - one flat dispatch is the fast path
        append = self.parts.append
        kind = type(value)
        if kind is str:
            append(self.encode_str(value))
        elif kind is float:
            append(format_float(value))
        elif kind is int:
            append(format_int(value))
        elif kind is dict:
            self._write_dict(value)
        elif kind is list or kind is tuple:
            self._write_list(value)
        elif value is None:
            append("null")
        elif value is True:
            append("true")
        elif value is False:
            append("false")
        elif isinstance(value, _dt.datetime):
            append(_format_datetime(value))
        else:
            self.write(_convert_other(value))

    def _write_list(self, items: list | tuple) -> None:
        append = self.parts.append
        if not items:
            append("[]")
            return
        if len(items) >= _MIN_TABLE_ROWS and type(items[0]) is dict and self._write_table(items):
            return
        write = self.write
        encode_str = self.encode_str
        sep = "["
        for item in items:
            append(sep)
            sep = ","
            kind = type(item)
            if kind is float:
                append(format_float(item))
            elif kind is str:
                append(encode_str(item))
            elif kind is int:
                append(format_int(item))
            else:
                write(item)
        append("]")

    def _write_table(self, rows: list | tuple) -> bool:
        """Fast path for a list of flat dicts with the same keys (per-window results, predictions).

        Each column is formatted in one pass with the formatter of its single scalar type and
        the rows are stitched with one template; the bytes are those of the general path.
        Returns False, having written nothing, when the rows do not qualify.
        """
        keys = tuple(rows[0])
        if not keys:
            return False
        n_keys = len(keys)
        for row in rows:
            if type(row) is not dict or len(row) != n_keys or tuple(row) != keys:
                return False
        plan = self.plans.get(keys)
        if plan is None:
            plan = self.plans[keys] = _make_plan(keys, self.encode_str)
        prefixes, order = plan
        ordered = keys if order is None else tuple(keys[i] for i in order)
        columns = []
        for key in ordered:
            column = [row[key] for row in rows]
            kind = type(column[0])
            formatter = _COLUMN_FORMATTERS.get(kind)
            if formatter is None or kind is str and self.encode_str is not _encode_str:
                return False
            for value in column:
                if type(value) is not kind:
                    return False
            columns.append(list(map(formatter, column)))
        self.parts.append("[" + ",".join(_stitch_rows(prefixes, columns)) + "]")
        return True

    def _write_dict(self, mapping: dict) -> None:
        append = self.parts.append
        if not mapping:
            append("{}")
            return
        keys = tuple(mapping)
        plan = self.plans.get(keys)
        if plan is None:
            plan = self.plans[keys] = _make_plan(keys, self.encode_str)
        prefixes, order = plan
        values = mapping.values()
        if order is not None:
            values = list(values)
            values = [values[i] for i in order]
        write = self.write
        encode_str = self.encode_str
        for prefix, item in zip(prefixes, values, strict=True):
            append(prefix)
            kind = type(item)
            if kind is float:
                append(format_float(item))
            elif kind is str:
                append(encode_str(item))
            elif kind is int:
                append(format_int(item))
            else:
                write(item)
        append("}")


# Rows from which a list of same-keyed dicts takes the column-wise path (below it the checks
# cost more than they save).
_MIN_TABLE_ROWS = 8


def _format_bool(value: bool) -> str:
    return "true" if value else "false"


_COLUMN_FORMATTERS: dict[type, Callable[[Any], str]] = {
    float: format_float,
    int: format_int,
    str: _encode_str,
    bool: _format_bool,
}


def _is_model(obj: Any) -> bool:
    return hasattr(obj, "model_dump") and hasattr(type(obj), "model_fields")


def dumps(obj: Any) -> bytes:
    r"""Serialise to the bytes JavaScript's ``JSON.stringify`` would produce.

    Parameters
    ----------
    obj : pydantic model, dict, list, tuple, str, int, float, bool, None, datetime, numpy value
        A pydantic model is dumped with ``by_alias=True, exclude_none=True``. Dict keys must be
        ``str``. A ``datetime`` must carry a time zone. numpy scalars and arrays are converted
        with ``tolist()``.

    Returns
    -------
    bytes
        Compact UTF-8 JSON without a trailing newline.

    Raises
    ------
    TypeError
        For a value that has no JSON form (a set, a naive datetime, a non-str key, ...).

    Examples
    --------
    >>> dumps({"intervalMs": 16.0, "frequency": 62.5, "eps": 1e-7, "label": "ü"})
    b'{"intervalMs":16,"frequency":62.5,"eps":1e-7,"label":"\xc3\xbc"}'
    """
    if _is_model(obj):
        obj = obj.model_dump(by_alias=True, exclude_none=True)
    writer = _Writer(_encode_str)
    writer.write(obj)
    text = "".join(writer.parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Only text with surrogate code points gets here; redo it with the slower encoder.
        writer = _Writer(_encode_str_js)
        writer.write(obj)
        return "".join(writer.parts).encode("utf-8")


# -- fragments: JSON text of parts of a document, joined by the caller ------------------------------
#
# The report writes its per-sample parts as text while a run goes on (evalcore.report) and joins
# them at the end; these helpers give the bytes `dumps` would give for the same values. They
# return ``str`` and leave lone surrogates as they are: the caller's final ``.encode("utf-8")``
# fails on them, and the caller then takes the `dumps` path.

_FRAGMENT_PLANS: dict[tuple, tuple] = {}
_MAX_FRAGMENT_PLANS = 4096


def fragment(obj: Any) -> str:
    """The JSON text `dumps` writes for ``obj``, as ``str`` (see the note above on surrogates).

    Dict-shape plans are cached across calls, so many small objects of the same shapes (one
    ``Sample`` per sample) are cheaper than with `dumps`.
    """
    if _is_model(obj):
        obj = obj.model_dump(by_alias=True, exclude_none=True)
    if len(_FRAGMENT_PLANS) > _MAX_FRAGMENT_PLANS:
        _FRAGMENT_PLANS.clear()
    writer = _Writer(_encode_str)
    writer.plans = _FRAGMENT_PLANS
    writer.write(obj)
    return "".join(writer.parts)


def encode_string(text: str) -> str:
    """A JSON string literal as `dumps` writes it (lone surrogates left for the caller)."""
    if type(text) is not str:
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return _encode_str(text)


def object_rows(keys: tuple[str, ...], columns: list[list[str]]) -> list[str]:
    """JSON objects with the same keys from columns of ready value texts.

    Parameters
    ----------
    keys : tuple of str
        The keys in insertion order (duplicates not allowed); written in JavaScript's order
        (array-index keys first), as `dumps` writes a dict.
    columns : list of list of str
        ``columns[j][i]`` is the JSON text of ``keys[j]`` in row ``i``.

    Returns
    -------
    list of str
        ``{"k0":v0,...}`` per row.
    """
    prefixes, order = _rows_plan(keys)
    if order is not None:
        columns = [columns[i] for i in order]
    return _stitch_rows(prefixes, columns)


def _rows_plan(keys: tuple[str, ...]) -> tuple:
    """The keys' prefixes and JavaScript order (`_make_plan`), cached; duplicates are refused."""
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys: {keys!r}")
    plan = _FRAGMENT_PLANS.get(keys)
    if plan is None:
        plan = _FRAGMENT_PLANS[keys] = _make_plan(keys, _encode_str)
    return plan


def float_object_rows(keys: tuple[str, ...], values, groups=None) -> list[str]:
    """`object_rows` of a float array: row i is ``{keys[0]: values[i, 0], ...}`` (values (R, K),
    or (R,) for one key), each value as ``evalcore.jsnumber.format_floats`` writes it. With
    ``groups`` (row counts summing to R), one text per group: its rows joined by ``,``.

    Once numba is loaded, the rows are written in one compiled pass (``kernels.jsfloat``), one
    ``str`` a group; else, or for keys whose text is not UTF-8 (lone surrogates), by `object_rows`.
    """
    import numpy as np

    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    from evalcore import jsnumber

    if jsnumber.compiled_available() and values.shape[1] == len(keys):
        prefixes, order = _rows_plan(keys)
        try:
            pieces = [prefix.encode("utf-8") for prefix in prefixes] + [b"}"]
        except UnicodeEncodeError:  # a lone surrogate: `object_rows` writes it
            pieces = None
        if pieces is not None:
            from kernels.jsfloat import js_object_rows

            return js_object_rows(values if order is None else values[:, order], pieces, groups)
    texts = jsnumber.format_floats(values)
    n_keys = len(keys)
    rows = object_rows(keys, [texts[j::n_keys] for j in range(n_keys)])
    if groups is None:
        return rows
    out, at = [], 0
    for n in groups:
        out.append(",".join(rows[at : at + n]))
        at += n
    return out


def _stitch_rows(prefixes: tuple, columns: list[list[str]]) -> list[str]:
    """One object text per row: each key's prefix (from `_make_plan`) then the row's value text."""
    if len(columns) == 1:
        head = prefixes[0]
        return [head + value + "}" for value in columns[0]]
    template = "".join(prefix.replace("%", "%%") + "%s" for prefix in prefixes) + "}"
    return [template % values for values in zip(*columns)]
