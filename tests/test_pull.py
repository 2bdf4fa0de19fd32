"""``evalcore pull`` against a stand-in Studio (tests/studio_standin.py: a real HTTP server on loopback).

The official client is pointed at it through ``--studio-url`` (``Configuration(host=...)``); the
pulled bundle must run to the same bytes as the fixture it was served from.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("edgeimpulse_api")

from evalcore import cli  # noqa: E402
from evalcore.engine import RunOptions, run_bundle  # noqa: E402
from evalcore.pull import MANIFEST_NAME, PullError, PullOptions, choose_model_files, pull_project, staging_dir  # noqa: E402
from tests.studio_standin import StandinStudio  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEY = "ei_0123456789abcdef-test-key"
PID = 4242


def _run_bytes(bundle: Path) -> bytes:
    return run_bundle(bundle, RunOptions(workers=0)).response_json()


def _pull_cli(studio: StandinStudio, out: Path, *extra: str, project: int = PID) -> int:
    return cli.main(["pull", str(project), "--out", str(out), "--studio-url", studio.host, *extra])


def _no_key_anywhere(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("EI_API_KEY", KEY)


@pytest.fixture
def no_sleep(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("evalcore.pull._sleep", waits.append)
    return waits


@pytest.mark.parametrize("fixture", ["motion", "kws", "motion-gmm"])
def test_pulled_bundle_runs_to_the_fixtures_bytes(fixture, tmp_path, key_env, capsys):
    """Training then testing listed, as in the fixture's info.labels, so sample ids (positions) agree."""
    if fixture == "kws":
        pytest.importorskip("ai_edge_litert")
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / fixture, project_id=PID, api_key=KEY) as studio:
        assert _pull_cli(studio, out, "--category", "training", "--category", "testing") == 0
    err = capsys.readouterr().err
    assert "models: learn block 3:" in err and "pulled into" in err
    assert KEY not in err
    _no_key_anywhere(out)
    assert not staging_dir(out).exists()
    assert _run_bytes(out) == _run_bytes(FIXTURES / fixture)
    for rel in ("impulse.json", "dsp/2.json", "learn/3/metadata.json"):
        assert (out / rel).read_bytes() == (FIXTURES / fixture / rel).read_bytes(), rel
    if fixture == "motion-gmm":
        assert (out / "learn/4/gmm.json").read_bytes() == (FIXTURES / fixture / "learn/4/gmm.json").read_bytes()


def test_default_pull_is_the_test_set_and_matches_studio_by_file_name(tmp_path, key_env, capsys):
    from evalcore.compare import compare_files

    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        assert _pull_cli(studio, out, "-q") == 0
    assert capsys.readouterr() == ("", "")  # -q: nothing on stdout or stderr
    labels = json.loads((out / "dataset/info.labels").read_text())
    assert {e["category"] for e in labels["files"]} == {"testing"} and len(labels["files"]) == 10
    (tmp_path / "a.json").write_bytes(_run_bytes(out))
    (tmp_path / "b.json").write_bytes(_run_bytes(FIXTURES / "motion"))
    diff = compare_files(tmp_path / "a.json", tmp_path / "b.json", rtol=0, atol=0, strict=False)
    assert diff.equal


def test_second_pull_fetches_nothing_and_a_change_only_that_file(tmp_path, key_env, capsys):
    source = tmp_path / "project"
    shutil.copytree(FIXTURES / "motion", source)
    out = tmp_path / "bundle"
    with StandinStudio(source, project_id=PID, api_key=KEY) as studio:
        assert _pull_cli(studio, out) == 0
        first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        assert studio.bodies_sent("raw-data") == 10 + 1  # 10 samples and the listing
        n = len(studio.log)
        assert _pull_cli(studio, out) == 0
        again = studio.log[n:]
        assert [s for p, s in again if "/raw-data/" in p] == []  # no sample asked for
        assert all(s == 304 for p, s in again if "/learn-data/" in p or p.endswith(("/impulse", "/dsp/2")))
        second = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        assert second.keys() == first.keys()
        assert all(second[k] == first[k] for k in first if k.name != MANIFEST_NAME)

        cfg = json.loads((source / "dsp/2.json").read_text())
        (source / "dsp/2.json").write_text(json.dumps(cfg, indent=1))
        (source / "dataset/testing/idle.0.cbor").write_bytes((source / "dataset/testing/idle.0.cbor").read_bytes() + b"\0")
        capsys.readouterr()
        n = len(studio.log)
        assert _pull_cli(studio, out) == 0
        fetched = sorted(p for p, s in studio.log[n:] if s == 200 and "/raw-data?" not in p)
    assert fetched == sorted([f"/v1/api/{PID}/dsp/2", f"/v1/api/{PID}/downloads", f"/v1/api/{PID}/raw-data",
                              f"/v1/api/{PID}/raw-data/17/raw"])
    assert "(2 fetched, " in capsys.readouterr().err
    assert (out / "dsp/2.json").read_bytes() == (source / "dsp/2.json").read_bytes()
    assert (out / "dataset/testing/idle.0.cbor").read_bytes() == (source / "dataset/testing/idle.0.cbor").read_bytes()


