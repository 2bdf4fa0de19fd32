"""Thresholds in one room: which key a block's threshold has, where its value comes from, what
the response says of it, and how ``--threshold`` names a block.

``plan_blocks(project, options)`` turns the bundle's learn blocks into the run's
``outcome.BlockPlan``s (labels, threshold in force, the ``BlockThreshold`` entry) from the
metadata alone: no model is loaded, so the reduce (``evalcore.report``) and ``evalcore merge``
get the same plans as the map.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from evalcore.errors import BundleError, ConfigError
from evalcore.outcome import BlockPlan

__all__ = ["DEFAULT_THRESHOLDS", "THRESHOLD_KEYS", "check_threshold_keys", "plan_blocks", "resolve_threshold",
           "threshold_entry", "threshold_override"]

#: ``thresholds[].key`` Studio uses per block kind (BlockThreshold), most specific first.
THRESHOLD_KEYS = {
    "classification": ("min_score", "minimumConfidenceRating"),
    "regression": ("max_error", "min_score", "minimumConfidenceRating"),
    "anomaly-kmeans": ("min_anomaly_score", "minimumConfidenceRating"),
    "anomaly-gmm": ("min_anomaly_score", "minimumConfidenceRating"),
    "object-detection": ("min_score", "minimumConfidenceRating"),
    "visual-anomaly": ("min_anomaly_score", "minimumConfidenceRating"),
}

#: Threshold used when neither the metadata nor the command line gives one (Studio's defaults
#: as the docs describe them: 0.6 classifier confidence, 0.3 anomaly score, regression absolute error 1).
DEFAULT_THRESHOLDS = {
    "classification": 0.6,
    "regression": 1.0,
    "anomaly-kmeans": 0.3,
    "anomaly-gmm": 0.3,
    "object-detection": 0.5,
    "visual-anomaly": 0.3,
}


#: Key, description and help text of a block's ``BlockThreshold`` when its metadata has none.
_THRESHOLD_TEXT = {
    "classification": ("min_score", "Minimum confidence score",
                       "Windows whose top score is below this value are classified as uncertain"),
    "regression": ("max_error", "Maximum absolute error",
                   "Windows whose prediction is within this distance of the label count as correct"),
    "anomaly-kmeans": ("min_anomaly_score", "Minimum anomaly score",
                       "Windows scoring above this value are flagged as anomaly"),
    "anomaly-gmm": ("min_anomaly_score", "Minimum anomaly score",
                    "Windows scoring above this value are flagged as anomaly"),
    "object-detection": ("min_score", "Minimum confidence score",
                         "Boxes scoring below this value are not shown"),
    "visual-anomaly": ("min_anomaly_score", "Minimum anomaly score",
                       "Grid cells scoring at or above this value are flagged as anomaly"),
}


def _get(entry: Any, name: str) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None)


def resolve_threshold(
    thresholds: Iterable[Any] | None,
    keys: Sequence[str],
    minimum_confidence_rating: float | None = None,
    *,
    override: float | None = None,
    where: str = "learn block",
) -> float:
    """Return the threshold in force for a learn block.

    Order: ``override``; the first ``thresholds[]`` entry whose ``key`` is in ``keys`` (a
    mapping or an object with ``key``/``value``; a numeric string value is accepted, as
    ``BlockThreshold.value`` is number-or-string); the deprecated ``minimumConfidenceRating``.

    Parameters
    ----------
    thresholds : iterable of BlockThreshold-like, or None
    keys : sequence of str
        Accepted keys, e.g. ``("min_score",)`` for a classifier,
        ``("min_anomaly_score",)`` for an anomaly block.
    minimum_confidence_rating : float, optional
    override : float, optional
    where : str
        Named in the error message (file / block).

    Raises
    ------
    ConfigError
        When no source gives a value, or the value is not a number.
    """
    if override is not None:
        return float(override)
    for entry in thresholds or ():
        if _get(entry, "key") in keys:
            value = _get(entry, "value")
            try:
                number = float(value)
            except (TypeError, ValueError) as err:
                raise ConfigError(
                    f"threshold {_get(entry, 'key')} must be a number, got {value!r} ({where})"
                ) from err
            if not math.isfinite(number):  # "nan" as a string value
                raise ConfigError(f"threshold {_get(entry, 'key')} must be a finite number, got {value!r} ({where})")
            return number
    if minimum_confidence_rating is not None:
        return float(minimum_confidence_rating)
    raise ConfigError(
        f"no threshold found: none of the keys {list(keys)} in thresholds and no "
        f"minimumConfidenceRating ({where})"
    )


def threshold_override(thresholds: dict, lb) -> float | None:
    """``--threshold`` keys may be the learn block id, its name or its title."""
    for key in (str(lb.id), lb.name, lb.title):
        if key in thresholds:
            return thresholds[key]
    return None


def check_threshold_keys(thresholds: dict, learn) -> None:
    """Every ``--threshold`` key must name a learn block (id, name or title); lists the blocks."""
    known = {key for lb in learn for key in (str(lb.id), lb.name, lb.title) if key}
    unknown = [key for key in thresholds if key not in known]
    if unknown:
        blocks = "; ".join(f"{lb.id} ({lb.name}, {lb.title})" if lb.title else f"{lb.id} ({lb.name})" for lb in learn)
        raise ConfigError(
            f"--threshold {unknown[0]!r} matches no learn block; give a block's id, name or title: {blocks}"
        )


def block_threshold(spec, override: float | None = None) -> float:
    """The threshold in force for one learn block: ``override``, the metadata, or Studio's default."""
    meta = spec.metadata
    thresholds = getattr(meta, "thresholds", None)
    mcr = getattr(meta, "default_minimum_confidence_rating", None) if meta is not None else None
    if override is None and not thresholds and mcr is None:
        override = DEFAULT_THRESHOLDS[spec.kind]
    return resolve_threshold(thresholds, THRESHOLD_KEYS[spec.kind], mcr, override=override,
                             where=str(spec.metadata_path or spec.name))


