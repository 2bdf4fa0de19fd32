"""`evalcore run --executor dask`: chunks of samples on a Dask cluster merge to the bytes of a single
run, on every fixture bundle; a worker killed mid-run is retried or ends the run with one line and
no output; bad input inside a task reaches the user as the same one line, exit 2.

One local cluster of 2 worker processes serves the module (`cluster`); the executor connects to
it with ``--scheduler`` (``DaskSettings(scheduler=...)``), as it would to a real cluster. Its
scheduler allows one worker death per task (``allowed-failures`` 1), so one kill is retried and a
second kill of the same task's workers fails the run.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from evalcore.cli import main
from evalcore.engine import RunOptions, run_bundle, write_outputs
from evalcore.executors import dask as executor
from tests.conftest import FIXTURES, REPO_ROOT
from tests.test_engine import ALL_BUNDLES

distributed = pytest.importorskip("distributed")  # CI installs the dask extra: a skip there fails

PAGE_SIZES = (1, 4)


@pytest.fixture(scope="module")
def cluster():
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        local = distributed.LocalCluster(**executor.local_cluster_options(2))
    client = distributed.Client(local)
    try:
        yield local, client
    finally:
        client.close()
        local.close()


@pytest.fixture
def address(cluster):
    """The module cluster's scheduler, with both workers up (a test before may have killed one)."""
    local, client = cluster
    client.wait_for_workers(2, timeout=120)
    return local.scheduler_address


def _files(folder: Path) -> dict[str, bytes]:
    """Every output file under ``folder`` but the run-info sidecar (it holds timings)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".run.json")}


def _write(result, folder: Path, page_size: int) -> dict[str, bytes]:
    folder.mkdir()
    write_outputs(result, out=folder / "result.json", page_size=page_size, out_dir=folder / "pages")
    return _files(folder)


# -- chunks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 100])
@pytest.mark.parametrize("size", [1, 3, 8, 1000])
def test_chunks_are_contiguous_and_cover_every_position_once(n, size):
    """Without it a chunking off by one would drop or repeat a sample (the merge refuses it, but
    only after the whole cluster ran)."""
    chunks = executor.split_positions(n, size)
    assert [p for chunk in chunks for p in chunk] == list(range(n))
    assert all(len(chunk) == size for chunk in chunks[:-1]) and 0 < len(chunks[-1]) <= size or n == 0
    assert chunks == ([[]] if n == 0 else [list(range(s, min(s + size, n))) for s in range(0, n, size)])


def test_default_chunking_gives_about_four_chunks_per_worker():
    """Without it a default chunk could hold the whole run (no spread) or one sample each (overhead)."""
    assert executor.default_chunk_samples(1000, 2) == 125
    assert len(executor.split_positions(1000, executor.default_chunk_samples(1000, 2))) == 8
    assert executor.default_chunk_samples(3, 2) == 1
    assert executor.default_chunk_samples(0, 2) == 1


def test_a_worker_process_keeps_one_runner_per_run(fixtures_dir, monkeypatch):
    """Without it every chunk would load the bundle and its models again, or a worker serving many
    runs would keep every run's models."""
    from evalcore.shards import PartRunner

    closed = []
    real_close = PartRunner.close
    monkeypatch.setattr(PartRunner, "close", lambda self: (closed.append(self), real_close(self)))
    bundle = str(fixtures_dir / "motion")
    try:
        first = executor._worker_runner(bundle, RunOptions())
        assert executor._worker_runner(bundle, RunOptions()) is first
        other = executor._worker_runner(bundle, RunOptions(thresholds={"3": 0.9}))
        assert other is not first and closed == [first]  # replaced and closed
        assert len(executor._RUNNER) == 1
    finally:
        executor._release_worker_runner()
    assert executor._RUNNER == [] and closed == [first, other]


def test_a_killed_runs_state_folder_is_removed_by_the_next_run(tmp_path):
    """Without it every dask run killed mid-way would leave its chunk states in the temporary folder."""
    from evalcore.report.pages import remove_orphan_spools

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead, alive = tmp_path / (executor.state_folder_prefix(int(gone.stdout)) + "x"), tmp_path / (
        executor.state_folder_prefix(os.getpid()) + "y")
    dead.mkdir()
    alive.mkdir()
    assert remove_orphan_spools(tmp_path) == [dead]
    assert not dead.exists() and alive.is_dir()


