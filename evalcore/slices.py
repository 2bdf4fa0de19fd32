"""Metrics by slice: the run's ``accuracy`` block once per value of a sample attribute.

``evalcore run --slice-by KEY`` (repeatable) groups the run's samples by ``KEY``:

- ``metadata.NAME``: the value of ``NAME`` in the sample's ``metadata`` (the ``info.labels``
  entry's ``metadata`` dict, which is also the response ``Sample``'s ``metadata``);
- ``label``: the sample's label (a multi-label sample: its distinct labels in order, joined
  with ``", "``; an unlabeled or key-value sample has none);
- ``device``: the ``Sample``'s ``deviceName``, else its ``deviceType`` (from the data file's
  payload; every sample has a ``deviceType``);
- ``category``: ``testing`` / ``training`` / ``validation``.

A sample without a value for the key goes into the slice ``(missing)`` (`MISSING`).

Why accumulators: a slice is one more set of the very accumulators the whole run reduces into
(``evalcore.report.ReportBuilder``), fed the windows of the samples whose key has that value,
in the same order. So a slice's numbers are, to the byte, those of a run on its samples alone,
no sample is read or run twice, and slices merge across shards with the accumulators' own
rules (``SliceGroups.merge``).

The document (``<out>.slices.json``, `slices_document`) holds the whole run's block, every
slice's block and a table of the slices sorted by how far each one's accuracy is below the
whole's, in percentage points (`table_rows`).
"""

from __future__ import annotations

import json

from evalcore.errors import ConfigError
from evalcore.options import SLICE_KINDS

__all__ = ["MISSING", "SliceGroups", "check_keys_exist", "sample_value", "slices_document", "table_text"]

#: The slice of the samples that have no value for the key.
MISSING = "(missing)"

_METADATA = "metadata."

#: Rows of the table printed on standard error (the file holds all of them).
_PRINTED_ROWS = 10


def check_keys_exist(keys, records, *, category: str) -> None:
    """Fail when a ``metadata.NAME`` key is in no record's metadata, listing the keys that are.

    Raises
    ------
    ConfigError
        Naming the key and the keys the samples of ``category`` have.
    """
    present: dict[str, None] = {}
    for record in records:
        for name in record.metadata or ():
            present.setdefault(name, None)
    for key in keys:
        if key.startswith(_METADATA) and key[len(_METADATA):] not in present:
            known = [_METADATA + name for name in sorted(present)] + list(SLICE_KINDS)
            raise ConfigError(
                f"--slice-by {key}: no {category} sample has the metadata key {key[len(_METADATA):]!r}; "
                f"keys the samples have: {', '.join(known)}"
            )


def sample_value(key: str, outcome) -> str:
    """The slice value of one sample (`MISSING` when it has none)."""
    record = outcome.record
    if key.startswith(_METADATA):
        value = (record.metadata or {}).get(key[len(_METADATA):])
    elif key == "label":
        info = record.label
        value = ", ".join(info.distinct_labels()) if info.kind in ("label", "multi-label") else None
    elif key == "category":
        value = record.category
    else:
        value = _device(outcome)
    return MISSING if value is None or value == "" else value


def _device(outcome) -> str | None:
    sample = outcome.sample
    if sample is not None:
        return sample.device_name or sample.device_type
    fields = json.loads(outcome.sample_json)  # a worker sent the Sample as its JSON text
    return fields.get("deviceName") or fields.get("deviceType")


