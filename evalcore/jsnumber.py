"""Numbers as JavaScript writes them (``Number#toString``, ``JSON.stringify``), one or a whole array.

Rules (reference/api-schema.md, "Serialization quirks"): shortest round-trip digits, no ``.0``
on integral values (``16``), fixed notation for 1e-6 <= |x| < 1e21 (``0.000001``,
``100000000000000000000``), otherwise exponent form ``1e-7`` / ``1e+21``; ``-0`` -> ``0``;
NaN and +-Infinity -> ``null`` (what ``JSON.stringify`` writes); an int beyond +-(2**53 - 1) is
written as the double nearest to it, as a JavaScript number would hold it.

Python's ``repr`` already gives the shortest round-trip digits, so every formatter here starts
from it and rewrites only the notation. `format_number` does that for one value (``jsonio``'s
writer, scalars of the response); `format_floats` does it for a whole array (the per-window
columns of a run: scores, start and end times) with ``repr`` mapped over the array and, for the
values whose notation differs (a confident model's scores below 1e-4), string operations over
each group of them at once instead of a Python function per value. Once numba is loaded (a run
loads it at its start), whole arrays go through ``kernels.jsfloat`` instead: the same digits
found in one compiled pass, ~5x faster than ``repr`` for a float32 score.
"""

from __future__ import annotations

import sys
from itertools import repeat
from typing import Any

__all__ = ["compiled_available", "format_number", "format_float", "format_int", "format_floats", "format_ints"]

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


def compiled_available() -> bool:
    """Whether whole arrays go through the compiled pass (``kernels.jsfloat``): once numba is
    loaded. Nothing here loads it (its import costs more than a short command formats).
    """
    return "numba" in sys.modules


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

    if compiled_available():  # the compiled pass (module docstring); same texts
        from kernels.jsfloat import js_texts

        return js_texts(values)
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
    """Texts of the values that are neither plain nor integral below 2**53, a group at a time.

    The groups follow the notation of repr, which is decided by magnitude alone (the shortest
    round-trip digits of x are below 1e-5 exactly when x is below the double 1e-5): integral
    2**53 < |x| < 1e16 (``9007199254740994.0``), exponent forms below 1e-4 and from 1e16, and
    NaN and +-Infinity (``null``). Each group's texts are rewritten with string operations over
    the whole group, never a Python function per value.
    """
    import numpy as np

    out = np.full(values.size, "null", dtype=object)  # NaN, +-Infinity
    magnitude = np.where(np.isfinite(values), np.abs(values), np.nan)  # NaN compares False below

    def rewrite(mask, rewriter, *args) -> None:
        if mask.any():
            out[mask] = rewriter(list(map(_float_repr, values[mask].tolist())), *args)

    rewrite((magnitude >= 1e-4) & (magnitude < 1e16), _without_dot_zero)
    rewrite((magnitude < 1e-6) | (magnitude >= 1e21), _exponent_without_zero)
    rewrite((magnitude >= 1e-6) & (magnitude < 1e-5), _fixed_small, -6)
    rewrite((magnitude >= 1e-5) & (magnitude < 1e-4), _fixed_small, -5)
    for exp10 in range(16, 21):
        group = (magnitude >= 10.0**exp10) & (magnitude < 10.0 ** (exp10 + 1))
        rewrite(group, _fixed_large, exp10, values[group] < 0)
    return out.tolist()


def _without_dot_zero(texts: list[str]) -> list[str]:
    """``9007199254740994.0`` -> ``9007199254740994``."""
    return list(map(str.removesuffix, texts, repeat(".0")))


def _exponent_without_zero(texts: list[str]) -> list[str]:
    """``1.5e-07`` -> ``1.5e-7``; ``1e+21`` stays (JavaScript's exponent has no leading zero)."""
    return "|".join(texts).replace("e-0", "e-").split("|")


def _fixed_small(texts: list[str], exp10: int) -> list[str]:
    """Texts ``d.ddde-0<k>`` of one exponent (-5 or -6) -> ``0.0000dddd``, JavaScript's fixed form."""
    zeros = "0." + "0" * (-exp10 - 1)
    digits = "|".join(texts).replace(f"e-0{-exp10}", "").replace(".", "")  # 15|-7
    return (zeros + digits.replace("|", "|" + zeros)).replace(zeros + "-", "-" + zeros).split("|")


def _fixed_large(texts: list[str], exp10: int, negative) -> list[str]:
    """Texts ``d.ddde+<exp10>`` (16 <= exp10 <= 20) -> the digits then zeros, exp10 + 1 digits."""
    digits = "|".join(texts).replace(f"e+{exp10}", "").replace(".", "").split("|")
    return list(map(str.ljust, digits, (exp10 + 1 + negative).tolist(), repeat("0")))


def format_ints(values: Any) -> list[str]:
    """JavaScript text of each integer of an int array (flattened, C order); see `format_number`."""
    import numpy as np

    items = np.asarray(values).ravel().tolist()
    if items and (max(items) > MAX_SAFE_INT or min(items) < -MAX_SAFE_INT):
        return [format_int(int(v)) for v in items]
    return list(map(str, items))
