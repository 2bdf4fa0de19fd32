"""Studio's readings from the public evidence (studio-evidence.md), each default and its --compat reading.

- score scale: ``*AccuracyScore`` in percent by default (E3, E4), ``score-scale=fraction``;
- the ``uncertain`` column of a classifier's matrix even at 0 (E1), ``uncertain-column=when-present``;
- object detection: ``summaryPerClass["F1 score"]`` at 0/0 (E2), ``detection-summary=counts``;
  COCO names ``mAP@[IoU=50]``, ... with undefined stats at -1 (E5),
  ``detection-metric-names=plain`` / ``detection-undefined=omit``.

Each reading is checked end to end on the fixture bundles, against numbers recomputed here from
the counts the same document holds, and the text path against the validated bytes.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest

from evalcore.engine import RunOptions, parse_compat, run_bundle
from evalcore.jsonio import dumps

SCORE_KEYS = ("accuracyScore", "balancedAccuracyScore", "anomalyAccuracyScore", "noAnomalyAccuracyScore")

_RUNS: dict = {}


def _run(fixtures_dir, name: str, *compat: str):
    """RunResult of a bundle with the given --compat items (cached: the tests only read it)."""
    key = (name, compat)
    if key not in _RUNS:
        bundle = fixtures_dir / name
        if not (bundle / "impulse.json").is_file():
            pytest.skip(f"{name} not built")
        _RUNS[key] = run_bundle(bundle, RunOptions(compat=parse_compat(compat), workers=0))
    return _RUNS[key]


def _doc(fixtures_dir, name: str, *compat: str) -> dict:
    result = _run(fixtures_dir, name, *compat)
    fast = result.response_json()
    assert fast == dumps(result.response)  # the text path and the validated path agree
    return json.loads(fast)


def _exact_scores(doc: dict, scale: str) -> dict:
    """The four scores recomputed from the document's own counts, on ``scale`` as defined.

    percent: 100 x the exact ratio (or mean of exact ratios), rounded once; fraction: good / n
    and fsum of the rounded recalls / their number (evalcore's earlier bytes).
    """
    acc = doc["accuracy"]
    rows = [v for v in acc["summaryPerClass"].values() if v["good"] + v["bad"]]
    preds = [p for p in doc["predictions"] if "expectedAnomalyOutcome" in p]
    anomalous = [p["prediction"] == "anomaly" for p in preds if p["expectedAnomalyOutcome"] == "anomaly"]
    normal = [p["prediction"] != "anomaly" for p in preds if p["expectedAnomalyOutcome"] == "no anomaly"]
    good, bad = acc["totalSummary"]["good"], acc["totalSummary"]["bad"]
    if scale == "percent":
        return {
            "accuracyScore": float(Fraction(100 * good, good + bad)),
            "balancedAccuracyScore": float(100 * sum(Fraction(r["good"], r["good"] + r["bad"]) for r in rows)
                                           / len(rows)),
            "anomalyAccuracyScore": float(Fraction(100 * sum(anomalous), len(anomalous))),
            "noAnomalyAccuracyScore": float(Fraction(100 * sum(normal), len(normal))),
        }
    return {
        "accuracyScore": good / (good + bad),
        "balancedAccuracyScore": math.fsum(r["good"] / (r["good"] + r["bad"]) for r in rows) / len(rows),
        "anomalyAccuracyScore": sum(anomalous) / len(anomalous),
        "noAnomalyAccuracyScore": sum(normal) / len(normal),
    }


def _without(doc: dict, keys) -> dict:
    return {**doc, "accuracy": {k: v for k, v in doc["accuracy"].items() if k not in keys}}


# -- score scale (E3, E4) ---------------------------------------------------------------------------


def test_scores_are_percent_by_default_and_fraction_as_compat(fixtures_dir):
    """Without it the motion result would not carry Studio's 0-100 scale (E3/E4), or the fraction
    reading would not reproduce evalcore's earlier bytes, or the scale would leak into other fields."""
    pct = _doc(fixtures_dir, "motion")
    frac = _doc(fixtures_dir, "motion", "score-scale=fraction")
    assert {k: pct["accuracy"][k] for k in SCORE_KEYS} == _exact_scores(pct, "percent")
    assert {k: frac["accuracy"][k] for k in SCORE_KEYS} == _exact_scores(frac, "fraction")
    assert pct["accuracy"]["accuracyScore"] == 16700 / 189  # 88.35978835978835; fraction 167 / 189
    assert frac["accuracy"]["accuracyScore"] == 167 / 189
    for k in SCORE_KEYS:  # the same numbers: 100x apart to the last ulp or two
        assert pct["accuracy"][k] == pytest.approx(100 * frac["accuracy"][k], rel=4e-16, abs=0)
    assert _without(pct, SCORE_KEYS) == _without(frac, SCORE_KEYS)


def test_regression_and_visual_anomaly_follow_the_scale(fixtures_dir):
    """Without it a regression or visual-AD result would keep the fraction while classifiers use percent."""
    for name in ("regression", "visual-anomaly"):
        pct, frac = _doc(fixtures_dir, name), _doc(fixtures_dir, name, "score-scale=fraction")
        good, bad = pct["accuracy"]["totalSummary"]["good"], pct["accuracy"]["totalSummary"]["bad"]
        assert pct["accuracy"]["accuracyScore"] == (100 * good) / (good + bad)
        assert frac["accuracy"]["accuracyScore"] == good / (good + bad)
        keys = [k for k in pct["accuracy"] if k.endswith(("accuracyScore", "AccuracyScore"))]
        assert _without(pct, keys) == _without(frac, keys)  # mseScore and the rest unchanged


def test_summary_line_follows_the_scale(fixtures_dir):
    """Without it the stderr line would print a fraction next to a percent result (or the reverse)."""
    assert ", accuracy 88.36% [" in _run(fixtures_dir, "motion").summary_line()
    assert ", accuracy 0.8836 [" in _run(fixtures_dir, "motion", "score-scale=fraction").summary_line()


def test_compare_names_the_scale_of_each_side(fixtures_dir, tmp_path):
    """Without it comparing a fraction result with a percent one would list each score as different."""
    from evalcore.compare import compare_files

    a, b = tmp_path / "fraction.json", tmp_path / "percent.json"
    a.write_bytes(_run(fixtures_dir, "motion", "score-scale=fraction").response_json())
    b.write_bytes(_run(fixtures_dir, "motion").response_json())
    cmp = compare_files(a, b, rtol=0, atol=1e-12)
    assert [(d.kind, d.a, d.b) for d in cmp.differences] == [("scale", "fraction", "percent")]
    assert compare_files(b, b).equal


# -- the uncertain column (E1) ----------------------------------------------------------------------


def test_uncertain_column_with_zero_counts_by_default(fixtures_dir):
    """Without it a classifier's matrix would drop Studio's uncertain column when no window is
    uncertain (E1); with uncertain-column=when-present it is absent and nothing else changes."""
    always = _doc(fixtures_dir, "motion")
    present = _doc(fixtures_dir, "motion", "uncertain-column=when-present")
    assert not any(p["prediction"] == "uncertain" for p in always["predictions"])
    labels = always["accuracy"]["allLabels"]
    assert labels == ["idle", "snake", "updown", "wave", "uncertain", "anomaly"]
    assert all(list(row) == labels and row["uncertain"] == 0
               for row in always["accuracy"]["confusionMatrixValues"].values())
    assert "uncertain" not in always["accuracy"]["summaryPerClass"]  # a column, not a row
    assert present["accuracy"]["allLabels"] == [x for x in labels if x != "uncertain"]
    stripped = {r: {c: v for c, v in row.items() if c != "uncertain"}
                for r, row in always["accuracy"]["confusionMatrixValues"].items()}
    assert present["accuracy"]["confusionMatrixValues"] == stripped
    keys = ("allLabels", "confusionMatrixValues")
    assert _without(always, keys) == _without(present, keys)


def test_uncertain_column_when_windows_are_uncertain_in_both_readings(fixtures_dir):
    """Without it the compat reading could drop a column that has counts."""
    for compat in ((), ("uncertain-column=when-present",)):
        bundle = fixtures_dir / "motion"
        options = RunOptions(thresholds={"3": 0.999999}, compat=parse_compat(compat), workers=0)
        doc = json.loads(run_bundle(bundle, options).response_json())
        n = sum(p["prediction"] == "uncertain" for p in doc["predictions"])
        column = sum(row["uncertain"] for row in doc["accuracy"]["confusionMatrixValues"].values())
        assert n > 0 and column == n


@pytest.mark.parametrize("name", ["regression", "visual-anomaly", "fomo"])
def test_blocks_that_cannot_be_uncertain_have_no_uncertain_column(fixtures_dir, name):
    """Without it regression, visual-AD or detection results would grow a column they cannot fill."""
    assert "uncertain" not in _doc(fixtures_dir, name)["accuracy"]["allLabels"]


# -- object detection (E2, E5) ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fomo", "yolov5"])
def test_f1_score_pseudo_class_is_zero_and_counts_as_compat(fixtures_dir, name):
    """Without it the detection accuracy object would not match the one live observation (E2:
    "F1 score" at 0/0 while totalSummary holds the counts); detection-summary=counts repeats them."""
    zero = _doc(fixtures_dir, name)
    counts = _doc(fixtures_dir, name, "detection-summary=counts")
    total = zero["accuracy"]["totalSummary"]
    assert total["good"] + total["bad"] == len(zero["result"]) > 0  # one verdict per image
    assert zero["accuracy"]["summaryPerClass"] == {"F1 score": {"good": 0, "bad": 0}}
    assert counts["accuracy"]["summaryPerClass"] == {"F1 score": total}
    assert zero["accuracy"]["accuracyScore"] == (100 * total["good"]) / (total["good"] + total["bad"])
    assert _without(zero, ("summaryPerClass",)) == _without(counts, ("summaryPerClass",))


def test_coco_metric_names_and_undefined_stats(fixtures_dir):
    """Without it the COCO metrics would carry names Studio does not show (E5: mAP@[IoU=50], ...)
    or drop the -1 stats E5 shows; the compat readings give the earlier names and omission."""
    from evalcore.metrics.coco import PLAIN_COCO_STAT_NAMES, STUDIO_COCO_STAT_NAMES

    def metrics(*compat):
        doc = _doc(fixtures_dir, "yolov5", *compat)
        (block,) = doc["additionalMetricsByLearnBlock"]
        return {m["name"]: (m["value"], m["fullPrecisionValue"]) for m in block["additionalMetrics"]}

    studio = metrics()
    assert list(studio) == list(STUDIO_COCO_STAT_NAMES)
    assert list(studio)[:3] == ["mAP", "mAP@[IoU=50]", "mAP@[IoU=75]"]
    undefined = [n for n, (_, v) in studio.items() if v == -1]
    assert undefined and all(studio[n][0] == "-1.00" for n in undefined)  # this fixture has no small box
    plain = metrics("detection-metric-names=plain")
    assert list(plain) == list(PLAIN_COCO_STAT_NAMES)
    assert list(plain.values()) == list(studio.values())
    omitted = metrics("detection-undefined=omit")
    assert list(omitted) == [n for n in studio if n not in undefined]
    assert all(omitted[n] == studio[n] for n in omitted)


def test_compat_help_lists_every_setting_with_its_default_first():
    """Without it a --compat setting could exist that `evalcore run --help` does not name."""
    from evalcore.cli import build_parser
    from evalcore.engine import COMPAT_SETTINGS

    run = next(a for a in build_parser()._subparsers._group_actions[0].choices["run"]._actions
               if "--compat" in a.option_strings)
    for name, (values, default) in COMPAT_SETTINGS.items():
        plain = run.help.replace("'", "")
        assert f"{name}={'|'.join(values)}" in plain, name
        assert values[0] == default, name
