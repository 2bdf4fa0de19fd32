"""Studio's ``accuracy`` object for classification (with or without anomaly blocks).

Dimension letters: W windows, L labels of the accumulator's label space.

:class:`ClassificationAccumulator` counts (expected label, predicted label) pairs of windows in
one int64 L x L matrix and the anomaly outcomes in a 2 x 2 matrix; both merge by sum, so any
split of the windows over shards merges to the same state. :meth:`compute` turns the counts
into :class:`AccuracySummary`, whose fields are those of the API model
``ClassifyJobResponseAllOfAccuracy`` in snake_case.

The additional metrics of a classifier (EI's ``calculate_classification_metrics``) live in
:mod:`evalcore.metrics.classifier_scores`; :func:`calculate_classification_metrics` is re-exported
here.

Compatibility notes
-------------------
Studio's aggregation code is closed; these are the documented readings, each an option of
:class:`AccuracyOptions` (ei-semantics.md Q1 and open question 2; the E-ids are those of
``reference/studio-evidence.md``):

- A window is *good* when its predicted label equals its expected label, so ``uncertain`` and
  ``anomaly`` predictions are bad unless the expected label is that very label
  (``uncertain_policy="bad"``; E1 shows the diagonal summing to good). ``"exclude"`` leaves
  uncertain windows out of good/bad, the per-class summary and both accuracy scores (they stay
  in the confusion matrix).
- Score scale (``score_scale``): every ``*AccuracyScore`` is a percentage, 0-100
  (``"percent"``; E3: Edge Impulse's own client prints ``accuracyScore.toFixed(2) + '%'``, E4:
  the sibling endpoint's accuracy is "a percentage"); ``"fraction"`` gives 0-1, evalcore's
  reading before that evidence. A percent score is the exact rational ``100 * good / total``
  rounded once to the nearest double (:func:`ratio_score`: ``(100 * good) / total`` on Python
  ints, whose true division is correctly rounded), not ``100 * (good / total)``, which rounds
  twice and can be one ulp off; so the bytes depend only on the counts. A fraction score is
  ``good / total``, as before.
- ``accuracyScore`` = good / (good + bad) on that scale; omitted (None) when there is no window.
- ``balancedAccuracyScore`` = mean over expected labels that have windows of good / windows,
  i.e. ``sklearn.metrics.balanced_accuracy_score`` on the label strings
  (``balanced_accuracy="mean_recall"``). ``"anomaly_mean"``: mean of the two anomaly scores.
  Percent: the exact mean of the exact ratios times 100, rounded once (:func:`mean_ratio_score`);
  fraction: ``math.fsum`` of the rounded ratios divided by their number, as before.
- ``anomalyAccuracyScore`` = share of windows expected "anomaly" that were predicted
  ``anomaly``; ``noAnomalyAccuracyScore`` = share of windows expected "no anomaly" that were
  not. Both are None when no window carried an expected anomaly outcome, each also when its
  denominator is 0.
- ``allLabels`` (the matrix columns) = the class labels in model order, then the extra labels
  (``uncertain``, ``anomaly``, test-only labels) that occur as expected or predicted at least
  once (``extra_columns="occurring"``; ``"declared"`` lists every extra label given). With
  ``uncertain_column="always"`` (the default) the ``uncertain`` extra label is a column even
  when no window is uncertain (E1: Studio's matrix "keeps a separate uncertain column", 0 in
  every row); ``"when-present"`` lists it only where it occurs. The caller decides whether the
  blocks can produce ``uncertain`` at all (``evalcore.report``: only a classifier block
  can) and passes ``"when-present"`` when they cannot.
- Matrix rows and ``summaryPerClass`` keys = the class labels (all of them, also with no test
  window: ``empty_class_rows=True``), then the extra labels that occur as expected labels
  (``uncertain`` is a column, never a row of its own unless a window is labelled so).
- ``confusionMatrixValues`` holds window counts (``confusion_values="counts"``; E1: whole
  numbers, rows summing to the class's good + bad); ``"percent"`` gives 100 * count / row total
  (0 for an empty row).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from evalcore.errors import ConfigError
from evalcore.metrics._base import AccumulatorBase, state_array, state_field
from evalcore.metrics.classifier_scores import calculate_classification_metrics

__all__ = [
    "GoodBad",
    "AccuracySummary",
    "AccuracyOptions",
    "ClassificationAccumulator",
    "SCORE_SCALES",
    "calculate_classification_metrics",
    "mean_ratio_score",
    "ratio_score",
]

#: Scales of the ``*AccuracyScore`` fields, the default (Studio's, E3/E4) first.
SCORE_SCALES = ("percent", "fraction")


def ratio_score(good: int, total: int, scale: str = "percent") -> float | None:
    """``good / total`` as a score on ``scale``; None when ``total`` is 0.

    ``"percent"`` is the exact ``100 * good / total`` rounded once to the nearest double (the
    product of Python ints is exact and their true division is correctly rounded);
    ``"fraction"`` is ``good / total``.
    """
    good, total = int(good), int(total)
    if not total:
        return None
    if scale == "percent":
        return (100 * good) / total
    if scale == "fraction":
        return good / total
    raise ConfigError(f"score scale must be one of {list(SCORE_SCALES)}, got {scale!r}")


def mean_ratio_score(pairs: Iterable[tuple[int, int]], scale: str = "percent") -> float | None:
    """Mean of the ratios ``good / total`` of ``(good, total)`` pairs (total > 0) on ``scale``.

    ``"percent"``: the exact rational mean times 100, rounded once; ``"fraction"``: the
    ``math.fsum`` of the rounded ratios divided by their number (evalcore's reading before the
    percent scale, kept bit for bit). None when there is no pair.
    """
    pairs = [(int(g), int(n)) for g, n in pairs]
    if not pairs:
        return None
    if scale == "percent":
        return float(100 * sum(Fraction(g, n) for g, n in pairs) / len(pairs))
    if scale == "fraction":
        return math.fsum(g / n for g, n in pairs) / len(pairs)
    raise ConfigError(f"score scale must be one of {list(SCORE_SCALES)}, got {scale!r}")


@dataclass(frozen=True)
class GoodBad:
    """``ClassifyJobResponseAllOfAccuracyTotalSummary``: correct and wrong windows."""

    good: int
    bad: int


@dataclass(frozen=True)
class AccuracySummary:
    """The content of ``ClassifyJobResponseAllOfAccuracy``, field for field in snake_case.

    Attributes
    ----------
    total_summary : GoodBad
    summary_per_class : dict of str to GoodBad
        Keyed by expected label, in row order.
    confusion_matrix_values : dict of str to dict of str to number
        Expected label -> predicted label (every entry of ``all_labels``) -> count or percent.
    all_labels : list of str
        The matrix columns.
    accuracy_score, balanced_accuracy_score, anomaly_accuracy_score,
    no_anomaly_accuracy_score, mse_score : float or None
        None = omitted from the JSON.
    """

    total_summary: GoodBad
    summary_per_class: dict[str, GoodBad]
    confusion_matrix_values: dict[str, dict[str, float]]
    all_labels: list[str]
    accuracy_score: float | None = None
    balanced_accuracy_score: float | None = None
    anomaly_accuracy_score: float | None = None
    no_anomaly_accuracy_score: float | None = None
    mse_score: float | None = None


@dataclass(frozen=True)
class AccuracyOptions:
    """Readings of Studio's undocumented aggregation; defaults are explained in the module notes."""

    uncertain_policy: Literal["bad", "exclude"] = "bad"
    balanced_accuracy: Literal["mean_recall", "anomaly_mean"] = "mean_recall"
    extra_columns: Literal["occurring", "declared"] = "occurring"
    empty_class_rows: bool = True
    confusion_values: Literal["counts", "percent"] = "counts"
    score_scale: Literal["percent", "fraction"] = "percent"
    uncertain_column: Literal["always", "when-present"] = "always"

    def __post_init__(self):
        """Reject option values outside their documented sets."""
        allowed = {
            "uncertain_policy": ("bad", "exclude"),
            "balanced_accuracy": ("mean_recall", "anomaly_mean"),
            "extra_columns": ("occurring", "declared"),
            "confusion_values": ("counts", "percent"),
            "score_scale": SCORE_SCALES,
            "uncertain_column": ("always", "when-present"),
        }
        for name, values in allowed.items():
            if getattr(self, name) not in values:
                raise ConfigError(f"{name} must be one of {list(values)}, got {getattr(self, name)!r}")
        if not isinstance(self.empty_class_rows, bool):
            raise ConfigError(f"empty_class_rows must be true or false, got {self.empty_class_rows!r}")


