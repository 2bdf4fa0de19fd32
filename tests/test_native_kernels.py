"""The coco-eval kernels' saved machine code (``kernels._native``) against the numba kernels.

The saved code must give the numba path's bits on every COCO set the other tests use (and
pycocotools' own, where it is installed), must never be trusted when stale, damaged or not
resolvable (the numba path then runs and the code is rebuilt), and must spare a fresh
``evalcore coco-eval`` process the numba import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evalcore import coco_eval
from evalcore.metrics.coco import AREA_RANGES, IOU_THRESHOLDS, RECALL_THRESHOLDS, evaluate_boxes
from kernels import _native, coco_entries
from kernels.coco_accumulate import coco_accumulate
from kernels.coco_common import HEAD, TAIL, WHOLE, split_point
from kernels.coco_entries import COCO
from kernels.coco_evaluate import coco_evaluate
from kernels.coco_json import parse_results
from tests._helpers import random_coco_case

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The entries compiled and saved once, in a directory of their own; the file's bytes."""
    path = tmp_path_factory.mktemp("native") / "evalcore-coco-native.bin"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_native, "native_path", lambda kset: str(path))
        assert _native.build(COCO)
    return path, path.read_bytes()


@pytest.fixture
def native_file(saved, monkeypatch):
    """``native_path`` points at a freshly written copy of the saved code; no load cached."""
    path, data = saved
    path.write_bytes(data)
    monkeypatch.setattr(_native, "native_path", lambda kset: str(path))
    monkeypatch.setattr(_native, "_loaded", {})
    monkeypatch.setattr(coco_eval, "_kernels_ready", False)
    return path


@pytest.fixture
def native(native_file):
    entries = _native._load(COCO)
    assert entries is not None
    return coco_entries.CocoKernels(entries)


def _numba_arrays(case, n_images, n_categories, max_dets=(1, 10, 100), thresholds=IOU_THRESHOLDS):
    table = coco_evaluate(*case, n_images=n_images, n_categories=n_categories,
                          iou_thresholds=thresholds, area_ranges=AREA_RANGES,
                          max_det=max_dets[-1])
    return coco_accumulate(table.det_rank, table.score, table.codes, table.has_candidate,
                           table.category_offsets, table.n_positives,
                           recall_thresholds=RECALL_THRESHOLDS,
                           max_dets=np.array(max_dets, dtype=np.int64))


def _assert_same_bits(got, want):
    for name, g, w in zip(("precision", "recall", "scores"), got, want):
        assert g.shape == w.shape and g.tobytes() == w.tobytes(), name


_CASES = [  # (seed, random_coco_case keywords, max_dets, IoU thresholds)
    (0, {}, (1, 10, 100), None),
    (1, {"n_det": 400, "n_gt": 60, "ties": True}, (1, 10, 100), None),
    (2, {"n_det": 200, "n_gt": 40, "crowd_rate": 0.5}, (1, 10, 100), None),
    (3, {"n_det": 0, "n_gt": 12}, (1, 10, 100), None),
    (4, {"n_det": 30, "n_gt": 0}, (1, 10, 100), None),
    (5, {"n_det": 300, "n_gt": 30, "n_images": 2, "n_categories": 2, "ties": True},
     (1, 5, 20), None),
    (6, {"n_det": 3000, "n_gt": 300, "n_images": 40, "n_categories": 7, "ties": True},
     (1, 10, 100), None),  # categories above the radix-sort threshold
    (7, {"n_det": 120, "n_gt": 30}, (1, 10, 100), np.linspace(0.3, 0.9, 7)),
]


@pytest.mark.parametrize(("seed", "kw", "max_dets", "thresholds"), _CASES)
def test_saved_code_gives_the_numba_kernels_bits(native, seed, kw, max_dets, thresholds):
    """Without it the native path could drift from the jitted one (the oracle tests run either)."""
    case = list(random_coco_case(np.random.default_rng(seed), **kw))
    if seed == 7:
        case[10] = np.random.default_rng(seed).random(case[5].size) < 0.3  # GT ids of 0
    n_images, n_categories = kw.get("n_images", 6), kw.get("n_categories", 3)
    thresholds = IOU_THRESHOLDS if thresholds is None else thresholds
    want = _numba_arrays(case, n_images, n_categories, max_dets, thresholds)
    for threads in (1, 2, 3):
        got = native.evaluate_accumulate(*case, n_images, n_categories, thresholds, AREA_RANGES,
                                         max_dets[-1], RECALL_THRESHOLDS,
                                         np.array(max_dets), threads=threads)
        _assert_same_bits(got, want)


