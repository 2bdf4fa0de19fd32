"""Typed decoding of COCO files straight into columns, without building a dict per record.

``json.load`` of a 54 MB results file builds half a million dicts and two million floats as
Python objects (1.8 s of a 4 s ``coco-eval``), and the checks then walk them again. Here msgspec
decodes each file against a fixed schema into slot-only records (unknown fields such as
``segmentation`` are skipped by the decoder), checking types as it goes, and the records are
turned into numpy columns with ``np.fromiter``.

This is only a fast path for the common form: integer ids everywhere, ``bbox`` four numbers,
``score`` / ``area`` finite numbers. Anything else (string ids, a wrong type, invalid JSON, a
number out of range) makes the decoder return None and ``evalcore.coco_eval`` falls back to the
standard library's ``json`` and its record-by-record checks, which name the file, the index and
the field of the first bad value. So the errors and warnings are the same whichever path read a
file; the columns are the same too (both parse floats correctly rounded; tests compare them).

``scan_results`` is faster still for a results file (0.12 s instead of 0.45 s for 500k
detections): the compiled scanner ``kernels.coco_json`` writes the columns without any Python
object, but needs the kernels set up (their saved machine code, ``kernels._native``, or numba),
so it is used once the evaluation kernels are loaded.
"""

from __future__ import annotations

import itertools
import operator
import threading

import msgspec
import numpy as np

__all__ = ["decode_ground_truth", "decode_results", "in_background", "scan_results", "start_scan"]


class _Record(msgspec.Struct, gc=False):
    """An ``images`` or ``categories`` entry: only its id is used."""

    id: int


class _Annotation(msgspec.Struct, gc=False):
    id: int
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    area: float | None = None
    iscrowd: int | bool = 0


class _GroundTruth(msgspec.Struct, gc=False):
    images: list[_Record]
    categories: list[_Record]
    annotations: list[_Annotation] = []


class _Detection(msgspec.Struct, gc=False):
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]
    score: float


_GT_DECODER = msgspec.json.Decoder(_GroundTruth)
_DT_DECODER = msgspec.json.Decoder(list[_Detection])


def _ints(records, field):
    """int64 column; OverflowError when a value does not fit (the caller falls back)."""
    return np.fromiter(map(operator.attrgetter(field), records), np.int64, len(records))


def _floats(records, field):
    return np.fromiter(map(operator.attrgetter(field), records), np.float64, len(records))


def _boxes(records):
    flat = itertools.chain.from_iterable(map(operator.attrgetter("bbox"), records))
    return np.fromiter(flat, np.float64, 4 * len(records)).reshape(-1, 4)


def _decode(decoder, data):
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def decode_ground_truth(data: bytes):
    """Columns of a ground-truth file, or None when it is not in the plain integer-id form.

    Returns
    -------
    dict or None
        ``image_ids`` and ``category_ids`` (int64, file order, not unique), and the annotations'
        ``id``, ``image_id``, ``category_id`` (int64), ``bbox`` (float64, (G, 4)), ``area``
        (float64, NaN where absent or null) and ``iscrowd`` (bool).
    """
    gt = _decode(_GT_DECODER, data)
    if gt is None:
        return None
    anns = gt.annotations
    try:
        cols = {
            "image_ids": _ints(gt.images, "id"),
            "category_ids": _ints(gt.categories, "id"),
            "id": _ints(anns, "id"),
            "image_id": _ints(anns, "image_id"),
            "category_id": _ints(anns, "category_id"),
            "iscrowd": _ints(anns, "iscrowd") != 0,
        }
    except OverflowError:
        return None
    cols["bbox"] = _boxes(anns)
    area = np.fromiter((np.nan if a.area is None else a.area for a in anns), np.float64, len(anns))
    cols["area"] = area
    if not (np.all(np.isfinite(cols["bbox"])) and np.all(np.isfinite(area) | np.isnan(area))):
        return None
    return cols


def decode_results(data: bytes):
    """Columns of a results file, or None when it is not in the plain integer-id form.

    Returns
    -------
    dict or None
        ``image_id``, ``category_id`` (int64), ``bbox`` (float64, (D, 4)), ``score`` (float64).
    """
    dets = _decode(_DT_DECODER, data)
    if dets is None:
        return None
    try:
        cols = {"image_id": _ints(dets, "image_id"), "category_id": _ints(dets, "category_id")}
    except OverflowError:
        return None
    cols["bbox"] = _boxes(dets)
    cols["score"] = _floats(dets, "score")
    if not (np.all(np.isfinite(cols["bbox"])) and np.all(np.isfinite(cols["score"]))):
        return None
    return cols


