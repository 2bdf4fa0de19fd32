"""Helpers shared by several test modules (assertions, case generators); no tests here.

Test modules import from here, never from one another (ARCHITECTURE.md "Tests").
"""

from __future__ import annotations

import datetime
import enum
import math
import re
from pathlib import Path

import numpy as np

# --- kernels: byte-equal arrays, random COCO sets ----------------------------------------------------


def assert_identical(actual, expected):
    """Byte-equal arrays, reporting the first differing index, both values and the delta."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, (
        actual.shape, actual.dtype, expected.shape, expected.dtype)
    if actual.tobytes() != expected.tobytes():
        flat_a, flat_e = actual.reshape(-1), expected.reshape(-1)
        differs = flat_a.view(np.uint8).reshape(flat_a.size, -1) \
            != flat_e.view(np.uint8).reshape(flat_e.size, -1)
        i = int(np.flatnonzero(differs.any(axis=1))[0])
        idx = np.unravel_index(i, actual.shape)
        raise AssertionError(f"first difference at {idx}: got {flat_a[i]!r}, expected "
                             f"{flat_e[i]!r}, delta {flat_a[i] - flat_e[i]!r}")


def random_coco_case(rng, n_images=6, n_categories=3, n_det=40, n_gt=15, ties=False,
                     crowd_rate=0.15, scale=1.0):
    """Detections jittered from GTs plus strays, as the 11 arrays ``coco_evaluate`` takes.

    Returns (dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category, gt_xywh,
    gt_area, gt_is_crowd, gt_id_is_zero) with integer-ish boxes (so IoU ties and area
    boundaries happen) scaled by ``scale``.
    """
    gt_img = rng.integers(0, n_images, n_gt)
    gt_cat = rng.integers(0, n_categories, n_gt)
    gt = np.column_stack([rng.integers(0, 60, (n_gt, 2)), rng.integers(0, 50, (n_gt, 2))])
    gt = gt.astype(np.float64) * scale
    src = rng.integers(0, max(n_gt, 1), n_det)
    if n_gt:
        dt = np.abs(gt[src] + rng.integers(-4, 5, (n_det, 4)) * scale)
        dt_img = np.where(rng.random(n_det) < 0.7, gt_img[src], rng.integers(0, n_images, n_det))
        dt_cat = np.where(rng.random(n_det) < 0.8, gt_cat[src],
                          rng.integers(0, n_categories, n_det))
    else:
        dt = np.abs(rng.integers(0, 60, (n_det, 4))).astype(np.float64) * scale
        dt_img = rng.integers(0, n_images, n_det)
        dt_cat = rng.integers(0, n_categories, n_det)
    score = rng.random(n_det)
    if ties:
        score = np.round(score, 1)
    return (dt_img.astype(np.int64), dt_cat.astype(np.int64), score, dt, dt[:, 2] * dt[:, 3],
            gt_img.astype(np.int64), gt_cat.astype(np.int64), gt, gt[:, 2] * gt[:, 3],
            rng.random(n_gt) < crowd_rate, np.zeros(n_gt, bool))


# --- backends: score agreement -------------------------------------------------------------------


def first_difference(a: np.ndarray, b: np.ndarray) -> str:
    """Describe the first index where two arrays differ (for assertion messages)."""
    if a.shape != b.shape:
        return f"shapes differ: {a.shape} vs {b.shape}"
    bad = np.argwhere(a != b)
    if bad.size == 0:
        return "equal"
    idx = tuple(bad[0])
    return f"first difference at {idx}: {a[idx]!r} vs {b[idx]!r} (delta {a[idx] - b[idx]!r})"


def assert_agreement(reference: np.ndarray, other: np.ndarray, tolerance: float) -> dict:
    """Assert two score arrays (N, ..., K) differ by <= tolerance and flip top-1 only at near-ties.

    If every score moves by at most ``tolerance``, the top-1 class can only change where the
    reference's two best scores are within ``2 * tolerance``; any other flip is a bug, not
    quantisation. Returns the measured numbers for reports.
    """
    ref = reference.reshape(-1, reference.shape[-1])
    oth = other.reshape(-1, other.shape[-1])
    delta = np.abs(ref - oth)
    worst = np.unravel_index(np.argmax(delta), delta.shape)
    assert delta.max() <= tolerance, (
        f"max |diff| {delta.max():.6f} > {tolerance} at {worst}: {ref[worst]} vs {oth[worst]}")
    flipped = np.flatnonzero(ref.argmax(1) != oth.argmax(1))
    top2 = np.sort(ref, axis=1)[:, -2:]
    gap = top2[:, 1] - top2[:, 0]
    far = flipped[gap[flipped] > 2 * tolerance]
    assert far.size == 0, f"top-1 flipped at row {far[0]} with a score gap of {gap[far[0]]:.4f}"
    return {"top1_agreement": 1.0 - flipped.size / ref.shape[0], "max_abs_diff": float(delta.max()),
            "n_rows": int(ref.shape[0])}


# --- fixtures: trained files equal within a tolerance (fixtures/README.md "Determinism") -----------


# Relative tolerance for trained weights and numbers derived from them across CPUs: full-batch
# Adam over ~1500 steps amplifies last-bit BLAS rounding differences to ~1e-6 relative.
TRAINED_RTOL = 1e-3


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def close_text(a: str, b: str) -> bool:
    """Same text once numbers are masked, and the numbers equal within TRAINED_RTOL."""
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    xa = np.array([float(v) for v in _NUMBER.findall(a)])
    xb = np.array([float(v) for v in _NUMBER.findall(b)])
    return xa.shape == xb.shape and np.allclose(xa, xb, rtol=TRAINED_RTOL, atol=1e-3)


def close_onnx(a: Path, b: Path) -> bool:
    """Same graph, initialisers within TRAINED_RTOL (integer tensors within one step)."""
    import onnx
    from onnx import numpy_helper

    ma, mb = onnx.load(str(a)), onnx.load(str(b))
    inits_a = {i.name: numpy_helper.to_array(i) for i in ma.graph.initializer}
    inits_b = {i.name: numpy_helper.to_array(i) for i in mb.graph.initializer}
    for model in (ma, mb):
        del model.graph.initializer[:]
    if ma.SerializeToString() != mb.SerializeToString() or inits_a.keys() != inits_b.keys():
        return False
    for key, va in inits_a.items():
        vb = inits_b[key]
        atol = 1 if np.issubdtype(va.dtype, np.integer) else 0
        if va.shape != vb.shape or not np.allclose(va.astype(np.float64), vb.astype(np.float64),
                                                   rtol=TRAINED_RTOL, atol=atol):
            return False
    return True


# --- whole-run byte tests ---------------------------------------------------------------------------

#: Every committed fixture bundle (fixtures/), as the whole-run tests parametrize over them.
ALL_BUNDLES = ["motion", "motion-gmm", "regression", "gestures-real", "temperature-regression", "kws",
               "coffee-multilabel", "image", "fomo", "yolov5", "ssd", "visual-anomaly", "akida", "motion-sliced"]


# --- the official client as an oracle (tests/test_client_oracle.py, tests/test_serve.py) -----------


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _as_json_value(value):
    """A validated model's Python value as the JSON value it was read from: an enum member as its
    value; a ``datetime`` stays one (compared with our text read as a datetime)."""
    return value.value if isinstance(value, enum.Enum) else value


def client_differences(got, want, path: str = "$", limit: int = 10) -> list[str]:
    """Where ``got`` (the client's ``to_dict()``) differs from ``want`` (``json.loads`` of our bytes).

    JSON numbers compare by value (the client keeps a float field's ``1`` as ``1.0``), booleans
    only with booleans; a date-time the client validated compares as the instant our text names.
    """
    got = _as_json_value(got)
    if isinstance(got, datetime.datetime) and isinstance(want, str):
        same = got == datetime.datetime.fromisoformat(want) and got.tzinfo is not None
        return [] if same else [f"{path}: client gives {got.isoformat()}, ours is {want}"]
    if _kind(got) != _kind(want):
        return [f"{path}: client gives {_kind(got)} {got!r:.80}, ours is {_kind(want)} {want!r:.80}"]
    if isinstance(want, dict):
        out = [f"{path}.{key}: missing from the client's model" for key in want if key not in got]
        out += [f"{path}.{key}: only in the client's model" for key in got if key not in want]
        for key in want:
            if key in got and len(out) < limit:
                out += client_differences(got[key], want[key], f"{path}.{key}", limit)
        return out[:limit]
    if isinstance(want, list):
        if len(got) != len(want):
            return [f"{path}: {len(got)} items from the client, {len(want)} in ours"]
        out = []
        for i, (a, b) in enumerate(zip(got, want)):
            if len(out) >= limit:
                break
            out += client_differences(a, b, f"{path}[{i}]", limit)
        return out[:limit]
    if _kind(want) == "number":
        same = got == want or (math.isnan(got) and math.isnan(want))
    else:
        same = got == want
    return [] if same else [f"{path}: client gives {got!r:.80}, ours is {want!r:.80}"]


def default_sigint() -> None:
    """``preexec_fn`` for a child that a test stops with Ctrl-C (SIGINT).

    A shell starts background jobs (``cmd &``, ``nohup``) with SIGINT ignored and children inherit
    that; Python then installs no KeyboardInterrupt handler, so the Ctrl-C tests would depend on
    how pytest was launched. The child gets the default disposition back, as in a terminal.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def score_fomo_heatmap(heatmap, bounding_boxes, input_wh, threshold):
    """A FOMO heat map scored the way a run scores it: decoded in the map
    (``learn.fomo.decode_fomo``), scored in the reduce (``metrics.fomo.score_fomo_detections``)."""
    from evalcore.learn.fomo import decode_fomo, heatmap_shape
    from evalcore.metrics.fomo import score_fomo_detections

    boxes, labels, scores = decode_fomo(heatmap, threshold)
    return score_fomo_detections(boxes, labels, scores, heatmap_shape(heatmap), bounding_boxes, input_wh)
