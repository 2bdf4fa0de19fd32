"""The contract between the map and the reduce: what one sample hands on.

The map (``evalcore.pipeline``) fills a `SampleOutcome` per sample: the sample's windows, its
expected labels, each learn block's raw output and, once every block of its batch has run, the
decisions (``evalcore.learn.decide``). The reduce (``evalcore.report``) reads nothing else.
Both wings import this module; it imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PreparedSample", "SampleOutcome"]


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
    decisions : dict of int to BlockDecision
        Per learn block id: raw per-window results and decisions.
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
    decisions: dict = field(default_factory=dict)
    sample_json: str | None = None

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
