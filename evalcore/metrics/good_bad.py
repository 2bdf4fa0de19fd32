"""Good / bad sample counts of a block whose ``accuracy`` has no confusion matrix (object detection).

A detection sample is good when its score (per-image mAP, or F1 for FOMO) reaches the block's
bar; the caller decides that and adds the outcome here. The state is two integers merged by sum,
so any split of the samples merges to the same counts.
"""

from __future__ import annotations

import numpy as np

from evalcore.errors import ConfigError
from evalcore.metrics._base import AccumulatorBase, state_array
from evalcore.metrics.accuracy import GoodBad

__all__ = ["GoodBadAccumulator"]


class GoodBadAccumulator(AccumulatorBase):
    """Mergeable counts of good and bad samples (or windows); ``compute()`` gives :class:`GoodBad`."""

    kind = "good-bad"
    state_version = 1

    def __init__(self):
        self.good = 0
        self.bad = 0

    def update(self, correct) -> None:
        """Add outcomes: a bool, or a bool array of shape (W,) (True = good)."""
        correct = np.asarray(correct)
        if correct.dtype != np.bool_ or correct.ndim > 1:
            raise ConfigError(f"good/bad outcomes must be a bool or a 1-D bool array, got {correct.dtype} "
                              f"{correct.shape}")
        good = int(np.count_nonzero(correct))
        self.good += good
        self.bad += int(correct.size) - good

    def merge(self, other: GoodBadAccumulator) -> GoodBadAccumulator:
        """Add ``other``'s counts (``MergeError`` for another kind); returns self."""
        self._check_mergeable(other)
        self.good += other.good
        self.bad += other.bad
        return self

    def compute(self) -> GoodBad:
        """The counts so far (pure)."""
        return GoodBad(self.good, self.bad)

    def _config(self) -> dict:
        return {}

    def _arrays(self) -> dict:
        return {"good_bad": np.array([self.good, self.bad], np.int64)}

    @classmethod
    def _from_state(cls, fields, arrays) -> GoodBadAccumulator:
        if fields:
            raise ConfigError(f"unexpected fields {sorted(fields)}")
        acc = cls()
        acc.good, acc.bad = (int(v) for v in state_array(arrays, "good_bad", np.int64, (2,), nonnegative=True))
        return acc
