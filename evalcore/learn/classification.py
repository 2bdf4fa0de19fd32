"""Classification decoding: per-window class scores -> predicted label (class, uncertain, anomaly).

Dimension letters: W windows, K classes.

A window's predicted label is decided in this order (reference/ei-semantics.md Q1):

1. any anomaly block scores the window above its threshold -> ``anomaly`` (it overrides the
   classifier, as the SDK's ``ei_classifier_smooth_update`` does);
2. else the top class (``argmax``, the first index wins a tie) if its score reaches the
   classifier threshold;
3. else ``uncertain``.

Predicted labels are returned as codes into :func:`output_labels`: ``0..K-1`` the classes,
``K`` = ``uncertain``, ``K+1`` = ``anomaly``. ``ClassificationAccumulator`` takes the same codes
when built with ``extra_labels=(UNCERTAIN_LABEL, ANOMALY_LABEL, ...)``.

Compatibility notes
-------------------
- Classifier threshold: a window is labelled when ``top score >= threshold`` (inclusive).
  Source: the SDK's ``ei_classifier_smooth_update`` and the mobile client both compare with
  ``>=``; the API text says "scores below this confidence are tagged as uncertain", which is the
  same reading. Option ``classifier_inclusive=False`` switches to ``>``.
- Anomaly threshold: a window is an anomaly when ``score > threshold`` (exclusive). Source: the
  API (``AnomalyConfig.minimumConfidenceRating``) says "scores **above** this number will be
  flagged as anomaly"; the SDK smoothing uses ``>=``. Equality is untested against Studio; option
  ``anomaly_inclusive=True`` switches to ``>=``.
- Threshold source: ``thresholds[]`` (``BlockThreshold`` key/value) first, then the deprecated
  ``minimumConfidenceRating`` (``evalcore.learn.thresholds.resolve_threshold``); an explicit
  override wins over both.
- Scores are compared in their own dtype: for float32 model outputs the threshold is rounded
  to float32 first (so a score of ``float32(0.6)`` passes a threshold of 0.6). This is what the
  C++ SDK does (float against float) and what numpy does for an array against a Python float.
- Multi-label (``labelingMethodMultiLabel``) impulses are not handled here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from evalcore.errors import ConfigError

__all__ = [
    "UNCERTAIN_LABEL",
    "ANOMALY_LABEL",
    "ClassificationDecoded",
    "output_labels",
    "decode_classification",
]

#: Label Studio gives a window whose top score is below the classifier threshold.
UNCERTAIN_LABEL = "uncertain"
#: Label Studio gives a window an anomaly block flags.
ANOMALY_LABEL = "anomaly"


@dataclass(frozen=True)
class ClassificationDecoded:
    """Decoded windows of one sample (or any batch of windows).

    Attributes
    ----------
    predicted : int32 array of shape (W,)
        ``0..K-1`` class, ``K`` uncertain, ``K+1`` anomaly (see :func:`output_labels`).
    top_class : int32 array of shape (W,)
        ``argmax`` of the scores, first index wins ties (what EI's additional metrics use).
    top_score : float64 array of shape (W,)
        The score of ``top_class``.
    is_anomaly : bool array of shape (W,)
        True where an anomaly block flagged the window (all False without anomaly blocks).
    """

    predicted: np.ndarray
    top_class: np.ndarray
    top_score: np.ndarray
    is_anomaly: np.ndarray


def output_labels(class_labels: Sequence[str]) -> tuple[str, ...]:
    """Names of the codes :func:`decode_classification` returns: classes, uncertain, anomaly."""
    return tuple(class_labels) + (UNCERTAIN_LABEL, ANOMALY_LABEL)


def decode_classification(
    scores: np.ndarray,
    threshold: float,
    *,
    anomaly: Iterable[tuple[np.ndarray, float]] = (),
    classifier_inclusive: bool = True,
    anomaly_inclusive: bool = False,
) -> ClassificationDecoded:
    """Predicted label per window from the classifier scores and any anomaly blocks.

    Parameters
    ----------
    scores : float array of shape (W, K)
        Class scores per window (softmax output, dequantised for int8 models).
    threshold : float
        Classifier minimum confidence.
    anomaly : iterable of (float array of shape (W,), float)
        ``(scores, threshold)`` of each anomaly block of the impulse.
    classifier_inclusive : bool, default True
        ``top >= threshold`` labels the window (False: ``top > threshold``).
    anomaly_inclusive : bool, default False
        ``score >= threshold`` flags an anomaly (False: ``score > threshold``).

    Returns
    -------
    ClassificationDecoded

    Raises
    ------
    ConfigError
        When ``scores`` is not 2-D or an anomaly block has a different number of windows.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ConfigError(f"classifier scores must have shape (windows, classes), got {scores.shape}")
    n_windows, n_classes = scores.shape
    top_class = np.argmax(scores, axis=1).astype(np.int32)
    top = scores[np.arange(n_windows), top_class]
    threshold = _in_dtype_of(scores, threshold)
    is_labelled = top >= threshold if classifier_inclusive else top > threshold
    predicted = np.where(is_labelled, top_class, np.int32(n_classes)).astype(np.int32)
    is_anomaly = np.zeros(n_windows, dtype=bool)
    for block_scores, block_threshold in anomaly:
        block_scores = np.asarray(block_scores).reshape(-1)
        if block_scores.shape[0] != n_windows:
            raise ConfigError(
                f"anomaly scores have {block_scores.shape[0]} windows, classifier has {n_windows}"
            )
        block_threshold = _in_dtype_of(block_scores, block_threshold)
        if anomaly_inclusive:
            is_anomaly |= block_scores >= block_threshold
        else:
            is_anomaly |= block_scores > block_threshold
    predicted[is_anomaly] = n_classes + 1
    return ClassificationDecoded(
        predicted=predicted,
        top_class=top_class,
        top_score=top.astype(np.float64),
        is_anomaly=is_anomaly,
    )


def _in_dtype_of(values: np.ndarray, threshold: float):
    """Round the threshold to the scores' float dtype (float32 outputs compare in float32)."""
    if values.dtype.kind == "f":
        return values.dtype.type(threshold)
    return float(threshold)
