"""`evalcore check` and `evalcore.testing.assert_metrics`: metric names read from real fixture
results, value and change thresholds, score scales, exit codes, JUnit XML and Markdown reports."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from evalcore.check import available_metrics, check_documents, check_files, parse_max_drops, parse_requirements
from evalcore.cli import EXIT_BAD_INPUT, EXIT_VERDICT_BUG, main
from evalcore.engine import RunOptions, parse_compat, run_bundle, write_outputs
from evalcore.errors import BundleError, ConfigError
from evalcore.testing import assert_metrics

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# fixture name -> --compat settings of its run (each bundle is run once per session, workers=0)
_RUNS = {
    "motion": ("motion", ()),
    "motion-gmm": ("motion-gmm", ()),
    "motion-fraction": ("motion", ("score-scale=fraction", "confusion-values=percent")),
    "regression": ("regression", ()),
    "temperature-regression": ("temperature-regression", ()),
    "ssd": ("ssd", ()),
    "fomo": ("fomo", ()),
    "coffee-multilabel": ("coffee-multilabel", ()),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    """Each run's result file (with its ``.run.json`` sidecar), written by evalcore itself."""
    folder = tmp_path_factory.mktemp("check")
    out = {}
    for name, (bundle, compat) in _RUNS.items():
        result = run_bundle(FIXTURES / bundle, RunOptions(workers=0, compat=parse_compat(compat)))
        out[name] = folder / f"{name}.json"
        write_outputs(result, out=out[name])
    return out


def _doc(results, name) -> dict:
    return json.loads(results[name].read_bytes())


def _expected_label(p: dict) -> str:
    # an unknown label (motion's "shake") is counted as "anomaly" (--compat unknown-label=anomaly)
    return "anomaly" if p.get("expectedAnomalyOutcome") == "anomaly" else p["label"]


# --------------------------------------------------------------------------------------------
# metric names and values


def test_names_of_a_classifier_with_anomaly(results):
    """Without it a name the README promises (or a class) could be missing from a real result."""
    names = available_metrics(_doc(results, "motion"))
    for name in ("accuracy", "balancedAccuracy", "anomalyAccuracy", "noAnomalyAccuracy", "Loss",
                 "Weighted average F1 score", "Area under ROC Curve"):
        assert name in names
    for label in ("idle", "snake", "updown", "wave", "anomaly"):
        assert f"recall[{label}]" in names and f"precision[{label}]" in names
    assert "recall[uncertain]" not in names  # a column, never a row: no windows are labelled so
    assert "mse" not in names


def test_names_of_regression_and_detection(results):
    regression = available_metrics(_doc(results, "regression"))
    assert regression["mse"] == _doc(results, "regression")["accuracy"]["mseScore"]
    assert "Mean squared error" in regression and not any(n.startswith("recall[") for n in regression)
    ssd = available_metrics(_doc(results, "ssd"))
    block = _doc(results, "ssd")["additionalMetricsByLearnBlock"][0]["additionalMetrics"]
    assert {m["name"]: m["fullPrecisionValue"] for m in block}.items() <= ssd.items()
    assert "mAP" in ssd and "mAP@[IoU=50]" in ssd
    fomo = available_metrics(_doc(results, "fomo"))
    assert fomo["accuracy"] == 75 and {"F1 score", "Precision", "Recall"} <= fomo.keys()
    # detection's summaryPerClass pseudo-class "F1 score" is not a class
    assert not any(n.startswith(("recall[", "precision[")) for n in [*ssd, *fomo])
    assert check_files(results["fomo"], require="F1 score>=0.75,Recall<0.7").passed


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["motion", "motion-gmm", "coffee-multilabel"])
def test_recall_and_precision_match_sklearn_on_the_windows(results, name):
    """Without it recall[...] / precision[...] could be read from the wrong axis of the matrix."""
    from sklearn.metrics import precision_score, recall_score

    doc = _doc(results, name)
    labels = [lb for lb in doc["accuracy"]["allLabels"] if f"recall[{lb}]" in available_metrics(doc)]
    y_true = [_expected_label(p) for p in doc["predictions"]]
    y_pred = [p["prediction"] for p in doc["predictions"]]
    want_r = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=np.nan)
    want_p = precision_score(y_true, y_pred, labels=labels, average=None, zero_division=np.nan)
    got = available_metrics(doc)
    for label, r, p in zip(labels, want_r, want_p):
        assert got[f"recall[{label}]"] == pytest.approx(100 * r, rel=1e-12)
        if math.isnan(p):
            assert got[f"precision[{label}]"] is None
        else:
            assert got[f"precision[{label}]"] == pytest.approx(100 * p, rel=1e-12)


