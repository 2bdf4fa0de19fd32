"""The CBOR values kernel (``kernels.cbor_values``) must read exactly what cbor2 + numpy read.

The reference is the general path: ``cbor2.loads`` then ``np.array(..., float64)`` for the
numbers, and ``parse_acquisition(decode_cbor(raw))`` for the whole file (values and errors).
"""

from __future__ import annotations

import struct

import cbor2
import numpy as np
import pytest

from evalcore.data.acquisition import decode_cbor, parse_acquisition, read_cbor
from evalcore.errors import BundleError
from kernels import _native, cbor_reader
from kernels.cbor_reader import CBOR, native_read_values, read_values

SENSORS = [{"name": n, "units": "m/s2"} for n in ("accX", "accY", "accZ")]


def _head(major: int, value: int) -> bytes:
    """A CBOR head with the shortest argument (written here, independently of cbor2's encoder)."""
    if value < 24:
        return bytes([major << 5 | value])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if value < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, value)
    raise ValueError(value)


def _text(s: str) -> bytes:
    data = s.encode()
    return _head(3, len(data)) + data


def _document(values: bytes, sensors=SENSORS, extra: bytes = b"", n_extra: int = 0) -> bytes:
    """An acquisition file whose ``payload.values`` is the given encoded item."""
    payload = (_text("device_type") + _text("bench") + _text("interval_ms") + _head(0, 16)
               + _text("sensors") + cbor2.dumps(sensors) + _text("values") + values + extra)
    return (_head(5, 3) + _text("protected") + cbor2.dumps({"ver": "v1", "alg": "none"})
            + _text("signature") + _text("0" * 64) + _text("payload") + _head(5, 4 + n_extra) + payload)


def _number(kind: str, rng) -> bytes:
    """One encoded number of the given width, from random bits (non-finite ones re-drawn)."""
    while True:
        if kind == "double":
            raw = b"\xfb" + rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
        elif kind == "single":
            raw = b"\xfa" + rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        elif kind == "half":
            raw = b"\xf9" + rng.integers(0, 256, 2, dtype=np.uint8).tobytes()
        elif kind == "uint":
            return _head(0, int(rng.integers(0, 2**53)) >> int(rng.integers(0, 53)))
        else:
            return _head(1, int(rng.integers(0, 2**53)) >> int(rng.integers(0, 53)))
        if np.isfinite(cbor2.loads(raw)):
            return raw


@pytest.fixture(scope="module", params=["numba", "saved machine code"])
def reader(request):
    """Both forms of the kernel: through numba, and its C entry point loaded without numba."""
    if request.param == "numba":
        return read_values
    if _native._load(CBOR) is None:
        assert _native.build(CBOR)
    _native._loaded.pop("cbor", None)  # a load tried before the build found nothing
    assert cbor_reader.load_native()
    return native_read_values


def _reference(raw: bytes) -> np.ndarray:
    return np.array(cbor2.loads(raw)["payload"]["values"], dtype=np.float64)


@pytest.mark.parametrize("kinds", [("double",), ("single",), ("half",), ("uint", "nint"),
                                   ("double", "single", "half", "uint", "nint")])
def test_random_numbers_are_read_as_cbor2_and_numpy_read_them(kinds, reader):
    """Without it a rounding or a sign slip in the bit decoding would change the features."""
    rng = np.random.default_rng(len(kinds))
    items = [[_number(kinds[int(rng.integers(len(kinds)))], rng) for _ in range(3)] for _ in range(4000)]
    values = _head(4, len(items)) + b"".join(_head(4, 3) + b"".join(row) for row in items)
    raw = _document(values)
    got, start, end = reader(raw)
    assert got.dtype == np.float64 and got.tobytes() == _reference(raw).tobytes()
    assert raw[start:end] == values


@pytest.mark.parametrize("item", [
    b"\xfb" + struct.pack(">d", 5e-324), b"\xfb" + struct.pack(">d", -0.0), b"\xfb" + struct.pack(">d", 1.7976931348623157e308),
    b"\xfa" + struct.pack(">f", 1e-45), b"\xfa\x80\x00\x00\x00", b"\xf9\x00\x01", b"\xf9\x80\x00", b"\xf9\x7b\xff",
    _head(0, 2**53 - 1), _head(1, 2**53 - 1), _head(0, 0), _head(1, 0),
])
def test_edge_numbers(item, reader):
    """Subnormals, signed zeros, the largest finite values and the exact-integer limit."""
    raw = _document(_head(4, 2) + (_head(4, 3) + item * 3) * 2)
    got, _, _ = reader(raw)
    assert got.tobytes() == _reference(raw).tobytes()


def test_one_sensor_flat_and_nested():
    """A one-sensor file written as [v, ...] or [[v], ...] gives (N, 1), as the general path."""
    sensors = SENSORS[:1]
    for values in (_head(4, 3) + b"\x01\x20\xfb" + struct.pack(">d", 2.5),
                   _head(4, 2) + b"\x81\x01\x81\xf9\x3c\x00"):
        raw = _document(values, sensors)
        fast = read_cbor(raw, "f.cbor", "s")
        slow = parse_acquisition(decode_cbor(raw, "f.cbor", "s"), "f.cbor", "s")
        assert fast.values.shape == slow.values.shape and fast.values.tobytes() == slow.values.tobytes()
        assert fast[1:] == slow[1:]


