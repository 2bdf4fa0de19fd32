"""JavaScript text of a whole float64 array, in one compiled pass (``Number#toString``'s digits).

A run writes every window's scores: ~1.7 million numbers for 20,000 motion samples. Python's
``repr`` has the right digits (the shortest that read back as the same double) but costs ~1 µs a
float32 score (17 significant digits take the slow path of its dtoa), ~20 % of a run's CPU. This
kernel finds the same digits with Ryu's method (Ulf Adams, "Ryū: fast float-to-string
conversion", PLDI 2018): the bounds of the interval of decimals that read back as the double are
scaled by a 125-bit power of five (tables below, built with Python integers at import) and the
digits are cut while the interval still holds a shorter number; the digits of the value closest
to the double are kept (ties to the even digit), as ECMA-262 Number::toString asks and as
``repr`` gives. Every value's JavaScript text (notation, ``-0`` -> ``0``, NaN and infinities ->
``null``) is written into one byte buffer, ``,``-separated (`js_texts`), or each row of a 2-D
array as a JSON object whose keys' texts the caller gives (`js_object_rows`: one ``str`` a row,
not one a value).

``evalcore.jsnumber.format_floats`` uses it once numba is loaded; tests hold it to ``repr`` +
``evalcore.jsnumber.format_number`` on millions of values (random bit patterns of every exponent,
float32 values, integers, powers of ten and two, the neighbours of every notation boundary).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)

__all__ = ["js_object_rows", "js_texts", "MAX_TEXT_BYTES"]

#: Longest text of one value (``-0.00000`` + 17 digits is 25 bytes) plus its separator.
MAX_TEXT_BYTES = 26

_POW5_BITS = 125  # every table entry holds 125 significant bits
_MASK64 = (1 << 64) - 1


def _tables():
    """(5**i normalized to 125 bits, for i < 326; 2**k / 5**q + 1 with 125 bits, for q < 342),
    each as (low 64 bits, high 64 bits) uint64 rows.
    """
    pow5 = np.empty((326, 2), dtype=np.uint64)
    for i in range(326):
        value = 5**i
        shift = value.bit_length() - _POW5_BITS
        value = value >> shift if shift >= 0 else value << -shift
        pow5[i] = (value & _MASK64, value >> 64)
    inv = np.empty((342, 2), dtype=np.uint64)
    for q in range(342):
        value = 5**q
        value = (1 << (value.bit_length() - 1 + _POW5_BITS)) // value + 1
        inv[q] = (value & _MASK64, value >> 64)
    return pow5, inv


_POW5, _POW5_INV = _tables()
_U32 = np.uint64(0xFFFFFFFF)
_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U4 = np.uint64(4)
_U5 = np.uint64(5)
_U10 = np.uint64(10)
_U32_SHIFT = np.uint64(32)
_U64_BITS = np.uint64(64)
_MANTISSA_MASK = np.uint64((1 << 52) - 1)
_HIDDEN_BIT = np.uint64(1 << 52)
_EXPONENT_MASK = np.uint64(0x7FF)
_SIGN_SHIFT = np.uint64(63)
_EXPONENT_SHIFT = np.uint64(52)


@njit(cache=True)
def _mul128(a, b):
    """(high, low) 64-bit halves of the 128-bit product of two uint64."""
    a_lo, a_hi = a & _U32, a >> _U32_SHIFT
    b_lo, b_hi = b & _U32, b >> _U32_SHIFT
    lo_lo = a_lo * b_lo
    mid1 = a_hi * b_lo + (lo_lo >> _U32_SHIFT)
    mid2 = a_lo * b_hi + (mid1 & _U32)
    high = a_hi * b_hi + (mid1 >> _U32_SHIFT) + (mid2 >> _U32_SHIFT)
    low = (mid2 << _U32_SHIFT) | (lo_lo & _U32)
    return high, low


@njit(cache=True)
def _mul_shift(m, low, high, j):
    """``(m * (high * 2**64 + low)) >> j`` for j >= 64 (m < 2**55: the product >> 64 fits in 128 bits)."""
    high0, _ = _mul128(m, low)
    high2, low2 = _mul128(m, high)
    total_low = high0 + low2
    total_high = high2 + (_U1 if total_low < high0 else _U0)
    shift = j - 64
    if shift == 0:
        return total_low
    if shift >= 64:
        return total_high >> np.uint64(shift - 64)
    bits = np.uint64(shift)
    return (total_high << (_U64_BITS - bits)) | (total_low >> bits)


@njit(cache=True)
def _pow5_factor(value):
    count = 0
    while value > _U0 and value % _U5 == _U0:
        value //= _U5
        count += 1
    return count


@njit(cache=True)
def _pow5_bits(e):
    """ceil(log2(5**e)) for 1 <= e (1 for e = 0)."""
    return ((e * 1217359) >> 19) + 1


@njit(cache=True)
def _interval(mantissa, exponent):
    """The double with these IEEE fields (positive, finite) as decimals scaled by 10**-e10:
    (vr the value, vp and vm the bounds of the numbers that read back as it, e10, whether the
    bounds belong to the interval, whether vm and vr had only zeros cut off by the scaling).
    """
    if exponent == 0:
        e2 = 1 - 1023 - 52 - 2
        m2 = mantissa
    else:
        e2 = np.int64(exponent) - 1023 - 52 - 2
        m2 = mantissa | _HIDDEN_BIT
    accept_bounds = (m2 & _U1) == _U0
    mv = _U4 * m2
    mm_shift = _U1 if (mantissa != _U0 or exponent <= 1) else _U0
    vm_trailing_zeros = False
    vr_trailing_zeros = False
    if e2 >= 0:
        q = ((e2 * 78913) >> 18) - (1 if e2 > 3 else 0)
        e10 = q
        k = _POW5_BITS + _pow5_bits(q) - 1
        i = -e2 + q + k
        low, high = _POW5_INV[q, 0], _POW5_INV[q, 1]
        vr = _mul_shift(mv, low, high, i)
        vp = _mul_shift(mv + _U2, low, high, i)
        vm = _mul_shift(mv - _U1 - mm_shift, low, high, i)
        if q <= 21:
            if mv % _U5 == _U0:
                vr_trailing_zeros = _pow5_factor(mv) >= q
            elif accept_bounds:
                vm_trailing_zeros = _pow5_factor(mv - _U1 - mm_shift) >= q
            elif _pow5_factor(mv + _U2) >= q:
                vp -= _U1
    else:
        q = ((-e2 * 732923) >> 20) - (1 if -e2 > 1 else 0)
        e10 = q + e2
        i = -e2 - q
        k = _pow5_bits(i) - _POW5_BITS
        j = q - k
        low, high = _POW5[i, 0], _POW5[i, 1]
        vr = _mul_shift(mv, low, high, j)
        vp = _mul_shift(mv + _U2, low, high, j)
        vm = _mul_shift(mv - _U1 - mm_shift, low, high, j)
        if q <= 1:
            vr_trailing_zeros = True
            if accept_bounds:
                vm_trailing_zeros = mm_shift == _U1
            else:
                vp -= _U1
        elif q < 63:
            vr_trailing_zeros = (mv & ((_U1 << np.uint64(q)) - _U1)) == _U0
    return vr, vp, vm, e10, accept_bounds, vm_trailing_zeros, vr_trailing_zeros


@njit(cache=True)
def _drop_digit(vr, vp, vm):
    """The three bounds with their last decimal digit cut off."""
    return vr // _U10, vp // _U10, vm // _U10


@njit(cache=True)
def _shortest(mantissa, exponent):
    """(digits, exponent10) with value = digits * 10**exponent10: the shortest decimal that reads
    back as the positive finite double with these IEEE fields, closest to it (ties: even).
    """
    vr, vp, vm, e10, accept_bounds, vm_trailing_zeros, vr_trailing_zeros = _interval(mantissa, exponent)
    removed = 0
    last_removed = _U0
    if vm_trailing_zeros or vr_trailing_zeros:  # rare: the exact digits decide the rounding
        while vp // _U10 > vm // _U10:
            vm_trailing_zeros &= vm % _U10 == _U0
            vr_trailing_zeros &= last_removed == _U0
            last_removed = vr % _U10
            vr, vp, vm = _drop_digit(vr, vp, vm)
            removed += 1
        if vm_trailing_zeros:
            while vm % _U10 == _U0:
                vr_trailing_zeros &= last_removed == _U0
                last_removed = vr % _U10
                vr, vp, vm = _drop_digit(vr, vp, vm)
                removed += 1
        if vr_trailing_zeros and last_removed == _U5 and vr % _U2 == _U0:
            last_removed = np.uint64(4)  # exactly halfway: round to even
        round_up = (vr == vm and (not accept_bounds or not vm_trailing_zeros)) or last_removed >= _U5
        output = vr + (_U1 if round_up else _U0)
    else:  # the common case: only the last digit cut off decides
        round_up = False
        while vp // _U10 > vm // _U10:
            round_up = vr % _U10 >= _U5
            vr, vp, vm = _drop_digit(vr, vp, vm)
            removed += 1
        output = vr + (_U1 if (vr == vm or round_up) else _U0)
    return output, e10 + removed


_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8).copy()
_POW10 = np.array([10**k for k in range(20)], dtype=np.uint64)
_U100 = np.uint64(100)


@njit(cache=True)
def _write_digits(out, at, digits, count):
    """Write the ``count`` decimal digits of ``digits`` at ``out[at:at + count]``, two at a time."""
    end = at + count
    while end - at >= 2:
        q = digits // _U100
        r = np.int64(digits - q * _U100)
        out[end - 2] = _PAIRS[2 * r]
        out[end - 1] = _PAIRS[2 * r + 1]
        end -= 2
        digits = q
    if end > at:
        out[at] = np.uint8(48 + digits)


@njit(cache=True)
def _decimal_length(digits):
    """How many decimal digits ``digits`` (>= 1) has."""
    count = 1
    while count < 20 and digits >= _POW10[count]:
        count += 1
    return count


@njit(cache=True)
def _write_one(out, at, value, bits):
    """JavaScript text of ``value`` (``bits``: its IEEE bits) at ``out[at:]``; returns the
    position after it.
    """
    if value != value or value == np.inf or value == -np.inf:
        for c in (110, 117, 108, 108):  # null
            out[at] = c
            at += 1
        return at
    if value == 0.0:
        out[at] = 48
        return at + 1
    if bits >> _SIGN_SHIFT:
        out[at] = 45  # -
        at += 1
    digits, exp10 = _shortest(bits & _MANTISSA_MASK, np.int64((bits >> _EXPONENT_SHIFT) & _EXPONENT_MASK))
    count = _decimal_length(digits)
    point = exp10 + count  # value = 0.<digits> * 10**point
    if count <= point <= 21:
        _write_digits(out, at, digits, count)
        at += count
        for _ in range(point - count):
            out[at] = 48
            at += 1
    elif 0 < point <= 21:  # ddd.dd: the digits, then the tail moved one place for the point
        _write_digits(out, at, digits, count)
        for k in range(count - 1, point - 1, -1):
            out[at + k + 1] = out[at + k]
        out[at + point] = 46  # .
        at += count + 1
    elif -6 < point <= 0:
        out[at] = 48
        out[at + 1] = 46
        at += 2
        for _ in range(-point):
            out[at] = 48
            at += 1
        _write_digits(out, at, digits, count)
        at += count
    else:
        _write_digits(out, at + 1, digits, count)  # d ddd -> d.ddd
        out[at] = out[at + 1]
        if count > 1:
            out[at + 1] = 46
            at += count + 1
        else:
            at += 1
        out[at] = 101  # e
        exp = point - 1
        out[at + 1] = 43 if exp >= 0 else 45  # + or -
        at += 2
        exp = abs(exp)
        width = 1 if exp < 10 else (2 if exp < 100 else 3)
        _write_digits(out, at, np.uint64(exp), width)
        at += width
    return at


@njit(cache=True)
def _texts_into(values, bits, out, separator):
    """Every value's text, ``separator`` between two; returns the bytes written."""
    at = 0
    for i in range(values.size):
        if i:
            out[at] = separator
            at += 1
        at = _write_one(out, at, values[i], bits[i])
    return at


