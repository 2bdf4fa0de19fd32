"""A finished ``evalcore run`` ends its process without the interpreter's teardown (cli.console_main)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_RUN = """
import sys
from evalcore import cli


class Mark:
    def __del__(self):  # runs at the interpreter's teardown, when the module's globals go
        sys.stderr.write("torn down\\n")


cli.mark = Mark()
sys.argv = ["evalcore", *sys.argv[1:]]
cli.console_main()
"""


def _run(fixtures_dir, tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": str(fixtures_dir.parent), "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-c", _RUN, *args], capture_output=True, timeout=300, env=env)


def _spools(tmp_path) -> list:
    return [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("evalcore-spool-")]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_finished_run_skips_the_teardown_and_leaves_everything_done(fixtures_dir, tmp_path, workers):
    """Without it ~0.3-0.6 s of teardown followed every 20k-sample run, after its outputs were
    written; skipping it must still remove the spool folder and deliver every byte."""
    from evalcore.engine import RunOptions, run_bundle

    bundle = fixtures_dir / "motion"
    expected = run_bundle(bundle, RunOptions(workers=0)).response_json()
    out = tmp_path / "result.json"
    proc = _run(fixtures_dir, tmp_path, "run", str(bundle), "--out", str(out), "--workers", workers)
    assert proc.returncode == 0, proc.stderr
    assert b"torn down" not in proc.stderr and b"evaluated " in proc.stderr, proc.stderr
    assert out.read_bytes() == expected
    assert _spools(tmp_path) == []  # the spool folder went with the atexit functions
    printed = _run(fixtures_dir, tmp_path, "run", str(bundle), "--out", "-", "-q", "--workers", workers)
    assert printed.returncode == 0 and printed.stdout == expected, printed.stderr
    assert _spools(tmp_path) == []


def test_a_failed_run_exits_as_before(fixtures_dir, tmp_path):
    """Without it an error could end the process before its one line reached standard error."""
    proc = _run(fixtures_dir, tmp_path, "run", str(tmp_path / "missing"), "--out", str(tmp_path / "r.json"))
    assert proc.returncode == 2
    assert proc.stderr.startswith(b"evalcore run: error: ") and b"torn down" in proc.stderr, proc.stderr
