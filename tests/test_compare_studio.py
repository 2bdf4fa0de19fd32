"""`evalcore compare` on Studio's files: pages stitched, samples matched by file name when Studio's
ids differ, volatile fields set aside and listed, the summary, and `run --compare`."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from evalcore.cli import EXIT_COMPARE_BUG, main
from evalcore.compare import VOLATILE_SAMPLE_FIELDS, compare_documents, compare_files
from evalcore.compare_sources import load_result, split_side
from evalcore.errors import BundleError

PAGE_SIZE = 4


@pytest.fixture(scope="module")
def motion_run(fixtures_dir, tmp_path_factory):
    """The motion fixture's result, written as `evalcore run --page-size 4 --out-dir pages` does."""
    if not (fixtures_dir / "motion" / "impulse.json").is_file():
        pytest.skip("motion fixture not built")
    from evalcore.engine import RunOptions, run_bundle, write_outputs

    out = tmp_path_factory.mktemp("motion_run")
    result = run_bundle(fixtures_dir / "motion", RunOptions(workers=0))
    write_outputs(result, out=out / "r.json", page_size=PAGE_SIZE, out_dir=out / "pages")
    return out


def _studio_shaped(doc: dict) -> dict:
    """What Studio's download of the same run would differ in: its own sample ids, dates, project
    id, storage names, signature flag and project name; predictions in another order. File names
    (Studio's sample names, which the export's info.labels carries) are kept."""
    doc = copy.deepcopy(doc)
    new_id = {}
    for i, entry in enumerate(doc["result"]):
        new_id[entry["sampleId"]] = 500000 + 37 * i
        entry["sampleId"] = new_id[entry["sampleId"]]
        sample = entry["sample"]
        sample.update(id=entry["sampleId"], created="2024-05-01T12:00:00.123Z", lastModified="2024-06-02T08:30:00.000Z",
                      added="2024-05-01T12:00:01.000Z", projectId=98765, projectName="motion",
                      coldstorageFilename=f"/ingestion/{entry['sampleId']}.cbor", signatureValidate=True)
    for p in doc["predictions"]:
        p["sampleId"] = new_id[p["sampleId"]]
    doc["predictions"].reverse()
    doc["result"].reverse()
    return doc


def _write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def test_equal_files_exit_0_and_say_same(motion_run, capsys):
    """Without it a run compared with itself could be reported as different."""
    r = motion_run / "r.json"
    assert main(["compare", str(r), str(r)]) == 0
    out = capsys.readouterr().out
    assert "SAME within tolerance" in out and "accuracy " in out and "Classification: Loss" in out
    assert main(["compare", str(r), str(r), "--json"]) == 0  # --json alone: only the report, on stdout
    report = json.loads(capsys.readouterr().out)
    assert report["equal"] and report["samples"]["matched"] == 10 and report["numbersCompared"] > 2000


def test_one_score_changed_names_sample_window_and_field(motion_run, tmp_path, capsys):
    """Without it a changed score would exit 0, or be reported without the file name, the window
    and the field a person needs to find it."""
    doc = json.loads((motion_run / "r.json").read_bytes())
    entry = doc["result"][3]
    name = entry["sample"]["filename"]
    sid = entry["sampleId"]
    windows = [(p["startMs"], p["endMs"]) for p in doc["predictions"] if p["sampleId"] == sid]
    entry["classifications"][0]["result"][2]["wave"] += 0.01
    changed = _write(tmp_path / "changed.json", doc)
    report = tmp_path / "report.json"
    assert main(["compare", str(changed), str(motion_run / "r.json"), "--json", str(report)]) == 1
    out = capsys.readouterr().out
    window = f"{windows[2][0]}-{windows[2][1]} ms"
    assert f"{name}, {window}, classifications[0].result[2].wave" in out, out
    assert "DIFFERENT: 1 difference(s): 1 sample(s) and 1 window(s) differ" in out
    full = json.loads(report.read_text())
    assert not full["equal"] and full["differingWindows"] == 1
    [d] = full["differences"]
    assert (d["sample"], d["window"], d["field"]) == (name, window, "classifications[0].result[2].wave")
    assert d["path"] == f"$.result[{sid}].classifications[0].result[2].wave"
    assert abs(d["a"] - d["b"] - 0.01) < 1e-12
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left behind
    # within a loose enough tolerance the same files are the same
    assert main(["compare", str(changed), str(motion_run / "r.json"), "--atol", "0.02"]) == 0


