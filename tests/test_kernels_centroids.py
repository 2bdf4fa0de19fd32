"""kernels.centroids against the naive references in tests/naive.py (random inputs + named edges)."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.centroids import fuse_heatmap_cells, match_nearest_centroids
from tests.naive import naive_fuse_heatmap_cells, naive_match_nearest_centroids


def assert_same_array(actual, expected, name):
    """Bit-identical arrays (same dtype, shape and bytes); report the first difference."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    if actual.tobytes() != expected.tobytes():
        diff = np.flatnonzero(~((actual == expected) | (np.isnan(actual) & np.isnan(expected))).ravel())
        i = int(diff[0]) if diff.size else 0
        a, e = actual.ravel()[i], expected.ravel()[i]
        pytest.fail(f"{name}: first difference at flat index {i}: {a!r} != {e!r} (delta {a - e!r})")


def _random_heatmap(rng, n_rows, n_cols, n_classes, sparsity):
    logits = rng.normal(size=(n_rows, n_cols, n_classes))
    logits[..., 0] += sparsity
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    return probs.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("seed", range(40))
def test_fuse_matches_naive_on_random_heatmaps(seed):
    """Fusing order / union / max-score drift from EI's single pass would change every FOMO box."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = rng.integers(1, 25, size=2)
    n_classes = int(rng.integers(1, 5))
    heatmap = _random_heatmap(rng, n_rows, n_cols, n_classes, sparsity=rng.uniform(0, 4))
    threshold = float(rng.choice([0.1, 0.3, 0.5, 0.7]))
    got = fuse_heatmap_cells(heatmap, threshold)
    want = naive_fuse_heatmap_cells(heatmap, threshold)
    for name, a, e in zip(("boxes", "labels", "scores"), got, want):
        assert_same_array(a, e, name)


def test_fuse_strict_threshold_and_nan():
    """A cell equal to the threshold (or NaN) must not predict: EI uses strict ``>``."""
    heatmap = np.zeros((2, 2, 2))
    heatmap[0, 0, 1] = 0.5
    heatmap[1, 1, 1] = np.nan
    boxes, labels, scores = fuse_heatmap_cells(heatmap, 0.5)
    assert boxes.shape == (0, 4) and labels.shape == (0,) and scores.shape == (0,)


def test_fuse_diagonal_touch_and_non_transitive():
    """Diagonal neighbours merge; a later bridging cell joins only the first box (two boxes stay)."""
    heatmap = np.zeros((4, 4, 2))
    # row 0: cells (0,0) and (0,2) are separate boxes; (1,1) touches both diagonally
    for r, c, p in ((0, 0, 0.9), (0, 2, 0.8), (1, 1, 0.95)):
        heatmap[r, c, 1] = p
    boxes, labels, scores = fuse_heatmap_cells(heatmap, 0.5)
    assert_same_array(boxes, np.array([[0.0, 0.0, 0.5, 0.5], [0.0, 0.5, 0.25, 0.75]]), "boxes")
    assert_same_array(labels, np.array([1, 1], dtype=np.int32), "labels")
    assert_same_array(scores, np.array([0.95, 0.8]), "scores")


def test_fuse_background_only_and_classes_separate():
    """K = 1 predicts nothing; equal cells of different classes never merge (class-by-class order)."""
    assert fuse_heatmap_cells(np.ones((3, 3, 1)), 0.5)[0].shape == (0, 4)
    heatmap = np.zeros((1, 2, 3))
    heatmap[0, 0, 2] = 0.9
    heatmap[0, 1, 1] = 0.9
    boxes, labels, _ = fuse_heatmap_cells(heatmap, 0.5)
    assert_same_array(labels, np.array([1, 2], dtype=np.int32), "labels")
    assert_same_array(boxes, np.array([[0.0, 0.5, 1.0, 1.0], [0.0, 0.0, 1.0, 0.5]]), "boxes")


def test_fuse_contract_errors():
    """float32 or 2-D input must be refused, not silently reinterpreted."""
    with pytest.raises(TypeError):
        fuse_heatmap_cells(np.zeros((2, 2, 2), dtype=np.float32), 0.5)
    with pytest.raises(ValueError):
        fuse_heatmap_cells(np.zeros((2, 2)), 0.5)


@pytest.mark.parametrize("seed", range(40))
def test_match_matches_naive_on_random_centroids(seed):
    """Greedy many-to-one matching (order, inclusive 0.2, strictly-closer replacement) must hold."""
    rng = np.random.default_rng(1000 + seed)
    n_pred, n_true = rng.integers(0, 12, size=2)
    n_labels = int(rng.integers(1, 4))
    # coarse grid values create exact distance ties and exact-0.2 distances
    pred = rng.integers(0, 11, size=(n_pred, 2)) / 10.0
    true = rng.integers(0, 11, size=(n_true, 2)) / 10.0
    pred_labels = rng.integers(1, n_labels + 1, size=n_pred).astype(np.int32)
    true_labels = rng.integers(-1, n_labels + 1, size=n_true).astype(np.int32)
    got = match_nearest_centroids(pred, pred_labels, true, true_labels, 0.2)
    want = naive_match_nearest_centroids(pred, pred_labels, true, true_labels, 0.2)
    for name, a, e in zip(("matched_true", "matched_distance", "pair_pred", "pair_true", "pair_distance"), got, want):
        assert_same_array(a, e, name)


def test_match_edges():
    """Empty sides, the inclusive bound, a tie (first GT kept) and many preds on one GT."""
    empty = np.zeros((0, 2))
    none = np.zeros(0, dtype=np.int32)
    got = match_nearest_centroids(empty, none, np.array([[0.5, 0.5]]), np.array([1], dtype=np.int32), 0.2)
    assert got[0].shape == (0,) and got[2].shape == (0,)
    pred = np.array([[0.5, 0.5], [0.5, 0.6], [0.5, 0.9]])
    true = np.array([[0.5, 0.4], [0.5, 0.6]])
    labels = np.array([1, 1, 1], dtype=np.int32)
    matched, dist, *_ = match_nearest_centroids(pred, labels, true, np.array([1, 1], dtype=np.int32), 0.2)
    # pred 0 ties between both GTs (0.1 each, within float rounding): first wins unless strictly closer
    want = naive_match_nearest_centroids(pred, labels, true, np.array([1, 1], dtype=np.int32), 0.2)
    assert_same_array(matched, want[0], "matched_true")
    assert matched[1] == 1 and matched[2] == -1
    one = np.array([1], dtype=np.int32)
    exact = match_nearest_centroids(np.array([[0.0, 0.0]]), one, np.array([[0.0, 0.2]]), one, 0.2)
    assert exact[0].tolist() == [0], "a distance of exactly max_distance must match (inclusive)"


def test_match_contract_errors():
    """Wrong label dtype or mismatched lengths must raise instead of reading garbage."""
    no_true, no_labels = np.zeros((0, 2)), np.zeros(0, dtype=np.int32)
    with pytest.raises(TypeError):
        match_nearest_centroids(np.zeros((1, 2)), np.zeros(1, dtype=np.int64), no_true, no_labels, 0.2)
    with pytest.raises(ValueError):
        match_nearest_centroids(np.zeros((2, 2)), np.zeros(1, dtype=np.int32), no_true, no_labels, 0.2)
