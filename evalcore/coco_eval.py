"""``evalcore coco-eval``: COCO bbox evaluation of COCO's own files, exact to pycocotools.

Reads a ground-truth file (``{"images", "annotations", "categories"}``) and a results file (a list
of ``{"image_id", "category_id", "bbox", "score"}``), and evaluates them as
``COCOeval(COCO(gt), COCO(gt).loadRes(dt), "bbox")`` with ``evaluate()``, ``accumulate()`` and
``summarize()`` would (see ``evalcore.metrics.coco``).

What pycocotools does with each field, and what we do:

- Images and categories are evaluated in sorted unique id order (``np.unique``). Ids must be all
  integers or all strings.
- GT annotations need ``id``, ``image_id``, ``category_id`` and ``bbox``. ``iscrowd`` defaults to 0
  and any ``ignore`` field is overwritten by it, as in pycocotools. ``area`` is used for the area
  ranges; pycocotools fails without it, we then take ``w*h`` (what box-only GT should hold).
  An annotation id of 0 keeps pycocotools' quirk (its matches count as unmatched). Duplicate
  annotation ids are an error (pycocotools silently evaluates one annotation twice).
- Results: ``id``, ``area`` and ``iscrowd`` are replaced as ``loadRes`` does (``area = w*h``); an
  ``image_id`` that is not a GT image is an error, as in ``loadRes``. An empty list is accepted
  (no detections; pycocotools cannot load it).
- Annotations or results whose category (or, for GT, image) is not listed are not evaluated, as in
  pycocotools; ``CocoInputWarning`` says how many.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from evalcore.errors import BundleError, ConfigError
from evalcore.metrics.coco import MAX_DETS, CocoResult, evaluate_boxes

__all__ = [
    "CocoData",
    "CocoInputWarning",
    "CocoResult",
    "evaluate_coco",
    "evaluate_coco_files",
    "load_coco",
    "load_coco_files",
]


class CocoInputWarning(UserWarning):
    """Some annotations or results are not evaluated (their image or category is not listed)."""


@dataclass(frozen=True, eq=False)
class CocoData:
    """COCO ground truth and results as typed arrays, ready to evaluate (possibly many times).

    Images and categories are ranks in pycocotools' sorted unique id order; rows of images or
    categories that are not evaluated are already dropped.

    Attributes
    ----------
    image_ids, category_ids : numpy arrays of shape (I,) and (K,)
        Sorted unique ids (int64 or str).
    gt_image, gt_category : int64 arrays of shape (G,)
    gt_xywh : float64 array of shape (G, 4)
    gt_area : float64 array of shape (G,)
    gt_is_crowd, gt_id_is_zero : bool arrays of shape (G,)
    dt_image, dt_category : int64 arrays of shape (D,)
    dt_score : float64 array of shape (D,)
    dt_xywh : float64 array of shape (D, 4)
    """

    image_ids: np.ndarray
    category_ids: np.ndarray
    gt_image: np.ndarray
    gt_category: np.ndarray
    gt_xywh: np.ndarray
    gt_area: np.ndarray
    gt_is_crowd: np.ndarray
    gt_id_is_zero: np.ndarray
    dt_image: np.ndarray
    dt_category: np.ndarray
    dt_score: np.ndarray
    dt_xywh: np.ndarray

    def evaluate(self, *, max_dets=MAX_DETS, iou_thresholds=None, stats0_max_dets=100):
        """Evaluate; parameters, result and errors as ``evaluate_coco_files``."""
        if iou_thresholds is not None:
            iou_thresholds = np.asarray(iou_thresholds, dtype=np.float64)
            if iou_thresholds.ndim != 1 or iou_thresholds.size == 0 \
                    or not np.all(np.isfinite(iou_thresholds)):
                raise ConfigError(f"iou_thresholds must be a non-empty list of finite numbers, "
                                  f"got {iou_thresholds.tolist()}")
        return evaluate_boxes(
            self.dt_image, self.dt_category, self.dt_score, self.dt_xywh, self.gt_image,
            self.gt_category, self.gt_xywh, self.gt_area, self.gt_is_crowd, self.gt_id_is_zero,
            n_images=self.image_ids.size, n_categories=self.category_ids.size,
            iou_thresholds=iou_thresholds, max_dets=max_dets, stats0_max_dets=stats0_max_dets,
            image_ids=self.image_ids, category_ids=self.category_ids,
        )


def evaluate_coco_files(gt_path, dt_path, *, max_dets=MAX_DETS, iou_thresholds=None,
                        stats0_max_dets=100):
    """Evaluate a COCO ground-truth file and a COCO results file (bbox).

    Parameters
    ----------
    gt_path, dt_path : str or os.PathLike
        Ground-truth JSON and results JSON.
    max_dets : sequence of int, default (1, 10, 100)
        pycocotools ``params.maxDets`` (at least 3 values).
    iou_thresholds : sequence of float, optional
        Default ``np.linspace(.5, .95, 10)``.
    stats0_max_dets : int or None, default 100
        maxDets of stats[0]; 100 as pycocotools (-1 when 100 is not in ``max_dets``), None for
        ``max_dets[-1]``.

    Returns
    -------
    CocoResult
        ``.stats``, ``.precision``, ``.recall``, ``.scores``, ``.format_stats()``, ``.to_json()``.

    Raises
    ------
    BundleError
        A file is missing, not JSON, or has a bad field (the message names file, index, field).
    ConfigError
        Bad ``max_dets`` or ``iou_thresholds``.
    """
    return load_coco_files(gt_path, dt_path).evaluate(
        max_dets=max_dets, iou_thresholds=iou_thresholds, stats0_max_dets=stats0_max_dets)


def evaluate_coco(gt, dt, *, max_dets=MAX_DETS, iou_thresholds=None, stats0_max_dets=100,
                  gt_source=None, dt_source=None):
    """Evaluate in-memory COCO data: ``gt`` a ground-truth dict, ``dt`` a results list.

    The inputs are not modified (pycocotools mutates them). ``gt_source`` / ``dt_source`` name the
    inputs in error messages. Other parameters, return value and errors as
    ``evaluate_coco_files``.

    Examples
    --------
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [10, 10, 20, 20], "area": 400}]}
    >>> dt = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}]
    >>> float(evaluate_coco(gt, dt).stats[0])
    1.0
    """
    return load_coco(gt, dt, gt_source=gt_source, dt_source=dt_source).evaluate(
        max_dets=max_dets, iou_thresholds=iou_thresholds, stats0_max_dets=stats0_max_dets)


def load_coco_files(gt_path, dt_path):
    """Read and check a ground-truth file and a results file; see ``CocoData``.

    The first call in a process sets up the evaluation kernels first (their saved machine code,
    or numba's import and cache loads; see ``_set_up_kernels``), so the first ``evaluate`` does
    not pay for it and the results file can be read by the compiled scanner
    (``evalcore.coco_columns.scan_results``). The ground truth, and a results file the scanner
    declines, are decoded into columns with msgspec (``evalcore.coco_columns``); any other file
    goes through ``json`` and ``load_coco``'s record-by-record checks, which also word every
    error. All three give the same arrays.
    """
    from evalcore.coco_columns import in_background

    alone = threading.active_count() == 1  # before this function's own (numba-free) thread
    reading = in_background(_read_both, gt_path, dt_path)  # the reads overlap the set-up
    if not _kernels_ready:
        _set_up_kernels(alone=alone)
    return _load_files(gt_path, dt_path, reading)


# --- the kernels' set-up ---------------------------------------------------------------------------

_kernels_ready = False  # the kernels have been loaded in this process (their set-up is paid)


def _set_up_kernels(*, alone=None):
    """Load the kernels: their saved machine code (no numba), else numba's, then save it.

    ``kernels._native`` loads the machine code numba compiled in an earlier process without
    importing numba (~0.05 s instead of ~0.45 s). Without valid saved code (the first run, or
    after an upgrade) the numba kernels are set up (``_set_up_numba_kernels``) and the code is
    compiled and saved for the next process (a few seconds, once). ``alone``: no other thread
    can use numba meanwhile (default: this is the only thread); see ``_set_up_numba_kernels``.
    """
    global _kernels_ready
    from kernels import _native, coco_entries

    if coco_entries.coco_kernels() is None:
        _set_up_numba_kernels(threading.active_count() == 1 if alone is None else alone)
        if _native.can_build(coco_entries.COCO):
            try:
                _native.build(coco_entries.COCO)
            except Exception:  # noqa: BLE001 - the numba kernels are set up and give the same numbers
                pass
    _kernels_ready = True


def _set_up_numba_kernels(alone):
    """Load the numba kernels (numba's CPU target and their cached machine code) on a one-box set.

    The arrays have the dtypes and layouts ``load_coco_files`` gives, so the real calls find the
    same compiled signatures. When no other thread can use numba meanwhile (``alone``), cached
    code is loaded without numba's full target refresh (``kernels._cache.loading_without_refresh``:
    0.3-0.5 s of imports, ``scipy.linalg`` among them, that machine code read from the cache
    never uses).
    """
    from evalcore.coco_columns import scan_results
    from kernels._cache import loading_without_refresh

    one = np.zeros(1, np.int64)
    box = np.array([[0.0, 0.0, 1.0, 1.0]])
    tiny = CocoData(image_ids=one, category_ids=one, gt_image=one, gt_category=one, gt_xywh=box,
                    gt_area=np.ones(1), gt_is_crowd=np.zeros(1, bool),
                    gt_id_is_zero=np.zeros(1, bool), dt_image=one, dt_category=one,
                    dt_score=np.ones(1), dt_xywh=box.copy())
    loading = loading_without_refresh if alone else contextlib.nullcontext
    with warnings.catch_warnings(), loading():
        warnings.simplefilter("ignore")
        tiny.evaluate()
        scan_results(b'[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]')


def _load_files(gt_path, dt_path, reading=None):
    """``load_coco_files`` in this process; ``reading`` gives both files' bytes when called."""
    from evalcore.coco_columns import decode_ground_truth, decode_results, start_scan

    gt_bytes, dt_bytes = (reading or (lambda: _read_both(gt_path, dt_path)))()
    scanned = start_scan(dt_bytes, tail_share=_tail_share(len(gt_bytes), len(dt_bytes))) \
        if _kernels_ready else lambda: None
    gt_cols = decode_ground_truth(gt_bytes)
    gt = _parse_json(gt_bytes, gt_path) if gt_cols is None else None
    dt_cols = scanned()
    if gt_cols is None:
        dt_cols = None
    elif dt_cols is None:
        dt_cols = decode_results(dt_bytes)
    if dt_cols is None:
        if gt is None:
            gt = _parse_json(gt_bytes, gt_path)
        del gt_bytes
        return load_coco(gt, _parse_json(dt_bytes, dt_path), gt_source=gt_path,
                         dt_source=dt_path)
    del gt_bytes, dt_bytes
    img_ids = np.unique(gt_cols["image_ids"])
    cat_ids = np.unique(gt_cols["category_ids"])
    area = gt_cols["area"]
    bbox = gt_cols["bbox"]
    area = np.where(np.isnan(area), bbox[:, 2] * bbox[:, 3], area)
    gt_arrays = _ground_truth_arrays(img_ids, cat_ids, gt_cols["id"], gt_cols["image_id"],
                                     gt_cols["category_id"], bbox, area, gt_cols["iscrowd"],
                                     gt_path)
    det = _results_arrays(dt_cols["image_id"], dt_cols["category_id"], dt_cols["bbox"],
                          dt_cols["score"], img_ids, cat_ids, dt_path,
                          lambda i: int(dt_cols["image_id"][i]))
    return _coco_data(gt_arrays, det)


def _tail_share(gt_size, dt_size):
    """The share of the results file this thread scans after decoding the ground truth.

    Decoding a ground-truth byte costs about ``_GT_COST`` times scanning a results byte
    (msgspec + columns ~18 ns, the scanner ~2.5 ns, d5k), so a tail of this share ends with
    the other thread's head.
    """
    return max(0.0, 0.5 - 0.5 * _GT_COST * gt_size / max(dt_size, 1))


_GT_COST = 7.0


def load_coco(gt, dt, *, gt_source=None, dt_source=None):
    """Check in-memory COCO data and convert it to ``CocoData`` (the inputs are not modified)."""
    gt_arrays = _parse_ground_truth(gt, gt_source)
    det = _parse_results(dt, dt_source, gt_arrays["image_ids"], gt_arrays["category_ids"])
    return _coco_data(gt_arrays, det)


def _coco_data(gt_arrays, det):
    return CocoData(
        image_ids=gt_arrays["image_ids"], category_ids=gt_arrays["category_ids"],
        gt_image=gt_arrays["image"], gt_category=gt_arrays["category"],
        gt_xywh=np.ascontiguousarray(gt_arrays["bbox"]), gt_area=gt_arrays["area"],
        gt_is_crowd=gt_arrays["is_crowd"], gt_id_is_zero=gt_arrays["id_is_zero"],
        dt_image=det["image"], dt_category=det["category"], dt_score=det["score"],
        dt_xywh=det["bbox"],
    )


# --- reading -----------------------------------------------------------------------------------


def _read_both(gt_path, dt_path):
    return _read_bytes(gt_path), _read_bytes(dt_path)


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise BundleError(f"cannot read file: {err.strerror or err}", path=path) from err


def _parse_json(data, path):
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(f"not valid JSON: {err}", path=path) from err
    except RecursionError as err:
        raise BundleError("not valid JSON: nested too deeply", path=path) from err


def _kind(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_id(value):
    return _is_int(value) or isinstance(value, str)


def _is_number(value):
    return (_is_int(value) or isinstance(value, (float, np.floating))) and math.isfinite(value)


def _sorted_ids(records, name, source):
    """Sorted unique ids of ``images`` / ``categories`` (pycocotools ``np.unique``)."""
    ids = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or "id" not in rec:
            raise BundleError(f"each entry needs an id, got {_kind(rec)}", path=source,
                              field=f"{name}[{i}]")
        value = rec["id"]
        if not _is_id(value):
            raise BundleError(f"id must be an integer or a string, got {value!r}", path=source,
                              field=f"{name}[{i}].id")
        ids.append(value)
    if len({isinstance(v, str) for v in ids}) > 1:
        raise BundleError("ids must be all integers or all strings", path=source, field=name)
    if ids and not isinstance(ids[0], str):
        try:
            return np.unique(np.array(ids, dtype=np.int64))
        except OverflowError as err:
            raise BundleError("an id does not fit in 64 bits", path=source, field=name) from err
    return np.unique(np.array(ids, dtype=str)) if ids else np.zeros(0, np.int64)


def _lookup(ids, values):
    """Rank of each value in the sorted ``ids`` and whether it is there.

    Where it is not there, the rank is some valid index (callers drop or refuse those rows).
    Integer ids spanning a range not much larger than the values are looked up in a table
    indexed by id (one gather; a binary search of 500k detections took 0.05 s).
    """
    values = np.asarray(values)
    if ids.size == 0 or values.size == 0 or ids.dtype.kind != values.dtype.kind:
        return np.zeros(values.size, np.int64), np.zeros(values.size, bool)
    if ids.dtype.kind in "iu" and int(ids[-1]) - int(ids[0]) < _TABLE_SLOTS_PER_VALUE * values.size:
        low, high = ids[0], ids[-1]
        table = np.full(int(high) - int(low) + 1, -1, np.int64)
        table[ids - low] = np.arange(ids.size)
        rank = table[np.clip(values, low, high) - low]
        ok = rank >= 0
        ok &= values >= low
        ok &= values <= high
        return np.maximum(rank, 0), ok
    rank = np.minimum(np.searchsorted(ids, values), ids.size - 1)
    return rank.astype(np.int64), ids[rank] == values


_TABLE_SLOTS_PER_VALUE = 4  # a lookup table is used when it is at most this many slots a value


def _check_record(rec, i, fields, name, source):
    """Find the first bad field of one record, for an error message that names it."""
    where = f"{name}[{i}]" if name else f"[{i}]"
    if not isinstance(rec, dict):
        raise BundleError(f"expected an object, got {_kind(rec)}", path=source, field=where)
    for key, required in fields:
        if key not in rec:
            if required:
                raise BundleError(f"missing field {key!r}", path=source, field=where)
            continue
        value = rec[key]
        if key == "area" and value is None:
            continue  # no area: w*h, like a missing field
        if key == "bbox":
            if not (isinstance(value, list) and len(value) == 4 and all(map(_is_number, value))):
                raise BundleError(f"bbox must be a list of 4 finite numbers, got {value!r}",
                                  path=source, field=f"{where}.bbox")
        elif key in ("image_id", "category_id"):
            if not _is_id(value):
                raise BundleError(f"{key} must be an integer or a string, got {value!r}",
                                  path=source, field=f"{where}.{key}")
        elif key == "id":
            if not _is_int(value):
                raise BundleError(f"id must be an integer, got {value!r}", path=source,
                                  field=f"{where}.id")
        elif key == "iscrowd":
            if not (_is_int(value) or isinstance(value, (bool, np.bool_))):
                raise BundleError(f"iscrowd must be 0 or 1, got {value!r}", path=source,
                                  field=f"{where}.iscrowd")
        elif not _is_number(value):  # score, area
            raise BundleError(f"{key} must be a finite number, got {value!r}", path=source,
                              field=f"{where}.{key}")


_GT_FIELDS = (("id", True), ("image_id", True), ("category_id", True), ("bbox", True),
              ("area", False), ("iscrowd", False))
_DT_FIELDS = (("image_id", True), ("category_id", True), ("bbox", True), ("score", True))


def _columns(records, fields, name, source):
    """Fast path: the fields as numpy arrays; on any irregularity, ``_check_record`` names it.

    ``area`` stays a list (None where missing); ids are arrays of int64 or str.
    """
    try:
        cols = {}
        for key, required in fields:
            if required:
                cols[key] = [rec[key] for rec in records]
            else:
                cols[key] = [rec.get(key, None if key == "area" else 0) for rec in records]
        for key, values in cols.items():
            if key != "area":
                cols[key] = np.asarray(values)
        n = len(records)
        bbox = cols["bbox"] if n else np.zeros((0, 4))
        ok = n == 0 or (bbox.ndim == 2 and bbox.shape[1] == 4 and bbox.dtype.kind in "iuf"
                        and bool(np.all(np.isfinite(bbox))))
        # one value a record (a list such as [1] in every record would make a 2-d column)
        ok = ok and all(n == 0 or cols[key].ndim == 1 for key in cols if key not in ("bbox", "area"))
        if n and "score" in cols:
            score = cols["score"]
            ok = ok and score.dtype.kind in "iuf" and bool(np.all(np.isfinite(score)))
        if n and "iscrowd" in cols:
            ok = ok and cols["iscrowd"].dtype.kind in "iub"
        if n and "id" in cols:
            ok = ok and cols["id"].dtype.kind in "iu"
        for key in ("image_id", "category_id"):  # all ints or all strings; a mix is caught later
            ok = ok and (n == 0 or cols[key].dtype.kind in "iuU")
        if n and "area" in cols:
            ok = ok and all(a is None or _is_number(a) for a in cols["area"])
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        for i, rec in enumerate(records):
            _check_record(rec, i, fields, name, source)
        raise BundleError("inconsistent values", path=source, field=name or None)
    cols["bbox"] = np.ascontiguousarray(bbox, dtype=np.float64).reshape(-1, 4)
    return cols


def _parse_ground_truth(gt, source):
    if not isinstance(gt, dict):
        raise BundleError(f"ground truth must be an object with images, annotations and "
                          f"categories, got {_kind(gt)}", path=source)
    for key in ("images", "categories"):
        if not isinstance(gt.get(key), list):
            raise BundleError(f"{key} must be a list, got {_kind(gt.get(key))}", path=source,
                              field=key)
    annotations = gt.get("annotations", [])
    if not isinstance(annotations, list):
        raise BundleError(f"annotations must be a list, got {_kind(annotations)}", path=source,
                          field="annotations")
    img_ids = _sorted_ids(gt["images"], "images", source)
    cat_ids = _sorted_ids(gt["categories"], "categories", source)
    cols = _columns(annotations, _GT_FIELDS, "annotations", source)
    bbox = cols["bbox"]
    area = np.array([bbox[i, 2] * bbox[i, 3] if a is None else a
                     for i, a in enumerate(cols["area"])], dtype=np.float64)
    return _ground_truth_arrays(
        img_ids, cat_ids, np.asarray(cols["id"], dtype=np.int64),
        _id_values(cols["image_id"], img_ids, annotations, "image_id"),
        _id_values(cols["category_id"], cat_ids, annotations, "category_id"),
        bbox, area, np.asarray(cols["iscrowd"], dtype=bool).reshape(-1), source)


def _ground_truth_arrays(img_ids, cat_ids, ann_ids, image_values, category_values, bbox, area,
                         is_crowd, source):
    """The checks and lookups after decoding, shared by both readers."""
    uniq, first, counts = np.unique(ann_ids, return_index=True, return_counts=True)
    if np.any(counts > 1):
        dup = int(uniq[counts > 1][0])
        raise BundleError(f"annotation id {dup} is used more than once", path=source,
                          field=f"annotations[{int(first[counts > 1][0])}].id")
    image, img_ok = _lookup(img_ids, image_values)
    category, cat_ok = _lookup(cat_ids, category_values)
    keep = img_ok & cat_ok
    _warn_dropped(int((~keep).sum()), "ground-truth annotations", "image or category", source)
    return {
        "image_ids": img_ids, "category_ids": cat_ids,
        "image": image[keep], "category": category[keep], "bbox": bbox[keep],
        "area": area[keep], "is_crowd": is_crowd[keep], "id_is_zero": (ann_ids == 0)[keep],
    }


def _id_values(values, ids, records, key):
    """Ids as an array of the GT id kind; a value of another type never matches."""
    if ids.dtype.kind == "U":
        if values.dtype.kind == "U" and all(type(r[key]) is str for r in records):
            return values
        return np.array([r[key] if isinstance(r[key], str) else "\0" for r in records], dtype=str)
    if values.dtype.kind in "iu":
        return values.astype(np.int64, copy=False)
    return np.array([r[key] if _is_int(r[key]) else -(2**62) for r in records], dtype=np.int64)


def _warn_dropped(n, what, reason, source):
    if n:
        warnings.warn(f"{n} {what} are not evaluated: their {reason} is not listed in the "
                      f"ground truth ({source})", CocoInputWarning, stacklevel=5)


def _parse_results(dt, source, img_ids, cat_ids):
    if not isinstance(dt, list):
        raise BundleError(f"results must be a list of detections, got {_kind(dt)}", path=source)
    cols = _columns(dt, _DT_FIELDS, "", source)
    return _results_arrays(
        _id_values(cols["image_id"], img_ids, dt, "image_id"),
        _id_values(cols["category_id"], cat_ids, dt, "category_id"), cols["bbox"],
        np.asarray(cols["score"], dtype=np.float64).reshape(-1), img_ids, cat_ids, source,
        lambda i: dt[i]["image_id"])


def _results_arrays(image_values, category_values, bbox, score, img_ids, cat_ids, source,
                    raw_image_id):
    """The checks and lookups after decoding, shared by both readers."""
    image, img_ok = _lookup(img_ids, image_values)
    if not np.all(img_ok):
        i = int(np.argmin(img_ok))
        raise BundleError(f"image_id {raw_image_id(i)!r} is not an image of the ground truth",
                          path=source, field=f"[{i}].image_id")
    category, cat_ok = _lookup(cat_ids, category_values)
    dropped = int((~cat_ok).sum())
    _warn_dropped(dropped, "detections", "category", source)
    if not dropped:  # no copy
        return {"image": image, "category": category, "score": np.ascontiguousarray(score),
                "bbox": np.ascontiguousarray(bbox)}
    return {"image": image[cat_ok], "category": category[cat_ok], "score": score[cat_ok],
            "bbox": np.ascontiguousarray(bbox[cat_ok])}
