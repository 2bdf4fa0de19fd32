"""`evalcore compare`: differences by JSON path, keyed list matching, tolerances, exit codes."""

from __future__ import annotations

import json
from fractions import Fraction

from evalcore.cli import main
from evalcore.compare import compare_documents, score_scale


def _doc(score=0.5, order=(1, 2)):
    return {
        "success": True,
        "result": [{"sampleId": i, "classifications": [{"result": [{"a": score}]}]} for i in order],
        "predictions": [{"sampleId": i, "startMs": 0, "endMs": 1000, "prediction": "a"} for i in order],
        "accuracy": {"accuracyScore": 0.75},
    }


def test_equal_documents_in_another_order_are_equal():
    """Without it a Studio result listed in another sample order would be reported as different."""
    cmp = compare_documents(_doc(order=(1, 2)), _doc(order=(2, 1)))
    assert cmp.equal, cmp.to_text()
    assert cmp.n_numbers > 0


def test_number_outside_tolerance_is_reported_with_its_path():
    """Without it a changed score could pass unnoticed or be reported without a usable location."""
    cmp = compare_documents(_doc(score=0.5), _doc(score=0.5001), rtol=1e-6, atol=0)
    assert not cmp.equal
    paths = [d.path for d in cmp.differences]
    assert "$.result[1].classifications[0].result[0].a" in paths
    assert compare_documents(_doc(score=0.5), _doc(score=0.5001), rtol=1e-3).equal


def test_missing_and_extra_keys_and_samples():
    """Without it a field or a sample present on one side only would be ignored."""
    a, b = _doc(), _doc(order=(1, 3))
    del b["accuracy"]["accuracyScore"]
    kinds = {(d.kind, d.path) for d in compare_documents(a, b).differences}
    assert ("missing", "$.accuracy.accuracyScore") in kinds
    assert ("missing", "$.result[2]") in kinds
    assert ("extra", "$.result[3]") in kinds


def test_cli_exit_codes(tmp_path, capsys):
    """Without it CI could not gate on `evalcore compare` (0 equal, 1 different, 2 unreadable)."""
    a, b, bad = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "bad.json"
    a.write_text(json.dumps(_doc()))
    b.write_text(json.dumps(_doc(score=0.9)))
    bad.write_text("{not json")
    assert main(["compare", str(a), str(a)]) == 0
    assert main(["compare", str(a), str(b)]) == 1
    assert main(["compare", str(a), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "not valid JSON" in err


def _scored(scale: str, good: int = 167, bad: int = 22, balanced=(Fraction(3, 4), Fraction(2, 3))) -> dict:
    """A result whose scores are on ``scale`` (counts as in the motion fixture)."""
    doc = _doc()
    exact = {"accuracyScore": Fraction(good, good + bad), "balancedAccuracyScore": sum(balanced) / len(balanced)}
    factor = 100 if scale == "percent" else 1
    doc["accuracy"] = {"totalSummary": {"good": good, "bad": bad},
                       **{k: float(factor * v) for k, v in exact.items()}}
    return doc


def test_score_scale_is_read_from_the_document():
    """Without it a percent/fraction pair could not be told apart from a real score difference."""
    assert score_scale(_scored("percent")) == "percent"
    assert score_scale(_scored("fraction")) == "fraction"
    assert score_scale(_scored("fraction", good=0, bad=5)) is None  # 0 on both scales: undecided
    no_counts = {"accuracy": {"accuracyScore": 0.5, "balancedAccuracyScore": 40.0}}
    assert score_scale(no_counts) == "percent"  # a score above 1 is never a fraction
    assert score_scale({"accuracy": {"accuracyScore": 0.5}}) is None  # at most 1 decides nothing


def test_scale_mismatch_is_one_clear_difference_and_real_differences_still_show():
    """Without it comparing Studio's percent result with a fraction result would list every score as
    different (or, with loose tolerances, hide the scale); a real score difference must still show."""
    cmp = compare_documents(_scored("fraction"), _scored("percent"))
    assert [(d.kind, d.path, d.a, d.b) for d in cmp.differences] == [("scale", "$.accuracy", "fraction", "percent")]
    text = cmp.to_text()
    assert "fractions (0-1)" in text and "percentages (0-100)" in text and "score-scale" in text
    assert json.loads(cmp.to_json())["differences"][0]["kind"] == "scale"
    other = _scored("percent", balanced=(Fraction(3, 4), Fraction(1, 3)))
    cmp = compare_documents(_scored("fraction"), other)
    assert [d.path for d in cmp.differences] == ["$.accuracy", "$.accuracy.balancedAccuracyScore"]
    assert compare_documents(_scored("percent"), _scored("percent")).equal


def test_sidecar_tells_the_scale_when_the_document_cannot(tmp_path, capsys):
    """Without it an all-zero fraction result next to its evalcore sidecar would be undecided; a
    sidecar without the setting is an older evalcore, which wrote fractions."""
    from evalcore.compare import compare_files

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"accuracy": {"totalSummary": {"good": 0, "bad": 4}, "accuracyScore": 0,
                                          "anomalyAccuracyScore": 0.5}}))
    b.write_text(json.dumps({"accuracy": {"totalSummary": {"good": 0, "bad": 4}, "accuracyScore": 0,
                                          "anomalyAccuracyScore": 50}}))
    assert [d.kind for d in compare_files(a, b).differences] == ["value"]  # A's scale unknown
    (tmp_path / "a.run.json").write_text(json.dumps({"evalcore": "0.1", "options": {"compat": {"uncertain": "bad"}}}))
    cmp = compare_files(a, b)
    assert [(d.kind, d.a, d.b) for d in cmp.differences] == [("scale", "fraction", "percent")]
    assert main(["compare", str(a), str(b)]) == 1
    assert "score scale differs" in capsys.readouterr().out