def test_accuracy_is_percent_good_over_total(results):
    doc = _doc(results, "motion")
    total = doc["accuracy"]["totalSummary"]
    assert available_metrics(doc)["accuracy"] == pytest.approx(100 * total["good"] / (total["good"] + total["bad"]))


# --------------------------------------------------------------------------------------------
# verdicts


def test_require_passes_and_fails_on_a_real_result(results):
    value = available_metrics(_doc(results, "motion"))["accuracy"]  # 88.36 (167 of 189)
    report = check_files(results["motion"], require=["accuracy>=85", "accuracy>=90", f"accuracy>={value!r}",
                                                     f"accuracy>{value!r}", f"accuracy=={value!r}", "Loss<0.8"])
    assert [v.passed for v in report.verdicts] == [True, False, True, False, True, True]
    assert not report.passed and len(report.failures) == 2
    assert check_files(results["motion"], require="accuracy>=85,recall[idle]>=75").passed


def test_max_drop_against_a_baseline(results):
    """motion-gmm is motion with a GMM anomaly block: 76.19 % against 88.36 %."""
    base, cand = available_metrics(_doc(results, "motion")), available_metrics(_doc(results, "motion-gmm"))
    drop = base["accuracy"] - cand["accuracy"]
    assert 12 < drop < 12.2
    report = check_files(results["motion-gmm"], baseline=results["motion"],
                         max_drop=["accuracy=0.5", f"accuracy={drop + 0.01}", "recall[idle]=0"])
    assert [v.passed for v in report.verdicts] == [False, True, True]
    first = report.verdicts[0]
    assert first.baseline == base["accuracy"] and first.value == cand["accuracy"]
    assert first.delta == pytest.approx(-drop)
    # the other way round the change is a rise: nothing dropped
    assert check_files(results["motion"], baseline=results["motion-gmm"], max_drop="accuracy=0").passed


def test_lower_is_better_a_rise_is_the_drop(results):
    """mse 0.556 (temperature) against 0.490 (regression): a rise of 0.066 is the drop."""
    worse, better = results["temperature-regression"], results["regression"]
    rise = available_metrics(_doc(results, "temperature-regression"))["mse"] - available_metrics(
        _doc(results, "regression"))["mse"]
    assert 0.06 < rise < 0.07
    report = check_files(worse, baseline=better, max_drop=["mse=0.05", "mse=0.07", "Mean squared error=0.05"])
    assert [v.passed for v in report.verdicts] == [False, True, False]
    assert "lower is better" in report.verdicts[0].describe()
    # the improvement passes with no allowance at all
    assert check_files(better, baseline=worse, max_drop="mse=0,Mean absolute error=0").passed


def test_fraction_scale_file_is_checked_in_percent(results):
    """A result written with --compat score-scale=fraction: accuracy>=85 still means 85 %."""
    frac, pct = results["motion-fraction"], results["motion"]
    assert _doc(results, "motion-fraction")["accuracy"]["accuracyScore"] < 1
    assert check_files(frac, require="accuracy>=85,balancedAccuracy>=93").passed
    assert not check_files(frac, require="accuracy>=89").passed
    # a percent baseline and a fraction result: same numbers, no drop
    report = check_files(frac, baseline=pct, max_drop="accuracy=0,noAnomalyAccuracy=0")
    assert report.passed and all(abs(v.delta) < 1e-9 for v in report.verdicts)


def test_scale_from_the_sidecar_when_the_document_does_not_tell(results, tmp_path):
    """Without totalSummary the scale of 0.88 is unknown: the sidecar decides, else it is an error."""
    doc = _doc(results, "motion-fraction")
    doc["accuracy"]["totalSummary"] = {"good": 0, "bad": 0}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(BundleError, match="percentages or fractions"):
        check_files(path, require="accuracy>=85")
    sidecar = results["motion-fraction"].with_name("motion-fraction.run.json")
    (tmp_path / "r.run.json").write_bytes(sidecar.read_bytes())
    assert check_files(path, require="accuracy>=88").passed


def test_precision_needs_a_matrix_of_counts(results):
    """--compat confusion-values=percent writes row percentages: precision cannot be read from them."""
    with pytest.raises(ConfigError, match="row percentages"):
        check_files(results["motion-fraction"], require="precision[idle]>=90")
    assert check_files(results["motion-fraction"], require="recall[idle]>=75").passed



def test_percent_matrix_is_recognised_without_the_sidecar(results, tmp_path):
    """A copy without its sidecar: the diagonal (75, 100, ...) is not the good counts (60, 20, ...)."""
    path = tmp_path / "copy.json"
    path.write_bytes(results["motion-fraction"].read_bytes())
    with pytest.raises(ConfigError, match="does not hold counts"):
        check_files(path, require="precision[idle]>=90")
    assert check_files(path, require="recall[idle]>=75,accuracy>=88").passed