def test_bad_key_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EI_API_KEY", "wrong-key-value")
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        assert _pull_cli(studio, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("evalcore pull: error: GET impulse: HTTP 401")
    assert "wrong-key-value" not in err
    assert "bundle was not created" in err
    assert not out.exists() and not staging_dir(out).exists()  # nothing arrived: nothing to resume


def test_missing_project_is_a_404_line(tmp_path, key_env, capsys):
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        assert _pull_cli(studio, out, "-q", project=PID + 1) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HTTP 404: not found" in err and "Project not found" in err
    assert not out.exists()


def test_rate_limit_is_retried_after_the_servers_delay(tmp_path, key_env, no_sleep, capsys):
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        studio.faults["impulse"] = ["429"]
        studio.faults["raw-data/20/raw"] = ["500", "429"]
        assert _pull_cli(studio, out) == 0
    assert no_sleep == [2.0, 1.0, 2.0]  # Retry-After: 2; the 500 without one backs off 1 s
    err = capsys.readouterr().err
    assert "GET impulse: HTTP 429" in err and "retrying in 2 s" in err
    assert _run_bytes(out) is not None and (out / "dataset/testing/idle.3.cbor").is_file()


def test_endless_5xx_gives_up_after_bounded_attempts(tmp_path, key_env, no_sleep, capsys):
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        studio.faults["dsp/"] = ["500"] * 10
        assert _pull_cli(studio, out, "-q") == 2
    assert no_sleep == [1.0, 2.0, 4.0, 8.0]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GET dsp/2: HTTP 500" in err and "gave up after 5 attempts" in err
    assert not out.exists()


def test_dropped_connection_leaves_no_bundle_and_the_next_pull_resumes(tmp_path, key_env, no_sleep, capsys):
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        studio.faults["raw-data/22/raw"] = ["drop"] * 5
        assert _pull_cli(studio, out, "-q") == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "GET raw-data/22/raw: connection failed (the server closed the connection)" in err
        assert not out.exists() and staging_dir(out).is_dir()
        sent = [p for p, s in studio.log if s == 200 and p.endswith("/raw")]
        assert len(sent) == 5  # samples 17-21 arrived before the drop
        n = len(studio.log)
        assert _pull_cli(studio, out, "-q") == 0
        resent = [p for p, s in studio.log[n:] if s == 200 and p.endswith("/raw")]
    assert sorted(resent) == sorted(f"/v1/api/{PID}/raw-data/{i}/raw" for i in range(22, 27))
    assert not staging_dir(out).exists()
    _no_key_anywhere(out)


def test_with_result_saves_studios_bytes_and_pages(tmp_path, key_env):
    body = _run_bytes(FIXTURES / "motion")
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY, classify_result=body) as studio:
        assert _pull_cli(studio, out, "-q", "--with-result", "--result-page-size", "4") == 0
    assert (out / "studio/classify-result.json").read_bytes() == body
    pages = sorted((out / "studio/classify-result").glob("page-*.json"))
    assert [p.name for p in pages] == ["page-0.json", "page-1.json", "page-2.json"]
    rows = [r for p in pages for r in json.loads(p.read_text())["result"]]
    assert rows == json.loads(body)["result"]