def test_studio_shaped_download_matches_by_file_name_and_lists_what_it_ignored(motion_run, tmp_path, capsys):
    """Without it Studio's own download of the same run would differ in every sample (its ids,
    dates and project id are not an export's) and `compare` could never say "same"."""
    local = motion_run / "r.json"
    studio = _write(tmp_path / "studio.json", _studio_shaped(json.loads(local.read_bytes())))
    assert main(["compare", str(studio), str(local)]) == 0
    out = capsys.readouterr().out
    assert "10 matched (10 by file name" in out, out
    ignored = next(line for line in out.splitlines() if line.startswith("ignored"))
    for name in ("sample.created", "sample.lastModified", "sample.added", "sample.id", "sample.projectId",
                 "sample.coldstorageFilename", "sample.signatureValidate", "sample.projectName", "sampleId"):
        assert name in ignored, ignored
    assert main(["compare", str(studio), str(local), "--strict", "--max-diffs", "1000"]) == 1
    assert '$.result["idle.0"].sample.projectId: 98765 != 0' in capsys.readouterr().out


def test_studio_shaped_file_still_finds_a_real_difference(motion_run):
    """Without it matching by file name could pair the wrong windows or hide a changed prediction."""
    local = json.loads((motion_run / "r.json").read_bytes())
    studio = _studio_shaped(local)
    target = studio["predictions"][7]
    target["prediction"] = "not-a-label"
    cmp = compare_documents(studio, local)
    [d] = cmp.differences
    assert d.field == "prediction" and d.a == "not-a-label"
    assert d.window == f"{target['startMs']}-{target['endMs']} ms"
    assert "sampleId" in {i.field for i in cmp.ignored}


