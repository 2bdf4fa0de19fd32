"""Multi-label decoding: per-window sigmoid scores -> the set of selected labels, and its summary.

Dimension letters: W windows, K labels.

A learn block whose metadata says ``"isMultiLabel": true`` has one independent (sigmoid) score
per label. Edge Impulse's newer ``Evaluator`` takes a ``minimum_confidence_rating`` that is
"currently used only for multi-label" (see :mod:`evalcore.metrics.multilabel` for the source):
the threshold decides each label of a window on its own. Here:

- a label is selected when its score reaches the classifier threshold, ``score >= threshold``
  (``--compat classifier-threshold=>`` makes it ``>``, as for single-label blocks), compared in
  the scores' own dtype (a float32 output against the threshold rounded to float32);
- an anomaly block flagging the window overrides the classifier, as for single-label blocks.

Studio's per-window fields hold one string per window, so the set is summarised (evidence for
all three: none; Studio's server code is closed):

- ``prediction``: the selected labels in model order joined by ``", "`` (the way Studio joins
  a multi-label sample's labels in ``Sample.label``), ``uncertain`` when none is selected,
  ``anomaly`` when an anomaly block flags the window;
- the window is correct when the selected set is exactly the set of its true labels (subset
  accuracy, sklearn's ``accuracy_score`` on indicator input); its true labels are the window's
  expected label when that is one of the model's labels, else none;
- the code counted in the ``accuracy`` confusion matrix (codes of
  :func:`evalcore.learn.classification.output_labels`): the expected label when the set is
  exactly right, ``uncertain`` for an empty set, ``anomaly`` for a flagged window, else the
  highest-scoring selected label other than the expected one (first index on ties), so every
  wrong window lies off the diagonal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from evalcore.errors import ConfigError
from evalcore.learn.classification import ANOMALY_LABEL, UNCERTAIN_LABEL, _in_dtype_of

__all__ = ["MultiLabelDecoded", "decode_multilabel", "LABEL_JOINER"]

#: How the selected labels of a window are joined into its ``prediction`` string.
LABEL_JOINER = ", "


@dataclass(frozen=True)
class MultiLabelDecoded:
    """Decoded windows of a multi-label block.

    Attributes
    ----------
    selected : bool array of shape (W, K)
        The labels whose score reached the threshold.
    truth : bool array of shape (W, K)
        The window's true labels (its expected label, when it is one of the K).
    predicted : int32 array of shape (W,)
        The code counted in the ``accuracy`` matrix (module notes): ``0..K-1``, ``K`` uncertain,
        ``K+1`` anomaly.
    prediction : list of str
        The ``prediction`` text of each window.
    is_anomaly : bool array of shape (W,)
    """

    selected: np.ndarray
    truth: np.ndarray
    predicted: np.ndarray
    prediction: list
    is_anomaly: np.ndarray


def decode_multilabel(
    scores: np.ndarray,
    threshold: float,
    expected: np.ndarray,
    labels: Sequence[str],
    *,
    anomaly: Iterable[tuple[np.ndarray, float]] = (),
    classifier_inclusive: bool = True,
    anomaly_inclusive: bool = False,
) -> MultiLabelDecoded:
    """Selected labels, truth, matrix code and prediction text of each window.

    Parameters
    ----------
    scores : float array of shape (W, K)
        Per-label scores (sigmoid output, dequantised for int8 models).
    threshold : float
        The block's threshold.
    expected : integer array of shape (W,)
        Expected label code per window: ``0..K-1`` one of the model's labels, anything else none.
    labels : sequence of str
        The K label names, in output order.
    anomaly : iterable of (float array of shape (W,), float)
        ``(scores, threshold)`` of each anomaly block of the impulse.
    classifier_inclusive, anomaly_inclusive : bool
        ``>=`` (True) or ``>`` (False) for the label and anomaly thresholds.

    Raises
    ------
    ConfigError
        When the shapes do not fit each other or ``labels``.
    """
    scores = np.asarray(scores)
    expected = np.asarray(expected)
    if scores.ndim != 2 or scores.shape[1] != len(labels) or expected.shape != (scores.shape[0],):
        raise ConfigError(
            f"multi-label scores must have shape (windows, {len(labels)}) with one expected code "
            f"per window, got {scores.shape} and {expected.shape}"
        )
    n_windows, k = scores.shape
    thr = _in_dtype_of(scores, threshold)
    selected = scores >= thr if classifier_inclusive else scores > thr
    rows = np.arange(n_windows)
    is_label = (expected >= 0) & (expected < k)
    truth = np.zeros((n_windows, k), dtype=bool)
    truth[rows[is_label], expected[is_label]] = True
    exact = (selected == truth).all(axis=1)
    # strongest selected label other than the expected one (first index wins a tie)
    others = np.where(selected & ~truth, scores.astype(np.float64), -np.inf)
    strongest_other = np.argmax(others, axis=1).astype(np.int32) if k else np.zeros(n_windows, np.int32)
    predicted = np.where(exact & is_label, expected.astype(np.int32), strongest_other)
    predicted[~selected.any(axis=1)] = k
    is_anomaly = np.zeros(n_windows, dtype=bool)
    for block_scores, block_threshold in anomaly:
        block_scores = np.asarray(block_scores).reshape(-1)
        if block_scores.shape[0] != n_windows:
            raise ConfigError(f"anomaly scores have {block_scores.shape[0]} windows, classifier has {n_windows}")
        bthr = _in_dtype_of(block_scores, block_threshold)
        is_anomaly |= block_scores >= bthr if anomaly_inclusive else block_scores > bthr
    predicted[is_anomaly] = k + 1
    return MultiLabelDecoded(
        selected=selected, truth=truth, predicted=predicted.astype(np.int32),
        prediction=_prediction_texts(selected, is_anomaly, labels), is_anomaly=is_anomaly,
    )


def _prediction_texts(selected: np.ndarray, is_anomaly: np.ndarray, labels: Sequence[str]) -> list:
    """The joined label set of each window (one join per distinct set, not per window)."""
    if selected.shape[0] == 0:
        return []
    weights = np.left_shift(np.uint64(1), np.arange(selected.shape[1], dtype=np.uint64)) if selected.shape[1] <= 64 \
        else None
    if weights is None:  # more labels than bits: join per window
        keys = [tuple(np.flatnonzero(row)) for row in selected]
        texts = {key: LABEL_JOINER.join(labels[j] for j in key) or UNCERTAIN_LABEL for key in set(keys)}
        out = [texts[key] for key in keys]
    else:
        keys = (selected.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
        unique, inverse = np.unique(keys, return_inverse=True)
        texts = []
        for key in unique.tolist():
            names = [labels[j] for j in range(selected.shape[1]) if (key >> j) & 1]
            texts.append(LABEL_JOINER.join(names) or UNCERTAIN_LABEL)
        out = [texts[i] for i in inverse.reshape(-1).tolist()]
    if is_anomaly.any():
        out = [ANOMALY_LABEL if a else t for t, a in zip(out, is_anomaly.tolist())]
    return out
