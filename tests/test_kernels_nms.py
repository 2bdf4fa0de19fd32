"""kernels.nms against the naive TF-semantics reference in tests/naive.py."""

from __future__ import annotations

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
