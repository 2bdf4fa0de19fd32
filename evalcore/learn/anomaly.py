"""Anomaly blocks (K-means and GMM): features -> anomaly score per window -> flagged or not.

Dimension letters: W windows, F features of the DSP output, D = len(axes), C clusters or
components.

K-means (``anomaly`` learn block): z = (x[axes] - mean) / scale, score = min over clusters of
(||z - center|| - maxError), in float64 by default, or emulating the C++ SDK's float32 with
its 1000.0 initial minimum (``emulate_sdk_float32=True``).

GMM (``anomaly-gmm`` learn block, ``ei_sklearn/gmm_anomaly_detection.py``): the raw features at
``axes`` (no feature scaling), loglik = sklearn ``score_samples`` (log-sum-exp over
full-covariance components), score = |(loglik - mean) / scale| with the metadata's score-scaler
``mean``/``scale``.

Compatibility notes
-------------------
- An anomaly block flags a window when ``score > threshold`` (exclusive): the API says scores
  "above" the threshold are anomalies. The SDK smoothing compares with ``>=``. Option
  ``inclusive=True`` of :func:`decode_anomaly` switches.
- Studio runs the GMM as a float32 TFLite model compiled from JAX; this is the float64 sklearn
  path (about 1e-5 relative from Studio's numbers, golden README).
- K-means ``maxError`` is taken from the metadata as given; how Studio computes it at training
  time is not public (ei-semantics.md open question 7).
- :func:`gmm_suggested_threshold` reproduces EI's quirk: the 99th percentile of the *raw*
  training log-likelihood, floored at 0.1, though scores are on the scaled scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalcore.errors import ConfigError

__all__ = [
    "KMeansScores",
    "GmmScores",
    "kmeans_scores",
    "gmm_scores",
    "gmm_suggested_threshold",
    "precisions_cholesky_from_covariances",
    "decode_anomaly",
]


@dataclass(frozen=True)
class KMeansScores:
    """K-means anomaly scores.

    Attributes
    ----------
    score : float64 array of shape (W,)
        Anomaly score (float32 values widened, when emulating the SDK).
    nearest_cluster : int64 array of shape (W,)
        Index of the minimising cluster (-1 when the SDK emulation kept its 1000.0 start).
    """

    score: np.ndarray
    nearest_cluster: np.ndarray


@dataclass(frozen=True)
class GmmScores:
    """GMM anomaly scores.

    Attributes
    ----------
    score : float64 array of shape (W,)
        ``|(loglik - mean) / scale|``.
    loglik : float64 array of shape (W,)
        Mixture log-likelihood of each window.
    """

    score: np.ndarray
    loglik: np.ndarray


def _select_axes(features: np.ndarray, axes: Sequence[int] | None) -> np.ndarray:
    features = np.asarray(features)
    if features.ndim == 1:
        features = features[np.newaxis, :]
    if features.ndim != 2 or features.dtype.kind not in "fiu":
        raise ConfigError(f"anomaly features must be numeric with shape (windows, features), got {features.shape}")
    if axes is None:
        return np.ascontiguousarray(features, dtype=np.float64)
    axes = np.asarray(axes, dtype=np.int64)
    n_features = features.shape[1]
    if axes.size and (axes.min() < 0 or axes.max() >= n_features):
        raise ConfigError(f"anomaly axes {axes.tolist()} out of range for {n_features} features")
    return np.ascontiguousarray(features[:, axes], dtype=np.float64)


def kmeans_scores(
    features: np.ndarray,
    *,
    axes: Sequence[int] | None,
    mean: Sequence[float],
    scale: Sequence[float],
    centers: Sequence[Sequence[float]],
    max_error: Sequence[float],
    emulate_sdk_float32: bool = False,
) -> KMeansScores:
    """K-means anomaly score per window.

    Parameters
    ----------
    features : float array of shape (W, F) or (F,)
        DSP output of each window (all features).
    axes : sequence of int, or None
        Feature indices the block uses (metadata ``axes``); None = all.
    mean, scale : sequence of float, length D
        StandardScaler values from the metadata.
    centers : sequence of D-vectors, length C
        Cluster centres (metadata ``clusters[].center``).
    max_error : sequence of float, length C
        Cluster sizes (metadata ``clusters[].maxError``).
    emulate_sdk_float32 : bool, default False
        Reproduce the C++ SDK's float32 arithmetic and 1000.0 initial minimum.

    Returns
    -------
    KMeansScores
    """
    from kernels.anomaly import kmeans_anomaly_scores, kmeans_anomaly_scores_sdk_f32

    x = _select_axes(features, axes)
    args = (
        x,
        np.asarray(mean, dtype=np.float64).reshape(-1),
        np.asarray(scale, dtype=np.float64).reshape(-1),
        np.asarray(centers, dtype=np.float64).reshape(len(max_error), -1),
        np.asarray(max_error, dtype=np.float64).reshape(-1),
    )
    try:
        if emulate_sdk_float32:
            score, nearest = kmeans_anomaly_scores_sdk_f32(*args)
            score = score.astype(np.float64)
        else:
            score, nearest = kmeans_anomaly_scores(*args)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"k-means anomaly parameters do not fit the features: {err}") from err
    return KMeansScores(score=score, nearest_cluster=nearest)


def precisions_cholesky_from_covariances(covariances: np.ndarray) -> np.ndarray:
    """Compute sklearn's ``precisions_cholesky_`` from full covariances: inv(cholesky(cov)).T each.

    Parameters
    ----------
    covariances : float array of shape (C, D, D)

    Returns
    -------
    float64 array of shape (C, D, D)
        Upper-triangular factors.

    Raises
    ------
    ConfigError
        When a covariance matrix is not symmetric positive definite.
    """
    covariances = np.asarray(covariances, dtype=np.float64)
    out = np.empty_like(covariances)
    for c, cov in enumerate(covariances):
        try:
            lower = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError as err:
            raise ConfigError(f"gmm covariance {c} is not positive definite") from err
        identity = np.eye(cov.shape[0])
        out[c] = np.linalg.solve(lower, identity).T
    return out


def gmm_scores(
    features: np.ndarray,
    *,
    axes: Sequence[int] | None,
    weights: Sequence[float],
    means: np.ndarray,
    score_mean: float,
    score_scale: float,
    covariances: np.ndarray | None = None,
    precisions_cholesky: np.ndarray | None = None,
) -> GmmScores:
    """GMM anomaly score per window.

    Parameters
    ----------
    features : float array of shape (W, F) or (F,)
        DSP output of each window.
    axes : sequence of int, or None
        Feature indices the block uses; None = all.
    weights : sequence of float, length C
    means : float array of shape (C, D)
    score_mean, score_scale : float
        The score StandardScaler from the metadata (``mean``/``scale``).
    covariances : float array of shape (C, D, D), optional
    precisions_cholesky : float array of shape (C, D, D), optional
        Used when given; otherwise derived from ``covariances``.

    Returns
    -------
    GmmScores

    Raises
    ------
    ConfigError
        When neither covariances nor precisions are given, or shapes disagree.
    """
    from kernels.anomaly import gmm_log_likelihood

    x = _select_axes(features, axes)
    if precisions_cholesky is None:
        if covariances is None:
            raise ConfigError("gmm metadata needs covariances or precisions_cholesky")
        precisions_cholesky = precisions_cholesky_from_covariances(covariances)
    try:
        loglik = gmm_log_likelihood(
            x,
            np.ascontiguousarray(weights, dtype=np.float64),
            np.ascontiguousarray(means, dtype=np.float64),
            np.ascontiguousarray(precisions_cholesky, dtype=np.float64),
        )
    except (TypeError, ValueError) as err:
        raise ConfigError(f"gmm parameters do not fit the features: {err}") from err
    score = np.abs((loglik - float(score_mean)) / float(score_scale))
    return GmmScores(score=score, loglik=loglik)


def gmm_suggested_threshold(train_loglik: np.ndarray) -> float:
    """EI's suggested GMM threshold: max(0.1, 99th percentile of the raw training loglik)."""
    return max(0.1, float(np.percentile(np.asarray(train_loglik, dtype=np.float64), 99)))


def decode_anomaly(scores: np.ndarray, threshold: float, *, inclusive: bool = False) -> np.ndarray:
    """Bool array of shape (W,): True where the window is flagged ``anomaly``.

    ``score > threshold`` by default (``>=`` with ``inclusive=True``); the threshold is
    rounded to the scores' float dtype before comparing.
    """
    scores = np.asarray(scores)
    thr = scores.dtype.type(threshold) if scores.dtype.kind == "f" else float(threshold)
    return scores >= thr if inclusive else scores > thr
