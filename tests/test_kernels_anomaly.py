"""kernels.anomaly (K-means and GMM scores) against naive references and sklearn."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.anomaly import (
    SDK_KMEANS_INITIAL_MIN,
    gmm_log_likelihood,
    kmeans_anomaly_scores,
    kmeans_anomaly_scores_sdk_f32,
)
from tests.naive import (
    naive_gmm_log_likelihood,
    naive_kmeans_anomaly_scores,
    naive_kmeans_anomaly_scores_sdk_f32,
)

# The naive GMM sums in a different order (Python sum over generator terms); the two agree to
# a few ulps of the log-likelihood magnitude.
GMM_NAIVE_RTOL = 1e-13
# sklearn computes X @ P - mu @ P (a cancelling difference) and scipy's logsumexp; we compute
# (X - mu) @ P. The golden README allows rtol 1e-9 for this path.
GMM_SKLEARN_RTOL = 1e-9


def _assert_identical(actual, expected):
    """Byte-equal arrays, reporting the first differing index, both values and the delta."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, (
        actual.shape, actual.dtype, expected.shape, expected.dtype)
    if actual.tobytes() != expected.tobytes():
        i = int(np.argmax(actual.reshape(-1) != expected.reshape(-1)))
        a, e = actual.reshape(-1)[i], expected.reshape(-1)[i]
        raise AssertionError(f"first difference at {i}: got {a!r}, expected {e!r}, delta {a - e!r}")


def _assert_rel_close(actual, expected, rtol):
    bad = ~(np.abs(actual - expected) <= rtol * np.abs(expected))
    if bad.any():
        i = int(np.argmax(bad))
        raise AssertionError(
            f"first difference at {i}: got {actual[i]!r}, expected {expected[i]!r}, "
            f"delta {actual[i] - expected[i]!r}"
        )


def _kmeans_case(rng, n_rows, n_features, n_clusters):
    x = rng.normal(0, 3, (n_rows, n_features)) + rng.normal(0, 5, n_features)
    mean = x.mean(axis=0) + rng.normal(0, 0.1, n_features)
    scale = rng.uniform(0.5, 4, n_features)
    centers = rng.normal(0, 1, (n_clusters, n_features))
    max_error = rng.uniform(0.5, 3, n_clusters)
    return x, mean, scale, centers, max_error


def test_kmeans_f64_matches_naive():
    """Scaling, distance and min-over-clusters, bit for bit against plain Python float64 loops."""
    rng = np.random.default_rng(21)
    for shape in [(1, 1, 1), (40, 3, 2), (200, 17, 6)]:
        args = _kmeans_case(rng, *shape)
        scores, nearest = kmeans_anomaly_scores(*args)
        exp_scores, exp_nearest = naive_kmeans_anomaly_scores(*args)
        _assert_identical(scores, exp_scores)
        _assert_identical(nearest, exp_nearest)


def test_kmeans_sdk_f32_matches_naive_and_clamps():
    """The float32 emulation, including the SDK's 1000.0 starting minimum for far-away points."""
    rng = np.random.default_rng(22)
    x, mean, scale, centers, max_error = _kmeans_case(rng, 120, 9, 4)
    x[0] = 1e6  # farther than 1000 from every cluster
    scores, nearest = kmeans_anomaly_scores_sdk_f32(x, mean, scale, centers, max_error)
    exp_scores, exp_nearest = naive_kmeans_anomaly_scores_sdk_f32(x, mean, scale, centers, max_error)
    _assert_identical(scores, exp_scores)
    _assert_identical(nearest, exp_nearest)
    assert scores[0] == np.float32(SDK_KMEANS_INITIAL_MIN) and nearest[0] == -1
    f64, _ = kmeans_anomaly_scores(x, mean, scale, centers, max_error)
    assert f64[0] > 1000.0  # the float64 path has no clamp


def test_kmeans_ties_first_cluster_wins():
    """Two identical clusters: the first one must be reported nearest."""
    x = np.array([[0.5, 0.5]])
    centers = np.array([[0.0, 0.0], [0.0, 0.0]])
    scores, nearest = kmeans_anomaly_scores(x, np.zeros(2), np.ones(2), centers, np.ones(2))
    assert nearest[0] == 0 and scores[0] == np.sqrt(0.5) - 1.0


def test_kmeans_contract_errors():
    """Zero clusters or mismatched feature counts must raise rather than score against nothing."""
    x = np.zeros((2, 3))
    with pytest.raises(ValueError):
        kmeans_anomaly_scores(x, np.zeros(3), np.ones(3), np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(ValueError):
        kmeans_anomaly_scores(x, np.zeros(2), np.ones(3), np.zeros((1, 3)), np.zeros(1))
    with pytest.raises(TypeError):
        kmeans_anomaly_scores(x.astype(np.int64), np.zeros(3), np.ones(3), np.zeros((1, 3)), np.zeros(1))


def _random_gmm(rng, n_components, n_features):
    weights = rng.uniform(0.1, 1, n_components)
    weights /= weights.sum()
    means = rng.normal(0, 3, (n_components, n_features))
    prec_chol = np.zeros((n_components, n_features, n_features))
    for c in range(n_components):
        a = rng.normal(0, 1, (n_features, n_features))
        cov = a @ a.T + n_features * np.eye(n_features)
        lower = np.linalg.cholesky(cov)
        prec_chol[c] = np.linalg.inv(lower).T
    return weights, means, prec_chol


def test_gmm_matches_naive():
    """Log-density, weights and log-sum-exp against a written-out formula."""
    rng = np.random.default_rng(23)
    for n_components, n_features in [(1, 1), (3, 2), (5, 8)]:
        weights, means, prec_chol = _random_gmm(rng, n_components, n_features)
        x = rng.normal(0, 4, (60, n_features))
        _assert_rel_close(
            gmm_log_likelihood(x, weights, means, prec_chol),
            naive_gmm_log_likelihood(x, weights, means, prec_chol),
            GMM_NAIVE_RTOL,
        )


def test_gmm_zero_weight_and_far_point():
    """A zero-weight component is ignored; a very far point gives a finite, very negative value."""
    rng = np.random.default_rng(24)
    weights, means, prec_chol = _random_gmm(rng, 2, 3)
    weights = np.array([1.0, 0.0])
    x = np.vstack([means[0], means[0] + 1e6])
    got = gmm_log_likelihood(x, weights, means, prec_chol)
    one = gmm_log_likelihood(x, np.array([1.0]), means[:1].copy(), prec_chol[:1].copy())
    _assert_identical(got, one)
    assert np.isfinite(got).all() and got[1] < -1e9


@pytest.mark.oracle
def test_gmm_equals_sklearn_score_samples():
    """Same numbers as sklearn GaussianMixture(covariance_type='full').score_samples, which EI's GMM block calls."""
    mixture = pytest.importorskip("sklearn.mixture")
    rng = np.random.default_rng(25)
    train = np.vstack([rng.normal(m, 1.0, (80, 4)) for m in (-3.0, 0.0, 4.0)])
    gmm = mixture.GaussianMixture(n_components=3, covariance_type="full", random_state=0).fit(train)
    x = rng.normal(0, 5, (50, 4))
    expected = gmm.score_samples(x.copy())
    got = gmm_log_likelihood(x, gmm.weights_.copy(), gmm.means_.copy(), gmm.precisions_cholesky_.copy())
    _assert_rel_close(got, expected, GMM_SKLEARN_RTOL)
