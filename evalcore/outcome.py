"""The contract between the map and the reduce: what one sample hands on.

The map (``evalcore.pipeline``) fills a `SampleOutcome` per sample: the sample's windows, its
expected labels, each learn block's raw output and, once every block of its batch has run, the
decisions (``evalcore.learn.decide``). The reduce (``evalcore.report``) reads nothing else.
Both wings import this module; it imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ANOMALY", "NO_ANOMALY", "BlockPlan", "BoxWithScore", "Detections", "PreparedSample", "RunLabels", "SampleOutcome", "StructuredDecisions",
           "WindowDecisions", "run_labels"]

#: Label of a window an anomaly block flags; of an anomaly-only impulse's normal window.
ANOMALY = "anomaly"
NO_ANOMALY = "no anomaly"


@dataclass
class SampleOutcome:
    """Everything the reduce and the report need of one sample.

    Attributes
    ----------
    record : evalcore.data.SampleRecord
    sample : evalcore.schema.Sample or None
        The output ``Sample`` object; None when ``sample_json`` holds it (see `sample_model`).
    start_ms, end_ms : float64 arrays of shape (W,)
        Window boundaries in ms.
    label_ranges : int64 array of shape (W, 2)
        First and last (inclusive) value index of each window, for ``expectedLabels``.
    expected : list of str or None, length W
        Expected label per window (None: unlabeled).
    window_interval_ms : float
        Spacing of the values the index ranges count (``classifications[].intervalMs``).
    outputs : dict of int to BlockOutput
        Per learn block id: the block's raw output per window (``evalcore.learn.blocks``).
    decided : WindowDecisions or StructuredDecisions or None
        What the map decided of the sample once every block had run (``evalcore.learn.decide``).
    sample_json : str or None
        The ``Sample`` as the response's JSON text. A worker process sends this instead of the
        model: the text is what the report writes, and unpickling a ``Sample`` model cost more
        than the rest of a prepared sample together (``evalcore.pipeline.pool``).
    """

    record: object
    sample: object
    start_ms: np.ndarray
    end_ms: np.ndarray
    label_ranges: np.ndarray
    expected: list
    window_interval_ms: float
    outputs: dict = field(default_factory=dict)
    sample_json: str | None = None
    decided: object = None

    def sample_model(self):
        """The ``Sample`` model (parsed from ``sample_json`` when it came as text)."""
        if self.sample is None:
            from evalcore import schema

            return schema.Sample.model_validate_json(self.sample_json)
        return self.sample

    @property
    def n_windows(self) -> int:
        """Number of windows W."""
        return int(self.start_ms.shape[0])


@dataclass
class PreparedSample:
    """A sample ready for the models: its outcome (no block output yet) and its feature rows."""

    outcome: SampleOutcome
    features: dict  # learn block id -> float32 (W, F)


@dataclass(frozen=True)
class BlockPlan:
    """One learn block as a run treats it, known before any model is loaded.

    Built by ``evalcore.learn.thresholds.plan_blocks`` from the metadata and ``--threshold``; the
    map's runners and the reduce read the same plans.

    Attributes
    ----------
    spec : evalcore.bundle.LearnSpec
    kind : str
        ``classification``, ``regression``, ``anomaly-kmeans``, ``anomaly-gmm``,
        ``object-detection`` or ``visual-anomaly``.
    labels : tuple of str
        What the block's outputs are named by (classes; ``anomaly``; ``value``).
    threshold : float
        The threshold in force.
    multi_label : bool
        One sigmoid score per label (``isMultiLabel``).
    threshold_entry : evalcore.schema.BlockThreshold
        The ``thresholds[]`` entry the response shows.
    """

    spec: object
    kind: str
    labels: tuple
    threshold: float
    multi_label: bool
    threshold_entry: object

    @property
    def id(self) -> int:
        """The learn block id."""
        return self.spec.id


@dataclass(frozen=True)
class RunLabels:
    """The label set of a run: the confusion matrix's labels and their codes.

    ``labels`` = the classifier's classes (none for regression, ``no anomaly`` for anomaly blocks
    alone), then ``uncertain`` and ``anomaly``, then the test labels the model does not know
    (sorted; none for regression). Codes are positions in ``labels``.
    """

    classes: tuple
    extras: tuple
    labels: tuple
    code_of: dict

    @property
    def n_classes(self) -> int:
        """Number of model classes (the first codes)."""
        return len(self.classes)


def run_labels(plans: dict, records) -> RunLabels:
    """The `RunLabels` of a run's block plans and its samples (all of them, whatever the shard)."""
    kinds = [plan.kind for plan in plans.values()]
    classifier = next((plan for plan in plans.values() if plan.kind == "classification"), None)
    regression = "regression" in kinds
    if classifier is not None:
        classes = tuple(classifier.labels)
    elif regression:
        classes = ()
    else:
        classes = (NO_ANOMALY,)
    extras = ("uncertain", ANOMALY)
    seen = set(classes) | set(extras)
    test_only = () if regression else tuple(sorted({lbl for r in records for lbl in _record_labels(r)} - seen))
    labels = classes + extras + test_only
    return RunLabels(classes=classes, extras=extras + test_only, labels=labels,
                     code_of={name: i for i, name in enumerate(labels)})


