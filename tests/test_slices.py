"""``evalcore run --slice-by``: per-slice accuracy blocks from the run's own accumulators.

The oracle of a slice is a run on the slice's samples alone: a copy of the bundle whose
``info.labels`` keeps only those testing samples. Its ``accuracy`` and
``additionalMetricsByLearnBlock`` must be, to the byte, the slice's blocks in the slices file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evalcore.cli import main
from evalcore.engine import RunOptions, evaluate, run_bundle, slices_path, write_outputs
from evalcore.errors import ConfigError
from evalcore.jsonio import dumps
from evalcore.options import parse_slice_keys
from evalcore.slices import MISSING, slices_document, table_rows

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"
SLICED = FIXTURES / "motion-sliced"
KEYS = ("metadata.site", "label", "metadata.board", "device", "category")


def _need(bundle: Path) -> Path:
    if not (bundle / "impulse.json").is_file():
        pytest.skip(f"{bundle.name} fixture not built")
    return bundle


def _info(bundle: Path) -> dict:
    return json.loads((bundle / "dataset" / "info.labels").read_text("utf-8"))


def _value(entry: dict, key: str) -> str:
    """The slice value of an info.labels entry, read independently of evalcore.slices."""
    if key == "label":
        return entry["label"]["label"]
    return (entry.get("metadata") or {}).get(key.removeprefix("metadata."), MISSING)


def _subset_bundle(bundle: Path, folder: Path, keep) -> Path:
    """A copy of ``bundle`` whose info.labels lists only the testing entries ``keep`` accepts."""
    shutil.copytree(bundle, folder)
    doc = _info(bundle)
    doc["files"] = [e for e in doc["files"] if e["category"] != "testing" or keep(e)]
    (folder / "dataset" / "info.labels").write_text(json.dumps(doc, indent=2), "utf-8")
    return folder


def _block_bytes(document: dict, key: str, value: str, name: str) -> bytes:
    """``name`` (accuracy, additionalMetricsByLearnBlock) of one slice, as jsonio writes it."""
    (entry,) = [e for e in document["slices"][key] if e["value"] == value]
    return dumps(entry[name])


@pytest.fixture(scope="module")
def sliced_run(tmp_path_factory):
    """The CLI's run of motion-sliced with every kind of key: (result.json, slices.json) bytes."""
    bundle = _need(SLICED)
    out = tmp_path_factory.mktemp("sliced") / "result.json"
    args = ["run", str(bundle), "--out", str(out), "--workers", "0", "-q"]
    for key in KEYS:
        args += ["--slice-by", key]
    assert main(args) == 0
    return out.read_bytes(), slices_path(out).read_bytes()


