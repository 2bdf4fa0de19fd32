"""``evalcore serve``: local results under Studio's API paths, read by Edge Impulse's official clients.

The served folder is made from the ``motion`` fixture's outputs (``conftest.fixture_outputs``:
``engine.run_bundle(..., RunOptions(workers=0))`` then ``engine.write_outputs``):

- ``5/result.json`` + ``result.run.json`` (float32, the sidecar says so) and ``5/int8/result.json``
  (a shortened copy, so that the variant that answered is visible);
- ``6/float32`` and ``6/int8`` (two variant folders, no default: ``variant`` is required).

The oracles: the files ``evalcore run`` wrote (``result.json``, ``pages-<n>/page-<k>.json``), the
official Python client ``edgeimpulse_api`` and the official npm client ``edge-impulse-api`` (installed
by ``npm ci`` in ``tests/node``; ``.ci/run`` does it). Without node or that install the npm test
skips, except under CI, where it fails.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from evalcore.jsonio import dumps
from evalcore.serve import make_server, url_of
from tests._helpers import client_differences, default_sigint
from tests.conftest import OUTPUT_PAGE_SIZES, in_ci

NODE_DIR = Path(__file__).parent / "node"
PAGE = "/v1/api/5/classify/all/result/page"
FULL = "/v1/api/5/classify/all/result"
INT8_SAMPLES = 4


@pytest.fixture(scope="module")
def motion(fixture_outputs) -> Path:
    """The folder of ``evalcore run``'s outputs for ``fixtures/motion`` (float32)."""
    return fixture_outputs("motion", "float32")


