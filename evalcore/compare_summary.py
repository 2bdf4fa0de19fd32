"""What ``evalcore compare`` says: a short summary for people, and the full report as JSON.

The summary answers "does my local run match the cloud" in a few lines, in this order: each
side (file, kind, samples, windows); how the samples were matched; the metrics side by side
(accuracy and the other ``accuracy`` scores, good/bad windows, each learn block's additional
metrics by ``fullPrecisionValue``, a ``*`` marking a row that differs); the verdict with how
many samples and windows differ; the worst few numeric differences (largest ``|A - B|``) with the
sample's file name, the window and the field; the volatile fields set aside (``ignored``, with
how many values differed in each); then the differences one per line, up to ``max_diffs``.
The JSON report holds all of it and every difference, ignored ones included.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["metric_rows", "summary_text", "report_dict"]

# accuracy fields shown side by side, in this order, with their names for people
_SCORES = (
    ("accuracy", "accuracyScore"),
    ("balanced accuracy", "balancedAccuracyScore"),
    ("anomaly accuracy", "anomalyAccuracyScore"),
    ("no-anomaly accuracy", "noAnomalyAccuracyScore"),
    ("MSE", "mseScore"),
)
_WORST = 5


def _get(doc: object, *keys):
    for k in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(k)
    return doc


def _blocks(doc: object) -> dict:
    """``learnBlockId -> (name, {metric name: fullPrecisionValue})`` of a document."""
    out = {}
    blocks = _get(doc, "additionalMetricsByLearnBlock")
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        metrics = block.get("additionalMetrics")
        values = {m.get("name"): m.get("fullPrecisionValue") for m in metrics or [] if isinstance(m, dict)}
        out[block.get("learnBlockId")] = (block.get("learnBlockName"), values)
    return out


def metric_rows(a: object, b: object, differences: list) -> list[dict]:
    """The metrics of both documents side by side: ``{"name", "a", "b", "differs"}`` per row."""
    paths = [d.path for d in differences]

    def differs(prefix: str) -> bool:
        return any(p == prefix or p.startswith(prefix + ".") or p.startswith(prefix + "[") for p in paths)

    rows = []
    for name, key in _SCORES:
        va, vb = _get(a, "accuracy", key), _get(b, "accuracy", key)
        if va is not None or vb is not None:
            rows.append({"name": name, "a": va, "b": vb, "differs": differs(f"$.accuracy.{key}")})
    good_bad = [_get(d, "accuracy", "totalSummary") for d in (a, b)]
    if any(isinstance(t, dict) for t in good_bad):
        va, vb = (f"{t.get('good')}/{t.get('bad')}" if isinstance(t, dict) else None for t in good_bad)
        rows.append({"name": "good/bad windows", "a": va, "b": vb, "differs": differs("$.accuracy.totalSummary")})
    blocks_a, blocks_b = _blocks(a), _blocks(b)
    for block_id in list(blocks_b) + [k for k in blocks_a if k not in blocks_b]:
        name_b, values_b = blocks_b.get(block_id, (None, {}))
        name_a, values_a = blocks_a.get(block_id, (None, {}))
        for metric in list(values_b) + [m for m in values_a if m not in values_b]:
            prefix = f"$.additionalMetricsByLearnBlock[{block_id}].additionalMetrics[{metric}]"
            rows.append({"name": f"{name_b or name_a}: {metric}", "a": values_a.get(metric),
                         "b": values_b.get(metric), "differs": differs(prefix)})
    return rows


def _num(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _where(d) -> str:
    """``idle.0, 1200-3200 ms, classifications[0].result[3].idle`` or the JSON path."""
    if d.sample is None:
        return d.path
    return ", ".join(x for x in (d.sample, d.window, d.field) if x)


def _worst(differences: list) -> list:
    numeric = [d for d in differences if d.abs_diff() is not None]
    return sorted(numeric, key=lambda d: -d.abs_diff())[:_WORST]


def _counts(differences: list) -> tuple[int, int, int]:
    """Differing samples, differing windows, and differences outside samples."""
    samples = {d.sample for d in differences if d.sample is not None}
    windows = {(d.sample, d.window) for d in differences if d.sample is not None and d.window is not None}
    elsewhere = sum(1 for d in differences if d.sample is None)
    return len(samples), len(windows), elsewhere


def _ignored_fields(ignored: list) -> Counter:
    return Counter(d.field or d.path for d in ignored)


def summary_text(cmp, max_diffs: int = 50) -> str:
    """The summary for people (module notes)."""
    lines = []
    for side, source in zip("AB", cmp.sources):
        if source is not None:
            lines.append(f"{side}: {source.describe()}")
    if cmp.samples:
        s = cmp.samples
        how = f" ({s['byFilename']} by file name: their sample ids differ)" if s["byFilename"] else ""
        lines.append(f"samples: {s['matched']} matched{how}, {s['onlyA']} only in A, {s['onlyB']} only in B")
    if cmp.metrics:
        width = max(len(r["name"]) for r in cmp.metrics)
        lines.append(f"  {'metric':<{width}}  {'A':>12}  {'B':>12}")
        for r in cmp.metrics:
            mark = "  *" if r["differs"] else ""
            lines.append(f"  {r['name']:<{width}}  {_num(r['a']):>12}  {_num(r['b']):>12}{mark}")
    tol = f"rtol {cmp.rtol:g}, atol {cmp.atol:g}; {cmp.n_numbers} numbers compared"
    if cmp.equal:
        lines.append(f"SAME within tolerance ({tol}, max |diff| {cmp.max_abs_diff:.3g})")
    else:
        n_samples, n_windows, elsewhere = _counts(cmp.differences)
        lines.append(f"DIFFERENT: {len(cmp.differences)} difference(s): {n_samples} sample(s) and {n_windows} "
                     f"window(s) differ, {elsewhere} outside the samples ({tol})")
        worst = _worst(cmp.differences)
        if worst:
            lines.append("worst:")
            lines += [f"  {_where(d)}: A {_num(d.a)}, B {_num(d.b)} (|diff| {d.abs_diff():.3g})" for d in worst]
    fields = _ignored_fields(cmp.ignored)
    if fields:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(fields.items()))
        lines.append(f"ignored (volatile, values differing; --strict compares them): {listed}")
    elif not cmp.strict:
        lines.append("ignored: no volatile field differed (dates, ids, storage names: --strict compares them)")
    if cmp.not_compared:
        lines.append(f"not compared (pages carry no such fields): {', '.join(cmp.not_compared)}")
    if cmp.differences:
        shown = cmp.differences[:max_diffs]
        lines.append(f"differences ({len(shown)} of {len(cmp.differences)}):")
        lines += ["  " + d.to_text() for d in shown]
        if len(cmp.differences) > max_diffs:
            lines.append(f"  ... {len(cmp.differences) - max_diffs} more (--json FILE has them all)")
    return "\n".join(lines) + "\n"


def report_dict(cmp) -> dict:
    """The full report (module notes) as JSON-ready data."""
    n_samples, n_windows, elsewhere = _counts(cmp.differences)
    sources = {}
    for side, source in zip("ab", cmp.sources):
        if source is not None:
            sources[side] = {"label": source.label, "kind": source.kind, "pages": source.pages}
    return {
        "equal": cmp.equal,
        "sources": sources,
        "tolerance": {"rtol": cmp.rtol, "atol": cmp.atol},
        "strict": cmp.strict,
        "samples": cmp.samples,
        "metrics": cmp.metrics,
        "numbersCompared": cmp.n_numbers,
        "maxAbsDiff": cmp.max_abs_diff,
        "differingSamples": n_samples,
        "differingWindows": n_windows,
        "differencesOutsideSamples": elsewhere,
        "worst": [d.to_dict() for d in _worst(cmp.differences)],
        "differences": [d.to_dict() for d in cmp.differences],
        "ignoredFields": dict(sorted(_ignored_fields(cmp.ignored).items())),
        "ignored": [d.to_dict() for d in cmp.ignored],
        "notCompared": cmp.not_compared,
    }