def test_fixture_is_the_scripts_output(tmp_path):
    """fixtures/motion-sliced = motion + the metadata build_sliced_fixture.py writes."""
    import importlib.util

    _need(SLICED)
    spec = importlib.util.spec_from_file_location("build_sliced_fixture", FIXTURES / "build_sliced_fixture.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.build(tmp_path / "built")
    built = {p.relative_to(tmp_path / "built"): p.read_bytes() for p in (tmp_path / "built").rglob("*") if p.is_file()}
    committed = {p.relative_to(SLICED): p.read_bytes() for p in SLICED.rglob("*") if p.is_file()}
    assert built == committed
    motion = {p.relative_to(FIXTURES / "motion"): p.read_bytes()
              for p in (FIXTURES / "motion").rglob("*") if p.is_file()}
    changed = {str(name) for name in committed if motion.get(name) != committed[name]}
    assert changed == {"README.md", "dataset/info.labels"}


def test_whole_block_is_the_results(sliced_run):
    result, slices = sliced_run
    document = json.loads(slices)
    assert document["sliceBy"] == list(KEYS)
    assert b'"accuracy":' + dumps(document["whole"]["accuracy"]) in result
    assert b'"additionalMetricsByLearnBlock":' + dumps(document["whole"]["additionalMetricsByLearnBlock"]) in result
    assert document["whole"]["samples"] == 10 and document["whole"]["windows"] == 189


@pytest.mark.parametrize("key", ["metadata.site", "label"])
def test_each_slice_equals_a_run_on_its_samples_alone(sliced_run, tmp_path, key):
    _, slices = sliced_run
    document = json.loads(slices)
    testing = [e for e in _info(SLICED)["files"] if e["category"] == "testing"]
    values = sorted({_value(e, key) for e in testing})
    assert [e["value"] for e in document["slices"][key]] == values
    for k, value in enumerate(values):
        bundle = _subset_bundle(SLICED, tmp_path / f"only-{k}", lambda e, v=value: _value(e, key) == v)
        alone = run_bundle(bundle, RunOptions(workers=0))
        result = alone.response_json()
        accuracy = _block_bytes(document, key, value, "accuracy")
        additional = _block_bytes(document, key, value, "additionalMetricsByLearnBlock")
        assert accuracy in slices and b'"accuracy":' + accuracy in result, (key, value)
        assert b'"additionalMetricsByLearnBlock":' + additional in result, (key, value)
        (entry,) = [e for e in document["slices"][key] if e["value"] == value]
        assert (entry["samples"], entry["windows"]) == (alone.n_samples, alone.n_windows)


def test_missing_key_goes_to_the_missing_slice(sliced_run):
    document = json.loads(sliced_run[1])
    testing = [e for e in _info(SLICED)["files"] if e["category"] == "testing"]
    no_site = [e for e in testing if "site" not in (e.get("metadata") or {})]
    no_metadata = [e for e in testing if "metadata" not in e]
    assert no_metadata and len(no_site) > len(no_metadata)  # both kinds of "missing" are there
    missing = {k: [e for e in document["slices"][k] if e["value"] == MISSING] for k in ("metadata.site", "metadata.board")}
    assert missing["metadata.site"][0]["samples"] == len(no_site)
    assert missing["metadata.board"][0]["samples"] == len(no_metadata)
    # every sample has a label, a device (deviceType) and a category
    for key in ("label", "device", "category"):
        assert MISSING not in [e["value"] for e in document["slices"][key]]
        assert sum(e["samples"] for e in document["slices"][key]) == 10
    assert [e["value"] for e in document["slices"]["category"]] == ["testing"]


def test_table_is_sorted_by_distance_below_the_whole(sliced_run):
    document = json.loads(sliced_run[1])
    table = document["table"]
    assert len(table) == sum(len(v) for v in document["slices"].values())
    base = document["whole"]["accuracy"]["accuracyScore"]
    for row in table:
        assert row["deltaPoints"] == row["accuracyScore"] - base
    keys = [(r["deltaPoints"], r["sliceBy"], r["value"]) for r in table]
    assert keys == sorted(keys)
    assert table[0]["deltaPoints"] < 0 < table[-1]["deltaPoints"]


def test_table_rows_ties_and_undefined_scores():
    def entry(value, score):
        return {"value": value, "samples": 1, "windows": 1, "accuracy": {} if score is None else {"accuracyScore": score}}

    whole = {"accuracy": {"accuracyScore": 0.5}}
    slices = {"b": [entry("x", 0.25), entry("y", None)], "a": [entry("z", 0.25), entry("w", 0.75)]}
    rows = table_rows(whole, slices, "fraction")
    assert [(r["sliceBy"], r["value"]) for r in rows] == [("a", "z"), ("b", "x"), ("a", "w"), ("b", "y")]
    assert [r["deltaPoints"] for r in rows] == [-25.0, -25.0, 25.0, None]


def test_workers_and_shards_give_the_same_slices(sliced_run, tmp_path):
    out = tmp_path / "r.json"
    args = ["run", str(SLICED), "--out", str(out), "--workers", "2", "-q"]
    for key in KEYS:
        args += ["--slice-by", key]
    assert main(args) == 0
    assert slices_path(out).read_bytes() == sliced_run[1]
    # shards merge like the rest of the reduce (ReportBuilder.merge)
    options = RunOptions(workers=0, slice_by=KEYS)
    first, _ = evaluate(SLICED, options, shard=(0, 2))
    second, _ = evaluate(SLICED, options, shard=(1, 2))
    assert dumps(slices_document(first.merge(second))) == sliced_run[1]


def test_unknown_metadata_key_is_bad_input(tmp_path, capsys):
    _need(SLICED)
    out = tmp_path / "r.json"
    assert main(["run", str(SLICED), "--out", str(out), "--slice-by", "metadata.room", "-q"]) == 2
    err = capsys.readouterr().err
    assert "metadata.room" in err and "metadata.board, metadata.site, label, device, category" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["site", "metadata.", "devices", "Label"])
def test_unknown_slice_kind_is_bad_input(tmp_path, capsys, key):
    _need(SLICED)
    assert main(["run", str(SLICED), "--out", str(tmp_path / "r.json"), "--slice-by", key, "-q"]) == 2
    assert "--slice-by takes metadata.NAME, label, device or category" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        parse_slice_keys([key])


def test_slices_json_needs_slice_by(tmp_path, capsys):
    _need(SLICED)
    args = ["run", str(SLICED), "--out", str(tmp_path / "r.json"), "--slices-json", str(tmp_path / "s.json"), "-q"]
    assert main(args) == 2
    assert "--slices-json needs --slice-by" in capsys.readouterr().err


