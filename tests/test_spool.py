"""The reduce's spool (``evalcore.report.pages``): per-sample texts on disk, pages and merges from it,
and what a killed run or a full disk leaves behind."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from evalcore.report.pages import SampleSpool, page_chunks, remove_orphan_spools, response_chunks

EMPTY = '{"success":true,"result":[],"predictions":[]'
HEAD = EMPTY + ',"accuracy":{}}'


def _naive_response(samples) -> bytes:
    """The response text joined in memory, the way the reduce wrote it before the spool."""
    results = ",".join(r for _, r, _ in samples)
    rows = ",".join(p for _, _, p in samples if p)
    return ('{"success":true,"result":[' + results + '],"predictions":[' + rows + "]" + HEAD[len(EMPTY):]).encode()


def _samples(ids):
    return [(i, f'{{"sampleId":{i}}}', "" if i % 3 == 0 else f'{{"row":{i}}},{{"row":{i}}}') for i in ids]


def test_spool_response_pages_and_merge_match_the_naive_join(tmp_path):
    """Without it the streamed response, its pages or a shard merge could drop a comma, a sample
    without rows or a sample at a page edge."""
    samples = _samples(range(1, 12))
    spool = SampleSpool(tmp_path)
    for sid, result, rows in samples:
        spool.append(sid, result.encode(), rows.encode())
    assert b"".join(response_chunks(HEAD, spool)) == _naive_response(samples)
    for size in (1, 4, 11):
        for k, start in enumerate(range(0, len(samples), size)):
            page = b"".join(page_chunks(HEAD, spool, start, start + size))
            assert page == _naive_response(samples[start : start + size]), (size, k)
    parts = [SampleSpool(tmp_path) for _ in range(3)]
    for k, (sid, result, rows) in enumerate(samples):
        parts[k % 3].append(sid, result.encode(), rows.encode())
    merged = SampleSpool.merged(parts[::-1], tmp_path)
    assert b"".join(response_chunks(HEAD, merged)) == _naive_response(samples)
    for s in (spool, merged, *parts):
        s.close()
    assert not list(tmp_path.iterdir())  # closed spools leave nothing


def test_a_killed_run_leaves_a_spool_the_next_run_removes(fixtures_dir, tmp_path):
    """Without it every run killed mid-way (CI timeout, Ctrl-\\) would leave its per-sample texts in
    the temporary folder for good."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "evalcore", "run", str(fixtures_dir / "motion"), "--out",
           str(tmp_path / "out" / "r.json"), "-q", "--workers", "0"]
    (tmp_path / "out").mkdir()
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 120
    while not any(p.name.startswith("evalcore-spool-") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before its spool was seen"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [p for p in tmp_path.iterdir() if p.name.startswith("evalcore-spool-")]
    assert left, "a killed run cannot remove its own spool"
    assert not (tmp_path / "out" / "r.json").exists()
    assert remove_orphan_spools(tmp_path) == left
    assert not any(p.name.startswith("evalcore-spool-") for p in tmp_path.iterdir())


def test_a_live_runs_spool_is_not_removed(tmp_path):
    """Without it two runs sharing a temporary folder could delete each other's texts."""
    mine = SampleSpool(tmp_path)
    assert remove_orphan_spools(tmp_path) == []
    assert mine.path.is_dir()
    mine.close()


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE (POSIX)")
def test_a_full_disk_while_spooling_is_one_clear_line(fixtures_dir, tmp_path):
    """Without it a temporary folder that fills up during a run would end in a traceback (or a
    silently short result) instead of exit 2 naming the folder."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "evalcore", "run", str(fixtures_dir / "motion"), "--out",
                           str(out / "r.json"), "-q", "--workers", "0"], env=env, capture_output=True, text=True,
                          preexec_fn=_limit_file_size)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "cannot write" in proc.stderr
    assert not list(out.iterdir())
