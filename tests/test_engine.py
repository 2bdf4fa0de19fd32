"""`evalcore run` end to end on the fixture bundles: schema-complete, deterministic, mergeable."""

from __future__ import annotations

import json

import pytest

from evalcore.cli import main
from evalcore.engine import RunOptions, evaluate, run_bundle
from evalcore.jsonio import dumps
from tests._helpers import ALL_BUNDLES


@pytest.fixture(scope="module")
def motion(fixtures_dir):
    path = fixtures_dir / "motion"
    assert (path / "impulse.json").is_file(), f"committed fixture bundle missing: {path}"
    return path


@pytest.mark.parametrize("variant", ["float32", "int8"])
def test_run_writes_schema_complete_result(motion, variant):
    """Without it a run could write a result Studio's own readers reject (missing required keys)."""
    from evalcore.schema import load_classify_job_response

    res = run_bundle(motion, RunOptions(variant=variant))
    raw = dumps(res.response)
    back = load_classify_job_response(raw)  # strict 1.96.3 validation of every required field
    assert dumps(back) == raw
    doc = json.loads(raw)
    assert doc["availableVariants"] == ["int8", "float32"]
    assert len(doc["predictions"]) == res.n_windows > 0
    good, bad = doc["accuracy"]["totalSummary"]["good"], doc["accuracy"]["totalSummary"]["bad"]
    assert good + bad == len(doc["predictions"])
    assert doc["accuracy"]["accuracyScore"] == (100 * good) / (good + bad)  # percent, one rounding
    for result in doc["result"]:
        for c in result["classifications"]:
            assert c["resultCount"] == len(c["result"]) == len(c["expectedLabels"])


def test_two_runs_give_the_same_bytes(motion):
    """Without it a CI gate diffing two runs of the same model would flap."""
    a = dumps(run_bundle(motion).response)
    b = dumps(run_bundle(motion).response)
    assert a == b


def test_split_run_merges_to_the_same_result(motion):
    """Without it sharded runs (processes, machines) would not add up to the single-run result."""
    whole = dumps(run_bundle(motion).response)
    left, _ = evaluate(motion, shard=(0, 2))
    right, _ = evaluate(motion, shard=(1, 2))
    assert dumps(right.merge(left).build()) == whole


def test_batch_size_does_not_change_the_result(motion):
    """Without it batching windows across samples could change scores or their order."""
    a = dumps(run_bundle(motion, RunOptions(batch_rows=1)).response)
    b = dumps(run_bundle(motion, RunOptions(batch_rows=4096)).response)
    assert a == b


def test_threshold_override_changes_uncertain_windows(motion):
    """Without it --threshold would be silently ignored."""
    base = run_bundle(motion).response
    strict = run_bundle(motion, RunOptions(thresholds={"3": 0.999999})).response
    assert strict.result[0].classifications[0].minimum_confidence_rating == 0.999999
    n_uncertain = sum(p.prediction == "uncertain" for p in strict.predictions)
    assert n_uncertain > sum(p.prediction == "uncertain" for p in base.predictions)


def test_cli_run_and_pages(motion, tmp_path):
    """Without it the CLI could write partial pages or a paged form that does not add up."""
    out, pages = tmp_path / "r.json", tmp_path / "pages"
    assert main(["run", str(motion), "--out", str(out), "--page-size", "3", "--out-dir", str(pages), "-q"]) == 0
    full = json.loads(out.read_bytes())
    files = sorted(pages.glob("page-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    docs = [json.loads(p.read_bytes()) for p in files]
    assert all(d["totalCount"] == len(full["result"]) for d in docs)
    assert [r for d in docs for r in d["result"]] == full["result"]
    assert [p for d in docs for p in d["predictions"]] == full["predictions"]


def test_cli_missing_variant_exits_2_and_writes_nothing(motion, tmp_path, capsys):
    """Without it a bad variant would traceback or leave a half-written result behind."""
    out = tmp_path / "r.json"
    assert main(["run", str(motion), "--out", str(out), "--variant", "akida", "-q"]) == 2
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert "akida" in capsys.readouterr().err


def test_compat_options_change_only_what_they_name(motion):
    """Without it a --compat reading could be ignored or leak into unrelated numbers."""
    from evalcore.engine import parse_compat

    base = run_bundle(motion).response
    pct = run_bundle(motion, RunOptions(compat=parse_compat(["confusion-values=percent"]))).response
    assert pct.accuracy.total_summary == base.accuracy.total_summary
    row = pct.accuracy.confusion_matrix_values["idle"]
    assert abs(sum(row.values()) - 100.0) < 1e-9
    with pytest.raises(ValueError, match="uncertain must be one of"):
        parse_compat(["uncertain=maybe"])


def test_unwritable_output_fails_before_the_run(motion, capsys):
    """Without it a long run would end in a traceback when --out points to a missing folder."""
    assert main(["run", str(motion), "--out", "/nonexistent-evalcore/r.json", "-q"]) == 2
    assert "output folder does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("name", ALL_BUNDLES)
def test_every_fixture_runs_schema_complete_and_merges(fixtures_dir, name):
    """Without it a bundle kind (regression, GMM, multi-label, detection, visual AD) could break
    the strict schema or the split-and-merge equality while the motion tests stay green."""
    from evalcore.schema import load_classify_job_response

    bundle = fixtures_dir / name
    assert (bundle / "impulse.json").is_file(), f"committed fixture bundle missing: {bundle}"
    whole = dumps(run_bundle(bundle).response)
    assert dumps(load_classify_job_response(whole)) == whole
    parts = [evaluate(bundle, shard=(i, 3))[0] for i in range(3)]
    merged = parts[2].merge(parts[0]).merge(parts[1]).build()
    assert dumps(merged) == whole


def test_run_info_sidecar_records_what_ran(motion, tmp_path):
    """Without it nobody could tell which engine (onnxruntime, LiteRT, Akida hardware or software)
    produced a result, since Studio's response has no field for it."""
    out = tmp_path / "result.json"
    assert main(["run", str(motion), "--out", str(out), "--variant", "int8", "-q"]) == 0
    info = json.loads((tmp_path / "result.run.json").read_bytes())
    assert info["variant"] == "int8"
    model = info["learnBlocks"]["3"]["model"]
    assert model["engine"] == "onnxruntime" and model["variant"] == "int8"
    assert info["learnBlocks"]["4"]["model"] is None  # K-means: scored from the metadata
    assert info["options"]["compat"]["uncertain"] == "bad"


def test_overlapped_models_give_the_same_bytes(motion):
    """Without it running the models on a worker thread could reorder or mix samples' outputs."""
    a = dumps(run_bundle(motion, RunOptions(overlap=False, batch_rows=7)).response)
    b = dumps(run_bundle(motion, RunOptions(overlap=True, batch_rows=7)).response)
    assert a == b


def test_overlap_restores_the_gil_switch_interval(motion):
    """Without it a run would leave the caller's process with a changed thread switch interval."""
    import sys

    before = sys.getswitchinterval()
    run_bundle(motion, RunOptions(overlap=True))
    assert sys.getswitchinterval() == before