# -- same bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_BUNDLES)
def test_dask_run_writes_the_bytes_of_a_single_run(name, address, tmp_path):
    """Without it a chunked run on a cluster could reorder, drop or double samples, or lose an
    accumulator's state on the way, on some bundle kind while motion stays green."""
    bundle = FIXTURES / name
    assert (bundle / "impulse.json").is_file(), f"committed fixture bundle missing: {bundle}"
    single = run_bundle(bundle, RunOptions(workers=0))
    chunk = 3 if name == "motion" else None  # default chunking elsewhere (about 4 chunks a worker)
    spread = executor.run_on_dask(bundle, RunOptions(), executor.DaskSettings(scheduler=address, chunk_samples=chunk))
    assert spread.n_samples == single.n_samples and spread.n_windows == single.n_windows
    for size in PAGE_SIZES:
        want = _write(single, tmp_path / f"single-{size}", size)
        got = _write(spread, tmp_path / f"dask-{size}", size)
        assert got.keys() == want.keys() and len(want) > 1
        assert got == want


def test_slices_and_standard_output_match_a_single_run(address, tmp_path, capsysbinary):
    """Without it the executor could drop --slice-by from the merged run or print a different
    response on --out - than it writes."""
    bundle = str(FIXTURES / "motion-sliced")
    slices = ["--slice-by", "metadata.site", "--slice-by", "label"]
    local, spread = tmp_path / "local", tmp_path / "dask"
    local.mkdir()
    spread.mkdir()
    assert main(["run", bundle, "--out", str(local / "r.json"), "-q", "--workers", "0", *slices]) == 0
    assert main(["run", bundle, "--out", str(spread / "r.json"), "-q", "--executor", "dask", "--scheduler", address,
                 *slices]) == 0
    assert _files(spread) == _files(local) and "r.slices.json" in _files(local)
    capsysbinary.readouterr()
    assert main(["run", bundle, "--out", "-", "-q", "--executor", "dask", "--scheduler", address]) == 0
    assert capsysbinary.readouterr().out == (local / "r.json").read_bytes()


# -- errors ------------------------------------------------------------------------------------


def _broken_motion(tmp_path: Path) -> Path:
    bundle = tmp_path / "motion"
    shutil.copytree(FIXTURES / "motion", bundle)
    (bundle / "dataset" / "testing" / "updown.2.cbor").write_bytes(b"\xff\x00not cbor")
    return bundle


