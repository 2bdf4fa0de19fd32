"""Edge Impulse data-acquisition files (JSON or CBOR) -> typed arrays.

Format (docs.edgeimpulse.com "data acquisition format", formats-and-akida.md B1)::

    {"protected": {"ver": "v1", "alg": "HS256" | "none", "iat": <epoch s, optional>},
     "signature": "<64 hex chars>",
     "payload": {"device_name": <optional>, "device_type": <str>, "interval_ms": <number>,
                 "sensors": [{"name": "accX", "units": "m/s2"}, ...],
                 "values": [[x, y, z], ...]   # or [v, v, ...] for a single axis
    }}

Reading rules:

- ``protected`` and ``signature`` are optional; the signature is kept but never verified.
- ``device_type`` is required (Studio's ``Sample.deviceType`` is), ``device_name`` optional.
- ``interval_ms`` must be a finite number > 0; ints and non-integer floats are both real.
- ``sensors`` must be a non-empty list of ``{name: str, units: str}``.
- ``values`` rows must all have one number per sensor; ints and floats mix freely
  (``[0, -0.06, 10.13]``). Booleans, strings, nulls, nested lists of the wrong depth and
  non-finite numbers (NaN, inf, which CBOR can carry) are refused. At least one row.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import NamedTuple

import numpy as np

from evalcore.data.records import Sensor
from evalcore.errors import BundleError

__all__ = ["Acquisition", "decode_cbor", "decode_json", "parse_acquisition", "read_cbor"]


class Acquisition(NamedTuple):
    """The validated content of one acquisition file (see ``parse_acquisition``)."""

    values: np.ndarray
    interval_ms: float
    sensors: tuple[Sensor, ...]
    device_type: str
    device_name: str | None
    protected: dict
    signature: str | None


def decode_json(raw: bytes, path, sample) -> object:
    """Parse UTF-8 JSON bytes; errors name file and position."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise BundleError(f"file is not utf-8 json (byte {err.start})", path=path, sample=sample) from err
    except json.JSONDecodeError as err:
        message = f"invalid json: {err.msg[:1].lower()}{err.msg[1:]}"
        raise BundleError(message, path=path, sample=sample, field=f"line {err.lineno} column {err.colno}") from err
    except RecursionError as err:
        raise BundleError("invalid json: nested too deeply", path=path, sample=sample) from err


def decode_cbor(raw: bytes, path, sample) -> object:
    """Parse CBOR bytes; a truncated, corrupt or over-long file raises BundleError naming the byte."""
    import io

    import cbor2

    stream = io.BytesIO(raw)
    try:
        doc = cbor2.CBORDecoder(stream).decode()
    except cbor2.CBORDecodeEOF as err:
        raise BundleError("invalid cbor: file is truncated", path=path, sample=sample, field=f"byte {len(raw)}") from err
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as err:
        reason = str(err).lower().rstrip(".")
        raise BundleError(f"invalid cbor: {reason}", path=path, sample=sample, field=f"byte {stream.tell()}") from err
    if stream.tell() != len(raw):
        raise BundleError(
            f"invalid cbor: {len(raw) - stream.tell()} bytes after the end of the document",
            path=path,
            sample=sample,
            field=f"byte {stream.tell()}",
        )
    return doc


def _require(cond: bool, message: str, path, sample, field: str) -> None:
    if not cond:
        raise BundleError(message, path=path, sample=sample, field=field)


def _sensors(raw, path, sample) -> tuple[Sensor, ...]:
    _require(isinstance(raw, list) and len(raw) > 0, "sensors must be a non-empty list", path, sample, "payload.sensors")
    sensors = []
    for i, item in enumerate(raw):
        ok = isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("units"), str)
        _require(ok, "sensor must be an object with string 'name' and 'units'", path, sample, f"payload.sensors[{i}]")
        sensors.append(Sensor(item["name"], item["units"]))
    return tuple(sensors)


