"""Expected label of each planned window (single label, multi-label ranges, labeling methods).

Rules in the ``evalcore.windowing`` package docstring ("Expected labels per window").
"""

from __future__ import annotations

import numpy as np

from evalcore.errors import ConfigError
from evalcore.windowing.plan import WindowPlan

__all__ = ["LABELING_METHODS", "window_labels"]

LABELING_METHODS = ("end-of-window", "anywhere-in-window")


def _source_index(index: np.ndarray, plan: WindowPlan) -> np.ndarray:
    if plan.resample is None:
        return index
    ratio = (1000.0 / plan.source_interval_ms) / plan.frequency_hz
    mapped = np.floor(index * ratio + 0.5).astype(np.int64)
    return np.clip(mapped, 0, plan.source_n_values - 1)


def window_labels(
    plan: WindowPlan,
    label,
    *,
    labeling_method: str = "end-of-window",
    anywhere_labels=(),
) -> list[str | None]:
    """Expected label of each planned window.

    Parameters
    ----------
    plan : WindowPlan
    label : evalcore.data.LabelInfo
        The sample's label.
    labeling_method : {"end-of-window", "anywhere-in-window"}
        The input block's ``labelingMethodMultiLabel`` method (multi-label samples only).
    anywhere_labels : sequence of str
        Its label list, in priority order for ties.

    Returns
    -------
    list of str or None, length W
        None where the sample gives no label (unlabeled, key-value, or readings outside every range).
    """
    if labeling_method not in LABELING_METHODS:
        raise ConfigError(f"labeling method must be one of {', '.join(LABELING_METHODS)}, got {labeling_method!r}")
    n_windows = plan.n_windows
    if label.kind == "label":
        return [label.label] * n_windows
    if label.kind != "multi-label" or n_windows == 0:
        return [None] * n_windows
    names = label.distinct_labels()
    code_of = {name: i for i, name in enumerate(names)}
    codes = np.full(plan.source_n_values, -1, dtype=np.int64)
    for segment in label.segments:
        codes[segment.start_index : segment.end_index + 1] = code_of[segment.label]
    first = plan.starts
    last = np.minimum(plan.starts + plan.n_window_values, plan.n_values) - 1
    first_src, last_src = _source_index(first, plan), _source_index(last, plan)
    chosen = codes[last_src]
    if labeling_method == "anywhere-in-window":
        wanted = [code_of[name] for name in dict.fromkeys(anywhere_labels) if name in code_of]
        if wanted:
            counts = np.empty((len(wanted), n_windows), dtype=np.int64)
            for row, code in enumerate(wanted):
                cumulative = np.concatenate(([0], np.cumsum(codes == code)))
                counts[row] = cumulative[last_src + 1] - cumulative[first_src]
            best = np.argmax(counts, axis=0)  # first maximum: ties go to the earlier listed label
            present = counts[best, np.arange(n_windows)] > 0
            chosen = np.where(present, np.asarray(wanted)[best], chosen)
    return [names[c] if c >= 0 else None for c in chosen.tolist()]
