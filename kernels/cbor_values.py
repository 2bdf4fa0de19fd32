"""The numbers of a CBOR acquisition file's ``payload.values``, read straight from its bytes.

A 10 s motion file holds ~1,900 numbers. Decoding it with cbor2 builds one Python float and one
list per row before numpy gets them (~140 µs a file, then ~180 µs to check and convert the rows),
which was a third of a run's main thread on small models. This kernel walks the file's bytes
once: it finds ``payload.values`` (keys compared as UTF-8 text, like cbor2's ``str`` keys) and
writes its numbers into a float64 array (~5 µs a file). The rest of the document (a few hundred
bytes) is still decoded by cbor2, with the values array cut out (``acquisition.read_cbor``).

It only takes files it can read exactly; for anything else it answers "not taken" and the caller
uses the general path, which explains the failure as before:

- the document is one definite-length map ending at the last byte (no trailing bytes, no
  indefinite lengths anywhere, no reserved head, nothing cut short);
- ``payload`` (a text key of the top map, once) is a map holding ``values`` (a text key, once);
- ``values`` is a non-empty array of numbers, or a non-empty array of non-empty arrays of
  numbers all of the same length;
- a number is an unsigned or negative integer of magnitude below 2**53 (exact in float64) or a
  half, single or double float that is finite (NaN and infinities are refused by the caller's
  general path, with their position).

Every float is decoded from its bits with exact operations (``ldexp`` of an integer mantissa),
so the array has the bytes cbor2 + numpy give; ``tests/test_data_cbor_values.py`` holds it to
them on random bit patterns of every width.

``kernels.cbor_reader`` calls it (``read_values``): through numba, or through the C entry point
below (``compile_entries``), whose machine code ``kernels._native`` saves for processes that do
not import numba.
"""

from __future__ import annotations

import math

import numpy as np
from numba import carray, cfunc, njit, types

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)

#: Integers of magnitude up to this are exact in float64 (larger ones take the general path).
_MAX_EXACT_INT = 2**53


@njit(cache=True)
def _head(buf, pos):
    """(major type, argument, position after the head); position -1 when cut short, reserved or
    indefinite-length. For floats (major 7, 2/4/8-byte argument) the argument is the bits, and
    the additional information (25/26/27) comes back as a negative major: -25, -26, -27.
    """
    n = buf.size
    if pos >= n:
        return 0, np.uint64(0), -1
    byte = buf[pos]
    major = np.int64(byte >> 5)
    info = np.int64(byte & 31)
    pos += 1
    if info < 24:
        return major, np.uint64(info), pos
    if info > 27:
        return major, np.uint64(0), -1
    size = 1 << (info - 24)
    if pos + size > n:
        return major, np.uint64(0), -1
    value = np.uint64(0)
    for k in range(size):
        value = (value << np.uint64(8)) | np.uint64(buf[pos + k])
    if major == 7 and info >= 25:
        major = -info
    return major, value, pos + size


@njit(cache=True)
def _skip(buf, pos):
    """Position after the item at ``pos`` (-1: not a well-formed definite-length item)."""
    n = buf.size
    remaining = 1
    while remaining > 0:
        major, value, pos = _head(buf, pos)
        if pos < 0:
            return -1
        remaining -= 1
        if major == 2 or major == 3:
            if value > np.uint64(n - pos):
                return -1
            pos += np.int64(value)
        elif major == 4 or major == 5:
            if value > np.uint64(n - pos):  # every item takes at least one byte
                return -1
            remaining += np.int64(value) * (major - 3)
        elif major == 6:
            remaining += 1
    return pos


@njit(cache=True)
def _is_text_key(buf, pos, key):
    """Whether the item at ``pos`` is the text string ``key`` (bytes as a uint8 array)."""
    major, value, start = _head(buf, pos)
    if start < 0 or major != 3 or value != np.uint64(key.size) or start + key.size > buf.size:
        return False
    for k in range(key.size):
        if buf[start + k] != key[k]:
            return False
    return True


@njit(cache=True)
def _small_float(major, value):
    """The float64 of a half or single float's bits (NaN for their NaN and infinities)."""
    if major == -26:  # single: sign, 8-bit exponent, 23-bit fraction
        return _binary_float(value, 23, 0xFF, -149)
    return _binary_float(value, 10, 0x1F, -24)  # half: sign, 5-bit exponent, 10-bit fraction


@njit(cache=True)
def _binary_float(value, fraction_bits, exponent_max, subnormal_scale):
    """An IEEE binary float's bits as float64: ``fraction_bits`` below an exponent whose largest
    value is ``exponent_max`` (NaN, or an infinity: read as NaN), the sign bit above them; a
    subnormal's fraction is scaled by 2**``subnormal_scale``. Exact: ``ldexp`` of an integer.
    """
    exponent = np.int64((value >> np.uint64(fraction_bits)) & np.uint64(exponent_max))
    fraction = value & np.uint64((1 << fraction_bits) - 1)
    if exponent == exponent_max:
        return np.nan
    number = (math.ldexp(float(fraction), subnormal_scale) if exponent == 0
              else math.ldexp(float(fraction | np.uint64(1 << fraction_bits)),
                              exponent + subnormal_scale - 1))
    sign_bit = fraction_bits + (8 if exponent_max == 0xFF else 5)
    return -number if (value >> np.uint64(sign_bit)) & np.uint64(1) else number