def _first_bad_row(rows: list, n_axes: int) -> int:
    for i, row in enumerate(rows):
        if n_axes == 1 and not isinstance(row, list):
            continue
        if not isinstance(row, list) or len(row) != n_axes:
            return i
    return 0


_NUMBER_TYPES = frozenset((float, int))


def _fast_values(rows: list, n_axes: int, path, sample) -> np.ndarray | None:
    """float64 (N, A) when every row is a list of ``n_axes`` Python numbers, else None.

    ``np.fromiter`` over the flattened rows is 2-3x faster than ``np.array`` on nested lists; the
    two checks keep it exact: equal row lengths (else a ragged file would be silently re-cut) and
    int/float items only (``fromiter`` would turn ``true`` into 1.0, ``None`` into NaN and the
    text ``"1.5"`` into 1.5). Anything else goes to the general path, which explains the failure.
    (Checking the types of the flat list, ~20 ns an item, was measured faster than letting numpy
    infer the dtype and looking for booleans with ``list.count``.)
    """
    if type(rows[0]) is list:
        if set(map(type, rows)) != {list} or set(map(len, rows)) != {n_axes}:
            return None
        flat = list(itertools.chain.from_iterable(rows))
    elif n_axes == 1:
        flat = rows  # one sensor may be written as a flat list of numbers
    else:
        return None
    types = set(map(type, flat))
    # numpy would read true/false as 1/0 inside a float array: refuse them here, in both paths
    _require(bool not in types, "values must be numbers, got a boolean", path, sample, "payload.values")
    if not types <= _NUMBER_TYPES:
        return None
    return np.fromiter(flat, dtype=np.float64, count=len(flat)).reshape(len(rows), n_axes)


def _values(rows, n_axes: int, path, sample) -> np.ndarray:
    """Convert ``payload.values`` to float64 (N, A) in one numpy call, then explain failures."""
    _require(isinstance(rows, list) and len(rows) > 0, "values must be a non-empty list", path, sample, "payload.values")
    fast = _fast_values(rows, n_axes, path, sample)
    if fast is not None:
        return _check_finite(fast, path, sample)
    try:
        arr = np.array(rows)
    except (ValueError, TypeError):
        i = _first_bad_row(rows, n_axes)
        raise BundleError(
            f"values rows must hold {n_axes} numbers each (one per sensor)", path=path, sample=sample, field=f"payload.values[{i}]"
        ) from None
    if arr.dtype.kind not in "iuf":
        raise BundleError(
            f"values must be numbers, got array of {arr.dtype.kind!r} kind (strings, booleans, nulls or ragged rows)",
            path=path,
            sample=sample,
            field="payload.values",
        )
    if arr.ndim == 1 and n_axes == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != n_axes:
        i = _first_bad_row(rows, n_axes)
        raise BundleError(
            f"values rows must hold {n_axes} numbers each (one per sensor), got shape {arr.shape}",
            path=path,
            sample=sample,
            field=f"payload.values[{i}]",
        )
    return _check_finite(np.ascontiguousarray(arr, dtype=np.float64), path, sample)


def _check_finite(values: np.ndarray, path, sample) -> np.ndarray:
    finite = np.isfinite(values)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        raise BundleError(
            f"values must be finite, got {values[r, c]!r}", path=path, sample=sample, field=f"payload.values[{r}][{c}]"
        )
    return values


