"""A COCO results file (JSON) read straight into columns, byte by byte, in compiled code.

``evalcore coco-eval`` spends most of its reading time turning half a million detection objects
into Python objects and back into arrays. This kernel scans the file's bytes once and writes the
four columns directly. It handles one form only, the one detectors write: a JSON list of objects
whose keys are exactly ``image_id`` and ``category_id`` (integers), ``bbox`` (a list of four
numbers) and ``score`` (a number), in any order, with any JSON whitespace. For anything else
(another key, a string id, a duplicate or missing key, an escape in a key, a literal, invalid
JSON) it returns ``NOT_FAST_FORM`` and the caller uses its general reader, which also words the
errors; so this kernel never decides what an error says.

The kernels allocate nothing, so they are compiled without numba's reference counting
(``_nrt=False``): with it, every helper call counted the file's buffer up and down atomically,
40 % of the scan's time. The scan releases the GIL (``nogil``): the caller decodes the ground
truth meanwhile.

Numbers are exact (the same doubles ``json.loads`` gives): a number whose significant digits fit
in 53 bits and whose decimal exponent is within ±22 is one IEEE multiplication or division of
two exactly representable doubles, hence correctly rounded (Clinger's fast path, the one every
correctly rounded reader tries first); a fraction with up to 17 significant digits (``repr`` of a
double writes up to 17) is rounded by an exact 128-bit integer comparison (``_divide_exactly``);
any other number is handed back as a byte span for the caller to convert with Python's
``float``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from kernels.coco_common import FAST_FORM, HEAD, NOT_FAST_FORM, TAIL, WHOLE, results_capacity

__all__ = ["FAST_FORM", "HEAD", "NOT_FAST_FORM", "TAIL", "WHOLE", "parse_results", "results_capacity"]

_POW10 = np.array([10.0 ** k for k in range(23)])  # exact doubles 1e0 .. 1e22
_MAX_EXACT = 2 ** 53
_MAX_DIGITS = 17  # kept in an int64 mantissa; more means the slow path
_MAX_POW10_U64 = 19  # 10**19 is the largest power of ten in a uint64
_POW10_U64 = np.array([10 ** k for k in range(_MAX_POW10_U64 + 1)], dtype=np.uint64)
_U32, _U64 = np.uint64(32), np.uint64(64)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO52 = 2 ** 52
_KEYS = (b"image_id", b"category_id", b"bbox", b"score")
_KEY_BYTES = np.frombuffer(b"".join(_KEYS), dtype=np.uint8).copy()
_KEY_START = np.array([0, 8, 19, 23], dtype=np.int64)
_KEY_LEN = np.array([8, 11, 4, 5], dtype=np.int64)

_SPACE, _TAB, _LF, _CR = 32, 9, 10, 13
_QUOTE, _BACKSLASH, _COLON, _COMMA = 34, 92, 58, 44
_LBRACKET, _RBRACKET, _LBRACE, _RBRACE = 91, 93, 123, 125
_MINUS, _PLUS, _DOT, _ZERO, _NINE, _E, _E_UPPER = 45, 43, 46, 48, 57, 101, 69


@njit(cache=True, _nrt=False)
def _skip_ws(buf, i):
    n = buf.size
    while i < n:
        c = buf[i]
        if c != _SPACE and c != _LF and c != _CR and c != _TAB:
            break
        i += 1
    return i


@njit(cache=True, _nrt=False)
def _key(buf, i):
    """``(key index or -1, index after the closing quote)`` for the string starting at ``i``."""
    n = buf.size
    start = i + 1
    j = start
    while j < n and buf[j] != _QUOTE:
        if buf[j] == _BACKSLASH or buf[j] < 32:
            return -1, j
        j += 1
    if j >= n:
        return -1, j
    length = j - start
    for k in range(_KEY_LEN.size):
        if _KEY_LEN[k] == length:
            same = True
            for m in range(length):
                if buf[start + m] != _KEY_BYTES[_KEY_START[k] + m]:
                    same = False
                    break
            if same:
                return k, j + 1
    return -1, j + 1


@njit(cache=True, _nrt=False)
def _integer(buf, i):
    """``(value, end, ok)`` for a JSON integer at ``i`` that fits in 18 digits (no fraction)."""
    n = buf.size
    neg = i < n and buf[i] == _MINUS
    if neg:
        i += 1
    if i >= n or buf[i] < _ZERO or buf[i] > _NINE:
        return 0, i, False
    start = i
    value = 0
    while i < n and _ZERO <= buf[i] <= _NINE:
        value = value * 10 + (buf[i] - _ZERO)
        i += 1
    digits = i - start
    if digits > 18 or (digits > 1 and buf[start] == _ZERO):
        return 0, i, False
    if i < n and (buf[i] == _DOT or buf[i] == _E or buf[i] == _E_UPPER):
        return 0, i, False  # 1.0 or 1e3 as an id: the general reader decides
    return -value if neg else value, i, True


@njit(cache=True, _nrt=False)
def _mul_128(a, b):
    """``a * b`` of two uint64 as ``(high, low)`` uint64 halves."""
    a_lo, a_hi = a & _LOW32, a >> _U32
    b_lo, b_hi = b & _LOW32, b >> _U32
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (p0 >> _U32) + (p1 & _LOW32) + (p2 & _LOW32)
    return p3 + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32), (p0 & _LOW32) | (mid << _U32)


@njit(cache=True, _nrt=False)
def _compare_128(a_hi, a_lo, b_hi, b_lo):
    """-1, 0 or 1 as ``a`` is below, equal to or above ``b`` (128-bit, as halves)."""
    if a_hi != b_hi:
        return -1 if a_hi < b_hi else 1
    if a_lo != b_lo:
        return -1 if a_lo < b_lo else 1
    return 0


@njit(cache=True, _nrt=False)
def _divide_exactly(mantissa, k):
    """``(value, ok)``: ``mantissa / 10**k`` correctly rounded, for 2**53 < mantissa < 2**63.

    ``float(mantissa) / 1e{k}`` is within two units in the last place; the candidate
    ``F * 2**E`` is then moved until the exact quotient lies between its two midpoints
    ``(2F -+ 1) * 2**(E-1)``, ties to even, comparing ``2 * mantissa * 2**-E`` with
    ``(2F -+ 1) * 10**k`` in 128-bit integers. ``ok`` is False where that does not apply (a
    power of two boundary, a quotient of 2**53 or more, k above 19): the caller's slow path.
    """
    if k < 1 or k > _MAX_POW10_U64:
        return 0.0, False
    frac, ex = math.frexp(float(mantissa) / _POW10[k])
    f = np.int64(frac * 9007199254740992.0)  # 2**53: F, exact
    e = ex - 53
    shift = 1 - e
    if shift <= 0 or shift >= 64:
        return 0.0, False
    twice_hi = np.uint64(mantissa) >> (_U64 - np.uint64(shift))
    twice_lo = np.uint64(mantissa) << np.uint64(shift)
    p = _POW10_U64[k]
    for _ in range(4):
        if f <= _TWO52 or f >= 2 * _TWO52 - 1:
            return 0.0, False
        up_hi, up_lo = _mul_128(np.uint64(2 * f + 1), p)
        c = _compare_128(twice_hi, twice_lo, up_hi, up_lo)
        if c > 0 or (c == 0 and f % 2 == 1):
            f += 1
            continue
        down_hi, down_lo = _mul_128(np.uint64(2 * f - 1), p)
        c = _compare_128(twice_hi, twice_lo, down_hi, down_lo)
        if c < 0 or (c == 0 and f % 2 == 1):
            f -= 1
            continue
        return math.ldexp(float(f), e), True
    return 0.0, False


@njit(cache=True, _nrt=False)
def _number(buf, i):
    """``(value, end, kind)`` for a JSON number at ``i``.

    kind 0: not a JSON number; 1: ``value`` is exact; 2: valid, but ``value`` must come from the
    slow path (too many digits or too large an exponent for one exact IEEE operation).
    """
    n = buf.size
    neg = i < n and buf[i] == _MINUS
    if neg:
        i += 1
    if i >= n or buf[i] < _ZERO or buf[i] > _NINE:
        return 0.0, i, 0
    mantissa = 0
    digits = 0  # significant digits in mantissa (leading zeros skipped)
    exact = True
    first = i
    while i < n and _ZERO <= buf[i] <= _NINE:
        d = buf[i] - _ZERO
        if digits > 0 or d != 0:
            if digits < _MAX_DIGITS:
                mantissa = mantissa * 10 + d
                digits += 1
            else:
                exact = False
        i += 1
    if i - first > 1 and buf[first] == _ZERO:
        return 0.0, i, 0  # leading zero: not JSON
    scale = 0
    integer_literal = i >= n or (buf[i] != _DOT and buf[i] != _E and buf[i] != _E_UPPER)
    if i < n and buf[i] == _DOT:
        i += 1
        frac_start = i
        while i < n and _ZERO <= buf[i] <= _NINE:
            d = buf[i] - _ZERO
            if digits > 0 or d != 0:
                if digits < _MAX_DIGITS:
                    mantissa = mantissa * 10 + d
                    digits += 1
                    scale -= 1
                else:
                    exact = False
            else:
                scale -= 1
            i += 1
        if i == frac_start:
            return 0.0, i, 0
    if i < n and (buf[i] == _E or buf[i] == _E_UPPER):
        i += 1
        exp_neg = False
        if i < n and (buf[i] == _MINUS or buf[i] == _PLUS):
            exp_neg = buf[i] == _MINUS
            i += 1
        exp_start = i
        exp = 0
        while i < n and _ZERO <= buf[i] <= _NINE:
            if exp < 100000:
                exp = exp * 10 + (buf[i] - _ZERO)
            i += 1
        if i == exp_start:
            return 0.0, i, 0
        scale += -exp if exp_neg else exp
    if mantissa == 0 and exact:  # json: -0 is the integer 0, -0.0 the float -0.0
        return -0.0 if neg and not integer_literal else 0.0, i, 1
    if not exact or scale < -22 or scale > 22:
        return 0.0, i, 2
    if mantissa > _MAX_EXACT:
        value, ok = _divide_exactly(mantissa, -scale)
        if not ok:
            return 0.0, i, 2
        return -value if neg else value, i, 1
    value = float(mantissa)
    if scale >= 0:
        value = value * _POW10[scale]
    else:
        value = value / _POW10[-scale]
    return -value if neg else value, i, 1


@njit(cache=True, _nrt=False)
def _float_into(buf, i, column, row, col, tag, spans, n_spans):
    """Parse a number at ``i`` into ``column[row, col]`` (``tag``: which field); ``(end, n_spans, ok)``."""
    value, end, kind = _number(buf, i)
    if kind == 0:
        return end, n_spans, False
    if kind == 2:
        if n_spans >= spans.shape[0]:
            return end, n_spans, False
        spans[n_spans, 0] = i
        spans[n_spans, 1] = end
        spans[n_spans, 2] = row * 5 + tag
        n_spans += 1
        value = np.nan
    column[row, col] = value
    return end, n_spans, True


@njit(cache=True, nogil=True, _nrt=False)
def _parse_results(buf, ids, bbox, score, spans, part):
    n = buf.size
    i = _skip_ws(buf, 0)
    rows = 0
    n_spans = 0
    if part != TAIL:
        if i >= n or buf[i] != _LBRACKET:
            return 0, 0, NOT_FAST_FORM
        i = _skip_ws(buf, i + 1)
        if part == WHOLE and i < n and buf[i] == _RBRACKET:
            i = _skip_ws(buf, i + 1)
            return 0, 0, FAST_FORM if i == n else NOT_FAST_FORM
    while True:  # one record a turn
        if i >= n or buf[i] != _LBRACE or rows >= ids.shape[1]:
            return rows, n_spans, NOT_FAST_FORM
        i = _skip_ws(buf, i + 1)
        seen = 0
        while True:  # one key a turn
            if i >= n or buf[i] != _QUOTE:
                return rows, n_spans, NOT_FAST_FORM
            key, i = _key(buf, i)
            if key < 0 or seen & (1 << key):
                return rows, n_spans, NOT_FAST_FORM
            seen |= 1 << key
            i = _skip_ws(buf, i)
            if i >= n or buf[i] != _COLON:
                return rows, n_spans, NOT_FAST_FORM
            i = _skip_ws(buf, i + 1)
            if key <= 1:  # image_id, category_id
                value, i, ok = _integer(buf, i)
                ids[key, rows] = value
            elif key == 3:  # score
                i, n_spans, ok = _float_into(buf, i, score, rows, 0, 4, spans, n_spans)
            else:  # bbox
                ok = i < n and buf[i] == _LBRACKET
                i += 1
                for c in range(4):
                    if not ok:
                        break
                    i = _skip_ws(buf, i)
                    i, n_spans, ok = _float_into(buf, i, bbox, rows, c, c, spans, n_spans)
                    i = _skip_ws(buf, i)
                    ok = ok and i < n and buf[i] == (_RBRACKET if c == 3 else _COMMA)
                    i += 1
            if not ok:
                return rows, n_spans, NOT_FAST_FORM
            i = _skip_ws(buf, i)
            if i < n and buf[i] == _COMMA:
                i = _skip_ws(buf, i + 1)
                continue
            if i < n and buf[i] == _RBRACE and seen == 15:
                break
            return rows, n_spans, NOT_FAST_FORM
        rows += 1
        i = _skip_ws(buf, i + 1)
        if part == HEAD and i == n:
            return rows, n_spans, FAST_FORM
        if i < n and buf[i] == _COMMA:
            i = _skip_ws(buf, i + 1)
            continue
        if part != HEAD and i < n and buf[i] == _RBRACKET:
            i = _skip_ws(buf, i + 1)
            return rows, n_spans, FAST_FORM if i == n else NOT_FAST_FORM
        return rows, n_spans, NOT_FAST_FORM


def parse_results(buf, ids, bbox, score, spans, part=WHOLE):
    """Scan a results file's bytes into preallocated columns (capacity C: ``results_capacity``).

    Parameters
    ----------
    buf : uint8 array
        The whole file, or a part of it (``part``).
    ids : int64 array of shape (2, C)
        Receives each record's ``image_id`` (row 0) and ``category_id`` (row 1).
    bbox : float64 array of shape (C, 4)
    score : float64 array of shape (C, 1)
    spans : int64 array of shape (S, 3)
        Receives ``(start, end, 5 * record + field)`` of each number left to the caller (field
        0-3: ``bbox[record, field]``, 4: ``score[record, 0]``, NaN until then). More than S such
        numbers is ``NOT_FAST_FORM``.
    part : int, default ``WHOLE``
        ``HEAD``: ``buf`` is the file up to the ``}`` that closes a record (it must end there);
        ``TAIL``: ``buf`` starts at the ``{`` of the next record and runs to the end of the file.
        Two threads can scan the two parts of a file split between two records
        (``kernels.coco_common.split_point``); both are ``FAST_FORM`` exactly when the whole is.

    Returns
    -------
    rows, n_spans, status : int
        ``status`` is ``FAST_FORM`` when the whole file was read (``rows`` records), else
        ``NOT_FAST_FORM`` (the columns are then meaningless).
    """
    return _parse_results(buf, ids, bbox, score, spans, part)