def js_texts(values: np.ndarray) -> list[str]:
    """JavaScript text of every value of a float64 array (C order), as ``format_number`` gives."""
    flat = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        return []
    out = np.empty(flat.size * MAX_TEXT_BYTES, dtype=np.uint8)
    n = _texts_into(flat, flat.view(np.uint64), out, np.uint8(44))
    return str(out[:n], "ascii").split(",")


@njit(cache=True)
def _rows_into(values, bits, pieces, piece_ends, group_ends, out):
    """Row i of ``values`` (R, K) as piece 0, value 0, piece 1, ..., value K-1, piece K; rows of
    a group separated by ``,``, groups by a NUL byte (group g ends before row ``group_ends[g]``).
    ``pieces`` holds the K + 1 pieces' bytes, piece k ending at ``piece_ends[k]``. Returns the
    bytes written.
    """
    at = 0
    n_columns = values.shape[1]
    row = 0
    for g in range(group_ends.size):
        if g:
            out[at] = 0
            at += 1
        first = row
        while row < group_ends[g]:
            if row > first:
                out[at] = 44  # ,
                at += 1
            start = 0
            for k in range(n_columns + 1):
                for b in range(start, piece_ends[k]):
                    out[at] = pieces[b]
                    at += 1
                start = piece_ends[k]
                if k < n_columns:
                    at = _write_one(out, at, values[row, k], bits[row, k])
            row += 1
    return at


