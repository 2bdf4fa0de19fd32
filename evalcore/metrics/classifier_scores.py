"""A classifier's additional metrics as Edge Impulse computes them (``calculate_classification_metrics``).

Dimension letters: N windows, K classes.

Reproduces ``ei_sklearn/metrics.py`` ``calculate_classification_metrics`` (golden README,
"classification"), which Studio's classify job runs on the test set after mapping test labels
to training indices and dropping labels not in training, with its quirks:

1. each probability row is renormalised to sum to 1 first; AUC and loss use these values;
2. predicted labels are the argmax (first index wins a tie), with no threshold and no
   ``uncertain``; the confusion matrix is K x K;
3. the classification report covers only the classes present in ``y_true`` or the predictions
   (``zero_division=0``); ``weighted_average`` copies its "weighted avg" row;
4. ``roc_auc``: for K == 2 the *argmax labels* are the scores (a quirk: this equals balanced
   accuracy); for K > 2 one-vs-rest macro AUC on the renormalised probabilities; None when
   sklearn would raise "Only one class present in y_true" (K == 2) or "Number of classes in
   y_true not equal to the number of columns in 'y_score'" (K > 2: some class has no window);
5. ``loss`` = ``log_loss(y_true, probs, labels=range(K))`` as sklearn 1.3 computes it: clip to
   [eps, 1 - eps] (float64 eps), renormalise, mean of -log p[true].

Compatibility notes
-------------------
- AUC is the exactly rounded Mann-Whitney ratio (:mod:`kernels.ranking`), and the loss mean is
  ``math.fsum`` / N; sklearn's trapezoids and pairwise sums may differ by a few ulps. Both are
  independent of window order, so sharded runs merge bit-identically.
- Newer sklearn (>= 1.5 or so) returns NaN instead of raising for a single-class binary AUC, so
  EI's code would then report NaN; we keep None (the 2024 behaviour, golden data).
- A probability row that sums to 0 (possible for an int8 model) would make EI's code fail; it
  is replaced by the uniform distribution (``zero_rows="uniform"``) or rejected
  (``zero_rows="raise"``).
- Probabilities are converted to float64 before anything else (EI passes float32 TFLite output
  through numpy; the golden data were recorded in float64).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from evalcore.errors import ConfigError
from evalcore.metrics._base import AccumulatorBase, state_array, state_field
from evalcore.metrics._rows import RowStore

__all__ = [
    "ClassifierMetrics",
    "ClassifierMetricsAccumulator",
    "classifier_metrics",
    "calculate_classification_metrics",
]

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class ClassifierMetrics:
    """EI's classification metrics of one learn block.

    Attributes
    ----------
    confusion_matrix : int64 array of shape (K, K)
        Rows = true class, columns = argmax class.
    report_labels : int64 array of shape (P,)
        Classes present in the true or predicted labels, ascending.
    precision, recall, f1, support : float64 arrays of shape (P,)
        Per present class (``zero_division=0``).
    accuracy : float or None
    macro_precision, macro_recall, macro_f1 : float or None
    weighted_precision, weighted_recall, weighted_f1 : float or None
        The "weighted avg" row, weighted by support (None without windows).
    roc_auc : float or None
    loss : float or None
    n_windows : int
    """

    confusion_matrix: np.ndarray
    report_labels: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    accuracy: float | None
    macro_precision: float | None
    macro_recall: float | None
    macro_f1: float | None
    weighted_precision: float | None
    weighted_recall: float | None
    weighted_f1: float | None
    roc_auc: float | None
    loss: float | None
    n_windows: int

    def to_ei_dict(self) -> dict:
        """Return the dict EI's ``calculate_classification_metrics`` returns (for golden comparisons)."""
        report: dict = {}
        for i, label in enumerate(self.report_labels.tolist()):
            report[str(label)] = {
                "precision": float(self.precision[i]),
                "recall": float(self.recall[i]),
                "f1-score": float(self.f1[i]),
                "support": float(self.support[i]),
            }
        n = float(self.n_windows)
        report["accuracy"] = self.accuracy
        report["macro avg"] = {"precision": self.macro_precision, "recall": self.macro_recall,
                               "f1-score": self.macro_f1, "support": n}
        report["weighted avg"] = {"precision": self.weighted_precision, "recall": self.weighted_recall,
                                  "f1-score": self.weighted_f1, "support": n}
        return {
            "confusion_matrix": self.confusion_matrix.tolist(),
            "classification_report": report,
            "roc_auc": self.roc_auc,
            "loss": self.loss,
            "support": self.n_windows,
            "weighted_average": {"precision": self.weighted_precision, "recall": self.weighted_recall,
                                 "f1-score": self.weighted_f1},
        }