def test_evaluate_boxes_uses_the_saved_code_and_words_index_errors_as_numba(native, monkeypatch):
    """Out-of-range indices: the saved code declines and numba's check raises the usual error."""
    calls = []

    def counting():
        calls.append(1)
        return native

    monkeypatch.setattr(coco_entries, "coco_kernels", counting)
    case = list(random_coco_case(np.random.default_rng(11), n_det=80, n_gt=20))
    del case[4]  # evaluate_boxes computes the detections' areas
    got = evaluate_boxes(*case, n_images=6, n_categories=3)
    monkeypatch.setattr(coco_entries, "coco_kernels", lambda: None)
    want = evaluate_boxes(*case, n_images=6, n_categories=3)
    assert calls and got.stats.tobytes() == want.stats.tobytes()
    _assert_same_bits((got.precision, got.recall, got.scores),
                      (want.precision, want.recall, want.scores))
    case[0] = case[0].copy()
    case[0][3] = 6
    monkeypatch.setattr(coco_entries, "coco_kernels", counting)
    with pytest.raises(ValueError, match="out of range"):
        evaluate_boxes(*case, n_images=6, n_categories=3)


@pytest.mark.oracle
def test_saved_code_matches_pycocotools(native, monkeypatch):
    """The oracle sets of test_coco_oracle.py, evaluated by the saved code."""
    pytest.importorskip("pycocotools")
    from tests import test_coco_oracle as oracle

    monkeypatch.setattr(coco_entries, "coco_kernels", lambda: native)
    for seed, kw in ((0, {"n_det": 60, "n_gt": 20}), (100, {"n_det": 80, "n_gt": 20, "ties": True}),
                     (200, {"n_det": 70, "n_gt": 20, "crowd_rate": 0.5}),
                     (1000, {"n_det": 3000, "n_gt": 300, "n_images": 40, "n_categories": 2,
                             "ties": True})):
        case = oracle._case(seed, **kw)
        oracle.assert_same_as_pycocotools(*oracle.to_coco(case, kw.get("n_images", 6),
                                                          kw.get("n_categories", 3)))
    case = oracle._case(700, n_det=60, n_gt=15)
    gt, dt = oracle.to_coco(case, 6, 3, first_ann_id=0)
    oracle.assert_same_as_pycocotools(gt, dt, iou_thresholds=np.linspace(0.3, 0.9, 7))


def _results_bytes(rng, n, spans=False):
    recs = []
    for _ in range(n):
        box = [round(float(v), 2) for v in rng.random(4) * 100]
        score = float(rng.random()) if spans else round(float(rng.random()), 3)
        recs.append({"image_id": int(rng.integers(1, 9)), "category_id": int(rng.integers(1, 4)),
                     "bbox": box, "score": score})
    text = json.dumps(recs)
    if spans:  # 19 significant digits: left to the caller as byte spans
        text = text.replace('"score": 0.', '"score": 0.1234567890123456789', 3)
    return text.encode()


