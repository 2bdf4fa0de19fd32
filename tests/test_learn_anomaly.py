"""evalcore.learn.anomaly: axes selection, parameter errors, precision factors and the anomaly flag."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.errors import ConfigError
from evalcore.learn.anomaly import (
    decode_anomaly,
    gmm_scores,
    kmeans_scores,
    precisions_cholesky_from_covariances,
)

# inv(cholesky) by LAPACK solve vs sklearn's solve_triangular: a few ulps apart.
PRECISION_FACTOR_RTOL = 1e-12


def test_kmeans_uses_only_the_axes():
    """Features outside ``axes`` must not influence the score."""
    x = np.array([[1.0, 100.0, 2.0], [1.0, -100.0, 2.0]])
    out = kmeans_scores(x, axes=[0, 2], mean=[0, 0], scale=[1, 1], centers=[[1, 2]], max_error=[0.5])
    assert out.score.tolist() == [-0.5, -0.5]
    single = kmeans_scores(x[0], axes=[0, 2], mean=[0, 0], scale=[1, 1], centers=[[1, 2]], max_error=[0.5])
    assert single.score.shape == (1,)


def test_kmeans_parameter_errors():
    """Out-of-range axes or parameters of the wrong length must be ConfigErrors."""
    x = np.zeros((2, 3))
    with pytest.raises(ConfigError, match="out of range"):
        kmeans_scores(x, axes=[0, 3], mean=[0, 0], scale=[1, 1], centers=[[0, 0]], max_error=[1])
    with pytest.raises(ConfigError):
        kmeans_scores(x, axes=[0, 1], mean=[0, 0, 0], scale=[1, 1], centers=[[0, 0]], max_error=[1])


def test_gmm_needs_covariance_information():
    """Without covariances or precisions there is nothing to score with."""
    with pytest.raises(ConfigError, match="covariances or precisions"):
        gmm_scores(np.zeros((1, 2)), axes=None, weights=[1.0], means=np.zeros((1, 2)),
                   score_mean=0.0, score_scale=1.0)


def test_gmm_rejects_non_positive_definite_covariance():
    """A singular covariance must be reported, not turned into NaN scores."""
    with pytest.raises(ConfigError, match="not positive definite"):
        precisions_cholesky_from_covariances(np.zeros((1, 2, 2)))


def test_decode_anomaly_strictness():
    """Default: strictly above the threshold; inclusive: at or above."""
    scores = np.array([0.2, 0.3, 0.4])
    assert decode_anomaly(scores, 0.3).tolist() == [False, False, True]
    assert decode_anomaly(scores, 0.3, inclusive=True).tolist() == [False, True, True]


@pytest.mark.oracle
def test_precision_factors_equal_sklearn():
    """Scores from covariances-only metadata equal those from sklearn's precisions_cholesky_."""
    mixture = pytest.importorskip("sklearn.mixture")
    rng = np.random.default_rng(31)
    train = np.vstack([rng.normal(m, s, (60, 3)) for m, s in ((-2.0, 1.0), (3.0, 0.5))])
    gmm = mixture.GaussianMixture(n_components=2, covariance_type="full", random_state=0).fit(train)
    got = precisions_cholesky_from_covariances(gmm.covariances_.copy())
    expected = gmm.precisions_cholesky_
    assert np.allclose(got, expected, rtol=PRECISION_FACTOR_RTOL, atol=0), np.max(np.abs(got - expected))