@pytest.fixture(scope="module")
def served_dir(motion, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("served")
    project = root / "5"
    project.mkdir()
    shutil.copy(motion / "result.json", project / "result.json")
    shutil.copy(motion / "result.run.json", project / "result.run.json")
    short = json.loads((motion / "result.json").read_bytes())
    short["result"] = short["result"][:INT8_SAMPLES]
    kept = {r["sampleId"] for r in short["result"]}
    short["predictions"] = [p for p in short["predictions"] if p["sampleId"] in kept]
    (project / "int8").mkdir()
    (project / "int8" / "result.json").write_bytes(dumps(short))
    for variant in ("float32", "int8"):
        (root / "6" / variant).mkdir(parents=True)
        shutil.copy(motion / "result.json", root / "6" / variant / "result.json")
    return root


def _start(root, **kwargs):
    server = make_server(root, host="127.0.0.1", port=0, log_requests=False, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def _stop(server, thread):
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(served_dir):
    server, thread = _start(served_dir)
    yield server
    _stop(server, thread)


def _request(server, path: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    """(status, body bytes, headers) of one request; ``path`` is sent as given (no normalisation)."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def _get(server, path: str) -> bytes:
    status, body, _ = _request(server, path)
    assert status == 200, body
    return body


# --- what is served: the files' bytes ------------------------------------------------------------

def test_full_result_is_the_file(server, motion):
    assert _get(server, FULL) == (motion / "result.json").read_bytes()
    assert _get(server, FULL + "?variant=float32&featureExplorerOnly=false&category=testing") == (
        motion / "result.json").read_bytes()


@pytest.mark.parametrize("page_size", OUTPUT_PAGE_SIZES)
def test_pages_equal_what_run_writes(server, motion, page_size):
    """``limit=N&offset=k*N`` gives the bytes of ``evalcore run --page-size N``'s ``page-<k>.json``."""
    files = sorted((motion / f"pages-{page_size}").glob("page-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    assert len(files) > 1
    for k, file in enumerate(files):
        got = _get(server, f"{PAGE}?limit={page_size}&offset={k * page_size}")
        assert got == file.read_bytes(), file.name


def test_an_arbitrary_offset_is_the_one_sample_pages_joined(server, motion):
    singles = [json.loads(p.read_bytes()) for p in
               sorted((motion / "pages-1").glob("page-*.json"), key=lambda p: int(p.stem.split("-")[1]))]
    total = len(singles)
    for offset, limit in ((2, 4), (1, 2), (total - 1, 5)):
        page = json.loads(_get(server, f"{PAGE}?offset={offset}&limit={limit}"))
        chosen = singles[offset : offset + limit]
        assert page["result"] == [r for s in chosen for r in s["result"]]
        assert page["predictions"] == [p for s in chosen for p in s["predictions"]]
        assert page["totalCount"] == total and page["success"] is True
    beyond = json.loads(_get(server, f"{PAGE}?offset={total + 3}&limit=2"))
    assert beyond == {"success": True, "result": [], "predictions": [], "totalCount": total}
    everything = json.loads(_get(server, f"{PAGE}?offset=0"))  # no limit: to the last sample
    assert everything["result"] == json.loads((motion / "result.json").read_bytes())["result"]


def test_variants(server, served_dir):
    int8 = json.loads(_get(server, f"{PAGE}?variant=int8&limit=100"))
    assert int8["totalCount"] == INT8_SAMPLES
    assert _get(server, FULL + "?variant=int8") == (served_dir / "5" / "int8" / "result.json").read_bytes()
    assert _get(server, "/v1/api/6/classify/all/result?variant=int8") == (
        served_dir / "6" / "int8" / "result.json").read_bytes()
    status, body, _ = _request(server, "/v1/api/6/classify/all/result")
    assert status == 400 and b"give variant (float32, int8)" in body
    status, body, _ = _request(server, FULL + "?variant=akida")
    assert status == 404 and json.loads(body)["error"] == "project 5 has no akida result (variants: float32, int8)"


def test_head_has_the_headers_and_no_body(server, motion):
    status, body, headers = _request(server, FULL, method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == (motion / "result.json").stat().st_size


# --- errors, as Studio answers them -------------------------------------------------------------

@pytest.mark.parametrize(("path", "status", "error"), [
    ("/v1/api/7/classify/all/result", 404, "project 7 has no results here (projects served: 5, 6)"),
    ("/v1/api/abc/classify/all/result", 400, "projectId must be a positive integer, got 'abc'"),
    (PAGE + "?limit=-1", 400, "limit must be >= 1, got -1"),
    (PAGE + "?offset=-3", 400, "offset must be >= 0, got -3"),
    (PAGE + "?limit=2.5", 400, "limit must be an integer, got '2.5'"),
    (PAGE + "?offset=ten", 400, "offset must be an integer, got 'ten'"),
    (PAGE + "?limit=0", 400, "limit must be >= 1, got 0"),
    (PAGE + "?limit=1&limit=2", 400, "query parameter 'limit' is given twice"),
    (FULL + "?variant=fp16", 400, "variant must be one of float32, int8, akida, got 'fp16'"),
    (FULL + "?limit=3", 400, "unknown query parameter 'limit'"),
    (PAGE + "?labels=%5B%22idle%22%5D", 400, "the labels filter is not supported by evalcore serve"),
    (FULL + "?impulseId=2", 400, "impulseId is not supported"),
    (FULL + "?truncateStructuredLabels=true", 400, "truncateStructuredLabels=true is not supported"),
    (FULL + "?category=training", 404, "5/result.json is a result of the testing set, not of training"),
    ("/v1/api/5/classify/all/other", 404, "no such endpoint: /v1/api/5/classify/all/other"),
    ("/v1/api/5/../../../etc/passwd", 403, "refused: '/v1/api/5/../../../etc/passwd' leaves the served folder"),
    ("/v1/api/%2e%2e/classify/all/result", 403, "refused: '/v1/api/../classify/all/result' leaves the served folder"),
    ("/v1/api/5/classify/all/result/%2E%2E/page", 403, "leaves the served folder"),
])
def test_bad_requests_answer_as_studio(server, path, status, error):
    got_status, body, headers = _request(server, path)
    assert got_status == status
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    answer = json.loads(body)
    assert list(answer) == ["success", "error"] and answer["success"] is False
    assert error in answer["error"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_read_only(server, served_dir, method):
    before = {p: p.read_bytes() for p in served_dir.rglob("*") if p.is_file()}
    status, body, headers = _request(server, FULL, method=method, body=b'{"success":true}')
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert json.loads(body) == {"success": False,
                                "error": f"method {method} is not allowed: evalcore serve is read-only (GET, HEAD)"}
    assert {p: p.read_bytes() for p in served_dir.rglob("*") if p.is_file()} == before


def test_symlinks_out_of_the_folder_are_refused(motion, tmp_path):
    outside = tmp_path / "outside"
    (outside / "9").mkdir(parents=True)
    shutil.copy(motion / "result.json", outside / "9" / "result.json")
    root = tmp_path / "root"
    root.mkdir()
    (root / "8").symlink_to(outside / "9", target_is_directory=True)  # a project folder outside
    (root / "9").mkdir()
    (root / "9" / "result.json").symlink_to(outside / "9" / "result.json")  # a result file outside
    (root / "10").mkdir()
    (root / "10" / "result.json").symlink_to(root / "9" / "result.json")  # a chain that ends outside
    (root / "11").mkdir()
    (root / "11" / "result.json").symlink_to(outside / "9" / "result.json")
    server, thread = _start(root)
    try:
        for project in (8, 9, 10, 11):
            for path in (f"/v1/api/{project}/classify/all/result", f"/v1/api/{project}/classify/all/result/page?limit=1"):
                status, body, _ = _request(server, path)
                assert status == 403, (path, body)
                assert "resolves outside the served folder" in json.loads(body)["error"]
    finally:
        _stop(server, thread)


def test_api_key_file_is_required_when_given(served_dir, motion):
    server, thread = _start(served_dir, api_key="s3cret")
    try:
        status, body, _ = _request(server, FULL)
        assert status == 401 and json.loads(body) == {"success": False, "error": "missing or wrong x-api-key header"}
        status, _, _ = _request(server, FULL, headers={"x-api-key": "wrong"})
        assert status == 401
        status, body, _ = _request(server, FULL, headers={"x-api-key": "s3cret"})
        assert status == 200 and body == (motion / "result.json").read_bytes()
    finally:
        _stop(server, thread)


def test_without_api_key_file_any_key_is_accepted(server, motion):
    status, body, _ = _request(server, FULL, headers={"x-api-key": "ei_anything"})
    assert status == 200 and body == (motion / "result.json").read_bytes()


# --- the official clients --------------------------------------------------------------------------

def test_python_client_reads_the_result_and_its_pages(server, motion, client_models):  # noqa: F811
    """``edgeimpulse_api`` pointed at the server (``client_models``: the client's documented
    ``BlockThresholdValue`` bug worked around as in tests/test_client_oracle.py)."""
    import edgeimpulse_api as ei

    response_class, page_class = client_models
    api = ei.ClassifyApi(ei.ApiClient(ei.Configuration(host=url_of(server))))
    full = api.get_classify_job_result(5, variant="float32")
    assert isinstance(full, response_class)
    want = json.loads((motion / "result.json").read_bytes())
    assert not client_differences(full.to_dict(), want)
    for k, file in enumerate(sorted((motion / "pages-3").glob("page-*.json"), key=lambda p: int(p.stem.split("-")[1]))):
        page = api.get_classify_job_result_page(5, limit=3, offset=3 * k)
        assert isinstance(page, page_class)
        assert not client_differences(page.to_dict(), json.loads(file.read_bytes())), file.name
    with pytest.raises(ei.exceptions.ApiException) as err:
        api.get_classify_job_result_page(5, limit=3, offset=0, variant="akida")
    assert err.value.status == 404 and "project 5 has no akida result" in err.value.body


def test_npm_client_reads_the_result_and_a_page(server, motion):
    """``edge-impulse-api`` from Node: what its ClassifyApi returns, written back with
    ``JSON.stringify``, is byte for byte the file ``evalcore run`` wrote."""
    node = shutil.which("node")
    installed = (NODE_DIR / "node_modules" / "edge-impulse-api" / "package.json").is_file()
    if node is None or not installed:
        missing = "node is not on PATH" if node is None else f"{NODE_DIR}/node_modules is missing (npm ci there)"
        if in_ci():
            pytest.fail(f"{missing}, and CI is set: CI must run the npm client (.ci/run installs it)")
        pytest.skip(f"{missing} (the CI run installs it)")
    out = subprocess.run([node, str(NODE_DIR / "read_result.js"), url_of(server), "5", "float32", "3", "6"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["full"].encode("utf-8") == (motion / "result.json").read_bytes()
    assert got["page"].encode("utf-8") == (motion / "pages-3" / "page-2.json").read_bytes()
    assert got["unknownProjectError"] == "project 999999 has no results here (projects served: 5, 6)"


# --- the command ------------------------------------------------------------------------------------

def test_command_prints_its_url_serves_and_exits_130_on_ctrl_c(served_dir, motion):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    proc = subprocess.Popen([sys.executable, "-m", "evalcore", "serve", str(served_dir), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=default_sigint)
    try:
        line = proc.stdout.readline()
        assert line.startswith("evalcore serve: http://127.0.0.1:") and line.endswith(f" serving {served_dir.resolve()}\n")
        url = line.split()[2]
        host, port = url.removeprefix("http://").removesuffix("/v1").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", FULL)
        assert conn.getresponse().read() == (motion / "result.json").read_bytes()
        conn.close()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert err.rstrip().endswith("evalcore: interrupted")


def test_command_refuses_a_missing_folder(tmp_path):
    out = subprocess.run([sys.executable, "-m", "evalcore", "serve", str(tmp_path / "nope"), "--port", "0"],
                         capture_output=True, text=True, timeout=60, check=False,
                         env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1])))
    assert out.returncode == 2
    assert out.stderr == f"evalcore serve: error: serve: {tmp_path / 'nope'} is not a folder\n"


def test_a_result_without_sidecar_answers_only_without_variant(motion, tmp_path):
    (tmp_path / "12").mkdir()
    shutil.copy(motion / "result.json", tmp_path / "12" / "result.json")
    server, thread = _start(tmp_path)
    try:
        assert _get(server, "/v1/api/12/classify/all/result") == (motion / "result.json").read_bytes()
        status, body, _ = _request(server, "/v1/api/12/classify/all/result?variant=float32")
        assert status == 404
        assert json.loads(body)["error"] == "project 12 has no float32 result (variants: none with a known variant)"
    finally:
        _stop(server, thread)


@pytest.mark.parametrize("port", ["-1", "65536"])
def test_command_refuses_a_bad_port(served_dir, port, capsys):
    from evalcore.cli import main

    assert main(["serve", str(served_dir), "--port", port]) == 2
    assert capsys.readouterr().err == f"evalcore serve: error: serve: --port must be 0..65535, got {port}\n"


def test_a_changed_or_broken_file_is_read_again(motion, tmp_path):
    """Pages come from a parsed copy kept until the file's mtime or size changes."""
    (tmp_path / "13").mkdir()
    result = tmp_path / "13" / "result.json"
    shutil.copy(motion / "result.json", result)
    page = "/v1/api/13/classify/all/result/page?limit=2"
    server, thread = _start(tmp_path)
    try:
        assert json.loads(_get(server, page))["totalCount"] > 1
        short = json.loads(result.read_bytes())
        short["result"] = short["result"][:1]
        result.write_bytes(dumps(short))
        assert json.loads(_get(server, page))["totalCount"] == 1
        result.write_bytes(b'{"success":true,"result":[1],"predictions":[]}')
        status, body, _ = _request(server, page)
        assert status == 500 and json.loads(body) == {
            "success": False, "error": "13/result.json is not a ClassifyJobResponse (no result/predictions lists of objects)"}
        result.write_bytes(b"{not json")
        status, body, _ = _request(server, page)
        assert status == 500 and json.loads(body)["error"].startswith("13/result.json is not JSON: ")
    finally:
        _stop(server, thread)


def test_command_refuses_an_empty_or_missing_api_key_file(served_dir, tmp_path, capsys):
    from evalcore.cli import main

    empty = tmp_path / "key"
    empty.write_text(" \n", encoding="utf-8")
    assert main(["serve", str(served_dir), "--port", "0", "--api-key-file", str(empty)]) == 2
    assert capsys.readouterr().err == f"evalcore serve: error: serve: --api-key-file {empty} is empty\n"
    assert main(["serve", str(served_dir), "--port", "0", "--api-key-file", str(tmp_path / "none")]) == 2
    assert "cannot read --api-key-file" in capsys.readouterr().err
