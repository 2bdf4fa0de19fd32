"""`evalcore compare`: differences by JSON path, keyed list matching, tolerances, exit codes."""

from __future__ import annotations

import json

from evalcore.cli import main
from evalcore.compare import compare_documents


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