def test_pages_list_and_folder_equal_the_full_result(motion_run, capsys):
    """Without it Studio's paged download (or evalcore's --page-size output) could not be compared
    with a full result."""
    pages = sorted(motion_run.glob("pages/page-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    assert len(pages) == 3  # 10 samples, 4 a page
    full = motion_run / "r.json"
    listed = ",".join(str(p) for p in pages)
    assert main(["compare", listed, str(full)]) == 0
    assert main(["compare", str(full), str(motion_run / "pages")]) == 0
    out = capsys.readouterr().out
    assert "3 page(s) stitched" in out and "not compared (pages carry no such fields): accuracy" in out
    stitched = load_result(motion_run / "pages")
    assert stitched.doc["result"] == json.loads(full.read_bytes())["result"]  # concatenated in page order
    assert split_side(listed) == [str(p) for p in pages]
    assert split_side(str(full)) == str(full)


def test_a_changed_value_on_a_page_is_found(motion_run, tmp_path):
    """Without it a stitched side could compare equal whatever its pages hold."""
    folder = tmp_path / "pages"
    shutil.copytree(motion_run / "pages", folder)
    page = json.loads((folder / "page-2.json").read_bytes())
    page["predictions"][0]["prediction"] = "changed"
    _write(folder / "page-2.json", page)
    cmp = compare_files(folder, motion_run / "r.json")
    assert [d.field for d in cmp.differences] == ["prediction"]


@pytest.mark.parametrize("breakage, needle", [
    ("total", "pages disagree: 11 here, 10 on page-0.json (PAGES/page-1.json, field totalCount)"),
    ("success", "field success"),
    ("gap", "page-1.json is missing"),
    ("repeat", "this page is given twice"),
    ("partial", "the pages hold 8 samples but totalCount is 10"),
    ("not-a-page", "not a ClassifyJobResponsePage"),
])
def test_inconsistent_pages_are_bad_input_naming_the_page(motion_run, tmp_path, capsys, breakage, needle):
    """Without it pages that do not belong together (another job, a missing or repeated page)
    would be stitched into a wrong document and reported as differences, or crash."""
    folder = tmp_path / "pages"
    shutil.copytree(motion_run / "pages", folder)
    page1 = json.loads((folder / "page-1.json").read_bytes())
    side = str(folder)
    if breakage == "total":
        page1["totalCount"] = 11
    elif breakage == "success":
        page1["success"] = False
    elif breakage == "gap":
        (folder / "page-1.json").unlink()
    elif breakage == "repeat":
        side = ",".join(str(folder / f"page-{k}.json") for k in (0, 1, 1, 2))
    elif breakage == "partial":
        (folder / "page-2.json").unlink()
    elif breakage == "not-a-page":
        side = f"{folder / 'page-0.json'},{motion_run / 'r.json'}"
    if page1 and (folder / "page-1.json").exists():
        _write(folder / "page-1.json", page1)
    assert main(["compare", side, str(motion_run / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalcore compare: error: ") and err.count("\n") == 1, err
    assert needle.replace("PAGES", str(folder)) in err, err


def test_sample_matching_rules():
    """Without it a renamed sample or two samples sharing a name could be paired wrongly."""
    def doc(samples):
        return {"result": [{"sampleId": sid, "sample": {"filename": name}, "v": v} for sid, name, v in samples],
                "predictions": []}

    # ids agree and names agree: by id; ids differ: by name; same id, renamed: by id, name reported
    a = doc([(1, "x", 0), (2, "y", 0), (3, "z", 0)])
    b = doc([(1, "x", 0), (9, "y", 0), (3, "z2", 0)])
    cmp = compare_documents(a, b)
    assert cmp.samples == {"matched": 3, "byFilename": 1, "onlyA": 0, "onlyB": 0}
    assert [(d.path, d.a, d.b) for d in cmp.differences] == [("$.result[3].sample.filename", "z", "z2")]
    assert [d.path for d in cmp.ignored] == ['$.result["y"].sampleId']
    # a name twice among the unmatched samples is no key: those samples are only in A / only in B
    cmp = compare_documents(doc([(1, "w", 0), (2, "w", 0)]), doc([(5, "w", 0), (6, "w", 0)]))
    assert cmp.samples == {"matched": 0, "byFilename": 0, "onlyA": 2, "onlyB": 2}
    assert sorted(d.kind for d in cmp.differences) == ["extra", "extra", "missing", "missing"]


def test_volatile_fields_are_the_readmes_export_cannot_know_row():
    """Without it the README's list of fields an export cannot know and what compare ignores
    could drift apart."""
    for name in ("created", "lastModified", "added", "projectId", "signatureValidate", "coldstorageFilename"):
        assert name in VOLATILE_SAMPLE_FIELDS
    for measured in ("filename", "label", "valuesCount", "intervalMs", "sha256Hash", "sensors"):
        assert measured not in VOLATILE_SAMPLE_FIELDS


def test_run_compare(fixtures_dir, motion_run, tmp_path, capsys):
    """Without it `run --compare` could not answer "does my local run match the cloud" in one go:
    no Studio file is bad input naming it (before the run), Studio's download of the same run is
    the same (exit 0), one changed value is different (exit 1); the run's outputs are written."""
    bundle = tmp_path / "motion"
    shutil.copytree(fixtures_dir / "motion", bundle)
    out = tmp_path / "out" / "r.json"
    out.parent.mkdir()
    assert main(["run", str(bundle), "--out", str(out), "--compare", "-q", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert str(bundle / "studio" / "classify-result.json") in err and "does not exist" in err
    assert not out.exists()

    (bundle / "studio").mkdir()
    studio = _studio_shaped(json.loads((motion_run / "r.json").read_bytes()))
    _write(bundle / "studio" / "classify-result.json", studio)
    assert main(["run", str(bundle), "--out", str(out), "--compare", "-q", "--workers", "0"]) == 0
    assert "SAME within tolerance" in capsys.readouterr().out
    assert out.read_bytes() == (motion_run / "r.json").read_bytes()
    assert main(["run", str(bundle), "--out", str(out), "--compare", "--strict", "-q", "--workers", "0"]) == 1
    assert "sample.created" in capsys.readouterr().out

    studio["accuracy"]["balancedAccuracyScore"] += 1
    _write(bundle / "studio" / "classify-result.json", studio)
    assert main(["run", str(bundle), "--out", str(out), "--compare", "-q", "--workers", "0"]) == 1
    text = capsys.readouterr().out
    assert "$.accuracy.balancedAccuracyScore" in text
    assert any(line.startswith("  balanced accuracy") and line.endswith("*") for line in text.splitlines())


def test_a_bug_in_run_compare_exits_3(fixtures_dir, tmp_path, monkeypatch, capsys):
    """1 means "different" for run --compare too: a crash must not be read as a verdict."""
    import evalcore.compare

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    bundle = tmp_path / "motion"
    shutil.copytree(fixtures_dir / "motion", bundle)
    (bundle / "studio").mkdir()
    (bundle / "studio" / "classify-result.json").write_text("{}")
    monkeypatch.setattr(evalcore.compare, "compare_files", broken)
    assert main(["run", str(bundle), "--out", str(tmp_path / "r.json"), "--compare", "-q", "--workers", "0"]) \
        == EXIT_COMPARE_BUG
    assert "a bug, not a difference" in capsys.readouterr().err


def test_bad_tolerance_is_bad_input(fixtures_dir, tmp_path, capsys):
    """Without it a negative tolerance would crash as a bug (exit 3) instead of naming the option,
    and a comparison option given to a plain run would be silently ignored."""
    a = _write(tmp_path / "a.json", {"result": []})
    assert main(["compare", str(a), str(a), "--rtol", "-1"]) == 2
    assert "--rtol must be a finite number >= 0" in capsys.readouterr().err
    out = str(tmp_path / "r.json")
    assert main(["run", str(fixtures_dir / "motion"), "--out", out, "--strict"]) == 2
    assert "--rtol, --atol and --strict need --compare" in capsys.readouterr().err
    assert main(["run", str(fixtures_dir / "motion"), "--out", out, "--compare", "--atol", "-1"]) == 2
    assert "--atol must be a finite number >= 0" in capsys.readouterr().err


def test_load_result_names_an_empty_folder(tmp_path):
    """Without it an empty folder would be compared as no document at all."""
    with pytest.raises(BundleError, match="no page-K.json files"):
        load_result(tmp_path)