def js_object_rows(values: np.ndarray, pieces: list[bytes], groups=None) -> list[str]:
    """One text per row of a float64 array (R, K): ``pieces[0] v0 pieces[1] ... v(K-1) pieces[K]``
    with each value's JavaScript text, e.g. pieces ``{"a":``, ``,"b":``, ``}`` give JSON objects.
    With ``groups`` (row counts, summing to R), one text per group instead: its rows joined by
    ``,`` (``""`` for an empty group).

    The pieces are UTF-8 and hold no NUL byte (JSON text escapes it).
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.ndim != 2 or len(pieces) != values.shape[1] + 1:
        raise ValueError("js_object_rows needs a 2-D array and one piece more than its columns")
    counts = np.ones(values.shape[0], dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() != values.shape[0]:
        raise ValueError("groups must be row counts that sum to the number of rows")
    if counts.size == 0:
        return []
    joined = b"".join(pieces)
    if b"\0" in joined:
        raise ValueError("a piece holds a NUL byte")
    piece_ends = np.cumsum([len(p) for p in pieces]).astype(np.int64)
    row_bytes = len(joined) + values.shape[1] * MAX_TEXT_BYTES + 1
    out = np.empty(values.shape[0] * row_bytes + counts.size, dtype=np.uint8)
    n = _rows_into(values, values.view(np.uint64), np.frombuffer(joined, dtype=np.uint8), piece_ends,
                   np.cumsum(counts), out)
    return str(out[:n], "utf-8").split("\0")