class ClassificationAccumulator(AccumulatorBase):
    """Mergeable window counts for Studio's classification ``accuracy`` object.

    Parameters
    ----------
    class_labels : sequence of str
        The model's classes in output order (codes ``0..K-1``).
    extra_labels : sequence of str, default ("uncertain", "anomaly")
        Further labels, codes ``K, K+1, ...``: with the default the codes are those of
        :func:`evalcore.learn.classification.decode_classification`; append test-only expected
        labels after them.
    options : AccuracyOptions, optional
    uncertain_label, anomaly_label : str
        Which extra labels mean "uncertain" and "anomaly" (when present).

    Notes
    -----
    State: ``counts`` int64 (L, L) [expected, predicted] and ``anomaly_counts`` int64 (2, 2)
    [expected anomaly, predicted anomaly]; both merge by sum.
    """

    kind = "accuracy"
    state_version = 1

    def __init__(
        self,
        class_labels: Sequence[str],
        extra_labels: Sequence[str] = ("uncertain", "anomaly"),
        *,
        options: AccuracyOptions | None = None,
        uncertain_label: str = "uncertain",
        anomaly_label: str = "anomaly",
    ):
        labels = tuple(class_labels) + tuple(extra_labels)
        if len(set(labels)) != len(labels):
            dupes = sorted({x for x in labels if labels.count(x) > 1})
            raise ConfigError(f"labels must be unique, got duplicates {dupes}")
        self.labels = labels
        self.n_classes = len(class_labels)
        self.options = options or AccuracyOptions()
        self.uncertain_label = uncertain_label
        self.anomaly_label = anomaly_label
        self._uncertain = labels.index(uncertain_label) if uncertain_label in labels[self.n_classes:] else -1
        self._anomaly = labels.index(anomaly_label) if anomaly_label in labels[self.n_classes:] else -1
        self.counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
        self.anomaly_counts = np.zeros((2, 2), dtype=np.int64)

    def update(self, expected, predicted, *, expected_is_anomaly=None) -> None:
        """Add a batch of windows.

        Parameters
        ----------
        expected, predicted : integer array of shape (W,)
            Codes into :attr:`labels`; windows with an out-of-range code are not counted.
        expected_is_anomaly : bool array of shape (W,), optional
            The window's expected anomaly outcome ("anomaly" = True); give it when the impulse
            has an anomaly block. The predicted outcome is ``predicted == anomaly code``.
        """
        from kernels.confusion import confusion_matrix

        expected = np.asarray(expected)
        predicted = np.asarray(predicted)
        if expected.shape != predicted.shape or expected.ndim != 1:
            raise ConfigError(
                f"expected and predicted must be 1-D of equal length, got {expected.shape} and {predicted.shape}"
            )
        confusion_matrix(expected, predicted, len(self.labels), out=self.counts)
        if expected_is_anomaly is not None:
            expected_is_anomaly = np.asarray(expected_is_anomaly, dtype=bool)
            if expected_is_anomaly.shape != expected.shape:
                raise ConfigError(
                    f"expected_is_anomaly has shape {expected_is_anomaly.shape}, windows {expected.shape}"
                )
            if self._anomaly >= 0:
                predicted_is_anomaly = predicted == self._anomaly
            else:
                predicted_is_anomaly = np.zeros(expected.shape, dtype=bool)
            confusion_matrix(
                expected_is_anomaly.view(np.uint8), predicted_is_anomaly.view(np.uint8), 2,
                out=self.anomaly_counts,
            )

    def merge(self, other: ClassificationAccumulator) -> ClassificationAccumulator:
        """Add ``other``'s counts into this accumulator (same configuration); returns self.

        Raises
        ------
        MergeError
            Naming the first of labels, n_classes, options, uncertain_label, anomaly_label that differs.
        """
        self._check_mergeable(other)
        self.counts += other.counts
        self.anomaly_counts += other.anomaly_counts
        return self

    def _config(self) -> dict:
        return {"labels": list(self.labels), "n_classes": self.n_classes, "options": asdict(self.options),
                "uncertain_label": self.uncertain_label, "anomaly_label": self.anomaly_label}

    def _arrays(self) -> dict:
        return {"counts": self.counts, "anomaly_counts": self.anomaly_counts}

    @classmethod
    def _from_state(cls, fields, arrays) -> ClassificationAccumulator:
        labels = state_field(fields, "labels", "str_list")
        n_classes = state_field(fields, "n_classes", "int")
        if not 0 <= n_classes <= len(labels):
            raise ConfigError(f"field n_classes must lie in 0..{len(labels)}, got {n_classes}")
        options = state_field(fields, "options", "dict")
        if set(options) != set(AccuracyOptions.__dataclass_fields__):
            raise ConfigError(f"field options must hold {sorted(AccuracyOptions.__dataclass_fields__)}")
        n = len(labels)  # arrays first: the (n, n) allocation below is no bigger than the data
        counts = state_array(arrays, "counts", np.int64, (n, n), nonnegative=True)
        anomaly_counts = state_array(arrays, "anomaly_counts", np.int64, (2, 2), nonnegative=True)
        acc = cls(labels[:n_classes], labels[n_classes:], options=AccuracyOptions(**options),
                  uncertain_label=state_field(fields, "uncertain_label", "str"),
                  anomaly_label=state_field(fields, "anomaly_label", "str"))
        acc.counts[...] = counts
        acc.anomaly_counts[...] = anomaly_counts
        return acc

    def compute(self) -> AccuracySummary:
        """Build the accuracy object from the current counts (pure: the state is not modified)."""
        opts = self.options
        counts = self.counts
        row_total = counts.sum(axis=1)
        col_total = counts.sum(axis=0)
        n_labels, n_classes = len(self.labels), self.n_classes
        extras = range(n_classes, n_labels)
        rows = [r for r in range(n_classes) if opts.empty_class_rows or row_total[r] > 0]
        rows += [r for r in extras if row_total[r] > 0]
        if opts.extra_columns == "declared":
            columns = list(range(n_labels))
        else:
            always = self._uncertain if opts.uncertain_column == "always" else -1
            columns = list(range(n_classes)) + [
                c for c in extras if row_total[c] > 0 or col_total[c] > 0 or c == always
            ]

        good = np.diagonal(counts).copy()
        bad = row_total - good
        if opts.uncertain_policy == "exclude" and self._uncertain >= 0:
            uncertain = counts[:, self._uncertain].copy()
            uncertain[self._uncertain] = 0  # already in good
            bad = bad - uncertain
        n_good, n_bad = int(good.sum()), int(bad.sum())

        summary = {self.labels[r]: GoodBad(int(good[r]), int(bad[r])) for r in rows}
        matrix = {
            self.labels[r]: {self.labels[c]: self._cell(counts, r, c, row_total) for c in columns}
            for r in rows
        }
        scale = opts.score_scale
        a = self.anomaly_counts
        anomaly_pair = (int(a[1, 1]), int(a[1, 0] + a[1, 1]))  # (correct, windows) expected anomaly
        normal_pair = (int(a[0, 0]), int(a[0, 0] + a[0, 1]))  # (correct, windows) expected normal
        anomaly, no_anomaly = ratio_score(*anomaly_pair, scale), ratio_score(*normal_pair, scale)
        if opts.balanced_accuracy == "mean_recall":
            seen = (good + bad) > 0
            balanced = mean_ratio_score(
                ((good[r], good[r] + bad[r]) for r in range(n_labels) if seen[r]), scale
            )
        else:
            balanced = (
                None if anomaly is None or no_anomaly is None
                else mean_ratio_score((anomaly_pair, normal_pair), scale)
            )
        return AccuracySummary(
            total_summary=GoodBad(n_good, n_bad),
            summary_per_class=summary,
            confusion_matrix_values=matrix,
            all_labels=[self.labels[c] for c in columns],
            accuracy_score=ratio_score(n_good, n_good + n_bad, scale),
            balanced_accuracy_score=balanced,
            anomaly_accuracy_score=anomaly,
            no_anomaly_accuracy_score=no_anomaly,
        )

    def _cell(self, counts, r, c, row_total):
        if self.options.confusion_values == "counts":
            return int(counts[r, c])
        return 100.0 * int(counts[r, c]) / int(row_total[r]) if row_total[r] else 0.0