def test_stdout_run_writes_slices_only_where_asked(sliced_run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(SLICED), "--out", "-", "--workers", "0", "--slice-by", "metadata.site"]) == 0
    captured = capsys.readouterr()
    assert list(tmp_path.iterdir()) == []
    assert "metadata.site=lab" in captured.err  # the table is still printed
    assert json.loads(captured.out)["accuracy"] == json.loads(sliced_run[1])["whole"]["accuracy"]
    target = tmp_path / "where" / "s.json"
    target.parent.mkdir()
    args = ["run", str(SLICED), "--out", "-", "--workers", "0", "--slice-by", "metadata.site",
            "--slices-json", str(target), "-q"]
    assert main(args) == 0
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["s.json"]
    assert json.loads(target.read_bytes())["slices"]["metadata.site"] == json.loads(sliced_run[1])["slices"]["metadata.site"]


def test_slices_file_is_part_of_the_transaction(tmp_path):
    _need(SLICED)
    result = run_bundle(SLICED, RunOptions(workers=0, slice_by=("metadata.site",)))
    out = tmp_path / "result.json"
    old = {out: b"old result", tmp_path / "result.run.json": b"old info", slices_path(out): b"old slices"}
    for path, data in old.items():
        path.write_bytes(data)
    # a slices file that cannot be written: nothing changes, no temporary is left
    with pytest.raises(ConfigError):
        write_outputs(result, out=out, slices_json=tmp_path / "missing-folder" / "s.json")
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == old
    write_outputs(result, out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json", "result.run.json", "result.slices.json"]
    assert out.read_bytes() == result.response_json()
    assert slices_path(out).read_bytes() == result.slices_json()
    assert json.loads((tmp_path / "result.run.json").read_bytes())["options"]["sliceBy"] == ["metadata.site"]


def _with_metadata(bundle: Path, folder: Path) -> Path:
    """A copy of ``bundle`` whose testing entries get metadata ``part`` = a / b / c by position."""
    shutil.copytree(bundle, folder)
    doc = _info(bundle)
    testing = [e for e in doc["files"] if e["category"] == "testing"]
    for k, entry in enumerate(testing):
        entry["metadata"] = {"part": "abc"[k % 3]}
    (folder / "dataset" / "info.labels").write_text(json.dumps(doc), "utf-8")
    return folder


@pytest.mark.parametrize("name", ["regression", "visual-anomaly", "ssd", "fomo"])
def test_other_impulses_slices_equal_runs_alone(tmp_path, name):
    """A regression block (its own accumulator gives the accuracy), visual anomaly detection, and
    object detection (COCO for SSD, FOMO's counts): their slices too equal runs alone."""
    bundle = _with_metadata(_need(FIXTURES / name), tmp_path / name)
    whole = run_bundle(bundle, RunOptions(workers=0, slice_by=("metadata.part",)))
    slices = whole.slices_json()
    document = json.loads(slices)
    assert [e["value"] for e in document["slices"]["metadata.part"]] == ["a", "b", "c"]
    for value in "abc":
        alone = run_bundle(_subset_bundle(bundle, tmp_path / f"{name}-{value}",
                                          lambda e, v=value: e["metadata"]["part"] == v), RunOptions(workers=0))
        result = alone.response_json()
        assert b'"accuracy":' + _block_bytes(document, "metadata.part", value, "accuracy") in result
        additional = _block_bytes(document, "metadata.part", value, "additionalMetricsByLearnBlock")
        assert b'"additionalMetricsByLearnBlock":' + additional in result


@pytest.mark.filterwarnings("ignore::evalcore.metrics.coco.UndefinedCocoStatWarning")
def test_coco_renumbered_is_the_subsets_own_run():
    """A slice's COCO images, added under sample ids, computed as a run on them alone numbers them."""
    import numpy as np

    from evalcore.metrics.ei_coco import CocoAccumulator

    rng = np.random.default_rng(3)
    images = []
    for _ in range(4):
        gt = rng.uniform(0, 40, (3, 4)) + [0, 0, 10, 10]
        det = np.clip(rng.uniform(0, 1, (3, 4)), 0, 1)
        det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 0.1)
        images.append((gt, np.array([1, 2, 1]), det, np.array([0, 1, 0]), np.array([0.9, 0.5, 0.5])))
    by_id, alone = CocoAccumulator(2, 64, 64), CocoAccumulator(2, 64, 64)
    for sample_id, position, image in zip((2, 10, 11, 30), range(4), images):
        by_id.update(sample_id, *image)
        alone.update(position, *image)
    assert np.array_equal(by_id.renumbered().compute().stats, alone.compute().stats)
    assert sorted(by_id.renumbered()._images) == [0, 1, 2, 3]