def scan_results(data: bytes):
    """``decode_results`` by the compiled scanner ``kernels.coco_json``; None when it declines.

    Only for a process where the kernels are already set up (importing numba costs more than
    the scan saves). The scanner reads the detectors' form (the four keys, integer ids); the
    numbers it cannot convert exactly on its own come back as byte spans converted here by
    ``float``, so the columns are the doubles ``decode_results`` and ``json`` give.
    """
    from kernels.coco_common import WHOLE

    buf = np.frombuffer(data, np.uint8)
    return _columns_of(_scan_part(_parser(), data, buf, 0, len(data), WHOLE, len(data)))


def start_scan(data: bytes, *, tail_share):
    """Start ``scan_results(data)`` on a thread; returns a callable that gives its result.

    With ``tail_share`` > 0 (a fraction of the file), the file is split between two records
    near that fraction from its end: the thread scans the head, and the callable scans the tail
    on the caller's thread (both release the GIL), then joins the columns. So a caller with
    other work for its own thread meanwhile (``evalcore.coco_eval`` decodes the ground truth)
    gives it a share that ends both at about the same time, with no third busy thread. The
    columns are the same bits as one scan: the parts are the fast form exactly when the whole
    file is (``kernels.coco_common.split_point``).
    """
    from kernels.coco_common import HEAD, TAIL, WHOLE, split_point

    parse = _parser()
    split = None
    if tail_share > 0 and len(data) >= _SPLIT_MIN_BYTES:
        split = split_point(data, int(len(data) * (1.0 - tail_share)))
    buf = np.frombuffer(data, np.uint8)
    if split is None:
        head = in_background(_scan_part, parse, data, buf, 0, len(data), WHOLE, len(data))
        return lambda: _columns_of(head())

    head = in_background(_scan_part, parse, data, buf, 0, split[0], HEAD, len(data))

    def finish():
        tail = _scan_part(parse, data, buf, split[1], len(data), TAIL, len(data) - split[1])
        return _join(head(), tail)

    return finish


_SPLIT_MIN_BYTES = 4 << 20  # a smaller results file is scanned in one part


def _parser():
    """``parse_results`` of the saved machine code when it loads, else of the numba kernel."""
    from kernels.coco_entries import coco_kernels

    native = coco_kernels()
    if native is not None:
        return native.parse_results
    from kernels.coco_json import parse_results

    return parse_results


def in_background(function, *args):
    """Run ``function(*args)`` on a thread; returns a callable that waits and gives its result.

    For work that releases the GIL (reading files, the compiled scan), so that the caller's
    thread works meanwhile. An exception is raised again by the waiter.
    """
    outcome = []

    def run():
        try:
            outcome.append((True, function(*args)))
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread
            outcome.append((False, err))

    thread = threading.Thread(target=run, name="evalcore-coco-io", daemon=True)
    thread.start()

    def wait():
        thread.join()
        done, value = outcome[0]
        if not done:
            raise value
        return value

    return wait


def _scan_part(parse, data, buf, start, stop, part, room):
    """``(rows, ids, bbox, score)`` of ``data[start:stop]`` scanned as ``part`` into columns
    with room for the records of ``room`` bytes; None when it is not the fast form.
    """
    from kernels.coco_common import FAST_FORM, results_capacity

    capacity = results_capacity(room)
    ids = np.empty((2, capacity), np.int64)
    bbox = np.empty((capacity, 4), np.float64)
    score = np.empty((capacity, 1), np.float64)
    spans = np.empty((results_capacity(stop - start), 3), np.int64)  # more: declined
    rows, n_spans, status = parse(buf[start:stop], ids, bbox, score, spans, part)
    if status != FAST_FORM:
        return None
    if n_spans:
        values = np.array([float(data[start + a:start + b])
                           for a, b in spans[:n_spans, :2].tolist()])
        record, field = np.divmod(spans[:n_spans, 2], 5)
        in_box = field < 4
        bbox[record[in_box], field[in_box]] = values[in_box]
        score[record[~in_box], 0] = values[~in_box]
    return rows, ids, bbox, score


def _join(head, tail):
    """The head's columns followed by the tail's (the head has room for the whole file)."""
    if head is None or tail is None:
        return None
    rows, ids, bbox, score = head
    more, tail_ids, tail_bbox, tail_score = tail
    if rows + more > ids.shape[1]:
        return None  # cannot happen for the fast form (the head's room is the whole file's)
    ids[:, rows:rows + more] = tail_ids[:, :more]
    bbox[rows:rows + more] = tail_bbox[:more]
    score[rows:rows + more] = tail_score[:more]
    return _columns_of((rows + more, ids, bbox, score))


def _columns_of(scanned):
    if scanned is None:
        return None
    rows, ids, bbox, score = scanned
    cols = {"image_id": ids[0, :rows], "category_id": ids[1, :rows], "bbox": bbox[:rows],
            "score": score[:rows, 0]}
    if not (np.all(np.isfinite(cols["bbox"])) and np.all(np.isfinite(cols["score"]))):
        return None
    return cols
