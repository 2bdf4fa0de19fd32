"""evalcore.learn.classification: label decisions (argmax, uncertain, anomaly override) and thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.errors import ConfigError
from evalcore.learn.classification import (
    ANOMALY_LABEL,
    UNCERTAIN_LABEL,
    decode_classification,
    output_labels,
)
from evalcore.learn.thresholds import resolve_threshold


def test_argmax_first_wins_ties_and_threshold_is_inclusive():
    """A tie must pick the first class and a score equal to the threshold must be labelled (SDK >=)."""
    scores = np.array([[0.4, 0.4, 0.2], [0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    out = decode_classification(scores, 0.5)
    assert out.top_class.tolist() == [0, 1, 0]
    assert out.predicted.tolist() == [3, 1, 0]  # 3 = uncertain (K)
    assert out.predicted.dtype == np.int32
    strict = decode_classification(scores, 0.5, classifier_inclusive=False)
    assert strict.predicted.tolist() == [3, 1, 3]


def test_float32_scores_compare_in_float32():
    """float32(0.6) must pass a 0.6 threshold, as in the SDK; comparing in float64 would flip it to uncertain."""
    scores = np.array([[np.float32(0.6), np.float32(0.4)]], dtype=np.float32)
    assert decode_classification(scores, 0.6).predicted.tolist() == [0]


def test_anomaly_overrides_and_is_exclusive_by_default():
    """Anomaly beats any class; a score equal to the threshold is not an anomaly unless inclusive."""
    scores = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.3], [0.9, 0.1]])
    km = np.array([0.31, 0.3, 0.5, -1.0])
    out = decode_classification(scores, 0.6, anomaly=[(km, 0.3)])
    assert out.predicted.tolist() == [3, 0, 3, 0]  # K+1 = 3 anomaly, K = 2 uncertain not reached
    assert out.is_anomaly.tolist() == [True, False, True, False]
    inclusive = decode_classification(scores, 0.6, anomaly=[(km, 0.3)], anomaly_inclusive=True)
    assert inclusive.predicted.tolist() == [3, 3, 3, 0]


def test_several_anomaly_blocks_any_flags():
    """With two anomaly blocks, either one above its own threshold flags the window."""
    scores = np.array([[0.9, 0.1]] * 3)
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([0.0, 5.0, 0.0])
    out = decode_classification(scores, 0.5, anomaly=[(a, 0.5), (b, 4.0)])
    assert out.predicted.tolist() == [3, 3, 0]


def test_output_labels_layout():
    """Codes K and K+1 must name uncertain and anomaly, in that order."""
    assert output_labels(["a", "b"]) == ("a", "b", UNCERTAIN_LABEL, ANOMALY_LABEL)


def test_shape_errors():
    """Wrong shapes must raise ConfigError rather than broadcast."""
    with pytest.raises(ConfigError):
        decode_classification(np.zeros(3), 0.5)
    with pytest.raises(ConfigError):
        decode_classification(np.zeros((3, 2)), 0.5, anomaly=[(np.zeros(2), 0.1)])


def test_resolve_threshold_order():
    """Override, then thresholds[] by key (number or numeric string), then minimumConfidenceRating."""
    thresholds = [{"key": "min_anomaly_score", "value": 0.3}, {"key": "min_score", "value": "0.7"}]
    assert resolve_threshold(thresholds, ("min_score",), 0.6) == 0.7
    assert resolve_threshold(thresholds, ("min_score",), 0.6, override=0.2) == 0.2
    assert resolve_threshold([], ("min_score",), 0.6) == 0.6

    class Entry:
        key, value = "min_score", 0.55

    assert resolve_threshold([Entry()], ("min_score",)) == 0.55


def test_resolve_threshold_errors():
    """A missing or non-numeric threshold must be a ConfigError naming the place."""
    with pytest.raises(ConfigError, match="no threshold found.*learn/3"):
        resolve_threshold(None, ("min_score",), where="learn/3")
    with pytest.raises(ConfigError, match="must be a number"):
        resolve_threshold([{"key": "min_score", "value": "high"}], ("min_score",))
