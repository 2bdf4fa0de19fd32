"""The accumulator contract of ``evalcore.metrics`` and the safe byte form of an accumulator's state.

Every data-set number of a run comes from an accumulator: ``update`` per batch of windows or per
image, ``merge(other)`` to add another shard's state (in place, returns self), and a pure
``compute()``. A run split by sample merges to the same bytes as one pass, so a shard's state
can also travel between processes or machines: ``acc.to_bytes()`` writes it and
``type(acc).from_bytes(data)`` (or :func:`decode_any`, by the kind in the data) reads it back.

State encoding (format 1), little-endian throughout::

    b"EVCSTATE" | uint32 format version | uint32 header length n | n bytes UTF-8 JSON header | arrays

The header is ``{"kind", "version", "fields", "arrays"}``: the accumulator's kind and state
version, its configuration as plain JSON values, and per array its ``name``, ``dtype`` (one of
:data:`STATE_DTYPES`), ``shape`` and byte ``offset`` into the array section. Arrays follow each
other without gaps and the data ends with the last one. Nothing is unpickled or evaluated:
:func:`decode_state` checks the magic, the versions, the kind, every dtype, shape and offset
against the bytes actually present (before allocating anything), and raises ``ConfigError``
with one line saying what is wrong.

Two accumulators merge only when their configuration (``_config()``, in order) is the same;
otherwise :class:`~evalcore.errors.MergeError` names the first field that differs.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from evalcore.errors import ConfigError, MergeError

__all__ = [
    "Accumulator",
    "AccumulatorBase",
    "MAX_STATE_CLASSES",
    "STATE_DTYPES",
    "STATE_FORMAT_VERSION",
    "STATE_MAGIC",
    "check_mergeable",
    "decode_state",
    "encode_state",
    "read_header",
    "state_array",
    "state_field",
]

#: First bytes of every encoded accumulator state.
STATE_MAGIC = b"EVCSTATE"
#: Version of the container layout (magic, header, arrays); each kind has its own state version.
STATE_FORMAT_VERSION = 1
#: dtype strings an encoded array may have (little-endian numbers and bools; nothing else).
STATE_DTYPES = ("|b1", "|u1", "<i4", "<i8", "<f4", "<f8")

#: Most classes (labels) a decoded state may declare: ``compute`` allocates per class (COCO) or per
#: class pair (confusion matrices), so a forged count must not reach it.
MAX_STATE_CLASSES = 1 << 16

_PREFIX = struct.Struct("<8sII")  # magic, format version, header length
_MAX_NDIM = 8


@runtime_checkable
class Accumulator(Protocol):
    """What every accumulator of ``evalcore.metrics`` offers.

    ``update(...)`` takes kind-specific arguments; ``merge`` raises ``MergeError`` when the two
    configurations differ; ``compute`` does not change the state; ``from_bytes(to_bytes())``
    gives an accumulator whose ``compute()`` and merges are the same, bit for bit.
    """

    kind: ClassVar[str]
    state_version: ClassVar[int]

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add windows (or one image) to the state."""

    def merge(self, other: Any) -> Any:
        """Add ``other``'s state to this one in place; return self."""

    def compute(self) -> Any:
        """The metrics of everything added so far (pure)."""

    def to_bytes(self) -> bytes:
        """The state in the versioned safe encoding of this module."""

    @classmethod
    def from_bytes(cls, data: bytes) -> Any:
        """An accumulator rebuilt from ``to_bytes()`` output; ``ConfigError`` on bad data."""


class AccumulatorBase:
    """Shared ``to_bytes`` / ``from_bytes`` and the merge check of the concrete accumulators.

    A subclass sets ``kind`` and ``state_version`` and implements ``_config()`` (its configuration
    as an ordered dict of JSON values: what two mergeable accumulators share), ``_arrays()`` (its
    state as named numpy arrays) and the classmethod ``_from_state(fields, arrays)``, which checks
    the decoded values (``state_field`` / ``state_array``) and builds the instance.
    """

    kind: ClassVar[str] = ""
    state_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls

    def _config(self) -> dict:
        raise NotImplementedError

    def _arrays(self) -> dict:
        raise NotImplementedError

    @classmethod
    def _from_state(cls, fields: dict, arrays: dict):
        raise NotImplementedError

    def _check_mergeable(self, other) -> None:
        """Raise ``MergeError`` unless ``other`` is of this kind with the same configuration."""
        if type(other) is not type(self):
            raise MergeError(f"cannot merge: kind differs ({self.kind} vs {getattr(other, 'kind', type(other).__name__)})")
        check_mergeable(self._config(), other._config())

    def to_bytes(self) -> bytes:
        """The state as bytes (module docstring); ``type(self).from_bytes`` reads them back."""
        return encode_state(self.kind, self.state_version, self._config(), self._arrays())

    @classmethod
    def from_bytes(cls, data: bytes):
        """Rebuild an accumulator from ``to_bytes()`` output.

        Raises
        ------
        ConfigError
            The bytes are not a state of this kind and version, or are damaged.
        """
        fields, arrays = decode_state(data, cls.kind, cls.state_version)
        try:
            return cls._from_state(fields, arrays)
        except ConfigError as err:
            if str(err).startswith("accumulator state"):
                raise
            raise ConfigError(f"accumulator state ({cls.kind}): {err}") from None