def _renormalise(probs: np.ndarray, zero_rows: str, first_row: int = 0) -> np.ndarray:
    """Rows divided by their sums, in float64 (rows ``first_row``... of the whole set, for messages)."""
    probs = probs.astype(np.float64, copy=False)
    row_sum = probs.sum(axis=1, keepdims=True)
    if (row_sum == 0).any():
        if zero_rows == "raise":
            bad = first_row + int(np.flatnonzero(row_sum[:, 0] == 0)[0])
            raise ConfigError(f"probability row {bad} sums to 0; cannot renormalise")
        probs = probs.copy()
        probs[row_sum[:, 0] == 0] = 1.0
        row_sum = probs.sum(axis=1, keepdims=True)
    return probs / row_sum


def _prf(cm: np.ndarray):
    """Per-class P/R/F1/support over the classes present, as sklearn's precision_recall_fscore_support."""
    tp = np.diagonal(cm).astype(np.int64)
    true_sum = cm.sum(axis=1)
    pred_sum = cm.sum(axis=0)
    present = np.flatnonzero((true_sum + pred_sum) > 0)
    tp, true_sum, pred_sum = tp[present], true_sum[present], pred_sum[present]

    def divide(num, den):
        safe = np.where(den == 0, 1, den)
        return np.where(den == 0, 0.0, num / safe)

    precision = divide(tp, pred_sum)
    recall = divide(tp, true_sum)
    f1 = divide(2.0 * tp, (1.0 * true_sum + pred_sum))  # sklearn >= 1.3: 2tp / (2tp + fp + fn)
    return present.astype(np.int64), precision, recall, f1, true_sum


def _weighted(values: np.ndarray, weights: np.ndarray) -> float | None:
    total = weights.sum(dtype=np.float64)
    if total == 0:
        return None
    return float(np.multiply(values, weights, dtype=np.float64).sum() / total)


#: Rows renormalised at a time: every per-window step below is row-local, so working in chunks
#: gives the same bits as whole arrays, without float64 copies of the whole test set.
_CHUNK_ROWS = 1 << 16


def _label_dtype(n_classes: int):
    """The narrowest signed integer that holds class indices ``0..n_classes-1``."""
    return np.int8 if n_classes <= 127 else np.int16 if n_classes <= 32767 else np.int32


class _Pieces:
    """(first row, rows) pieces of ``probs``, re-iterable: an (N, K) array in chunks, or a sequence
    of (n, K) blocks (each read when reached: ``metrics._rows.RowStore`` keeps them on disk).
    """

    def __init__(self, probs):
        self.probs = probs
        if isinstance(probs, np.ndarray):
            self.sizes = [min(_CHUNK_ROWS, probs.shape[0] - s) for s in range(0, probs.shape[0], _CHUNK_ROWS)]
        else:
            self.sizes = None

    def __iter__(self):
        start = 0
        if self.sizes is not None:
            for size in self.sizes:
                yield start, self.probs[start : start + size]
                start += size
            return
        for block in self.probs:
            block = np.asarray(block)
            if block.dtype not in (np.float32, np.float64):
                block = block.astype(np.float64)
            yield start, block
            start += block.shape[0]


#: Renormalised probabilities up to this many values (128 MB of float64) are computed once and
#: kept for the AUC's K passes and the loss; a larger set is renormalised again on each pass.
_KEEP_VALUES = 1 << 24


class _Renormalised:
    """(first row, rows divided by their sums, float64) pieces of `_Pieces`, re-iterable: kept
    after the first whole pass when the set holds at most ``_KEEP_VALUES`` values.
    """

    def __init__(self, pieces: _Pieces, zero_rows: str, n_values: int):
        self._pieces = pieces
        self._zero_rows = zero_rows
        self._keep = n_values <= _KEEP_VALUES
        self._kept = None

    def __iter__(self):
        if self._kept is not None:
            yield from self._kept
            return
        kept = []
        for start, block in self._pieces:
            piece = (start, _renormalise(block, self._zero_rows, start))
            if self._keep:
                kept.append(piece)
            yield piece
        if self._keep:
            self._kept = kept


