"""kernels.nms against the naive TF-semantics reference in tests/naive.py and against TensorFlow's own
outputs, frozen in fixtures/nms-reference/ by fixtures/build_nms_reference.py (tensorflow-cpu 2.21.0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernels.nms import non_max_suppression
from tests.naive import naive_non_max_suppression


def assert_same_indices(actual, expected):
    """Identical selected index lists, reporting the first difference."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == np.int64, f"dtype {actual.dtype}"
    if actual.shape != expected.shape or not np.array_equal(actual, expected):
        n = min(actual.shape[0], expected.shape[0])
        diff = np.flatnonzero(actual[:n] != expected[:n])
        where = int(diff[0]) if diff.size else n
        pytest.fail(f"selected differ at position {where}: got {actual.tolist()} want {expected.tolist()}")


def _random_boxes(rng, n_boxes, scale):
    centre = rng.uniform(0, scale, size=(n_boxes, 2))
    size = rng.uniform(0, scale / 3, size=(n_boxes, 2))
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    flip = rng.random(n_boxes) < 0.1  # TF accepts either corner order
    boxes[flip] = boxes[flip][:, [2, 3, 0, 1]]
    return boxes.astype(np.float32)


@pytest.mark.parametrize("seed", range(60))
def test_nms_matches_naive_on_random_boxes(seed):
    """Order, strict IoU / score comparisons and float32 IoU must agree with the reference."""
    rng = np.random.default_rng(seed)
    n_boxes = int(rng.integers(0, 60))
    boxes = _random_boxes(rng, n_boxes, scale=float(rng.choice([1.0, 96.0, 320.0])))
    scores = rng.random(n_boxes).astype(np.float32)
    if n_boxes and seed % 3 == 0:
        scores = np.round(scores * 4).astype(np.float32) / 4  # many ties
    max_out = int(rng.integers(0, n_boxes + 2))
    got = non_max_suppression(boxes, scores, max_out, 0.4, 0.001)
    assert_same_indices(got, naive_non_max_suppression(boxes, scores, max_out, 0.4, 0.001))


def test_nms_edges():
    """Empty input, zero-area boxes (IoU 0), score threshold strictness, IoU exactly at threshold."""
    empty = non_max_suppression(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 10, 0.4, 0.001)
    assert empty.shape == (0,)
    same = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]], dtype=np.float32)
    kept = non_max_suppression(same, np.array([0.5, 0.9, 0.7], np.float32), 10, 0.4, 0.001)
    assert kept.tolist() == [1, 2], "duplicate suppressed; zero-area box never overlaps"
    low = non_max_suppression(same[:1], np.array([0.001], np.float32), 10, 0.4, 0.001)
    assert low.tolist() == [], "score == score_threshold is not a candidate (strict >)"
    inner = np.array([[0, 0, 1, 1], [0, 0, 1, 0.4]], dtype=np.float32)  # IoU == float32(0.4)
    assert non_max_suppression(inner, np.array([0.9, 0.8], np.float32), 10, 0.4, 0.001).tolist() == [0, 1]
    tied = np.array([[0, 0, 1, 1], [5, 5, 6, 6], [0, 0, 1, 1]], dtype=np.float32)
    assert non_max_suppression(tied, np.array([0.5, 0.5, 0.5], np.float32), 10, 0.4, 0.001).tolist() == [0, 1]


def test_nms_contract_errors():
    """float64 boxes or mismatched scores must raise rather than change precision silently."""
    with pytest.raises(TypeError):
        non_max_suppression(np.zeros((1, 4)), np.zeros(1, np.float32), 1, 0.4, 0.001)
    with pytest.raises(ValueError):
        non_max_suppression(np.zeros((2, 4), np.float32), np.zeros(1, np.float32), 1, 0.4, 0.001)
    with pytest.raises(ValueError):
        non_max_suppression(np.zeros((1, 4), np.float32), np.zeros(1, np.float32), -1, 0.4, 0.001)


# -- TensorFlow's own outputs, frozen by fixtures/build_nms_reference.py --------------------------

TF_REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "nms-reference" / "tf_nms_cases.npz"
TF_KINDS = ["ei", "random", "ties", "degenerate", "clusters", "score-threshold", "iou-exact"]


@pytest.fixture(scope="module")
def tf_reference():
    """The stored inputs and ``tf.image.non_max_suppression`` outputs (no TensorFlow needed)."""
    with np.load(TF_REFERENCE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _tf_cases(reference, kind=None):
    """(case number, boxes, scores, max_output_size, iou, score threshold, TF's selection) of one
    kind (all cases with ``kind=None``)."""
    box_at, selected_at = reference["box_offsets"], reference["selected_offsets"]
    numbers = range(reference["kind"].shape[0]) if kind is None else np.flatnonzero(reference["kind"] == kind)
    for c in numbers:
        rows = slice(box_at[c], box_at[c + 1])
        yield (int(c), reference["boxes"][rows], reference["scores"][rows], int(reference["max_output_size"][c]),
               float(reference["iou_threshold"][c]), float(reference["score_threshold"][c]),
               reference["selected"][selected_at[c] : selected_at[c + 1]])


def test_tf_reference_file_is_what_the_script_describes(tf_reference):
    """Without it a regenerated file with fewer cases, another TF version or no suppression at all
    (every box kept) would let the comparison below pass on easy cases only."""
    assert str(tf_reference["tf_version"]) == "2.21.0"
    assert sorted(set(tf_reference["kind"].tolist())) == sorted(TF_KINDS)
    n_cases = tf_reference["kind"].shape[0]
    assert n_cases >= 300
    assert tf_reference["box_offsets"].shape == tf_reference["selected_offsets"].shape == (n_cases + 1,)
    assert tf_reference["boxes"].dtype == tf_reference["scores"].dtype == np.float32
    n_suppressed = n_cut = n_empty = 0
    for _, _, scores, max_out, _, score, want in _tf_cases(tf_reference):
        candidates = int(np.sum(scores > np.float32(score)))
        n_suppressed += want.shape[0] < min(candidates, max_out)
        n_cut += want.shape[0] == max_out < candidates
        n_empty += want.shape[0] == 0
    assert n_suppressed >= 50, "too few cases where IoU suppressed a box"
    assert n_cut >= 50, "too few cases cut by max_output_size"
    assert n_empty >= 5, "too few cases selecting nothing"


@pytest.mark.oracle
@pytest.mark.parametrize("kind", TF_KINDS)
def test_nms_matches_tensorflow(tf_reference, kind):
    """Without it the kernel would be held only to our own reading of the op (tests/naive.py): a
    misread of TF's tie order, threshold strictness or float32 IoU would pass both."""
    n_checked = 0
    for case, boxes, scores, max_out, iou, score, want in _tf_cases(tf_reference, kind):
        got = non_max_suppression(boxes, scores, max_out, iou, score)
        assert got.shape[0] == want.shape[0], f"case {case}: {got.shape[0]} selected, TensorFlow {want.shape[0]}"
        assert_same_indices(got, want)
        n_checked += 1
    assert n_checked >= 30