def read_cbor(raw: bytes, path, sample) -> Acquisition:
    """Decode and validate a CBOR acquisition file: ``parse_acquisition(decode_cbor(raw))``.

    Once the process has the values kernel (``kernels.cbor_reader``: numba's, which a run
    loads at its start for its metrics, or its saved machine code, which a worker loads), the
    numbers of ``payload.values`` are read straight from the bytes (~30x faster than cbor2's
    Python floats) and cbor2 decodes the rest of the document with the values array cut out. A
    file that kernel does not take, or whose values do not fit its sensors, is decoded whole by
    cbor2, so every error is the general path's. A process that has neither (``evalcore
    inspect``) does not load numba for this: its import costs more than it saves on a few
    hundred files.
    """
    from kernels.cbor_reader import values_reader  # here: its import (~10 ms) is for CBOR readers only

    read_values = values_reader()
    if read_values is not None:
        typed = read_values(raw)
        if typed is not None:
            values, start, end = typed
            try:
                doc = decode_cbor(raw[:start] + b"\x80" + raw[end:], path, sample)
            except BundleError:
                doc = None  # decoded whole below, for the error's byte position
            fitted = _fit_sensors(doc, values)
            if fitted is not None:
                return parse_acquisition(doc, path, sample, values=fitted)
    return parse_acquisition(decode_cbor(raw, path, sample), path, sample)


def _fit_sensors(doc, values: np.ndarray) -> np.ndarray | None:
    """``values`` as (N, A) when the document lists A sensors, as `_values` would shape them."""
    payload = doc.get("payload") if isinstance(doc, dict) else None
    sensors = payload.get("sensors") if isinstance(payload, dict) else None
    if not isinstance(sensors, list) or not sensors:
        return None
    if values.ndim == 1:
        return values.reshape(-1, 1) if len(sensors) == 1 else None
    return values if values.shape[1] == len(sensors) else None


def parse_acquisition(doc, path, sample, *, values: np.ndarray | None = None) -> Acquisition:
    """Validate a decoded acquisition document and convert its values.

    Parameters
    ----------
    doc : object
        The decoded JSON or CBOR document.
    path : str or os.PathLike
        The file, for error messages.
    sample : str
        The sample name, for error messages.
    values : numpy.ndarray, optional
        ``payload.values`` already read and checked (finite float64, one column per sensor:
        `read_cbor`); the document's own ``values`` is then not looked at.

    Returns
    -------
    Acquisition
        ``values`` float64 array of shape (N, A); ``interval_ms`` float; ``sensors`` tuple of
        Sensor; ``device_type`` str; ``device_name`` str or None; ``protected`` dict;
        ``signature`` str or None.

    Raises
    ------
    BundleError
        A missing or invalid field, naming it (``payload.values[3][1]``, ...).
    """
    _require(isinstance(doc, dict), "acquisition file must be an object", path, sample, "")
    protected = doc.get("protected", {})
    _require(isinstance(protected, dict), "protected must be an object", path, sample, "protected")
    iat = protected.get("iat")  # the sample's created time in the response: a bad one is an error, not 1970
    _require(iat is None or (isinstance(iat, (int, float)) and not isinstance(iat, bool) and math.isfinite(iat)),
             f"protected.iat must be a finite number of seconds, got {iat!r}", path, sample, "protected.iat")
    signature = doc.get("signature")
    _require(signature is None or isinstance(signature, str), "signature must be a string", path, sample, "signature")
    payload = doc.get("payload")
    _require(isinstance(payload, dict), "acquisition file has no 'payload' object", path, sample, "payload")
    device_type = payload.get("device_type")
    _require(isinstance(device_type, str), "device_type must be a string", path, sample, "payload.device_type")
    device_name = payload.get("device_name")
    _require(device_name is None or isinstance(device_name, str), "device_name must be a string", path, sample, "payload.device_name")
    interval = payload.get("interval_ms")
    ok = isinstance(interval, (int, float)) and not isinstance(interval, bool) and math.isfinite(interval) and interval > 0
    _require(ok, f"interval_ms must be a number > 0, got {interval!r}", path, sample, "payload.interval_ms")
    sensors = _sensors(payload.get("sensors"), path, sample)
    if values is None:
        values = _values(payload.get("values"), len(sensors), path, sample)
    return Acquisition(values, float(interval), sensors, device_type, device_name, dict(protected), signature)