def test_the_rest_of_the_file_is_cbor2s():
    """The acquisition read with the kernel equals the one read by cbor2 alone, field by field."""
    rng = np.random.default_rng(7)
    body = {"protected": {"ver": "v1", "alg": "none", "iat": 1700000000}, "signature": "ab" * 32,
            "payload": {"device_name": "dev", "device_type": "t", "interval_ms": 16.0, "sensors": SENSORS,
                        "values": rng.normal(size=(50, 3)).round(3).tolist()}}
    raw = cbor2.dumps(body)
    fast = read_cbor(raw, "f.cbor", "s")
    slow = parse_acquisition(decode_cbor(raw, "f.cbor", "s"), "f.cbor", "s")
    assert fast.values.tobytes() == slow.values.tobytes() and fast[1:] == slow[1:]


_ROW = _head(4, 3) + b"\x01\x02\x03"
NOT_TAKEN = {
    "nan": _head(4, 1) + _head(4, 3) + b"\x01\xfb" + struct.pack(">d", float("nan")) + b"\x03",
    "half inf": _head(4, 1) + _head(4, 3) + b"\x01\xf9\x7c\x00\x03",
    "single nan": _head(4, 1) + _head(4, 3) + b"\x01\xfa\x7f\xc0\x00\x00\x03",
    "boolean": _head(4, 1) + _head(4, 3) + b"\x01\xf5\x03",
    "null": _head(4, 1) + _head(4, 3) + b"\x01\xf6\x03",
    "string": _head(4, 1) + _head(4, 3) + b"\x01\x61x\x03",
    "bignum tag": _head(4, 1) + _head(4, 3) + b"\x01\xc2\x41\x01\x03",
    "int 2**53": _head(4, 1) + _head(4, 3) + b"\x01" + _head(0, 2**53) + b"\x03",
    "ragged": _head(4, 2) + _ROW + _head(4, 2) + b"\x01\x02",
    "empty": _head(4, 0),
    "empty row": _head(4, 1) + _head(4, 0),
    "indefinite": b"\x9f" + _ROW + b"\xff",
    "indefinite row": _head(4, 1) + b"\x9f\x01\x02\x03\xff",
    "too deep": _head(4, 1) + _head(4, 3) + _ROW * 3,
    "mixed depth": _head(4, 2) + _ROW + b"\x01",
    "not an array": b"\x01",
}


@pytest.mark.parametrize("name", sorted(NOT_TAKEN))
def test_what_the_kernel_does_not_take_goes_to_the_general_path(name, reader):
    """Without it a bad value could be read as a number, or a file refused with another message."""
    raw = _document(NOT_TAKEN[name])
    assert reader(raw) is None
    _assert_read_as_the_general_path_reads(raw)  # e.g. a 2**53 integer is valid there


@pytest.mark.parametrize("raw", [
    _document(_head(4, 1) + _ROW) + b"\x00",  # trailing byte
    _document(_head(4, 1) + _ROW)[:-1],  # cut short
    _document(_head(4, 1) + _ROW, extra=_text("values") + _head(4, 1) + _ROW, n_extra=1),  # values twice
    _document(_head(4, 1) + _ROW, sensors=SENSORS[:2]),  # rows do not fit the sensors
    _document(_head(4, 2) + b"\x01\x02", sensors=SENSORS[:2]),  # flat list, two sensors
    _document(_head(4, 1) + _ROW, extra=b"\x01\x02", n_extra=1),  # a non-text key
])
def test_malformed_files_fail_as_before(raw):
    """Errors (message, byte or field) are the general path's whatever the kernel saw."""
    _assert_read_as_the_general_path_reads(raw)


def _assert_read_as_the_general_path_reads(raw):
    """``read_cbor`` gives what cbor2 + ``parse_acquisition`` give: the same acquisition, or the
    same error (message and field)."""
    try:
        want = parse_acquisition(decode_cbor(raw, "f.cbor", "s"), "f.cbor", "s")
    except BundleError as err:
        with pytest.raises(BundleError) as info:
            read_cbor(raw, "f.cbor", "s")
        assert (str(info.value), info.value.field) == (str(err), err.field)
    else:
        got = read_cbor(raw, "f.cbor", "s")
        assert got.values.tobytes() == want.values.tobytes() and got[1:] == want[1:]


def test_real_edge_impulse_files(real_dir, reader):
    """Edge Impulse's own exports (ints and doubles mixed) are taken and read exactly."""
    files = sorted(real_dir.rglob("*.cbor"))
    assert files
    for path in files:
        raw = path.read_bytes()
        got = reader(raw)
        assert got is not None, path
        assert got[0].tobytes() == _reference(raw).tobytes(), path


def test_results_do_not_share_the_reused_buffer(reader):
    """Without it the next file's numbers would overwrite the previous file's array."""
    first = _document(_head(4, 1) + _head(4, 3) + b"\x01\x02\x03")
    second = _document(_head(4, 1) + _head(4, 3) + b"\x04\x05\x06")
    got_first = reader(first)[0]
    got_second = reader(second)[0]
    assert got_first.tolist() == [[1.0, 2.0, 3.0]] and got_second.tolist() == [[4.0, 5.0, 6.0]]


def test_a_file_larger_than_the_reused_buffer(reader):
    """A file above the reused buffer's limit gets its own (and is read exactly)."""
    n = cbor_reader._SCRATCH_MAX_BYTES // 9 + 10  # doubles: 9 bytes each
    numbers = np.random.default_rng(3).normal(size=n)
    raw = _document(_head(4, n) + b"".join(b"\xfb" + struct.pack(">d", v) for v in numbers))
    assert len(raw) > cbor_reader._SCRATCH_MAX_BYTES
    got, _, _ = reader(raw)
    assert got.tobytes() == numbers.tobytes()
    kept = getattr(cbor_reader._local, "buf", None)
    assert kept is None or kept.size <= cbor_reader._SCRATCH_MAX_BYTES  # not kept for the next file