def check_mergeable(mine: Mapping, theirs: Mapping) -> None:
    """Raise ``MergeError`` naming the first configuration field whose values differ."""
    for name, value in mine.items():
        other = theirs.get(name)
        if other != value or type(other) is not type(value):
            raise MergeError(f"cannot merge: {name} differs ({_show(value)} vs {_show(other)})")


def _show(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


# --- the byte form ----------------------------------------------------------------------------


def encode_state(kind: str, version: int, fields: Mapping, arrays: Mapping[str, np.ndarray]) -> bytes:
    """Encode a state: ``fields`` (JSON values) and named numeric ``arrays`` (module docstring).

    Raises
    ------
    TypeError
        An array's dtype is not in :data:`STATE_DTYPES` once made little-endian (a bug of the
        caller, not bad input).
    """
    specs, blobs, offset = [], [], 0
    for name, array in arrays.items():
        array = np.asarray(array)
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if dtype.str not in STATE_DTYPES:
            raise TypeError(f"state array {name} has dtype {array.dtype}, not one of {STATE_DTYPES}")
        blob = np.ascontiguousarray(array, dtype=dtype).tobytes()
        specs.append({"name": name, "dtype": dtype.str, "shape": list(array.shape), "offset": offset})
        blobs.append(blob)
        offset += len(blob)
    header = {"kind": kind, "version": int(version), "fields": dict(fields), "arrays": specs}
    # ASCII JSON (\u escapes): any str round-trips, a lone surrogate in a label included
    text = json.dumps(header, separators=(",", ":")).encode("ascii")
    return b"".join([_PREFIX.pack(STATE_MAGIC, STATE_FORMAT_VERSION, len(text)), text, *blobs])


def read_header(data) -> tuple[dict, memoryview]:
    """Check the container and return (header, array section); ``ConfigError`` on any problem."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ConfigError(f"accumulator state must be bytes, got {type(data).__name__}")
    view = memoryview(data.tobytes() if isinstance(data, memoryview) else data)
    if len(view) < _PREFIX.size or bytes(view[:len(STATE_MAGIC)]) != STATE_MAGIC:
        raise ConfigError("accumulator state: not an evalcore accumulator state (bad magic)")
    _, fmt, n_header = _PREFIX.unpack_from(view)
    if fmt != STATE_FORMAT_VERSION:
        raise ConfigError(f"accumulator state: format version {fmt} is not supported (this evalcore reads "
                          f"{STATE_FORMAT_VERSION})")
    if n_header > len(view) - _PREFIX.size:
        raise ConfigError(f"accumulator state: header of {n_header} bytes does not fit the "
                          f"{len(view)} bytes given (truncated?)")
    try:
        header = json.loads(bytes(view[_PREFIX.size:_PREFIX.size + n_header]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ConfigError(f"accumulator state: header is not valid UTF-8 JSON ({type(err).__name__})") from None
    if not isinstance(header, dict) or set(header) != {"kind", "version", "fields", "arrays"}:
        raise ConfigError("accumulator state: header must hold exactly kind, version, fields and arrays")
    if not isinstance(header["kind"], str) or type(header["version"]) is not int:
        raise ConfigError("accumulator state: header kind must be a string and version an integer")
    if not isinstance(header["fields"], dict) or not isinstance(header["arrays"], list):
        raise ConfigError("accumulator state: header fields must be an object and arrays a list")
    return header, view[_PREFIX.size + n_header:]


def decode_state(data, kind: str | None, version: int | None) -> tuple[dict, dict]:
    """Decode a state written by :func:`encode_state`.

    Parameters
    ----------
    data : bytes
    kind, version : str and int, or None
        The expected kind and state version (None: any).

    Returns
    -------
    fields : dict
        The configuration, as JSON values.
    arrays : dict of str to numpy.ndarray
        Fresh, writable, native-order arrays.

    Raises
    ------
    ConfigError
        Bad magic, unsupported format or state version, another kind, a dtype outside
        :data:`STATE_DTYPES`, a shape or offset that does not match the bytes, trailing bytes.
    """
    header, payload = read_header(data)
    got = header["kind"]
    if kind is not None and got != kind:
        raise ConfigError(f"accumulator state: kind is {got!r}, expected {kind!r}")
    if version is not None and header["version"] != version:
        raise ConfigError(f"accumulator state ({got}): state version {header['version']} is not supported "
                          f"(this evalcore reads {version})")
    arrays, end = {}, 0
    for i, spec in enumerate(header["arrays"]):
        name, array, end = _decode_array(got, i, spec, payload, end)
        if name in arrays:
            raise ConfigError(f"accumulator state ({got}): array {name!r} appears twice")
        arrays[name] = array
    if end != len(payload):
        raise ConfigError(f"accumulator state ({got}): {len(payload) - end} bytes after the last array "
                          f"(or arrays missing)")
    return header["fields"], arrays


def _decode_array(kind, i, spec, payload, expected_offset):
    where = f"accumulator state ({kind}): array {i}"
    if not isinstance(spec, dict) or set(spec) != {"name", "dtype", "shape", "offset"}:
        raise ConfigError(f"{where} must hold exactly name, dtype, shape and offset")
    name, dtype, shape, offset = spec["name"], spec["dtype"], spec["shape"], spec["offset"]
    if not isinstance(name, str):
        raise ConfigError(f"{where}: name must be a string")
    where = f"accumulator state ({kind}): array {name!r}"
    if dtype not in STATE_DTYPES:
        raise ConfigError(f"{where}: dtype {dtype!r} is not one of {list(STATE_DTYPES)}")
    if (not isinstance(shape, list) or len(shape) > _MAX_NDIM
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise ConfigError(f"{where}: shape must be a list of at most {_MAX_NDIM} integers >= 0, got {shape!r}")
    if type(offset) is not int or offset != expected_offset:
        raise ConfigError(f"{where}: offset {offset!r} is not {expected_offset} (arrays follow each other)")
    itemsize = np.dtype(dtype).itemsize
    nbytes = math.prod(shape) * itemsize  # Python ints: no overflow, checked before allocating
    if nbytes > len(payload) - offset:
        raise ConfigError(f"{where}: shape {shape} needs {nbytes} bytes, {len(payload) - offset} left "
                          f"(truncated?)")
    array = np.frombuffer(payload[offset:offset + nbytes], dtype=dtype).reshape(shape)
    array = array.astype(array.dtype.newbyteorder("="), copy=True)
    if array.dtype == np.bool_ and array.view(np.uint8).max(initial=0) > 1:
        raise ConfigError(f"{where}: bool bytes must be 0 or 1")
    return name, array, offset + nbytes


# --- checked access to decoded values ---------------------------------------------------------


def state_field(fields: Mapping, name: str, kind: str):
    """``fields[name]`` checked against ``kind``; ``ConfigError`` naming the field otherwise.

    ``kind``: ``"int"`` (not bool), ``"float"`` (int or float, returned as float), ``"bool"``,
    ``"str"``, ``"str?"`` (str or None), ``"str_list"``, ``"dict"``, or ``"classes"`` (an int
    in 0..:data:`MAX_STATE_CLASSES`).
    """
    if name not in fields:
        raise ConfigError(f"field {name} is missing")
    value = fields[name]
    ok = {
        "int": lambda v: type(v) is int,
        "float": lambda v: type(v) in (int, float),
        "bool": lambda v: type(v) is bool,
        "str": lambda v: isinstance(v, str),
        "str?": lambda v: v is None or isinstance(v, str),
        "str_list": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "dict": lambda v: isinstance(v, dict),
        "classes": lambda v: type(v) is int and 0 <= v <= MAX_STATE_CLASSES,
    }[kind](value)
    if not ok:
        got = value if kind == "classes" and type(value) is int else type(value).__name__
        raise ConfigError(f"field {name} must be {kind}, got {got}")
    return float(value) if kind == "float" else value


def state_array(arrays: Mapping, name: str, dtype, shape: tuple, *, nonnegative: bool = False) -> np.ndarray:
    """``arrays[name]`` checked for dtype and shape (None in ``shape`` = any length)."""
    if name not in arrays:
        raise ConfigError(f"array {name} is missing")
    array = arrays[name]
    if array.dtype != np.dtype(dtype) or array.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(array.shape, shape)):
        raise ConfigError(f"array {name} must be {np.dtype(dtype)} of shape {shape}, got {array.dtype} "
                          f"{array.shape}")
    if nonnegative and array.size and array.min() < 0:
        raise ConfigError(f"array {name} holds a negative count")
    return array


# --- the registry -----------------------------------------------------------------------------

# kind -> class; each class registers itself when its module is imported (__init_subclass__);
# evalcore.metrics.states imports every accumulator module and exposes the full registry
_REGISTRY: dict[str, type] = {}