def _roc_auc(y_true, blocks, labels, n_classes) -> float | None:
    from kernels.ranking import roc_auc_binary, roc_auc_sorted

    n_present = int(np.count_nonzero(np.bincount(y_true, minlength=n_classes)))
    if n_classes == 2:
        if n_present < 2:
            return None
        return roc_auc_binary(y_true == 1, labels.astype(np.float64))
    if n_classes < 2 or n_present != n_classes:
        return None
    # one-vs-rest, class by class (kernels.ranking.roc_auc_ovr's rule): the renormalised column
    # goes straight into its positive and negative halves, each sorted in place
    per_class = np.empty(n_classes, dtype=np.float64)
    for k in range(n_classes):
        is_positive = y_true == k
        n_pos = int(np.count_nonzero(is_positive))
        pos, neg = np.empty(n_pos), np.empty(y_true.shape[0] - n_pos)
        at_pos = at_neg = 0
        for start, block in blocks:
            column = block[:, k]
            mask = is_positive[start : start + block.shape[0]]
            taken = column[mask]
            pos[at_pos : at_pos + taken.shape[0]] = taken
            at_pos += taken.shape[0]
            rest = column[~mask]
            neg[at_neg : at_neg + rest.shape[0]] = rest
            at_neg += rest.shape[0]
        del is_positive
        pos.sort()
        neg.sort()
        per_class[k] = roc_auc_sorted(pos, neg)
        del pos, neg
    return float(np.mean(per_class))


def _log_loss(y_true, blocks) -> float:
    def terms():
        for start, block in blocks:
            clipped = np.clip(block, _EPS, 1 - _EPS)
            clipped = clipped / clipped.sum(axis=1)[:, np.newaxis]
            picked = clipped[np.arange(clipped.shape[0]), y_true[start : start + block.shape[0]]]
            yield from (-np.log(picked)).tolist()

    return math.fsum(terms()) / y_true.shape[0]


def classifier_metrics(y_true, probs, n_classes: int, *,
                       zero_rows: Literal["uniform", "raise"] = "uniform") -> ClassifierMetrics:
    """EI's classification metrics from true class indices and per-window probabilities.

    Parameters
    ----------
    y_true : integer array of shape (N,)
        True class index per window, ``0..K-1`` (map unknown test labels out beforehand).
    probs : float array of shape (N, K), or a list of (n, K) blocks of its rows in order
        Model output per window (float32 is kept as it is and widened a block at a time; every
        per-window step is row-local, so blocks give the same bits as one array).
    n_classes : int
        K.
    zero_rows : {"uniform", "raise"}
        What to do with a probability row summing to 0 (see the module notes).

    Returns
    -------
    ClassifierMetrics

    Raises
    ------
    ConfigError
        On shape mismatch, a label outside ``0..K-1``, or NaN probabilities.
    """
    from kernels.confusion import confusion_matrix

    y_true = np.asarray(y_true)
    if isinstance(probs, np.ndarray) and probs.dtype not in (np.float32, np.float64):
        probs = probs.astype(np.float64)
    blocks = _Pieces(probs if isinstance(probs, np.ndarray | Sequence) else np.asarray(probs))
    n_rows, has_nan = 0, False
    for _, block in blocks:  # one pass over the rows (RowStore blocks are read from disk)
        if block.ndim != 2 or block.shape[1] != n_classes:
            raise ConfigError(f"need probs of shape (N, {n_classes}), got rows of shape {block.shape}")
        n_rows += block.shape[0]
        has_nan = has_nan or bool(np.isnan(block).any())
    if y_true.shape != (n_rows,):
        raise ConfigError(f"need y_true (N,) and probs (N, {n_classes}), got {y_true.shape} and {n_rows} rows")
    if y_true.size and (y_true.min() < 0 or y_true.max() >= n_classes):
        raise ConfigError(f"true labels must lie in 0..{n_classes - 1}")
    if has_nan:
        raise ConfigError("probabilities contain NaN")
    y_true = y_true.astype(_label_dtype(n_classes), copy=False)
    n = y_true.shape[0]
    labels = np.zeros(n, dtype=y_true.dtype)
    blocks = _Renormalised(blocks, zero_rows, n * n_classes)
    for start, block in blocks:
        labels[start : start + block.shape[0]] = np.argmax(block, axis=1)
    cm = confusion_matrix(y_true, labels, n_classes)
    present, precision, recall, f1, support = _prf(cm)
    has = n > 0
    if n_classes != 2:  # only a binary AUC reads the predicted labels: free them before the AUC's sorts
        labels = None
    return ClassifierMetrics(
        confusion_matrix=cm,
        report_labels=present,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support.astype(np.float64),
        accuracy=int(np.trace(cm)) / n if has else None,
        macro_precision=float(np.mean(precision)) if has else None,
        macro_recall=float(np.mean(recall)) if has else None,
        macro_f1=float(np.mean(f1)) if has else None,
        weighted_precision=_weighted(precision, support),
        weighted_recall=_weighted(recall, support),
        weighted_f1=_weighted(f1, support),
        roc_auc=_roc_auc(y_true, blocks, labels, n_classes) if has else None,
        loss=_log_loss(y_true, blocks) if has else None,
        n_windows=n,
    )


