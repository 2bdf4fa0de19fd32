"""Numbers as JavaScript writes them (``Number#toString``, ``JSON.stringify``), one or a whole array.

Rules (reference/api-schema.md, "Serialization quirks"): shortest round-trip digits, no ``.0``
on integral values (``16``), fixed notation for 1e-6 <= |x| < 1e21 (``0.000001``,
``100000000000000000000``), otherwise exponent form ``1e-7`` / ``1e+21``; ``-0`` -> ``0``;
NaN and +-Infinity -> ``null`` (what ``JSON.stringify`` writes); an int beyond +-(2**53 - 1) is
written as the double nearest to it, as a JavaScript number would hold it.

Python's ``repr`` already gives the shortest round-trip digits, so every formatter here starts
from it and rewrites only the notation. `format_number` does that for one value (``jsonio``'s
writer, scalars of the response); `format_floats` does it for a whole array (the per-window
columns of a run: scores, start and end times) with one ``repr`` pass and array-wide string
operations for the values whose notation differs, so the cost a value does not depend on how
many of a model's scores are below 1e-4.
"""

from __future__ import annotations

from typing import Any

__all__ = ["format_number", "format_float", "format_int", "format_floats", "format_ints"]

MAX_SAFE_INT = 2**53 - 1
_float_repr = float.__repr__


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


def format_float(value: float) -> str:
    """`format_number` of a ``float`` (no type check: the writers' fast path)."""
    # Fast path: for 1e-4 <= |x| < 1e16 Python's repr already has JavaScript's digits and
    # fixed notation; only a trailing ".0" differs. Everything else (exponent form, nan, inf)
    # contains an "e" or an "n" and takes the slow path.
    text = _float_repr(value)
    if text[-2:] == ".0":
        return text[:-2] if value else "0"
    if "e" in text or "n" in text:
        return _format_float_slow(value)
    return text


def format_int(value: int) -> str:
    """`format_number` of an ``int`` (no type check: the writers' fast path)."""
    if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        return str(value)
    try:
        return format_float(float(value))
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
        return format_int(int(value))
    return format_float(float(value))


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
        # JavaScript's text for a non-integral |x| in [1e-4, 1e16) (see format_float).
        whole = np.floor(flat) == flat
        integral = whole & (magnitude <= MAX_SAFE_INT)
        plain = (magnitude >= 1e-4) & (magnitude < 1e16) & ~whole
    if integral.all():
        return list(map(str, flat.astype(np.int64).tolist()))
    if plain.all():
        return list(map(_float_repr, flat.tolist()))
    texts = np.empty(flat.size, dtype=object)
    texts[plain] = list(map(_float_repr, flat[plain].tolist()))
    texts[integral] = list(map(str, flat[integral].astype(np.int64).tolist()))
    other = ~(plain | integral)
    texts[other] = _other_texts(flat[other])
    return texts.tolist()


def _other_texts(values) -> list[str]:
    """Texts of values that are neither plain nor integral below 2**53: NaN, +-Infinity,
    integral 2**53 < |x| < 1e16 (repr + ".0"), and the exponent form of repr (|x| < 1e-4, >= 1e16).
    """
    import numpy as np

    strings = getattr(np, "strings", None)
    if not hasattr(strings, "partition"):
        # numpy before 2.x has no array-wide string functions: the same text one value at a time.
        return list(map(format_float, values.tolist()))
    texts = np.array(list(map(_float_repr, values.tolist())))
    finite = np.isfinite(values)
    exponent_form = finite & ((np.abs(values) < 1e-4) | (np.abs(values) >= 1e16))
    whole = finite & ~exponent_form
    out = np.full(values.size, "null", dtype=object)
    if whole.any():
        out[whole] = strings.partition(texts[whole], ".")[0].tolist()  # 9007199254740994.0
    if exponent_form.any():
        out[exponent_form] = _js_exponent_texts(texts[exponent_form], values[exponent_form] < 0)
    return out.tolist()


def _js_exponent_texts(texts, negative) -> list[str]:
    """JavaScript's texts of values whose repr is in exponent form (``1.5e-05``, ``-2e+16``).

    JavaScript writes exponent 1e-6 <= |x| < 1e-4 and 1e16 <= |x| < 1e21 in fixed notation and
    the exponent of the others without a leading zero (``1.5e-7``, repr ``1.5e-07``).
    """
    import numpy as np

    strings = np.strings
    mantissa, _, exponent = strings.partition(texts, "e")
    exp10 = exponent.astype(np.int64)
    out = strings.replace(texts, "e-0", "e-")
    small = (exp10 >= -6) & (exp10 < 0)
    large = (exp10 >= 16) & (exp10 <= 20)
    if small.any() or large.any():
        digits = strings.replace(strings.lstrip(mantissa, "-"), ".", "")
        sign = np.where(negative, "-", "")
        # 1.5e-05 -> 0.000015: "0." then -exp10 - 1 zeros, then the digits.
        zeros_before = strings.multiply("0", np.maximum(-exp10 - 1, 0))
        fixed_small = strings.add(strings.add(strings.add(sign, "0."), zeros_before), digits)
        # 1.25e+17 -> 125000000000000000: the digits, then zeros up to exp10 + 1 digits.
        zeros_after = strings.multiply("0", np.maximum(exp10 + 1 - strings.str_len(digits), 0))
        fixed_large = strings.add(strings.add(sign, digits), zeros_after)
        out = np.where(small, fixed_small, np.where(large, fixed_large, out))
    return out.tolist()


def format_ints(values: Any) -> list[str]:
    """JavaScript text of each integer of an int array (flattened, C order); see `format_number`."""
    import numpy as np

    items = np.asarray(values).ravel().tolist()
    if items and (max(items) > MAX_SAFE_INT or min(items) < -MAX_SAFE_INT):
        return [format_int(int(v)) for v in items]
    return list(map(str, items))