class SliceGroups:
    """One accumulator set per (key, value), created on the first sample with that value.

    Parameters
    ----------
    keys : tuple of str
        The ``--slice-by`` keys (`parse_slice_keys`).
    new_set : callable
        Returns a fresh accumulator set (``evalcore.report.AccumulatorSet``).
    """

    def __init__(self, keys, new_set):
        self.keys = tuple(keys)
        self.new_set = new_set
        self.groups: dict[str, dict] = {key: {} for key in self.keys}

    def targets(self, outcome) -> list:
        """The sets the sample's windows go to (one per key); counts the sample in each."""
        out = []
        for key in self.keys:
            value = sample_value(key, outcome)
            group = self.groups[key]
            found = group.get(value)
            if found is None:
                found = group[value] = self.new_set()
            found.n_samples += 1
            found.n_windows += outcome.n_windows
            out.append(found)
        return out

    def merge(self, other: SliceGroups) -> SliceGroups:
        """Fold another shard's slices into these (each set by its accumulators' rules); returns self."""
        for key, group in other.groups.items():
            mine = self.groups[key]
            for value, found in group.items():
                if value in mine:
                    mine[value].merge(found)
                else:
                    mine[value] = found
        return self


def slices_document(builder) -> dict:
    """The slices file's content for a finished ``ReportBuilder`` (plain JSON values)."""
    scale = builder.compat["score-scale"]
    whole = _block(builder.accumulator_set())
    slices = {
        key: [dict(value=value, **_block(found)) for value, found in sorted(builder.slices.groups[key].items())]
        for key in builder.slices.keys
    }
    return {
        "sliceBy": list(builder.slices.keys),
        "missingValue": MISSING,
        "scoreScale": scale,
        "whole": whole,
        "slices": slices,
        "table": table_rows(whole, slices, scale),
    }


def _block(found) -> dict:
    """Samples, windows and the ``accuracy`` / ``additionalMetricsByLearnBlock`` of one set."""
    return {
        "samples": found.n_samples,
        "windows": found.n_windows,
        "accuracy": found.accuracy_model().model_dump(by_alias=True, exclude_none=True),
        "additionalMetricsByLearnBlock": [
            m.model_dump(by_alias=True, exclude_none=True) for m in found.additional_metrics()
        ],
    }


def table_rows(whole: dict, slices: dict, scale: str) -> list[dict]:
    """Every slice with its accuracy and its distance to the whole's, most below first.

    ``deltaPoints`` = slice accuracy - whole accuracy in percentage points (x100 on the fraction
    scale); null when either has no accuracy (no labelled window), and such rows come last.
    Ties are broken by key, then value.
    """
    base = whole["accuracy"].get("accuracyScore")
    factor = 1.0 if scale == "percent" else 100.0
    rows = []
    for key, entries in slices.items():
        for entry in entries:
            score = entry["accuracy"].get("accuracyScore")
            delta = None if score is None or base is None else (score - base) * factor
            rows.append({"sliceBy": key, "value": entry["value"], "samples": entry["samples"],
                         "windows": entry["windows"], "accuracyScore": score, "deltaPoints": delta})
    rows.sort(key=lambda r: (r["deltaPoints"] is None, r["deltaPoints"] or 0.0, r["sliceBy"], r["value"]))
    return rows


def table_text(document: dict, path=None) -> str:
    """A short table of the worst slices for standard error."""
    factor = 1.0 if document["scoreScale"] == "percent" else 100.0
    base = document["whole"]["accuracy"].get("accuracyScore")
    head = "whole: no labelled window" if base is None else f"whole {base * factor:.2f}%"
    lines = [f"slices by accuracy, points below the whole ({head}):"]
    rows = document["table"]
    width = max((len(f"{r['sliceBy']}={r['value']}") for r in rows[:_PRINTED_ROWS]), default=0)
    for r in rows[:_PRINTED_ROWS]:
        name = f"{r['sliceBy']}={r['value']}"
        score = "     -" if r["accuracyScore"] is None else f"{r['accuracyScore'] * factor:6.2f}%"
        delta = "" if r["deltaPoints"] is None else f"{r['deltaPoints']:+8.2f}"
        lines.append(f"  {name:<{width}}  {r['samples']:>6} samples {r['windows']:>8} windows  {score} {delta}")
    if len(rows) > _PRINTED_ROWS:
        lines.append(f"  ... {len(rows) - _PRINTED_ROWS} more" + (f" in {path}" if path else ""))
    return "\n".join(lines) + "\n"