def _record_labels(record) -> list:
    info = record.label
    if info.kind == "label" and info.label is not None:
        return [info.label]
    if info.kind == "multi-label":
        return [s.label for s in info.segments]
    return []


@dataclass
class WindowDecisions:
    """What the map decided of a window-labelled sample (classifier, regression, anomaly blocks).

    Attributes
    ----------
    predicted : list of str, length W
        The ``prediction`` text of each window.
    correct : bool array of shape (W,)
    expected_anomaly : bool array of shape (W,)
    accuracy : (int32 array, int32 array, bool array or None) or None
        The confusion matrix's update: expected codes, predicted codes, expected-anomaly flags
        (None: no anomaly block); None for regression (its block's accumulator holds it).
    metric_updates : dict of int to tuple
        Per learn block id, the arguments of its metrics accumulator's ``update``.
    """

    predicted: list
    correct: np.ndarray
    expected_anomaly: np.ndarray
    accuracy: tuple | None
    metric_updates: dict


@dataclass
class StructuredDecisions:
    """What the map decoded of an image sample of a detection or visual anomaly block.

    Attributes
    ----------
    kind : str
        ``boxes`` (SSD / YOLO), ``fomo`` or ``visual-anomaly``.
    detections : Detections or None
        Decoded boxes (``boxes``, ``fomo``: FOMO's fused cells, ``[ymin, xmin, ymax, xmax]`` in 0..1).
    grid_shape : (int, int, int) or None
        The FOMO heat map's (H, W, K), background channel included.
    ground_truth : list of dict
        The sample's boxes in model-input pixels: ``x, y, w, h`` and ``label`` (1-based class
        index, -1 for a class the model does not know).
    visual : object or None
        ``evalcore.learn.visual_anomaly.VisualAnomalyResult`` (``visual-anomaly``).
    """

    kind: str
    detections: object = None
    grid_shape: tuple | None = None
    ground_truth: list = field(default_factory=list)
    visual: object = None


@dataclass(frozen=True)
class Detections:
    """Detections of one sample after the architecture's own filter / NMS.

    Attributes
    ----------
    boxes : float64 array of shape (D, 4)
        ``[ymin, xmin, ymax, xmax]`` normalised to the model input (not clipped).
    labels : int32 array of shape (D,)
        0-based training class index.
    scores : float64 array of shape (D,)
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4)), np.zeros(0, dtype=np.int32), np.zeros(0))

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class BoxWithScore:
    """Studio ``BoundingBoxWithScore``: ``label`` name, box and score.

    In ``predictions[].boundingBoxes`` x/y/width/height are ratios of the input (0..1); in a
    visual-anomaly ``AnomalyResult.boxes`` they are input pixels.
    """

    label: str
    x: float
    y: float
    width: float
    height: float
    score: float