def test_bad_input_in_a_task_is_the_same_one_line_exit_2(address, tmp_path, capsys):
    """Without it a bundle error raised on a worker would reach the user as Dask's traceback (exit 1)
    instead of the line a local run prints."""
    bundle = _broken_motion(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", str(bundle), "--out", str(out / "a.json"), "-q", "--workers", "0"]) == 2
    local_err = capsys.readouterr().err
    assert main(["run", str(bundle), "--out", str(out / "b.json"), "-q", "--executor", "dask",
                 "--scheduler", address]) == 2
    dask_err = capsys.readouterr().err
    assert dask_err == local_err
    assert dask_err.count("\n") == 1 and "updown.2" in dask_err
    assert list(out.iterdir()) == []


def test_without_dask_installed_one_line_exit_2(fixtures_dir, tmp_path, capsys, monkeypatch):
    """Without it a missing extra would end in an ImportError traceback."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    assert main(["run", str(fixtures_dir / "motion"), "--out", str(tmp_path / "r.json"), "--executor", "dask"]) == 2
    assert capsys.readouterr().err == (
        "evalcore run: error: --executor dask needs the dask extra: pip install 'evalcore[dask]'\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler needs --executor dask"),
    (["--chunk-samples", "4"], "--chunk-samples needs --executor dask"),
    (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--dask-workers", "2"],
     "--dask-workers sizes the local cluster"),
    (["--executor", "dask", "--workers", "2"], "--workers sizes the local executor's process pool"),
    (["--executor", "dask", "--shard", "0/2", "--state", "s.state"], "--shard evaluates one part of a run"),
])
def test_dask_options_are_checked_before_the_run(fixtures_dir, tmp_path, capsys, argv, message):
    """Without it a Dask option given to the local executor, or two sizes at once, would be ignored."""
    assert main(["run", str(fixtures_dir / "motion"), "--out", str(tmp_path / "r.json"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_unreachable_scheduler_is_one_line_exit_2(fixtures_dir, tmp_path, capsys, monkeypatch):
    """Without it a wrong address would end in a connection traceback."""
    import socket

    monkeypatch.setattr(executor, "_CONNECT_TIMEOUT_S", 1)
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    assert main(["run", str(fixtures_dir / "motion"), "--out", str(tmp_path / "r.json"), "-q",
                 "--executor", "dask", "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"evalcore run: error: cannot connect to the dask scheduler at {address}")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


# -- a worker killed mid-run -------------------------------------------------------------------


def _stall_first_chunk(marker_dir: str, stalls: int, bundle: str, options, positions):
    """Test task: the first ``stalls`` attempts at chunk 0 write their pid and wait to be killed;
    every other attempt is the real task."""
    if positions and positions[0] == 0:
        done = len(os.listdir(marker_dir))
        if done < stalls:
            with open(os.path.join(marker_dir, f".attempt-{done}"), "w") as f:
                f.write(str(os.getpid()))
            os.rename(os.path.join(marker_dir, f".attempt-{done}"), os.path.join(marker_dir, f"attempt-{done}"))
            time.sleep(120)  # SIGKILLed long before
    return executor._run_part(bundle, options, positions)


def _kill_stalled_attempts(client, marker_dir: Path, stalls: int, errors: list) -> None:
    """Wait for each stalled attempt, check its pid is a worker's, SIGKILL it."""
    try:
        for k in range(stalls):
            marker = marker_dir / f"attempt-{k}"
            deadline = time.monotonic() + 120
            while not marker.exists():
                assert time.monotonic() < deadline, f"attempt {k} never started"
                time.sleep(0.05)
            pid = int(marker.read_text())
            assert pid in client.run(os.getpid, on_error="ignore").values(), "the stalled task is not in a worker"
            os.kill(pid, signal.SIGKILL)
    except BaseException as err:  # reported by the test thread
        errors.append(err)


def _run_with_kills(cluster, address, tmp_path, monkeypatch, capsys, stalls: int):
    _, client = cluster
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setattr(executor, "_run_part", functools.partial(_stall_first_chunk, str(markers), stalls))
    errors: list = []
    killer = threading.Thread(target=_kill_stalled_attempts, args=(client, markers, stalls, errors))
    killer.start()
    out = tmp_path / "out"
    out.mkdir()
    code = main(["run", str(FIXTURES / "motion"), "--out", str(out / "result.json"), "-q", "--executor", "dask",
                 "--scheduler", address, "--chunk-samples", "2"])
    killer.join()
    assert not errors, errors
    assert sorted(p.name for p in markers.iterdir()) == [f"attempt-{k}" for k in range(stalls)]
    return code, out, capsys.readouterr().err


def test_a_worker_killed_mid_run_is_retried_to_the_same_bytes(cluster, address, tmp_path, monkeypatch, capsys):
    """Without it a worker lost mid-run (OOM killer, a preempted node) would lose its samples or
    fail a run Dask can finish elsewhere."""
    code, out, err = _run_with_kills(cluster, address, tmp_path, monkeypatch, capsys, stalls=1)
    assert code == 0, err
    want = tmp_path / "single"
    want.mkdir()
    write_outputs(run_bundle(FIXTURES / "motion", RunOptions(workers=0)), out=want / "result.json")
    assert _files(out) == _files(want)
    assert sorted(p.name for p in out.iterdir()) == ["result.json", "result.run.json"]


def test_a_task_whose_workers_keep_dying_fails_in_one_line_and_writes_nothing(cluster, address, tmp_path,
                                                                               monkeypatch, capsys):
    """Without it a run whose chunk kills every worker it lands on would end in Dask's traceback,
    hang, or leave a partial result behind."""
    code, out, err = _run_with_kills(cluster, address, tmp_path, monkeypatch, capsys, stalls=2)
    assert code == 2
    # the first chunk failed is named; a kill may also take a chunk the other worker was running
    assert re.fullmatch(r"evalcore run: error: the dask worker evaluating samples at record positions "
                        r"(\d+)\.\.(\d+) \(chunk \d of 5\) died 2 times, killed for memory or from outside; "
                        r"no output was written\n", err), err
    assert list(out.iterdir()) == []


# -- the command, end to end -------------------------------------------------------------------


def test_cli_with_its_own_local_cluster_writes_the_bytes_of_a_single_run(tmp_path):
    """Without it `evalcore run --executor dask` (a local cluster started and stopped by the
    command) could differ from the library path, print Dask's logs, or leave workers behind."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    write_outputs(run_bundle(FIXTURES / "motion", RunOptions(workers=0)), out=tmp_path / "a.json")
    spread = subprocess.run([sys.executable, "-m", "evalcore", "run", "fixtures/motion",  # relative, as typed
                             "--out", str(tmp_path / "b.json"), "--executor", "dask", "--dask-workers", "2",
                             "--page-size", "4", "--out-dir", str(tmp_path / "pages")], env=env, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert spread.returncode == 0, spread.stderr
    assert (tmp_path / "b.json").read_bytes() == (tmp_path / "a.json").read_bytes()
    assert len(list((tmp_path / "pages").glob("page-*.json"))) == 3  # 10 samples, 4 a page
    lines = spread.stderr.splitlines()
    assert len(lines) == 2, spread.stderr  # the progress line and the summary, no Dask log
    assert lines[0].startswith("evaluating on dask: 10/10") and lines[1].startswith("evaluated 10 samples")


# -- a running cluster that cannot run the tasks ------------------------------------------------

_HIDE_EVALCORE = '''"""Dask worker preload: evalcore cannot be imported here, as on a cluster without it."""
import sys


class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("evalcore", "kernels"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Hide())
'''

_OTHER_VERSION = '''"""Dask worker preload: this worker's evalcore says it is another version."""
import evalcore

evalcore.__version__ = "0.0.0-other"
'''

_NO_BUNDLE = '''"""Dask worker preload: this worker's file system has no fixtures folder (another machine)."""
import genericpath
import os.path


def _isdir(path, _real=genericpath.isdir):  # bound once: Dask may run a preload twice
    return "/fixtures/" not in str(path) and _real(path)


genericpath.isdir = os.path.isdir = _isdir
'''


@contextlib.contextmanager
def _own_cluster(tmp_path, preload: str | None = None):
    """A scheduler and one worker as separate processes, the worker without a nanny (a killed
    worker stays dead), optionally with a preload script; yields (address, worker process)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    quiet = {"env": env, "cwd": REPO_ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file", str(file),
                               "--host", "127.0.0.1", "--port", "0", "--no-dashboard"], **quiet)]
    try:
        deadline = time.monotonic() + 120
        while not file.exists() or not file.read_text().strip():
            assert time.monotonic() < deadline and procs[0].poll() is None, "the scheduler did not start"
            time.sleep(0.05)
        address = json.loads(file.read_text())["address"]
        extra = []
        if preload is not None:
            (tmp_path / "preload.py").write_text(preload)
            extra = ["--preload", str(tmp_path / "preload.py")]
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny",
                                       "--nthreads", "1", "--no-dashboard", *extra], **quiet))
        with distributed.Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(1, timeout=120)
        yield address, procs[1]
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("preload, message", [
    (_HIDE_EVALCORE, r"the dask worker tcp://127\.0\.0\.1:\d+ cannot import evalcore \(ModuleNotFoundError: "
                     r"No module named 'evalcore'\); install evalcore\[dask\] on every worker"),
    (_OTHER_VERSION, r"the dask worker tcp://127\.0\.0\.1:\d+ runs evalcore 0\.0\.0-other, this client "
                     r"\d[^,]*; install the same version on every worker"),
    (_NO_BUNDLE, r"the dask worker tcp://127\.0\.0\.1:\d+ cannot see the bundle folder /\S+/fixtures/motion: it "
                 r"must be readable at the same absolute path on every worker"),
], ids=["without-evalcore", "other-version", "no-bundle"])
def test_a_cluster_whose_workers_cannot_run_the_tasks_is_refused_in_one_line(tmp_path, capsys, preload, message):
    """Without it a worker without evalcore dropped its connection on the first task (it cannot
    unpickle it) and the command waited for ever; another version failed only at the merge."""
    with _own_cluster(tmp_path, preload) as (address, worker):
        out = tmp_path / "out"
        out.mkdir()
        code = main(["run", str(FIXTURES / "motion"), "--out", str(out / "result.json"), "-q",
                     "--executor", "dask", "--scheduler", address])
        err = capsys.readouterr().err
        assert code == 2, err
        assert re.fullmatch(f"evalcore run: error: {message}\n", err), err
        assert list(out.iterdir()) == []
        assert worker.poll() is None  # the probe did not take the worker down


def test_a_cluster_left_without_workers_ends_the_run_in_one_line(tmp_path, capsys, monkeypatch):
    """Without it, once the last worker of a cluster without nannies died the tasks waited for a
    worker for ever, and so did the command."""
    monkeypatch.setattr(executor, "NO_WORKERS_TIMEOUT_S", 2.0)
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setattr(executor, "_run_part", functools.partial(_stall_first_chunk, str(markers), 1))
    with _own_cluster(tmp_path) as (address, worker):
        def kill_the_worker():
            deadline = time.monotonic() + 120
            while not (markers / "attempt-0").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            if int((markers / "attempt-0").read_text()) == worker.pid:
                worker.kill()

        killer = threading.Thread(target=kill_the_worker)
        killer.start()
        out = tmp_path / "out"
        out.mkdir()
        code = main(["run", str(FIXTURES / "motion"), "--out", str(out / "result.json"), "-q",
                     "--executor", "dask", "--scheduler", address, "--chunk-samples", "2"])
        killer.join()
        err = capsys.readouterr().err
        assert worker.poll() is not None, "the stalled chunk did not run in the worker"
        assert code == 2, err
        assert re.fullmatch(r"evalcore run: error: the dask cluster has had no worker for 2 s, with \d of 5 chunks "
                            r"left; no output was written\n", err), err
        assert list(out.iterdir()) == []
