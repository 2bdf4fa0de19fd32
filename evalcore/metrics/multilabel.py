"""Metrics of a multi-label classifier block (``isMultiLabel``: one sigmoid score per label).

Dimension letters: N windows, K labels.

A multi-label block selects, per window, every label whose score reaches the block's threshold
(:func:`evalcore.learn.multilabel.decode_multilabel`); a window's true labels are a set too. This
module turns (truth, selection, scores) into the block's metrics and its
``additionalMetrics`` entries, with a mergeable accumulator for sharded runs.

Source
------
Edge Impulse's open Python library has a multi-label path in its newer ``Evaluator`` class
(``ei_shared/evaluator.py``, the "[EVAL]" of reference/ei-semantics.md): a public copy of the
library found with the code-search tools (search-index file id 54551117549); its repository and
commit could not be identified. What it shows:

- ``Evaluator(..., is_multilabel=..., minimum_confidence_rating=...)``, documented as
  "Minimum confidence rating (currently used only for multi-label)": the threshold decides the
  labels of a multi-label model, and only there;
- ``classification()`` passes both to ``ei_sklearn.metrics.calculate_classification_metrics``
  and then reads ``metrics["classification_report"]["accuracy"]`` and ``metrics["loss"]``, and
  copies ``metrics["confusion_matrix"]`` only ``if "confusion_matrix" in result.metrics`` (so the
  multi-label result may have none); per-class-name subgroup metrics are skipped for multi-label.

The body of that newer ``calculate_classification_metrics`` (its multi-label branch) is not in
any public repository found (the newest one found, with ``weighted_average``, has no
multi-label branch). Everything below that EI's code does not settle follows scikit-learn's
multi-label readings, which that function is built on (it calls ``classification_report``,
``roc_auc_score`` and ``log_loss``):

- per label: precision, recall, F1 and support as
  ``precision_recall_fscore_support(truth, pred, average=None, zero_division=0)``;
  ``label_counts`` is ``multilabel_confusion_matrix`` (tp, fp, fn, tn per label);
- the four averages of ``classification_report`` on indicator input: ``micro``, ``macro``,
  ``weighted`` (by true support) and ``samples`` (per window, then the mean);
- ``subset_accuracy`` = ``accuracy_score(truth, pred)`` (a window counts when its label set is
  exactly right) -- the ``"accuracy"`` EI's Evaluator reads; ``hamming_loss`` =
  ``hamming_loss(truth, pred)``;
- ``roc_auc`` = ``roc_auc_score(truth, scores)`` with its default ``average="macro"`` over the
  labels, on the raw scores (no renormalisation: sigmoid scores are independent); None where
  sklearn 1.3 raises "Only one class present in y_true" (a label always or never true), as EI's
  ``can_ignore_roc_auc_score_exception`` turns that into None;
- ``loss`` = binary cross-entropy, the mean over windows and labels of
  ``-(y log p + (1 - y) log(1 - p))`` with p clipped to [eps, 1 - eps] (float64 eps), i.e.
  ``log_loss(truth.ravel(), scores.ravel(), labels=[0, 1])`` -- the loss a sigmoid output is
  trained with.

Compatibility notes
-------------------
- ``additionalMetrics``: EI's UI copy (``weighted_average`` "for UI") takes the "weighted avg"
  row of the classification report; for indicator input that row exists, so the default is the
  single-label set of entries with the ``weighted`` reading: "Area under ROC Curve",
  "Weighted average Precision / Recall / F1 score", "Loss". ``--compat
  multilabel-average=micro|macro|samples`` takes another of sklearn's averages instead (names
  "Micro average ...", ...). Evidence for Studio's display: none.
- Counting (:mod:`kernels.multilabel`) is integer; per-window values and the loss are summed
  with ``math.fsum`` and AUC is rank-based (:mod:`kernels.ranking`), so the result does not
  depend on window order and sharded runs merge bit-identically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from evalcore.errors import ConfigError
from evalcore.metrics._base import AccumulatorBase, state_array, state_field
from evalcore.metrics._rows import RowStore

__all__ = [
    "AVERAGES",
    "MultiLabelMetrics",
    "MultiLabelMetricsAccumulator",
    "multilabel_metrics",
    "multilabel_additional_metrics",
]

#: sklearn's multi-label ``average=`` readings, the default (EI's "weighted avg" copy) first.
AVERAGES = ("weighted", "micro", "macro", "samples")

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class MultiLabelMetrics:
    """The metrics of one multi-label block over the windows it saw.

    Attributes
    ----------
    n_windows : int
    label_counts : int64 array of shape (K, 4)
        Per label: tp, fp, fn, tn (``multilabel_confusion_matrix[j]`` is ``[[tn, fp], [fn, tp]]``).
    support : int64 array of shape (K,)
        Windows that carry each label.
    precision, recall, f1 : float64 arrays of shape (K,)
        Per label, ``zero_division=0``.
    averages : dict of str to (precision, recall, f1)
        The ``micro``, ``macro``, ``weighted`` and ``samples`` readings (None without windows).
    subset_accuracy, hamming_loss, roc_auc, loss : float or None
        None when undefined (no window; AUC also when a label is always or never true).
    """

    n_windows: int
    label_counts: np.ndarray
    support: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    averages: dict
    subset_accuracy: float | None
    hamming_loss: float | None
    roc_auc: float | None
    loss: float | None


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den == 0`` (sklearn's ``zero_division=0``)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    safe = np.where(den == 0, 1.0, den)
    return np.where(den == 0, 0.0, num / safe)


def _check(truth, pred, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    truth = np.asarray(truth)
    pred = np.asarray(pred)
    scores = np.asarray(scores, dtype=np.float64)
    if truth.dtype != np.bool_ or pred.dtype != np.bool_:
        raise ConfigError("multi-label truth and selection must be bool arrays")
    if truth.ndim != 2 or truth.shape != pred.shape or truth.shape != scores.shape:
        raise ConfigError(
            f"truth, selection and scores must share one (windows, labels) shape, got "
            f"{truth.shape}, {pred.shape} and {scores.shape}"
        )
    if np.isnan(scores).any():
        raise ConfigError("multi-label scores contain NaN")
    return truth, pred, scores


def _auc_macro(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """Mean per-label AUC; None when a label is always or never true (sklearn 1.3 raises there)."""
    from kernels.ranking import roc_auc_binary

    n, k = truth.shape
    if n == 0 or k == 0:
        return None
    aucs = []
    for j in range(k):
        auc = roc_auc_binary(np.ascontiguousarray(truth[:, j]), np.ascontiguousarray(scores[:, j]))
        if auc != auc:
            return None
        aucs.append(auc)
    return float(np.mean(aucs))


def _binary_cross_entropy(truth: np.ndarray, scores: np.ndarray) -> float | None:
    if truth.size == 0:
        return None
    p = np.clip(scores, _EPS, 1 - _EPS)
    losses = -np.where(truth, np.log(p), np.log1p(-p))
    return math.fsum(losses.ravel().tolist()) / truth.size


def multilabel_metrics(truth, pred, scores) -> MultiLabelMetrics:
    """Metrics of a multi-label block from its windows' true and selected label sets.

    Parameters
    ----------
    truth : bool array of shape (N, K)
        True labels of each window.
    pred : bool array of shape (N, K)
        Labels the block selected (score against threshold, decided in the scores' dtype).
    scores : float array of shape (N, K)
        The block's scores (for AUC and the loss).

    Returns
    -------
    MultiLabelMetrics

    Raises
    ------
    ConfigError
        On shape or dtype mismatch, or NaN scores.
    """
    from kernels.multilabel import multilabel_counts

    truth, pred, scores = _check(truth, pred, scores)
    n, k = truth.shape
    label_counts, row_counts = multilabel_counts(truth, pred)
    tp, fp, fn = label_counts[:, 0], label_counts[:, 1], label_counts[:, 2]
    tn = n - tp - fp - fn
    support = tp + fn
    precision = _divide(tp, tp + fp)
    recall = _divide(tp, tp + fn)
    f1 = _divide(2 * tp, 2 * tp + fp + fn)  # sklearn >= 1.3: 2tp / (2tp + fp + fn)
    averages: dict = dict.fromkeys(AVERAGES)
    if n:
        tps, fps, fns = int(tp.sum()), int(fp.sum()), int(fn.sum())
        micro = _divide([tps, tps, 2 * tps], [tps + fps, tps + fns, 2 * tps + fps + fns]).tolist()
        averages["micro"] = tuple(micro)
        averages["macro"] = tuple(float(np.mean(v)) if k else 0.0 for v in (precision, recall, f1))
        total = int(support.sum())
        averages["weighted"] = tuple(
            float(np.multiply(v, support, dtype=np.float64).sum() / total) if total else 0.0
            for v in (precision, recall, f1)
        )
        r_tp, r_pred, r_true = row_counts[:, 0], row_counts[:, 1], row_counts[:, 2]
        per_row = (_divide(r_tp, r_pred), _divide(r_tp, r_true), _divide(2 * r_tp, r_pred + r_true))
        averages["samples"] = tuple(math.fsum(v.tolist()) / n for v in per_row)
        exact = (r_tp == r_pred) & (r_tp == r_true)
        subset_accuracy = int(exact.sum()) / n
        hamming = (fps + fns) / (n * k) if k else 0.0
    else:
        subset_accuracy = hamming = None
    return MultiLabelMetrics(
        n_windows=n,
        label_counts=np.stack([tp, fp, fn, tn], axis=1).astype(np.int64),
        support=support.astype(np.int64),
        precision=precision,
        recall=recall,
        f1=f1,
        averages=averages,
        subset_accuracy=subset_accuracy,
        hamming_loss=hamming,
        roc_auc=_auc_macro(truth, scores),
        loss=_binary_cross_entropy(truth, scores),
    )


class MultiLabelMetricsAccumulator(AccumulatorBase):
    """Mergeable state for :func:`multilabel_metrics`: the windows' truth, selection and scores.

    AUC needs every score, so the state concatenates (as ``ClassifierMetricsAccumulator`` does);
    :meth:`compute` does not depend on window order, so any split merges to the same result.

    Parameters
    ----------
    n_labels : int
        K, the block's number of outputs.
    average : {"weighted", "micro", "macro", "samples"}
        The reading its ``additionalMetrics`` entries use (``--compat multilabel-average``).
    """

    kind = "multilabel"
    state_version = 1

    def __init__(self, n_labels: int, *, average: str = "weighted"):
        if average not in AVERAGES:
            raise ConfigError(f"multi-label average must be one of {', '.join(AVERAGES)}, got {average!r}")
        self.n_labels = int(n_labels)
        self.average = average
        self._truth = RowStore(np.bool_)
        self._pred = RowStore(np.bool_)
        self._scores = RowStore("float")

    def update(self, truth, pred, scores) -> None:
        """Add windows: bool truth and selection, float scores, each of shape (W, K)."""
        truth, pred, scores = _check(truth, pred, scores)
        if truth.shape[1] != self.n_labels:
            raise ConfigError(f"need {self.n_labels} labels per window, got {truth.shape[1]}")
        self._truth.append(truth)
        self._pred.append(pred)
        self._scores.append(scores)

    def merge(self, other: MultiLabelMetricsAccumulator) -> MultiLabelMetricsAccumulator:
        """Append ``other``'s windows (same K and reading, else ``MergeError``); returns self."""
        self._check_mergeable(other)
        self._truth.extend(other._truth)
        self._pred.extend(other._pred)
        self._scores.extend(other._scores)
        return self

    def _config(self) -> dict:
        return {"n_labels": self.n_labels, "average": self.average}

    def _arrays(self) -> dict:
        truth, pred, scores = self._windows()
        return {"truth": truth, "pred": pred, "scores": scores}

    def _windows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = (self.n_labels,)
        return self._truth.array(tail=k), self._pred.array(tail=k), self._scores.array(np.float64, k)

    @classmethod
    def _from_state(cls, fields, arrays) -> MultiLabelMetricsAccumulator:
        n_labels = state_field(fields, "n_labels", "classes")
        acc = cls(n_labels, average=state_field(fields, "average", "str"))
        truth = state_array(arrays, "truth", np.bool_, (None, n_labels))
        pred = state_array(arrays, "pred", np.bool_, truth.shape)
        scores = state_array(arrays, "scores", np.float64, truth.shape)
        if truth.shape[0]:
            acc.update(truth, pred, scores)
        return acc

    def compute(self) -> MultiLabelMetrics:
        """:func:`multilabel_metrics` over every window added so far."""
        return multilabel_metrics(*self._windows())


def _entry_names(average: str) -> Mapping[str, str]:
    title = average.capitalize()
    return {
        "roc_auc": "Area under ROC Curve",
        "precision": f"{title} average Precision",
        "recall": f"{title} average Recall",
        "f1": f"{title} average F1 score",
        "loss": "Loss",
    }


def multilabel_additional_metrics(metrics: MultiLabelMetrics, average: str = "weighted") -> list:
    """``additionalMetrics`` entries of a multi-label block (see the module notes).

    Returns
    -------
    list of evalcore.metrics.additional.AdditionalMetricValue
        AUC, the ``average`` reading's precision, recall and F1, then the loss; an undefined
        value is left out, as for single-label blocks.
    """
    from evalcore.metrics.additional import AdditionalMetricValue, format_metric_value

    if average not in AVERAGES:
        raise ConfigError(f"multi-label average must be one of {', '.join(AVERAGES)}, got {average!r}")
    prf = metrics.averages[average] or (None, None, None)
    values = {"roc_auc": metrics.roc_auc, "precision": prf[0], "recall": prf[1], "f1": prf[2],
              "loss": metrics.loss}
    out = []
    for key, name in _entry_names(average).items():
        value = values[key]
        if value is None or value != value:
            continue
        out.append(AdditionalMetricValue(name=name, value=format_metric_value(value),
                                         full_precision_value=float(value)))
    return out
