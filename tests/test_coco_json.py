"""kernels.coco_json (the compiled results-file scanner) against json, and coco-eval's errors.

The oracle for every number is Python's own correctly rounded conversion (``json.loads`` /
``float``); the scanner's columns must be the same doubles, bit for bit, and whatever it
declines must still reach the reader that words the error (exit 2, file and field named).
"""

from __future__ import annotations

import json
import random
import struct
from decimal import Decimal, localcontext

import numpy as np
import pytest

from evalcore.cli import main
from evalcore.coco_columns import decode_results, scan_results
from kernels import coco_json

pytestmark = pytest.mark.filterwarnings("ignore::evalcore.metrics.coco.UndefinedCocoStatWarning")


def _bits(x):
    return struct.pack("<d", float(x))


def _number(text):
    value, end, kind = coco_json._number(np.frombuffer(text.encode(), np.uint8), 0)
    return value, end, kind


def _number_strings(rng, n):
    """JSON numbers in the shapes files hold: repr of doubles and float32s, fixed decimals,
    long mantissas with exponents, integers, signs."""
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            text = repr(rng.random() * 10.0 ** rng.randint(-6, 6))
        elif r < 0.45:
            text = repr(struct.unpack("<d", struct.pack("<Q", rng.getrandbits(62)))[0])
        elif r < 0.65:
            digits = str(rng.randint(1, 10 ** rng.randint(1, 17) - 1))
            cut = rng.randint(0, len(digits))
            text = (digits[:cut] or "0") + "." + (digits[cut:] or "0")
        elif r < 0.8:
            text = repr(float(np.float32(rng.random() * 1000)))
        elif r < 0.9:
            text = f"{rng.randint(0, 10 ** 17 - 1)}e{rng.randint(-40, 10)}"
        else:
            text = str(rng.randint(0, 10 ** rng.randint(1, 20)))
        if "inf" in text or "nan" in text:
            continue
        yield "-" + text if rng.random() < 0.2 and not text.startswith("-") else text


def test_numbers_are_the_doubles_json_gives():
    """Every number the scanner converts itself is json's double; the rest are left to float."""
    rng = random.Random(14)
    converted = 0
    for text in _number_strings(rng, 40_000):
        value, end, kind = _number(text)
        assert end == len(text) and kind in (1, 2), text
        if kind == 1:
            converted += 1
            assert _bits(value) == _bits(json.loads(text)), text
    assert converted > 25_000  # most numbers do not need the slow path


def test_numbers_next_to_a_rounding_midpoint():
    """Decimal strings just below, at and above the midpoint of two neighbouring doubles."""
    rng = random.Random(5)
    with localcontext() as ctx:
        ctx.prec = 60
        for _ in range(5_000):
            low = rng.random() * 10.0 ** rng.randint(-3, 3)
            mid = (Decimal(low) + Decimal(float(np.nextafter(low, np.inf)))) / 2
            for digits in (15, 16, 17):
                text = format(mid, f".{digits}g")
                if "e" in text:
                    continue
                value, _, kind = _number(text)
                if kind == 1:
                    assert _bits(value) == _bits(float(text)), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0.0), ("-0", 0.0), ("-0.0", -0.0), ("1E+5", 1e5), ("1.5e-3", 1.5e-3),
     ("0.30000000000000004", 0.30000000000000004), ("349.9", 349.9),
     ("9007199254740993.0", 9007199254740992.0), ("123456789012345678901", 1.2345678901234568e20)],
)
def test_number_edge_cases(text, expected):
    value, end, kind = _number(text)
    if kind == 2:
        value = float(text)
    assert end == len(text) and _bits(value) == _bits(expected)


@pytest.mark.parametrize("text", ["01", "1.", ".5", "1e", "-", "+1", "1.e3", "--1"])
def test_invalid_numbers_are_refused(text):
    assert _number(text)[2] == 0 or _number(text)[1] < len(text)


def _same_columns(a, b):
    return all(np.ascontiguousarray(a[k]).tobytes() == np.ascontiguousarray(b[k]).tobytes()
               and a[k].dtype == b[k].dtype and a[k].shape == b[k].shape for k in b)


def _detections(rng, n):
    return [{"image_id": rng.randint(1, 50), "category_id": rng.randint(1, 9),
             "bbox": [round(rng.random() * 600, rng.randint(0, 17)) for _ in range(4)],
             "score": rng.random()} for _ in range(n)]


