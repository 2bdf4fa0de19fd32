"""Anomaly-score kernels: K-means cluster distance and Gaussian-mixture log-likelihood.

Dimension letters: N rows (windows), D features (the block's axes, already selected),
C clusters or mixture components.

K-means mirrors Edge Impulse's C++ SDK (``inferencing-sdk-cpp``
``classifier/inferencing_engines/anomaly.h``): z = (x - mean) / scale, then
score = min over clusters of (||z - center||_2 - maxError). Negative means inside a cluster.
Two flavours: plain float64, and an emulation of the SDK's float32 arithmetic, whose running
minimum starts at 1000.0 so a point farther than that from every cluster scores exactly 1000.

GMM mirrors ``sklearn.mixture.GaussianMixture(covariance_type="full").score_samples``, which
Edge Impulse's ``ei_sklearn/gmm_anomaly_detection.py`` uses: per component the Gaussian
log-density from the Cholesky factor of the precision matrix, plus log(weight), then
log-sum-exp over components.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels import _cache  # noqa: F401  (NUMBA_CACHE_DIR fallback before numba compiles)

__all__ = [
    "kmeans_anomaly_scores",
    "kmeans_anomaly_scores_sdk_f32",
    "gmm_log_likelihood",
]

#: The SDK's ``get_min_distance_to_cluster`` starts its running minimum here.
SDK_KMEANS_INITIAL_MIN = 1000.0


@njit(cache=True)
def _kmeans_f64(x, mean, scale, centers, max_error, scores, nearest):
    """Float64 K-means score and nearest cluster per row. Numba JIT-compiled.

    Tie rule: the first cluster with the smallest (distance - maxError) wins.
    """
    n_rows, n_features = x.shape
    n_clusters = centers.shape[0]
    z = np.empty(n_features, dtype=np.float64)
    for n in range(n_rows):
        for d in range(n_features):
            z[d] = (np.float64(x[n, d]) - np.float64(mean[d])) / np.float64(scale[d])
        best = np.inf
        best_c = -1
        for c in range(n_clusters):
            acc = 0.0
            for d in range(n_features):
                diff = z[d] - np.float64(centers[c, d])
                acc += diff * diff
            dist = math.sqrt(acc) - np.float64(max_error[c])
            if dist < best:
                best = dist
                best_c = c
        scores[n] = best
        nearest[n] = best_c


@njit(cache=True)
def _kmeans_sdk_f32(x, mean, scale, centers, max_error, initial_min, scores, nearest):
    """K-means score in the SDK's float32 arithmetic. Numba JIT-compiled.

    Emulates: float32 scaling; ``dist += pow(diff, 2)`` (the square in double, the sum stored
    back to float); ``sqrt(dist) - max_error`` in float; running minimum from ``initial_min``
    with strict ``<``. Rows whose every cluster scores >= initial_min get ``nearest = -1``.
    """
    n_rows, n_features = x.shape
    n_clusters = centers.shape[0]
    z = np.empty(n_features, dtype=np.float32)
    for n in range(n_rows):
        for d in range(n_features):
            z[d] = (np.float32(x[n, d]) - np.float32(mean[d])) / np.float32(scale[d])
        best = np.float32(initial_min)
        best_c = -1
        for c in range(n_clusters):
            acc = np.float32(0.0)
            for d in range(n_features):
                diff = np.float64(z[d] - np.float32(centers[c, d]))
                acc = np.float32(np.float64(acc) + diff * diff)
            dist = np.float32(math.sqrt(np.float64(acc))) - np.float32(max_error[c])
            if dist < best:
                best = dist
                best_c = c
        scores[n] = best
        nearest[n] = best_c


@njit(cache=True)
def _gmm_loglik(x, weights, means, precisions_cholesky, out):
    """Log-likelihood of each row under a full-covariance Gaussian mixture. Numba JIT-compiled.

    log N_c(x) = -0.5 * (D log(2 pi) + ||(x - mu_c) P_c||^2) + sum(log diag(P_c)), with P_c the
    Cholesky factor of the precision; then log-sum-exp of log N_c(x) + log(w_c), shifted by
    the row maximum. A row whose every term is -inf gets -inf.
    """
    n_rows, n_features = x.shape
    n_components = means.shape[0]
    log_det = np.zeros(n_components, dtype=np.float64)
    log_weight = np.empty(n_components, dtype=np.float64)
    for c in range(n_components):
        for d in range(n_features):
            log_det[c] += math.log(precisions_cholesky[c, d, d])
        log_weight[c] = math.log(weights[c]) if weights[c] > 0.0 else -np.inf
    constant = n_features * math.log(2.0 * math.pi)
    centred = np.empty(n_features, dtype=np.float64)
    terms = np.empty(n_components, dtype=np.float64)
    for n in range(n_rows):
        top = -np.inf
        for c in range(n_components):
            for d in range(n_features):
                centred[d] = np.float64(x[n, d]) - means[c, d]
            maha = 0.0
            for j in range(n_features):
                y = 0.0
                for i in range(n_features):  # the full product, as sklearn's np.dot does
                    y += centred[i] * precisions_cholesky[c, i, j]
                maha += y * y
            terms[c] = -0.5 * (constant + maha) + log_det[c] + log_weight[c]
            if terms[c] > top:
                top = terms[c]
        if top == -np.inf:
            out[n] = -np.inf
            continue
        total = 0.0
        for c in range(n_components):
            total += math.exp(terms[c] - top)
        out[n] = top + math.log(total)


def _check_kmeans(x, mean, scale, centers, max_error):
    for name, arr, ndim in (
        ("x", x, 2), ("mean", mean, 1), ("scale", scale, 1), ("centers", centers, 2),
        ("max_error", max_error, 1),
    ):
        if not isinstance(arr, np.ndarray) or arr.ndim != ndim or arr.dtype.kind != "f":
            raise TypeError(f"{name} must be a {ndim}-D float array")
    n_features = x.shape[1]
    if mean.shape[0] != n_features or scale.shape[0] != n_features or centers.shape[1] != n_features:
        raise ValueError(
            f"x has {n_features} features but mean, scale, centers have "
            f"{mean.shape[0]}, {scale.shape[0]}, {centers.shape[1]}"
        )
    if centers.shape[0] != max_error.shape[0] or centers.shape[0] == 0:
        raise ValueError(
            f"need >= 1 cluster and one maxError per cluster, got {centers.shape[0]} centers "
            f"and {max_error.shape[0]} maxError values"
        )


def kmeans_anomaly_scores(x, mean, scale, centers, max_error):
    """K-means anomaly score per row in float64, with the nearest cluster.

    Parameters
    ----------
    x : float array of shape (N, D)
        Features at the block's axes (any float dtype; computed in float64).
    mean, scale : float array of shape (D,)
        StandardScaler parameters from the block metadata.
    centers : float array of shape (C, D)
        Cluster centres in scaled space, C >= 1.
    max_error : float array of shape (C,)
        Cluster sizes ("maxError").

    Returns
    -------
    scores : float64 array of shape (N,)
        min over clusters of (||z - center|| - maxError).
    nearest : int64 array of shape (N,)
        The argmin cluster (first wins ties).
    """
    _check_kmeans(x, mean, scale, centers, max_error)
    scores = np.empty(x.shape[0], dtype=np.float64)
    nearest = np.empty(x.shape[0], dtype=np.int64)
    if x.shape[0]:
        _kmeans_f64(x, mean, scale, centers, max_error, scores, nearest)
    return scores, nearest


def kmeans_anomaly_scores_sdk_f32(x, mean, scale, centers, max_error,
                                  initial_min=SDK_KMEANS_INITIAL_MIN):
    """K-means anomaly score per row emulating the C++ SDK's float32 arithmetic.

    Same parameters as :func:`kmeans_anomaly_scores`; every input value is rounded to float32
    first, as the SDK stores it. ``initial_min`` is the SDK's starting minimum (1000.0).

    Returns
    -------
    scores : float32 array of shape (N,)
        At most ``initial_min``.
    nearest : int64 array of shape (N,)
        The argmin cluster, -1 when no cluster scored below ``initial_min``.
    """
    _check_kmeans(x, mean, scale, centers, max_error)
    scores = np.empty(x.shape[0], dtype=np.float32)
    nearest = np.empty(x.shape[0], dtype=np.int64)
    if x.shape[0]:
        _kmeans_sdk_f32(x, mean, scale, centers, max_error, float(initial_min), scores, nearest)
    return scores, nearest


def gmm_log_likelihood(x, weights, means, precisions_cholesky):
    """Per-row log-likelihood under a full-covariance Gaussian mixture (sklearn ``score_samples``).

    Parameters
    ----------
    x : float array of shape (N, D)
        Raw (unscaled) features at the block's axes.
    weights : float64 array of shape (C,)
        Mixture weights.
    means : float64 array of shape (C, D)
    precisions_cholesky : float64 array of shape (C, D, D)
        P_c with P_c P_c^T = inverse covariance (sklearn's ``precisions_cholesky_``, upper
        triangular); the whole matrix is multiplied, its diagonal gives log det.

    Returns
    -------
    float64 array of shape (N,)
    """
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.dtype.kind != "f":
        raise TypeError("x must be a 2-D float array")
    for name, arr, ndim in (
        ("weights", weights, 1), ("means", means, 2), ("precisions_cholesky", precisions_cholesky, 3),
    ):
        if not isinstance(arr, np.ndarray) or arr.ndim != ndim or arr.dtype != np.float64:
            raise TypeError(f"{name} must be a {ndim}-D float64 array")
    n_components, n_features = means.shape
    if (x.shape[1] != n_features or weights.shape[0] != n_components
            or precisions_cholesky.shape != (n_components, n_features, n_features)):
        raise ValueError(
            f"shapes do not agree: x {x.shape}, weights {weights.shape}, means {means.shape}, "
            f"precisions_cholesky {precisions_cholesky.shape}"
        )
    out = np.empty(x.shape[0], dtype=np.float64)
    if x.shape[0]:
        _gmm_loglik(x, weights, means, precisions_cholesky, out)
    return out