def calculate_classification_metrics(y_true, probs, num_classes: int) -> dict:
    """Compute EI's ``ei_sklearn.metrics.calculate_classification_metrics`` dict (same inputs, same output).

    ``y_true`` holds class indices (EI passes one-hot rows; give their argmax). Returns
    ``{"confusion_matrix", "classification_report", "roc_auc", "loss", "support",
    "weighted_average"}`` as EI does (lists and floats).
    """
    return classifier_metrics(y_true, probs, num_classes).to_ei_dict()


class ClassifierMetricsAccumulator(AccumulatorBase):
    """Mergeable state for :func:`classifier_metrics`: the windows' true labels and probabilities.

    AUC needs every score, so the state keeps every window's label and probabilities (compactly:
    `RowStore`); ``to_bytes`` writes them as int64 / float64.
    :meth:`compute` is independent of the order of windows (see the module notes), so any split
    merges to the same result.

    Parameters
    ----------
    n_classes : int
        K, the classifier's number of outputs.
    zero_rows : {"uniform", "raise"}
        Passed to :func:`classifier_metrics`.
    """

    kind = "classifier-scores"
    state_version = 1

    def __init__(self, n_classes: int, *, zero_rows: Literal["uniform", "raise"] = "uniform"):
        if zero_rows not in ("uniform", "raise"):
            raise ConfigError(f"zero_rows must be 'uniform' or 'raise', got {zero_rows!r}")
        self.n_classes = int(n_classes)
        self.zero_rows = zero_rows
        self._labels = RowStore(_label_dtype(self.n_classes))
        self._probs = RowStore("float")

    def update(self, y_true, probs) -> None:
        """Add windows; those whose true label is outside ``0..K-1`` (not a training label) are dropped.

        Parameters
        ----------
        y_true : integer array of shape (W,)
        probs : float array of shape (W, K)
        """
        y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
        probs = np.asarray(probs)
        if probs.dtype not in (np.float32, np.float64):
            probs = probs.astype(np.float64)
        if probs.ndim != 2 or probs.shape != (y_true.shape[0], self.n_classes):
            raise ConfigError(
                f"need probs of shape ({y_true.shape[0]}, {self.n_classes}), got {probs.shape}"
            )
        keep = (y_true >= 0) & (y_true < self.n_classes)
        self._labels.append(y_true[keep])
        self._probs.append(probs[keep])

    def merge(self, other: ClassifierMetricsAccumulator) -> ClassifierMetricsAccumulator:
        """Append ``other``'s windows (same K and zero-row rule, else ``MergeError``); returns self."""
        self._check_mergeable(other)
        self._labels.extend(other._labels)
        self._probs.extend(other._probs)
        return self

    def _config(self) -> dict:
        return {"n_classes": self.n_classes, "zero_rows": self.zero_rows}

    def _arrays(self) -> dict:
        y_true, probs = self._windows()
        return {"y_true": y_true, "probs": probs.astype(np.float64, copy=False)}

    @classmethod
    def _from_state(cls, fields, arrays) -> ClassifierMetricsAccumulator:
        n_classes = state_field(fields, "n_classes", "classes")
        acc = cls(n_classes, zero_rows=state_field(fields, "zero_rows", "str"))
        y_true = state_array(arrays, "y_true", np.int64, (None,))
        probs = state_array(arrays, "probs", np.float64, (y_true.shape[0], n_classes))
        if y_true.size and (y_true.min() < 0 or y_true.max() >= n_classes):
            raise ConfigError(f"array y_true must lie in 0..{n_classes - 1}")
        if np.isnan(probs).any():
            raise ConfigError("array probs holds NaN")
        acc._labels.append(y_true)
        acc._probs.append(probs)
        return acc

    def _windows(self) -> tuple[np.ndarray, np.ndarray]:
        """Labels (int64) and probabilities (float32 while every update was: exact either way)."""
        return self._labels.array(np.int64), self._probs.array(tail=(self.n_classes,))

    def compute(self) -> ClassifierMetrics:
        """:func:`classifier_metrics` over every window added so far (the probabilities block by block)."""
        return classifier_metrics(self._labels.array(), self._probs.blocks(), self.n_classes,
                                  zero_rows=self.zero_rows)
