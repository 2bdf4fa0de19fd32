"""Faults provoked for real: a worker killed mid-run, the parent killed under its workers.

Each test starts ``evalcore run`` as a separate process on a copy of the motion fixture with
more samples, slowed down by a fixed sleep per sample (patched into the featurizer before the
CLI starts, so forked workers inherit it): the run then lasts seconds whatever the machine's
load, and a signal sent a moment after the workers appear always lands mid-run. The
subprocess timeouts only detect a hang (a run that would never end); nothing here times speed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._helpers import default_sigint

REPO_ROOT = Path(__file__).resolve().parent.parent

#: A run that has not ended this long after a signal is hung (healthy runs end in seconds).
HANG_S = 60

#: The patched CLI: ``python -c SLOW_RUN SECONDS_PER_SAMPLE evalcore-args...``.
SLOW_RUN = """
import sys, time
from evalcore.pipeline import featurize as features

_prepare = features.SampleFeaturizer.prepare

def _slow_prepare(self, record):
    time.sleep(float(sys.argv[1]))
    return _prepare(self, record)

features.SampleFeaturizer.prepare = _slow_prepare
from evalcore.cli import main
sys.exit(main(sys.argv[2:]))
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc (Linux)")


@pytest.fixture(scope="module")
def big_motion(tmp_path_factory):
    """The motion fixture with its testing samples copied 6 times (60 samples)."""
    source = REPO_ROOT / "fixtures" / "motion"
    if not (source / "impulse.json").is_file():
        pytest.skip("motion fixture not built")
    bundle = tmp_path_factory.mktemp("big") / "motion"
    shutil.copytree(source, bundle)
    labels_path = bundle / "dataset" / "info.labels"
    labels = json.loads(labels_path.read_text())
    testing = [f for f in labels["files"] if f["category"] == "testing"]
    for copy in range(1, 6):
        for entry in testing:
            src = bundle / "dataset" / entry["path"]
            dst = src.with_name(f"c{copy}-{src.name}")
            shutil.copyfile(src, dst)
            labels["files"].append({**entry, "path": str(Path(entry["path"]).with_name(dst.name)),
                                    "name": f"c{copy}-{entry['name']}"})
    labels_path.write_text(json.dumps(labels))
    return bundle


def _testing_names(bundle: Path) -> set[str]:
    labels = json.loads((bundle / "dataset" / "info.labels").read_text())
    return {Path(f["path"]).name.removesuffix(".cbor") for f in labels["files"] if f["category"] == "testing"}


def _start(bundle: Path, out: Path, *, per_sample_s: float = 0.1, workers: int = 2) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    args = ["run", str(bundle), "--out", str(out), "--workers", str(workers), "-q"]
    return subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(per_sample_s), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)


def _children(pid: int) -> list[int]:
    """Live (not zombie) child processes of ``pid``, from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            out.append(int(entry.name))
    return sorted(out)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for_workers(proc: subprocess.Popen, n: int) -> list[int]:
    """The run's ``n`` worker pids, once they are up (polls until they appear or the run ends)."""
    deadline = time.monotonic() + HANG_S
    while time.monotonic() < deadline and proc.poll() is None:
        pids = _children(proc.pid)
        if len(pids) >= n:
            return pids
        time.sleep(0.02)
    proc.kill()
    out, err = proc.communicate()
    raise AssertionError(f"the run's {n} workers never appeared (exit {proc.returncode}): {err}")


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=HANG_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"the run hung: still running {HANG_S} s after the signal") from None
    return proc.returncode, err


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_worker_ends_the_run_with_one_line(big_motion, tmp_path, sig):
    """Without it a killed worker hung the run for good, or ended it in a BrokenProcessPool traceback."""
    # different moments: as the workers start, early in the run, and well into it
    delays = [0.0, 0.4, 1.2, 2.0] if sig == signal.SIGKILL else [0.6]
    results = []
    for attempt, delay in enumerate(delays):
        out = tmp_path / f"try{attempt}" / "result.json"
        out.parent.mkdir()
        proc = _start(big_motion, out)
        workers = _wait_for_workers(proc, 2)
        time.sleep(delay)
        os.kill(workers[attempt % 2], sig)
        code, err = _finish(proc)
        results.append((code, err))
        assert code == 2, err
        lines = err.splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert lines[0].startswith("evalcore run: error: a worker process died while reading samples "), err
        assert f"killed by {sig.name}" in err, err
        # the samples it held are named (a chunk as "first .. last")
        held = lines[0].split("while reading samples ", 1)[1].split(" (", 1)[0]
        named = [name.strip() for part in held.split(",") for name in part.split(" .. ")]
        assert named and set(named) <= _testing_names(big_motion), err
        assert list(out.parent.iterdir()) == []
        for pid in workers:  # the other worker was stopped too
            assert not _alive(pid)
    assert [code for code, _ in results] == [2] * len(delays)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_their_parent(big_motion, tmp_path, sig):
    """Without it killing `evalcore run` left its workers running (~100 MB each) for good."""
    out = tmp_path / "result.json"
    proc = _start(big_motion, out)
    workers = _wait_for_workers(proc, 2)
    time.sleep(0.3)
    os.kill(proc.pid, sig)
    proc.communicate(timeout=HANG_S)
    deadline = time.monotonic() + HANG_S
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), [Path(f"/proc/{p}/stat").read_text() for p in workers]
    assert not out.exists()


def test_a_worker_whose_parent_is_gone_exits_without_the_kernel_signal(monkeypatch):
    """Without it a worker on a system without PR_SET_PDEATHSIG would outlive its parent."""
    from evalcore.pipeline import pool as parallel

    # the portable check: a parent pid that is not ours means the parent has died
    exits = []

    def fake_exit(code):
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(parallel.os, "_exit", fake_exit)

    class _Silent:
        def poll(self, timeout):
            return False

    with pytest.raises(SystemExit):
        parallel._read_tasks(_Silent(), None, os.getppid() + 1)
    assert exits == [1]


@pytest.mark.slow
def test_ctrl_c_ends_a_run_with_workers(big_motion, tmp_path):
    """Without it Ctrl-C could be ignored while the parent waited on a broken pool."""
    out = tmp_path / "result.json"
    proc = _start(big_motion, out)
    workers = _wait_for_workers(proc, 2)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGINT)
    code, err = _finish(proc)
    assert code == 130 and err == "evalcore: interrupted\n", (code, err)
    left = {pid: _state(pid) for pid in workers if _alive(pid)}
    assert not left, f"workers alive after the run ended: {left}"
    assert list(tmp_path.iterdir()) == []


def _state(pid: int) -> str:
    """A process's /proc stat line and command line, for a failure message."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError as err:
        return f"gone ({err.strerror})"
    return f"{stat} | {cmdline}"


def _bug(records):
    raise ZeroDivisionError("a bug in a worker")


def test_a_bug_in_a_worker_keeps_its_worker_traceback(monkeypatch):
    """Without it a bug in a worker would reach the parent without the place it happened."""
    from evalcore.engine import RunOptions, run_bundle
    from evalcore.pipeline import pool as parallel

    monkeypatch.setattr(parallel, "_start_method", lambda: "fork")
    monkeypatch.setattr(parallel, "_prepare_chunk", _bug)
    with pytest.raises(ZeroDivisionError, match="a bug in a worker") as err:
        run_bundle(REPO_ROOT / "fixtures" / "motion", RunOptions(workers=2))
    assert "in _bug" in str(err.value.__cause__) and "Traceback" in str(err.value.__cause__)
