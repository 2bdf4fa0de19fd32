"""Tests for evalcore.jsonio: bytes equal to JavaScript's JSON.stringify, atomic writes.

The expected strings below were produced with node v20 (``JSON.stringify(Number(x))``,
``JSON.stringify(obj)``) when the tests were written; the tests do not need node.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalcore.jsnumber import format_number
from evalcore.jsonio import dumps
from evalcore.outputs import write_json_atomic
from tests.naive import naive_js_number

# (value, JSON.stringify(Number(value)) in node v20)
NODE_NUMBERS = [
    (0.0, "0"),
    (-0.0, "0"),
    (1.0, "1"),
    (-1.0, "-1"),
    (16.0, "16"),
    (62.5, "62.5"),
    (0.1, "0.1"),
    (0.1 + 0.2, "0.30000000000000004"),
    (1 / 3, "0.3333333333333333"),
    (-2 / 3, "-0.6666666666666666"),
    (100.0, "100"),
    (12345.6789, "12345.6789"),
    (4.35, "4.35"),
    (1e-7, "1e-7"),
    (-1e-7, "-1e-7"),
    (1.5e-7, "1.5e-7"),
    (1e-6, "0.000001"),
    (1.5e-6, "0.0000015"),
    (1.2e-5, "0.000012"),
    (1e-5, "0.00001"),
    (0.0001, "0.0001"),
    (0.000123, "0.000123"),
    (9.99999e-7, "9.99999e-7"),
    (1e15, "1000000000000000"),
    (1e16, "10000000000000000"),
    (1.5e16, "15000000000000000"),
    (123456789012345.67, "123456789012345.67"),
    (1e17, "100000000000000000"),
    (1e20, "100000000000000000000"),
    (1e21, "1e+21"),
    (1.5e21, "1.5e+21"),
    (-1e21, "-1e+21"),
    (1e22, "1e+22"),
    (9.999999999999999e20, "999999999999999900000"),
    (5e-324, "5e-324"),
    (-5e-324, "-5e-324"),
    (2.2250738585072014e-308, "2.2250738585072014e-308"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (1e-300, "1e-300"),
    (1e300, "1e+300"),
    (1.2345678901234567e-200, "1.2345678901234567e-200"),
    (float(2**53), "9007199254740992"),
    (float(2**53 + 2), "9007199254740994"),
    (9007199254740993.0, "9007199254740992"),
    (0, "0"),
    (-1, "-1"),
    (7, "7"),
    (2**31, "2147483648"),
    (2**53 - 1, "9007199254740991"),
    (-(2**53 - 1), "-9007199254740991"),
    (2**53, "9007199254740992"),
    (2**53 + 1, "9007199254740992"),
    (-(2**53 + 1), "-9007199254740992"),
    (2**60, "1152921504606847000"),
    (2**64, "18446744073709552000"),
    (10**21, "1e+21"),
    (10**21 + 1, "1e+21"),
    (10**22, "1e+22"),
    (123456789123456789, "123456789123456780"),
    (2.0**-24, "5.960464477539063e-8"),
    (float("nan"), "null"),
    (float("inf"), "null"),
    (float("-inf"), "null"),
]

# (Python str, JSON.stringify(str) in node v20, UTF-8)
NODE_STRINGS = [
    ("", b'""'),
    ('"', b'"\\""'),
    ("\\", b'"\\\\"'),
    ("/", b'"/"'),
    ("\b\f\n\r\t", b'"\\b\\f\\n\\r\\t"'),
    ("\x00\x01\x0b\x0e\x1f", b'"\\u0000\\u0001\\u000b\\u000e\\u001f"'),
    ("\x7f\x85", b'"\x7f\xc2\x85"'),
    ("\u2028\u2029", b'"\xe2\x80\xa8\xe2\x80\xa9"'),
    ("ü€", b'"\xc3\xbc\xe2\x82\xac"'),
    ("\U0001f600", b'"\xf0\x9f\x98\x80"'),
    ("\ufeff", b'"\xef\xbb\xbf"'),
    ("\ud800", b'"\\ud800"'),
    ("a\udc00b", b'"a\\udc00b"'),
    ("\ud83d\ude00", b'"\xf0\x9f\x98\x80"'),
]

NESTED = {
    "b": [1, 2.5, -0.0, float("nan"), float("inf"), float("-inf"), 1e-7, 1e21, None, True, False,
          "x"],
    "10": {"z": [], "y": {}, "2": "two", "1": [[[]]]},
    "a": 'line\nbreak\ttab "quoted" back\\slash \x01\x1f\x7f \u2028\u2029 ü€\U0001f600 /',
    "0": 0,
    "01": "leading zero",
    "-1": "negative",
    "4294967294": "max index",
    "4294967295": "not an index",
    "deep": [{"k": [{"k": [0.1, 0.2, 0.30000000000000004]}]}],
}
NESTED_NODE = (
    b'{"0":0,"10":{"1":[[[]]],"2":"two","z":[],"y":{}},"4294967294":"max index",'
    b'"b":[1,2.5,0,null,null,null,1e-7,1e+21,null,true,false,"x"],'
    b'"a":"line\\nbreak\\ttab \\"quoted\\" back\\\\slash \\u0001\\u001f\x7f '
    b'\xe2\x80\xa8\xe2\x80\xa9 \xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80 /",'
    b'"01":"leading zero","-1":"negative",'
    b'"4294967295":"not an index","deep":[{"k":[{"k":[0.1,0.2,0.30000000000000004]}]}]}'
)


def _first_difference(got: list[str], expected: list[str]) -> str:
    for index, (a, b) in enumerate(zip(got, expected, strict=False)):
        if a != b:
            return f"first difference at index {index}: got {a!r}, expected {b!r}"
    return f"lengths differ: {len(got)} vs {len(expected)}"


def test_numbers_match_node_table():
    """Without it a number would be written in Python form (16.0, 1e-07, 1e+16) unlike Studio."""
    values = [value for value, _ in NODE_NUMBERS]
    expected = [text for _, text in NODE_NUMBERS]
    got = [format_number(value) for value in values]
    assert got == expected, _first_difference(got, expected)
    got_dumped = [dumps(value).decode() for value in values]
    assert got_dumped == expected, _first_difference(got_dumped, expected)


def test_numbers_inside_containers_match_node_table():
    """Without it the list/dict fast paths could format numbers differently from the scalar path."""
    values = [value for value, _ in NODE_NUMBERS]
    expected = "[" + ",".join(text for _, text in NODE_NUMBERS) + "]"
    assert dumps(values).decode() == expected
    as_dict = {f"k{i}": value for i, value in enumerate(values)}
    expected_dict = "{" + ",".join(f'"k{i}":{t}' for i, (_, t) in enumerate(NODE_NUMBERS)) + "}"
    assert dumps(as_dict).decode() == expected_dict


@settings(max_examples=1500, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_formatting_matches_naive_reference(value):
    """Without it a float outside the hand-picked table could get non-JavaScript digits."""
    assert format_number(value) == naive_js_number(value)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_formatting_round_trips(value):
    """Without it a number could lose precision on the way to JSON."""
    assert float(format_number(value)) == value or value == 0.0


def test_strings_match_node_table():
    """Without it escapes (controls, U+2028, lone surrogates) would differ from Studio's bytes."""
    got = [dumps(text) for text, _ in NODE_STRINGS]
    expected = [node for _, node in NODE_STRINGS]
    assert got == expected, _first_difference([repr(g) for g in got], [repr(e) for e in expected])