@pytest.mark.parametrize("layout", ["compact", "spaced", "indented", "reordered", "integers"])
def test_scanner_gives_the_columns_msgspec_and_json_give(layout):
    rng = random.Random(layout)
    dets = _detections(rng, 300)
    if layout == "integers":
        for d in dets:
            d["bbox"] = [int(v) for v in d["bbox"]]
            d["score"] = 1
    if layout == "reordered":
        dets = [dict(reversed(list(d.items()))) for d in dets]
    text = {"compact": json.dumps(dets, separators=(",", ":")), "spaced": json.dumps(dets),
            "indented": json.dumps(dets, indent=2).replace("\n", "\r\n"),
            "reordered": json.dumps(dets), "integers": json.dumps(dets)}[layout]
    scanned = scan_results(text.encode())
    assert scanned is not None
    assert _same_columns(scanned, decode_results(text.encode()))
    assert scanned["bbox"].tolist() == [[float(v) for v in d["bbox"]] for d in dets]
    assert scanned["score"].tolist() == [float(d["score"]) for d in dets]


def test_scanner_hands_long_numbers_to_float():
    text = b'[{"image_id": 1, "category_id": 2, "bbox": [0.1234567890123456789, 1e400, 2, 3],' \
           b' "score": 12345678901234567890123}]'
    assert scan_results(text) is None  # 1e400 is infinite: the reader that words it decides
    text = text.replace(b"1e400", b"1e300")
    scanned = scan_results(text)
    assert scanned["bbox"].tolist() == [[0.1234567890123456789, 1e300, 2.0, 3.0]]
    assert scanned["score"].tolist() == [12345678901234567890123.0]
    assert scan_results(b" [ ] ")["score"].shape == (0,)
    long = "0.12345678901234567890123"  # more numbers for float() than records: declined
    many = json.dumps([{"image_id": 1, "category_id": 2, "bbox": [long] * 4, "score": long}] * 50)
    many = many.replace(f'"{long}"', long).encode()
    assert scan_results(many) is None and decode_results(many)["score"].shape == (50,)


@pytest.mark.parametrize(
    "text",
    [
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1, "id": 3}]',
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]',
        b'[{"image_id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]',
        b'[{"image_id": "1", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]',
        b'[{"image_id": 1.0, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]',
        b'[{"image_id": 1234567890123456789, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]',
        b'[{"image\\u005fid": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]',
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}]',
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1, 5], "score": 1}]',
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": NaN}]',
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": null}]',
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1},]',
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}] x',
        b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}',
        b'{"image_id": 1}',
        b"",
    ],
)
def test_scanner_declines_every_other_form(text):
    """Extra, missing or repeated keys, string or float ids, escapes, literals, invalid JSON."""
    assert scan_results(text) is None


def _split_scan(text, monkeypatch):
    """``text`` split between two records near its middle and scanned on two threads."""
    from evalcore import coco_columns

    monkeypatch.setattr(coco_columns, "_SPLIT_MIN_BYTES", 0)
    return coco_columns.start_scan(text, tail_share=0.5)()


@pytest.mark.parametrize("layout", ["compact", "indented", "long numbers"])
def test_a_file_scanned_in_two_parts_gives_the_same_columns(monkeypatch, layout):
    """Without it a record lost, doubled or shifted at the split point could go unseen."""
    from kernels.coco_common import split_point

    dets = _detections(random.Random(layout), 301)
    text = json.dumps(dets, indent=2 if layout == "indented" else None).encode()
    if layout == "long numbers":  # numbers left to float() in both parts, at part-relative offsets
        text = text.replace(b'"score": 0.', b'"score": 0.11111111111111111111')
    end, start = split_point(text, len(text) // 2)
    assert text[end - 1:end] == b"}" and text[start:start + 1] == b"{" and end > len(text) // 2
    assert _same_columns(_split_scan(text, monkeypatch), scan_results(text))
    assert _same_columns(_split_scan(text, monkeypatch), decode_results(text))


@pytest.mark.parametrize("bad", ["head", "tail", "string across the split", "trailing"])
def test_a_file_not_in_the_fast_form_is_declined_by_either_part(monkeypatch, bad):
    rec = '{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}'
    recs = [rec] * 40
    if bad == "head":
        recs[3] = rec.replace('"score": 1', '"score": "1"')
    elif bad == "tail":
        recs[37] = rec.replace('"bbox"', '"box"')
    text = "[" + ", ".join(recs) + "]"
    if bad == "string across the split":  # a `}, {` inside a string sits at the middle
        mid = len(text) // 2
        text = text[:mid] + '"}, {"' + text[mid:]
    if bad == "trailing":
        text += " x"
    assert _split_scan(text.encode(), monkeypatch) is None
    assert scan_results(text.encode()) is None


def test_the_tail_left_to_the_decoding_thread_shrinks_as_the_ground_truth_grows():
    from evalcore.coco_eval import _tail_share

    assert _tail_share(0, 1000) == 0.5
    assert 0.0 < _tail_share(45, 540) < 0.5  # d5k's proportions: about a fifth
    assert _tail_share(1000, 1000) == 0.0 and _tail_share(10, 0) == 0.0


# --- coco-eval's errors on bad files, whichever reader sees them first --------------------------

_GT = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1}],
       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4],
                        "area": 16}]}