def test_api_key_file_and_missing_key(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("EI_API_KEY", raising=False)
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        assert _pull_cli(studio, out, "-q") == 2
        assert "no API key: set EI_API_KEY or pass --api-key-file" in capsys.readouterr().err
        (tmp_path / "key").write_text(KEY + "\n")
        assert _pull_cli(studio, out, "-q", "--api-key-file", str(tmp_path / "key")) == 0
    assert (out / "impulse.json").is_file()


def test_refuses_a_folder_it_did_not_make(tmp_path, key_env, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        assert _pull_cli(studio, out, "-q") == 2
    assert "did not make" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "keep me"


def test_sample_names_without_content_disposition(tmp_path):
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "kws", project_id=PID, api_key=KEY, send_filenames=False) as studio:
        pull_project(PID, out, KEY, PullOptions(host=studio.host, variants=("int8",)))
    labels = json.loads((out / "dataset/info.labels").read_text())
    assert labels["files"][0]["path"] == "testing/unknown.hadouken.01.wav"
    assert labels["files"][0]["name"] == "hadouken.01"
    assert sorted(p.name for p in (out / "learn/3").iterdir()) == ["metadata.json", "model_quantized_int8_io.tflite"]


def test_missing_extra_names_the_install(monkeypatch, tmp_path, key_env, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "edgeimpulse_api", None)
    assert cli.main(["pull", "1", "--out", str(tmp_path / "b")]) == 2
    assert 'pip install "evalcore[studio]"' in capsys.readouterr().err


def _dl(learn: int, dl_id: str, name: str) -> dict:
    return {"id": dl_id, "name": name, "type": name, "link": f"/v1/api/1/learn-data/{learn}/model/{dl_id}"}


def test_model_choice_prefers_what_runs_here():
    offered = [_dl(3, "tflite-float32", "TensorFlow Lite (float32)"), _dl(3, "onnx-float32", "ONNX (float32)"),
               _dl(3, "tflite-int8", "TensorFlow Lite (int8 quantized)"), _dl(3, "savedmodel", "TensorFlow SavedModel"),
               _dl(3, "akida", "BrainChip Akida model"), _dl(9, "tflite-float32", "TensorFlow Lite (float32)")]
    everything = lambda module: True  # noqa: E731
    chosen, line = choose_model_files(offered, [3], None, everything)
    assert [(d.variant, d.format) for d in chosen] == [("float32", "onnx"), ("int8", "tflite"), ("akida", "akida")]
    assert line == "models: learn block 3: float32 model.onnx, int8 model_quantized_int8_io.tflite, akida akida_model.fbz"
    only_onnx = lambda module: module == "onnxruntime"  # noqa: E731
    chosen, line = choose_model_files(offered, [3], ("int8", "float32"), only_onnx)
    assert [(d.variant, d.format) for d in chosen] == [("int8", "tflite"), ("float32", "onnx")]
    assert 'int8 model_quantized_int8_io.tflite (cannot run here: pip install "evalcore[tflite]")' in line
    chosen, line = choose_model_files(offered, [5], ("float32",), everything)
    assert chosen == [] and line == "models: learn block 5: float32 none offered"


def test_pull_error_is_an_evalcore_error():
    from evalcore.errors import EvalcoreError

    assert issubclass(PullError, EvalcoreError)


def test_a_sample_gone_from_studio_is_gone_from_the_bundle(tmp_path):
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        pull_project(PID, out, KEY, PullOptions(host=studio.host))
        assert (out / "dataset/testing/shake.0.cbor").is_file()
        studio.samples = [s for s in studio.samples if s["name"] != "shake.0"]
        report = pull_project(PID, out, KEY, PullOptions(host=studio.host))
    assert report.fetched == []
    assert not (out / "dataset/testing/shake.0.cbor").exists()
    names = [e["name"] for e in json.loads((out / "dataset/info.labels").read_text())["files"]]
    assert len(names) == 9 and "shake.0" not in names
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["complete"] is True and "dataset/testing/shake.0.cbor" not in manifest["files"]
    assert KEY not in (out / MANIFEST_NAME).read_text()


def test_staging_of_another_project_is_not_reused(tmp_path, no_sleep):
    out = tmp_path / "bundle"
    with StandinStudio(FIXTURES / "motion", project_id=PID, api_key=KEY) as studio:
        studio.faults["raw-data/20/raw"] = ["drop"] * 5
        with pytest.raises(PullError):
            pull_project(PID, out, KEY, PullOptions(host=studio.host))
    assert (staging_dir(out) / "dataset/testing/idle.0.cbor").is_file()
    with StandinStudio(FIXTURES / "kws", project_id=PID + 1, api_key=KEY) as studio:
        pull_project(PID + 1, out, KEY, PullOptions(host=studio.host))
    assert not list((out / "dataset/testing").glob("*.cbor"))
    assert len(list((out / "dataset/testing").glob("*.wav"))) == 6


def test_studio_saying_no_is_one_line_and_nothing_is_saved(tmp_path, no_sleep):
    source = tmp_path / "project"
    shutil.copytree(FIXTURES / "motion", source)
    (source / "learn/3/metadata.json").write_text('{"success": false, "error": "Model not trained yet"}')
    out = tmp_path / "bundle"
    with StandinStudio(source, project_id=PID, api_key=KEY) as studio, pytest.raises(PullError) as err:
        pull_project(PID, out, KEY, PullOptions(host=studio.host))
    assert str(err.value).startswith("GET training/keras/3/metadata: Studio says: Model not trained yet;")
    assert "\n" not in str(err.value)
    assert not (staging_dir(out) / "learn/3/metadata.json").exists() and not out.exists()