_DOUBLE_HEAD = 0xFB
_EXPONENT_MASK = np.uint64(0x7FF0000000000000)


@njit(cache=True)
def _decode_values(buf, pos, out):
    """(rows, columns, end) of the values array at ``pos``, its numbers written to the start of
    ``out`` (columns 0: a flat list of numbers); rows -1 when it is not a non-empty array of
    finite numbers or of equal-length number rows, or holds more numbers than ``out``. Doubles
    are copied as bits (the float64 view of the same array holds the others).
    """
    n = buf.size
    major, n_rows, pos = _head(buf, pos)
    if pos < 0 or major != 4 or n_rows == np.uint64(0) or n_rows > np.uint64(n - pos):
        return -1, 0, -1
    rows = np.int64(n_rows)
    major, first, after = _head(buf, pos)
    if after < 0:
        return -1, 0, -1
    columns = 0
    if major == 4:
        if first == np.uint64(0) or first > np.uint64(n - after):
            return -1, 0, -1
        columns = np.int64(first)
    if rows * max(columns, 1) > out.size:
        return -1, 0, -1
    bits = out.view(np.uint64)
    k = 0
    for _ in range(rows):
        per_row = 1
        if columns:
            major, count, pos = _head(buf, pos)
            if pos < 0 or major != 4 or count != np.uint64(columns):
                return -1, 0, -1
            per_row = columns
        for _ in range(per_row):
            if pos + 9 <= n and buf[pos] == _DOUBLE_HEAD:
                value = np.uint64(0)
                for j in range(1, 9):
                    value = (value << np.uint64(8)) | np.uint64(buf[pos + j])
                if value & _EXPONENT_MASK == _EXPONENT_MASK:  # NaN or an infinity
                    return -1, 0, -1
                bits[k] = value
                pos += 9
            else:
                major, value, pos = _head(buf, pos)
                if pos < 0:
                    return -1, 0, -1
                if major == 0 and value < np.uint64(_MAX_EXACT_INT):
                    out[k] = float(value)
                elif major == 1 and value < np.uint64(_MAX_EXACT_INT):
                    out[k] = -1.0 - float(value)
                elif major == -26 or major == -25:
                    number = _small_float(major, value)
                    if math.isnan(number):
                        return -1, 0, -1
                    out[k] = number
                else:  # a double whose head _head read (not reached: handled above), or no number
                    return -1, 0, -1
            k += 1
    return rows, columns, pos


PAYLOAD_KEY = np.frombuffer(b"payload", dtype=np.uint8)
VALUES_KEY = np.frombuffer(b"values", dtype=np.uint8)


@njit(cache=True)
def read_into(buf, payload_key, values_key, out):
    """(rows, columns, start, end) of ``payload.values``, its numbers at the start of ``out``;
    rows -1: not taken.
    """
    major, count, pos = _head(buf, 0)
    if pos < 0 or major != 5 or count > np.uint64(buf.size):
        return -1, 0, 0, 0
    rows, columns, start, end = -1, 0, -1, -1
    seen_payload = False
    for _ in range(np.int64(count)):
        is_payload = _is_text_key(buf, pos, payload_key)
        pos = _skip(buf, pos)
        if pos < 0 or (is_payload and seen_payload):
            return -1, 0, 0, 0
        if not is_payload:
            pos = _skip(buf, pos)
            if pos < 0:
                return -1, 0, 0, 0
            continue
        seen_payload = True
        major, n_fields, pos = _head(buf, pos)
        if pos < 0 or major != 5 or n_fields > np.uint64(buf.size):
            return -1, 0, 0, 0
        for _ in range(np.int64(n_fields)):
            is_values = _is_text_key(buf, pos, values_key)
            pos = _skip(buf, pos)
            if pos < 0 or (is_values and start >= 0):
                return -1, 0, 0, 0
            if is_values:
                start = pos
                rows, columns, pos = _decode_values(buf, pos, out)
                if rows < 0:
                    return -1, 0, 0, 0
                end = pos
            else:
                pos = _skip(buf, pos)
                if pos < 0:
                    return -1, 0, 0, 0
    if pos != buf.size or start < 0:
        return -1, 0, 0, 0
    return rows, columns, start, end


# -- the C entry point (kernels.cbor_reader.CBOR) -------------------------------------------------------


def _cbor_read_values(status, buf, n_buf, out, capacity, result):
    """``read_into`` on raw pointers; ``result`` receives (rows, columns, start, end)."""
    rows, columns, start, end = read_into(carray(buf, n_buf), PAYLOAD_KEY, VALUES_KEY, carray(out, capacity))
    result[0] = rows
    result[1] = columns
    result[2] = start
    result[3] = end
    status[0] = 0


def compile_entries():
    """``{name: numba CFunc}`` of ``kernels.cbor_reader.CBOR``'s entries (``kernels._native.build``)."""
    signature = types.void(types.CPointer(types.int64), types.CPointer(types.uint8), types.int64,
                           types.CPointer(types.float64), types.int64, types.CPointer(types.int64))
    return {"cbor_read_values": cfunc(signature)(_cbor_read_values)}