def test_undefined_value_fails(results):
    """coffee-multilabel never predicts grind: its precision is undefined, which must not pass."""
    report = check_files(results["coffee-multilabel"], require="precision[grind]>=0")
    (v,) = report.verdicts
    assert not v.passed and v.value is None and "no window was classified grind" in v.reason


def test_names_holding_equals_signs(results):
    report = check_files(results["ssd"], baseline=results["ssd"],
                         require="mAP@[IoU=50]>=0.7, mAP >= 0.4", max_drop="mAP@[IoU=50]=0")
    assert report.passed and [v.metric for v in report.verdicts] == ["mAP@[IoU=50]", "mAP", "mAP@[IoU=50]"]


def test_several_learn_blocks_need_the_block_qualifier(results):
    doc = _doc(results, "motion")
    other = copy.deepcopy(doc["additionalMetricsByLearnBlock"][0])
    other["learnBlockId"] = 5
    other["additionalMetrics"][-1]["fullPrecisionValue"] = 1.5  # Loss
    doc["additionalMetricsByLearnBlock"].append(other)
    with pytest.raises(ConfigError, match="'block 3: Loss', 'block 5: Loss'"):
        check_documents(doc, require="Loss<1")
    report = check_documents(doc, require=["block 3: Loss<1", "block5:Loss<1"])
    assert [v.passed for v in report.verdicts] == [True, False]
    assert "block 5: Loss" in available_metrics(doc)


def test_parsing():
    assert parse_requirements(["accuracy>=85, recall[a,b] < 3", "x==1"]) == parse_requirements(
        "accuracy >= 85,recall[a,b]<3,x == 1")
    (r,) = parse_requirements("mAP@[IoU=50]>=0.5")
    assert (r.metric, r.op, r.value) == ("mAP@[IoU=50]", ">=", 0.5)
    (d,) = parse_max_drops("mAP@[IoU=50]=0.05")
    assert (d.metric, d.amount) == ("mAP@[IoU=50]", 0.05)
    assert parse_max_drops({"accuracy": 0.5}) == parse_max_drops("accuracy=0.5")


@pytest.mark.parametrize("require", ["accuracy>>85", "accuracy=85", "accuracy>=", ">=85", "accuracy>=nan",
                                     "accuracy>=inf", "accuracy>=85%", "accuracy=>85"])
def test_bad_requirement_is_rejected(require):
    with pytest.raises(ConfigError):
        parse_requirements(require)


@pytest.mark.parametrize("drop", ["accuracy", "accuracy=-1", "accuracy=abc", "=1", "accuracy=nan"])
def test_bad_max_drop_is_rejected(drop):
    with pytest.raises(ConfigError):
        parse_max_drops(drop)


# --------------------------------------------------------------------------------------------
# the command