@pytest.mark.parametrize("data", [
    _results_bytes(np.random.default_rng(0), 50),
    _results_bytes(np.random.default_rng(1), 30, spans=True),
    b"[]",
    b'[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5, "x": 1}]',
    b'[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}',
])
def test_saved_scanner_gives_the_numba_scanners_columns(native, data):
    split = split_point(data, len(data) // 2)
    parts = [(data, WHOLE)]
    if split is not None:
        parts += [(data[:split[0]], HEAD), (data[split[1]:], TAIL)]
    for part_data, part in parts:
        def scan(function, part_data=part_data, part=part):
            capacity = len(part_data) // 57 + 1
            out = (np.zeros((2, capacity), np.int64), np.zeros((capacity, 4)),
                   np.zeros((capacity, 1)), np.zeros((capacity, 3), np.int64))
            counts = function(np.frombuffer(part_data, np.uint8), *out, part)
            return counts, out

        (got_counts, got), (want_counts, want) = scan(native.parse_results), scan(parse_results)
        assert got_counts == tuple(want_counts)
        rows, n_spans, _ = want_counts
        assert got[0][:, :rows].tobytes() == want[0][:, :rows].tobytes()
        assert got[1][:rows].tobytes() == want[1][:rows].tobytes()
        assert got[2][:rows].tobytes() == want[2][:rows].tobytes()
        assert got[3][:n_spans].tobytes() == want[3][:n_spans].tobytes()


def test_category_ranges_split_the_rows_about_evenly():
    category = np.repeat(np.arange(4), [10, 10, 10, 70])
    assert coco_entries._category_bounds(category, category[:0], 4, 2).tolist() == [0, 3, 4]
    assert coco_entries._category_bounds(category, category[:0], 4, 1).tolist() == [0, 4]
    assert coco_entries._category_bounds(category, category[:0], 1, 2).tolist() == [0, 1]
    bounds = coco_entries._category_bounds(np.arange(100) % 10, np.arange(50) % 10, 10, 3)
    assert bounds[0] == 0 and bounds[-1] == 10 and np.all(np.diff(bounds) > 0)
    huge = np.array([0, 2**40])  # out of range: one range, and no table of 2**40 counts
    assert coco_entries._category_bounds(huge, category[:0], 4, 2).tolist() == [0, 4]


# --- trust: stale, damaged, unresolvable, unwritable -------------------------------------------


def _write_coco_files(folder):
    case = random_coco_case(np.random.default_rng(21), n_det=150, n_gt=40)
    from tests.test_coco_oracle import to_coco

    gt, dt = to_coco(case, 6, 3)
    gt_path, dt_path = folder / "gt.json", folder / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dt))
    return gt_path, dt_path


def _numba_stats(gt_path, dt_path, monkeypatch):
    """The numba path's result (nothing saved or built meanwhile)."""
    with monkeypatch.context() as mp:
        mp.setattr(coco_entries, "coco_kernels", lambda: None)
        mp.setattr(_native, "can_build", lambda kset: False)
        mp.setattr(coco_eval, "_kernels_ready", False)
        return coco_eval.load_coco_files(gt_path, dt_path).evaluate()