def threshold_entry(spec, value: float):
    """The block's ``BlockThreshold`` as its metadata states it, with the value in force."""
    from evalcore import schema

    keys = THRESHOLD_KEYS.get(spec.kind, ())
    for entry in getattr(spec.metadata, "thresholds", None) or ():
        if getattr(entry, "key", None) in keys:
            return schema.BlockThreshold(
                key=entry.key, description=entry.description or "", help_text=entry.help_text or "",
                suggested_value=getattr(entry, "suggested_value", None), value=value,
            )
    key, description, help_text = _THRESHOLD_TEXT.get(spec.kind, _THRESHOLD_TEXT["classification"])
    return schema.BlockThreshold(key=key, description=description, help_text=help_text, value=value)


def block_labels(spec) -> tuple[str, ...]:
    """The labels a block's outputs are named by (classes; ``anomaly``; ``value``)."""
    meta = spec.metadata
    if spec.kind in ("anomaly-kmeans", "anomaly-gmm", "visual-anomaly"):
        return ("anomaly",)
    if spec.kind == "regression":
        return ("value",)
    names = tuple(meta.class_names or meta.labels or ())
    if not names:
        raise BundleError("the metadata lists no classes", path=spec.metadata_path, field="classNames")
    return names


def plan_blocks(project, thresholds: dict) -> dict[int, BlockPlan]:
    """Learn block id -> its `BlockPlan`, in impulse order, from the metadata and ``--threshold``."""
    check_threshold_keys(thresholds, project.learn)
    plans = {}
    for lb in project.learn:
        value = float(block_threshold(lb, threshold_override(thresholds, lb)))
        plans[lb.id] = BlockPlan(
            spec=lb, kind=lb.kind, labels=block_labels(lb), threshold=value,
            multi_label=bool(getattr(lb, "multi_label", False)), threshold_entry=threshold_entry(lb, value),
        )
    return plans
