r"""JSON output in the form Studio's Node server writes it (JavaScript ``JSON.stringify``).

Rules (reference/api-schema.md, "Serialization quirks"):

- compact: no spaces, no trailing newline; UTF-8 without ``\\u`` escapes for non-ASCII;
  ``\\b \\f \\n \\r \\t \\" \\\\`` and other C0 controls as ``\\u00xx``; a lone surrogate as
  ``\\udxxx`` (well-formed ``JSON.stringify``);
- numbers as JavaScript's ``Number#toString``: shortest round-trip digits, no ``.0`` on
  integral values (``16``), fixed notation for 1e-7 < |x| < 1e21 (``0.000001``,
  ``100000000000000000000``), otherwise exponent form ``1e-7`` / ``1e+21``; ``-0`` -> ``0``;
  NaN and +-Infinity -> ``null``; an int beyond +-(2**53 - 1) is written as the double nearest
  to it, as a JavaScript number would hold it;
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
import os
import re
import secrets
from collections.abc import Callable
from json.encoder import encode_basestring as _encode_str
from pathlib import Path
from typing import Any

__all__ = [
    "dumps", "write_json_atomic", "format_number", "fragment", "encode_string", "format_floats",
    "format_ints", "object_rows", "escape_lone_surrogates",
]

_MAX_SAFE_INT = 2**53 - 1
_MAX_ARRAY_INDEX = 2**32 - 2
_float_repr = float.__repr__
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _format_float_slow(value: float) -> str:
    """Format a float that repr does not already give in JavaScript form (exponent, nan, inf)."""
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    if value == 0.0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = _float_repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    all_digits = int_part + frac_part
    digits = all_digits.lstrip("0")
    # value = 0.<digits> * 10**point, with digits[0] != "0" (ECMA-262 Number::toString's n).
    point = len(int_part) + (int(exponent) if exponent else 0) - (len(all_digits) - len(digits))
    digits = digits.rstrip("0")
    n_digits = len(digits)
    if n_digits <= point <= 21:
        text = digits + "0" * (point - n_digits)
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        exp10 = point - 1
        head = digits[0] + ("." + digits[1:] if n_digits > 1 else "")
        text = head + ("e+" if exp10 >= 0 else "e-") + str(abs(exp10))
    return sign + text


def _format_float(value: float) -> str:
    # Fast path: for 1e-4 <= |x| < 1e16 Python's repr already has JavaScript's digits and
    # fixed notation; only a trailing ".0" differs. Everything else (exponent form, nan, inf)
    # contains an "e" or an "n" and takes the slow path.
    text = _float_repr(value)
    if text[-2:] == ".0":
        return text[:-2] if value else "0"
    if "e" in text or "n" in text:
        return _format_float_slow(value)
    return text


def _format_int(value: int) -> str:
    if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return str(value)
    try:
        return _format_float(float(value))
    except OverflowError:
        # Beyond the double range: JavaScript would hold +-Infinity, written as null.
        return "null"


def format_number(value: int | float) -> str:
    """Format a number as JavaScript's ``String(x)`` / ``JSON.stringify`` does.

    Parameters
    ----------
    value : int or float
        The number (``bool`` is not a number here).

    Returns
    -------
    str
        ``"16"``, ``"62.5"``, ``"1e-7"``, ``"1e+21"``; ``"null"`` for NaN and +-Infinity
        (what ``JSON.stringify`` writes; ``String(NaN)`` would be ``"NaN"``).

    Examples
    --------
    >>> format_number(16.0), format_number(1e-7), format_number(2**53 + 1)
    ('16', '1e-7', '9007199254740992')
    """
    if type(value) is bool:
        raise TypeError("format_number expects an int or a float, got bool")
    if isinstance(value, int):
        return _format_int(int(value))
    return _format_float(float(value))


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
    paired = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    encoded = _encode_str(paired)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


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
            append(_format_float(value))
        elif kind is int:
            append(_format_int(value))
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
                append(_format_float(item))
            elif kind is str:
                append(encode_str(item))
            elif kind is int:
                append(_format_int(item))
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
                append(_format_float(item))
            elif kind is str:
                append(encode_str(item))
            elif kind is int:
                append(_format_int(item))
            else:
                write(item)
        append("}")


# Rows from which a list of same-keyed dicts takes the column-wise path (below it the checks
# cost more than they save).
_MIN_TABLE_ROWS = 8


def _format_bool(value: bool) -> str:
    return "true" if value else "false"


_COLUMN_FORMATTERS: dict[type, Callable[[Any], str]] = {
    float: _format_float,
    int: _format_int,
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


def format_floats(values: Any) -> list[str]:
    """JavaScript text of each number of a float array, as `format_number` gives it.

    Parameters
    ----------
    values : array_like of float, any shape
        Converted to float64 (exact for float16 / float32).

    Returns
    -------
    list of str
        One text per value, in C order of the flattened array.
    """
    import numpy as np

    flat = np.ascontiguousarray(values, dtype=np.float64).ravel()
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(flat)
        # An integral |x| < 2**53 is written as the integer (-0 as 0); repr already is
        # JavaScript's text for a non-integral |x| in [1e-4, 1e16) (see _format_float).
        whole = np.floor(flat) == flat
        integral = whole & (magnitude <= _MAX_SAFE_INT)
        plain = (magnitude >= 1e-4) & (magnitude < 1e16) & ~whole
    if integral.all():
        return list(map(str, flat.astype(np.int64).tolist()))
    items = flat.tolist()
    texts = list(map(_float_repr, items))
    if not plain.all():
        for i in np.flatnonzero(~plain).tolist():
            texts[i] = _format_float(items[i])
    return texts


def format_ints(values: Any) -> list[str]:
    """JavaScript text of each integer of an int array (flattened, C order); see `format_number`."""
    import numpy as np

    items = np.asarray(values).ravel().tolist()
    if items and (max(items) > _MAX_SAFE_INT or min(items) < -_MAX_SAFE_INT):
        return [_format_int(int(v)) for v in items]
    return list(map(str, items))


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
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys: {keys!r}")
    plan = _FRAGMENT_PLANS.get(keys)
    if plan is None:
        plan = _FRAGMENT_PLANS[keys] = _make_plan(keys, _encode_str)
    prefixes, order = plan
    if order is not None:
        columns = [columns[i] for i in order]
    return _stitch_rows(prefixes, columns)


def _stitch_rows(prefixes: tuple, columns: list[list[str]]) -> list[str]:
    """One object text per row: each key's prefix (from `_make_plan`) then the row's value text."""
    if len(columns) == 1:
        head = prefixes[0]
        return [head + value + "}" for value in columns[0]]
    template = "".join(prefix.replace("%", "%%") + "%s" for prefix in prefixes) + "}"
    return [template % values for values in zip(*columns)]


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write JSON (or ready-made bytes) to ``path`` atomically.

    The data goes to a temporary file in the same directory, is flushed and fsync'ed, and then
    replaces ``path`` with ``os.replace``. On any failure the temporary file is removed and
    ``path`` is left as it was (absent, or the previous file).

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its directory must exist.
    obj : bytes, bytearray, memoryview, or anything `dumps` accepts
        Bytes are written as they are; anything else is serialised with `dumps` first.

    Raises
    ------
    OSError
        When the directory is not writable, the disk is full, ...
    TypeError
        When ``obj`` cannot be serialised (nothing is written then).
    """
    target = Path(path)
    data = bytes(obj) if isinstance(obj, (bytes, bytearray, memoryview)) else dumps(obj)
    directory = target.parent
    for _ in range(100):
        tmp = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise FileExistsError(f"cannot create a temporary file next to {target}")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError) and err.filename is None:  # a write error (disk full) names no file
            raise OSError(err.errno, err.strerror, str(target)) from err
        raise
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    """Make renames in ``directory`` durable (skipped where the platform or file system cannot)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