def _damage(data, how):
    start = len(_native._MAGIC)
    if how == "stale key":
        return data[:start] + bytes(32) + data[start + 32:]
    if how == "truncated":
        return data[:len(data) // 2]
    if how == "flipped byte":
        i = len(data) - 100
        return data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
    if how == "empty":
        return b""
    return b"\x7fELF" + os.urandom(500)


@pytest.mark.parametrize("how", ["stale key", "truncated", "flipped byte", "empty", "garbage"])
def test_stale_or_damaged_code_is_not_trusted_and_is_rebuilt(native_file, tmp_path, monkeypatch,
                                                             how):
    """Without it a process could run another version's (or a half-written file's) machine code."""
    gt_path, dt_path = _write_coco_files(tmp_path)
    want = _numba_stats(gt_path, dt_path, monkeypatch)
    good = native_file.read_bytes()
    native_file.write_bytes(_damage(good, how))
    assert _native._load(COCO) is None
    got = coco_eval.evaluate_coco_files(gt_path, dt_path)  # numba path, then a rebuild
    assert got.stats.tobytes() == want.stats.tobytes()
    assert got.precision.tobytes() == want.precision.tobytes()
    assert _native._unpack(native_file.read_bytes(), _native._key(_llvm(), COCO), COCO) is not None
    monkeypatch.setattr(_native, "_loaded", {})
    monkeypatch.setattr(coco_eval, "_kernels_ready", False)
    assert coco_entries.coco_kernels() is not None
    again = coco_eval.evaluate_coco_files(gt_path, dt_path)  # the rebuilt code
    assert again.stats.tobytes() == want.stats.tobytes()


@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_code_others_may_change_is_not_run(native_file, mode):
    """Without it anyone who can write the saved file (a group-writable cache, a shared temporary
    folder) could make every coco-eval run their machine code as this user."""
    assert _native._load(COCO) is not None
    native_file.chmod(mode)
    assert _native._load(COCO) is None
    native_file.chmod(0o644)
    assert _native._load(COCO) is not None


def test_the_temporary_cache_folder_is_this_users_own(tmp_path, monkeypatch):
    """Without it a folder another user made first in /tmp would hold our numba cache: their
    pickles and machine code loaded as ours."""
    from kernels import _cache

    monkeypatch.setattr(_cache.tempfile, "gettempdir", lambda: str(tmp_path))
    assert _cache._temp_cache_dir() == str(tmp_path / f"evalcore-numba-{os.getuid()}")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert not _cache.owned_by_this_user(shared)
    shared.chmod(0o755)
    assert _cache.owned_by_this_user(shared)


def _llvm():
    import llvmlite.binding as llvm

    return llvm


def test_an_unresolvable_symbol_refuses_the_code(native_file, monkeypatch):
    """MCJIT aborts the process on an unresolved symbol, so each one is checked first."""
    llvm = _llvm()
    real = llvm.address_of_symbol
    monkeypatch.setattr(llvm, "address_of_symbol",
                        lambda name: None if name.startswith("NRT_MemInfo_alloc") else real(name))
    assert _native._load(COCO) is None


def test_unwritable_cache_dir_still_gives_the_right_numbers(tmp_path, monkeypatch, saved):
    """No saved code and nowhere to save it: the numba kernels, and no error."""
    gt_path, dt_path = _write_coco_files(tmp_path)
    want = _numba_stats(gt_path, dt_path, monkeypatch)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setattr(_native, "native_path", lambda kset: str(blocker / "cache" / "x.bin"))
    monkeypatch.setattr(_native, "_loaded", {})
    monkeypatch.setattr(coco_eval, "_kernels_ready", False)
    got = coco_eval.evaluate_coco_files(gt_path, dt_path)
    assert got.stats.tobytes() == want.stats.tobytes()
    assert not _native.build(COCO)
    # saved code in a read-only directory is still read
    folder = tmp_path / "read-only"
    folder.mkdir()
    (folder / "x.bin").write_bytes(saved[1])
    folder.chmod(0o555)
    try:
        monkeypatch.setattr(_native, "native_path", lambda kset: str(folder / "x.bin"))
        assert _native._load(COCO) is not None
    finally:
        folder.chmod(0o755)


def test_a_fresh_coco_eval_process_with_saved_code_does_not_import_numba(saved, tmp_path,
                                                                          monkeypatch):
    """The point of the saved code: ``python -m evalcore coco-eval`` without numba's import."""
    path, data = saved
    path.write_bytes(data)
    gt_path, dt_path = _write_coco_files(tmp_path)
    want = _numba_stats(gt_path, dt_path, monkeypatch).format_stats()
    env = dict(os.environ, NUMBA_CACHE_DIR=str(path.parent), PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "evalcore", "coco-eval",
                          str(gt_path), str(dt_path)], capture_output=True, text=True, env=env,
                         cwd=REPO, check=True)
    imported = {line.rpartition("|")[2].strip() for line in out.stderr.splitlines()
                if line.startswith("import time:")}
    assert "kernels._native" in imported and "llvmlite.binding" in imported
    assert not {m for m in imported if m == "numba" or m.startswith("numba.")}
    assert out.stdout == want


def test_a_failed_build_is_not_tried_again_for_the_same_key(tmp_path, monkeypatch):
    """A compiler that fails on these sources would otherwise cost seconds on every run."""
    from kernels import coco_native

    monkeypatch.setattr(_native, "native_path", lambda kset: str(tmp_path / "x.bin"))
    assert _native.can_build(COCO)

    def failing():
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(coco_native, "compile_entries", failing)
    with pytest.raises(RuntimeError):
        _native.build(COCO)
    assert not _native.can_build(COCO) and not (tmp_path / "x.bin").exists()
    (tmp_path / "x.bin.failed").write_bytes(b"another key")
    assert _native.can_build(COCO)