def test_nested_document_matches_node():
    """Without it key order (array-index keys first), nesting or NaN handling could drift."""
    assert dumps(NESTED) == NESTED_NODE


def test_dumps_is_compact():
    """Without it the output could contain spaces (the fixed bytes of test_nested_document_matches_node
    hold determinism)."""
    assert dumps({"a": [1, {"b": None}]}) == b'{"a":[1,{"b":null}]}'


def test_datetimes_as_js_iso_strings():
    """Without it dates would not be Date#toISOString form (ms precision, UTC, Z)."""
    utc = dt.timezone.utc
    cases = [
        (dt.datetime(2025, 3, 26, 13, 4, 26, 798000, tzinfo=utc), b'"2025-03-26T13:04:26.798Z"'),
        (dt.datetime(2023, 11, 7, 5, 31, 56, tzinfo=utc), b'"2023-11-07T05:31:56.000Z"'),
        (dt.datetime(2024, 1, 1, 0, 0, 0, 999999, tzinfo=utc), b'"2024-01-01T00:00:00.999Z"'),
        (dt.datetime(999, 12, 31, 23, 59, 59, 1000, tzinfo=utc), b'"0999-12-31T23:59:59.001Z"'),
        (
            dt.datetime(2024, 1, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            b'"2023-12-31T23:30:00.000Z"',
        ),
    ]
    for value, expected in cases:
        assert dumps(value) == expected
    with pytest.raises(TypeError, match="naive datetime"):
        dumps(dt.datetime(2024, 1, 1))


def test_numpy_values_and_tuples():
    """Without it numpy scalars/arrays from the metric code could not be written or be mis-typed."""
    obj = {
        "f32": np.float32(0.1),
        "f64": np.float64(16.0),
        "i64": np.int64(-3),
        "b": np.bool_(True),
        "arr": np.array([[1.0, 0.5], [1e-7, -0.0]]),
        "t": (1, 2.0),
    }
    assert dumps(obj) == (
        b'{"f32":0.10000000149011612,"f64":16,"i64":-3,"b":true,'
        b'"arr":[[1,0.5],[1e-7,0]],"t":[1,2]}'
    )


def test_pydantic_models_drop_none_and_use_aliases():
    """Without it optional fields would be written as null or with Python names."""
    from evalcore.schema import AdditionalMetric

    metric = AdditionalMetric(name="mAP", value="0.5", full_precision_value=0.5)
    assert dumps(metric) == b'{"name":"mAP","value":"0.5","fullPrecisionValue":0.5}'
    assert dumps({"metrics": [metric]}) == (
        b'{"metrics":[{"name":"mAP","value":"0.5","fullPrecisionValue":0.5}]}'
    )


def test_rejects_values_without_a_json_form():
    """Without it sets (no order) or non-str keys would be written in an arbitrary form."""
    with pytest.raises(TypeError):
        dumps({1, 2})
    with pytest.raises(TypeError, match="keys must be str"):
        dumps({1: "a"})
    with pytest.raises(TypeError):
        format_number(True)


def test_bool_and_int_subclasses():
    """Without it True could be written as 1 or an IntEnum by its name."""
    import enum

    class Small(enum.IntEnum):
        ONE = 1

    class Colour(str, enum.Enum):
        RED = "red"

    assert dumps([True, False, Small.ONE, Colour.RED]) == b'[true,false,1,"red"]'


def test_write_json_atomic_writes_bytes_and_objects(tmp_path):
    """Without it the output file could differ from dumps or leave temp files behind."""
    target = tmp_path / "result.json"
    write_json_atomic(target, {"a": 1.0})
    assert target.read_bytes() == b'{"a":1}'
    write_json_atomic(target, b"raw")
    assert target.read_bytes() == b"raw"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_write_json_atomic_leaves_nothing_on_serialisation_failure(tmp_path):
    """Without it a failed run could leave a half-written result or a temp file."""
    target = tmp_path / "result.json"
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": {1, 2}})
    assert list(tmp_path.iterdir()) == []


def test_write_json_atomic_keeps_old_file_on_io_failure(tmp_path, monkeypatch):
    """Without it a failure during fsync could destroy the previous result or leak a temp file."""
    target = tmp_path / "result.json"
    target.write_bytes(b"old")

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        write_json_atomic(target, {"new": True})
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_write_json_atomic_missing_directory(tmp_path):
    """Without it a missing output folder could be silently created or mask the real error."""
    with pytest.raises(FileNotFoundError):
        write_json_atomic(tmp_path / "absent" / "result.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_output_parses_back_to_the_same_values():
    """Without it the compact writer could emit invalid JSON for some nesting."""
    rng = np.random.default_rng(5)
    doc = {
        "scores": [{"a": float(x), "b": float(1 - x)} for x in rng.random(50)],
        "tiny": [float(x) for x in rng.random(20) * 1e-9],
        "huge": [float(x) for x in rng.random(20) * 1e25],
    }
    assert json.loads(dumps(doc)) == doc
