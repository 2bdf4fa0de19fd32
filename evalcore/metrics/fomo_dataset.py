"""FOMO data-set metrics: EI's ``calculate_fomo_metrics`` on the pooled cell labels of every image.

``ei_sklearn/metrics.py`` ``calculate_fomo_metrics`` (shared/golden/README.md "fomo" points 5, 6
and 8) concatenates every sample's flat (true, predicted) cell-label lists; only the counts of
each label pair matter, so the state is a (K+1)×(K+1) count matrix indexed
``[true + 1, pred + 1]``: row/column 0 holds label -1 (a test label absent from training), which
sklearn's ``confusion_matrix(labels=range(K))`` drops but ``classification_report`` lists.
The per-image scoring that produces the counts is :mod:`evalcore.metrics.fomo`.

Letters: K classes including background (label 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.errors import ConfigError
from evalcore.metrics._base import AccumulatorBase, state_array, state_field
from evalcore.metrics.fomo import non_background_prf

__all__ = ["FomoAccumulator", "FomoMetrics", "classification_report_from_counts"]


def classification_report_from_counts(label_pair_counts):
    """Sklearn ``classification_report(output_dict=True, zero_division=0)`` from pair counts.

    Parameters
    ----------
    label_pair_counts : int64 array of shape (K+1, K+1)
        Counts of (true, predicted) label pairs indexed ``[true + 1, pred + 1]``.

    Returns
    -------
    dict
        Keys ``str(label)`` for every label present in the true or predicted lists (ascending,
        so ``"-1"`` first when present), then ``"accuracy"``, ``"macro avg"`` and
        ``"weighted avg"``, each class/avg entry ``{precision, recall, f1-score, support}``
        with float values. F1 is ``2·P·R / (P + R)`` in scikit-learn 1.3's operation order
        (``"accuracy"`` is the micro F1, as sklearn reports it); averages use ``np.average``.
    """
    counts = np.asarray(label_pair_counts, dtype=np.int64)
    true_sum = counts.sum(axis=1)
    pred_sum = counts.sum(axis=0)
    present = np.flatnonzero((true_sum + pred_sum) > 0)
    if present.size == 0:
        return {}
    tp = np.diag(counts)[present].astype(np.float64)
    n_true = true_sum[present].astype(np.float64)
    n_pred = pred_sum[present].astype(np.float64)
    precision = _divide_or_zero(tp, n_pred)
    recall = _divide_or_zero(tp, n_true)
    f1 = _f1_from_pr(precision, recall)
    report = {}
    for i, label_index in enumerate(present):
        report[str(int(label_index) - 1)] = {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1-score": float(f1[i]),
            "support": float(n_true[i]),
        }
    n_total = float(n_true.sum())
    micro = _divide_or_zero(np.array([tp.sum()]), np.array([n_total]))
    report["accuracy"] = float(_f1_from_pr(micro, micro)[0])
    report["macro avg"] = {
        "precision": float(np.average(precision)),
        "recall": float(np.average(recall)),
        "f1-score": float(np.average(f1)),
        "support": n_total,
    }
    if n_total:
        weighted = [float(np.average(v, weights=n_true)) for v in (precision, recall, f1)]
    else:
        weighted = [0.0, 0.0, 0.0]
    report["weighted avg"] = dict(zip(("precision", "recall", "f1-score"), weighted))
    report["weighted avg"]["support"] = n_total
    return report


def _f1_from_pr(precision, recall):
    """``2·P·R / (P + R)``, 0 where P + R = 0: scikit-learn 1.3's operation order (EI's 2024
    pin; the golden data). scikit-learn >= 1.4 computes ``2·TP / (n_true + n_pred)``, which
    can differ in the last bit.
    """
    denominator = precision + recall
    denominator = np.where(denominator == 0.0, 1.0, denominator)
    return 2.0 * precision * recall / denominator


def _divide_or_zero(numerator, denominator):
    """Element-wise ratio with 0.0 where the denominator is 0 (sklearn ``zero_division=0``)."""
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


@dataclass(frozen=True)
class FomoMetrics:
    """Dataset-level FOMO numbers (EI ``calculate_fomo_metrics`` on pooled cell labels).

    Attributes
    ----------
    n_samples : int
        Samples pooled (EI's ``support``).
    confusion_matrix : int64 array of shape (K, K)
        Pooled confusion over labels 0..K-1 (pairs holding -1 dropped, as sklearn does).
    precision, recall, f1 : float
        :func:`non_background_prf` of the pooled confusion matrix.
    classification_report : dict
        :func:`classification_report_from_counts` of the pooled pairs.
    """

    n_samples: int
    confusion_matrix: np.ndarray
    precision: float
    recall: float
    f1: float
    classification_report: dict


class FomoAccumulator(AccumulatorBase):
    """Mergeable pooled FOMO metrics: ``update`` per sample, ``merge`` shards, ``compute``.

    State: an int64 (K+1)×(K+1) pair-count matrix (merged by sum) and the sample count (sum).
    Pooling counts is exactly EI's concatenation of every sample's flat label lists, so any
    split of the samples into shards merges to the same result.

    Parameters
    ----------
    n_classes : int
        K, the number of classes including background (training labels + 1).
    """

    kind = "fomo"
    state_version = 1

    def __init__(self, n_classes: int):
        if int(n_classes) < 1:
            raise ConfigError(f"n_classes must be >= 1 (background included), got {n_classes}")
        self.n_classes = int(n_classes)
        self.label_pair_counts = np.zeros((self.n_classes + 1, self.n_classes + 1), dtype=np.int64)
        self.n_samples = 0

    def update(self, result) -> None:
        """Add one sample: anything with a ``label_pair_counts`` (K+1)×(K+1) array (FomoSampleResult)."""
        counts = np.asarray(result.label_pair_counts)
        if counts.shape != self.label_pair_counts.shape:
            raise ConfigError(
                f"sample has {counts.shape[0] - 1} classes incl. background, accumulator has {self.n_classes}"
            )
        self.label_pair_counts += counts.astype(np.int64, copy=False)
        self.n_samples += 1

    def merge(self, other: FomoAccumulator) -> FomoAccumulator:
        """Add another accumulator's state into this one (in place) and return self.

        Raises
        ------
        MergeError
            The two have different ``n_classes``.
        """
        self._check_mergeable(other)
        self.label_pair_counts += other.label_pair_counts
        self.n_samples += other.n_samples
        return self

    def _config(self) -> dict:
        return {"n_classes": self.n_classes}

    def _arrays(self) -> dict:
        return {"label_pair_counts": self.label_pair_counts, "n_samples": np.array([self.n_samples], np.int64)}

    @classmethod
    def _from_state(cls, fields, arrays) -> FomoAccumulator:
        k = state_field(fields, "n_classes", "int") + 1  # arrays first: allocate no more than the data
        counts = state_array(arrays, "label_pair_counts", np.int64, (k, k), nonnegative=True)
        acc = cls(k - 1)
        acc.label_pair_counts[...] = counts
        acc.n_samples = int(state_array(arrays, "n_samples", np.int64, (1,), nonnegative=True)[0])
        return acc

    def compute(self) -> FomoMetrics:
        """Pooled metrics; pure (the state is not changed)."""
        confusion = self.label_pair_counts[1:, 1:].copy()
        precision, recall, f1 = non_background_prf(confusion)
        return FomoMetrics(
            n_samples=self.n_samples,
            confusion_matrix=confusion,
            precision=precision,
            recall=recall,
            f1=f1,
            classification_report=classification_report_from_counts(self.label_pair_counts),
        )