def test_cli_exit_codes(results, capsys):
    motion, gmm = str(results["motion"]), str(results["motion-gmm"])
    assert main(["check", motion, "--require", "accuracy>=85"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["metric", "baseline", "value", "delta", "threshold", "verdict"]
    assert "PASS" in out and out.rstrip().endswith(f"check: PASS, 1 check ({motion})")
    assert main(["check", gmm, "--baseline", motion, "--require", "accuracy>=70", "--max-drop", "accuracy=0.5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "drop <= 0.5" in out and "-12.1693" in out


def test_cli_json_verdicts(results, capsys):
    assert main(["check", str(results["regression"]), "--require", "mse<0.5,accuracy>99", "--json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["passed"] is False and body["baseline"] is None
    assert [(c["metric"], c["passed"]) for c in body["checks"]] == [("mse", True), ("accuracy", False)]
    assert body["checks"][1]["value"] == 98.75 and body["checks"][1]["threshold"] == "> 99"


def test_cli_unknown_metric_lists_the_names(results, capsys):
    assert main(["check", str(results["motion"]), "--require", "f1>=0.8"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "unknown metric 'f1'" in err and "did you mean 'Weighted average F1 score'?" in err
    for name in ("accuracy", "recall[idle]", "precision[wave]", "Weighted average F1 score", "Loss"):
        assert name in err


@pytest.mark.parametrize("argv", [
    ["--require", "accuracy>>85"],
    ["--require", "accuracy>=nan"],
    ["--max-drop", "accuracy=0.5"],  # no baseline
    [],  # nothing to check
    ["--require", "accuracy>=85", "--baseline", "/nonexistent/base.json"],
    ["--require", "accuracy>=85", "--junit", "/nonexistent/dir/j.xml"],
])
def test_cli_bad_input_exits_2(results, argv, capsys):
    assert main(["check", str(results["motion"]), *argv]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.startswith("evalcore check: error: ")


def test_cli_unreadable_and_non_result_files(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["check", str(bad), "--require", "accuracy>=1"]) == EXIT_BAD_INPUT
    bad.write_text("[]")
    assert main(["check", str(bad), "--require", "accuracy>=1"]) == EXIT_BAD_INPUT
    assert "not a ClassifyJobResponse" in capsys.readouterr().err


def test_a_bug_in_check_exits_3(monkeypatch, results, capsys):
    """1 means "a check failed": a crash must not be read as a verdict."""
    import evalcore.check

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(evalcore.check, "check_files", broken)
    assert main(["check", str(results["motion"]), "--require", "accuracy>=1"]) == EXIT_VERDICT_BUG == 3
    err = capsys.readouterr().err
    assert "RuntimeError: simulated bug" in err and "a bug, not a failed check" in err


def test_junit_xml_read_by_a_junit_parser(results, tmp_path):
    from junitparser import Failure, JUnitXml

    junit = tmp_path / "check.xml"
    argv = ["check", str(results["motion-gmm"]), "--baseline", str(results["motion"]),
            "--require", "accuracy>=70,recall[updown]>=90", "--max-drop", "accuracy=0.5,Loss=0", "--junit", str(junit)]
    assert main(argv) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["check.xml"]  # no temporary file left
    suites = list(JUnitXml.fromfile(str(junit)))
    assert len(suites) == 1
    suite = suites[0]
    assert suite.tests == 4 and suite.failures == 2
    cases = {case.name: case for case in suite}
    assert list(cases) == ["accuracy >= 70", "recall[updown] >= 90", "accuracy drop <= 0.5", "Loss drop <= 0"]
    assert cases["accuracy >= 70"].is_passed and cases["Loss drop <= 0"].is_passed
    (failure,) = cases["accuracy drop <= 0.5"].result
    assert isinstance(failure, Failure)
    assert failure.message.startswith("accuracy = 76.1905 % (baseline 88.3598 %, moved -12.1693 points): FAIL")
    assert "drop <= 0.5" in failure.message
    (failure,) = cases["recall[updown] >= 90"].result
    assert "recall[updown] = 25 %" in failure.message and ">= 90" in failure.message


def test_markdown_summary(results, tmp_path):
    md = tmp_path / "summary.md"
    assert main(["check", str(results["motion"]), "--require", "accuracy>=90,mAP@[x=1]>=1"]) == 2  # unknown
    assert main(["check", str(results["motion"]), "--require", "accuracy>=90,recall[idle]>=75",
                 "--markdown", str(md)]) == 1
    lines = md.read_text().splitlines()
    assert lines[0].startswith("### evalcore check: FAIL, 1 of 2 failed")
    assert "| metric | baseline | value | delta | threshold | verdict |" in lines
    assert "| accuracy |  | 88.3598 |  | >= 90 | **FAIL** |" in lines
    assert "| recall[idle] |  | 75 |  | >= 75 | PASS |" in lines
    assert any(line.startswith("- accuracy = 88.3598 %") and "required >= 90" in line for line in lines)


# --------------------------------------------------------------------------------------------
# the pytest helper


def test_assert_metrics_passes_and_returns_the_report(results):
    report = assert_metrics(results["motion"], require=["accuracy>=85"], max_drop={"accuracy": 0.5},
                            baseline=results["motion"])
    assert report.passed and len(report.verdicts) == 2
    assert_metrics(_doc(results, "regression"), require="mse<0.5")  # a parsed document works too


def test_assert_metrics_message_names_metric_value_threshold_and_move(results):
    with pytest.raises(AssertionError) as info:
        assert_metrics(results["motion-gmm"], require="accuracy>=70,recall[updown]>=90",
                       max_drop={"accuracy": 0.5}, baseline=results["motion"])
    message = str(info.value)
    assert message.startswith("evalcore check: 2 of 3 check(s) failed")
    lines = message.splitlines()[1:]
    assert lines[0].strip() == ("recall[updown] = 25 % (baseline 96.4286 %, moved -71.4286 points): FAIL, "
                                "required >= 90")
    assert lines[1].strip() == ("accuracy = 76.1905 % (baseline 88.3598 %, moved -12.1693 points): FAIL, "
                                "allowed drop <= 0.5")


def test_assert_metrics_bad_name_is_not_an_assertion(results):
    with pytest.raises(ConfigError, match="unknown metric"):
        assert_metrics(results["motion"], require="acuracy>=85")