_DET = '{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.5}'


@pytest.mark.parametrize(
    ("gt_text", "dt_text", "bad", "words"),
    [
        (None, "[" + _DET + ", {", "dt", ["not valid JSON"]),
        (None, "[" + _DET.replace("0.5", "0.5,") + "]", "dt", ["not valid JSON"]),
        (None, "[" + _DET.replace("0.5", '"high"') + "]", "dt", ["[0].score", "finite number"]),
        (None, "[" + _DET.replace('"bbox"', '"box"') + "]", "dt", ["[0]", "missing field 'bbox'"]),
        (None, "[" + _DET + ", " + _DET.replace("0.5", "NaN") + "]", "dt",
         ["[1].score", "finite number"]),
        (None, "[" + _DET.replace("[0, 0, 4, 4]", "[0, 0, 4, Infinity]") + "]", "dt",
         ["[0].bbox", "4 finite numbers"]),
        (None, "[" + _DET.replace("0.5", "1e999") + "]", "dt", ["[0].score", "finite number"]),
        (None, "[" + _DET.replace('"image_id": 1', '"image_id": [1]') + "]", "dt",
         ["[0].image_id", "integer or a string"]),
        (json.dumps(_GT).replace('"area": 16', '"area": "big"'), "[" + _DET + "]", "gt",
         ["annotations[0].area", "finite number"]),
        (json.dumps(_GT).replace('"id": 1, "image_id"', '"image_id"'), "[" + _DET + "]", "gt",
         ["annotations[0]", "missing field 'id'"]),
        (json.dumps(_GT)[:-1], "[" + _DET + "]", "gt", ["not valid JSON"]),
    ],
)
def test_cli_bad_files_exit_2_with_one_line_naming_file_and_field(tmp_path, capsys, gt_text,
                                                                   dt_text, bad, words):
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(gt_text or json.dumps(_GT))
    dt_path.write_text(dt_text)
    assert main(["coco-eval", str(gt_path), str(dt_path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1, captured.err
    assert str(gt_path if bad == "gt" else dt_path) in lines[0]
    for word in words:
        assert word in lines[0], lines[0]


def test_a_fresh_coco_eval_process_loads_the_kernels_without_scipy(tmp_path):
    """From a warm cache, coco-eval's numba set-up (no saved native code) skips numba's full
    target refresh (no scipy.linalg, which numba imports only to check for BLAS) and still gives
    the same stats."""
    import subprocess
    import sys

    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(_GT))
    dt_path.write_text("[" + _DET + "]")
    from evalcore.coco_eval import evaluate_coco_files

    here = evaluate_coco_files(gt_path, dt_path).stats.tolist()  # fills the cache if empty
    code = ("import sys, json; from evalcore.coco_eval import evaluate_coco_files; "
            "from kernels import _native; _native._loaded['coco'] = None; "
            "_native.can_build = lambda *a: False; "
            f"s = evaluate_coco_files({str(gt_path)!r}, {str(dt_path)!r}).stats.tolist(); "
            "print(json.dumps([s, 'scipy.linalg' in sys.modules, 'numba' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    stats, has_scipy_linalg, has_numba = json.loads(out.stdout)
    assert stats == here and has_numba and not has_scipy_linalg
