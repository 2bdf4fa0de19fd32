"""The outputs of one run are one transaction: all of them appear, or nothing changes.

Failures are provoked for real: a full file system (a 1 MiB tmpfs when this process may mount
one, and ``RLIMIT_FSIZE`` in a subprocess everywhere), a read-only folder, a file where the
pages folder should be, a process killed while writing, two processes writing the same
``--out`` at once. Outputs inside the bundle are refused before the run.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from evalcore.cli import main
from evalcore.engine import RunOptions, check_output_path, run_bundle, run_info_path, write_outputs
from evalcore.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
MOTION = REPO_ROOT / "fixtures" / "motion"
HANG_S = 120  # a subprocess still running after this is hung (a healthy one takes seconds)


@pytest.fixture(scope="module")
def result():
    if not (MOTION / "impulse.json").is_file():
        pytest.skip("motion fixture not built")
    return run_bundle(MOTION, RunOptions(workers=0))


def _old_outputs(folder: Path) -> tuple[Path, Path]:
    """An earlier run's files: result.json, its sidecar and 6 pages."""
    out, pages = folder / "result.json", folder / "pages"
    pages.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b'{"old":"result"}')
    run_info_path(out).write_bytes(b'{"old":"info"}')
    for k in range(6):
        (pages / f"page-{k}.json").write_bytes(b'{"old":"page %d"}' % k)
    return out, pages


def _snapshot(*folders: Path) -> dict:
    """Every file under the folders, with its bytes (temporaries included)."""
    return {str(p): p.read_bytes() for f in folders if f.is_dir() for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.fixture
def mount_tmpfs(tmp_path):
    """``mount_tmpfs(path, options)`` mounts a tmpfs (skips when not allowed); unmounted after."""
    mounted = []

    def mount(path: Path, options: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                              capture_output=True, text=True) if shutil.which("mount") else None
        if done is None or done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() if done else 'no mount'}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_while_writing_pages_changes_nothing(result, tmp_path, mount_tmpfs):
    """Without it a full disk replaced result.json and left half of the pages."""
    disk = mount_tmpfs(tmp_path / "disk", "size=1m")
    out, pages = _old_outputs(disk)
    # leave room for result.json and its sidecar, not for the pages as well
    room = len(result.response_json()) + 64 * 1024
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    (disk / "filler").write_bytes(b"\0" * (free - room))
    before = _snapshot(disk)
    with pytest.raises(ConfigError, match="No space left on device") as err:
        write_outputs(result, out=out, page_size=2, out_dir=pages)
    assert "None" not in str(err.value) and "/pages/page-" in str(err.value)
    assert _snapshot(disk) == before


def test_a_file_size_limit_changes_nothing_and_exits_2(tmp_path):
    """Without it a write that hits the limit (like a full disk) left a new sidecar or pages."""
    out, pages = _old_outputs(tmp_path)
    before = _snapshot(tmp_path)
    limit = 64 * 1024  # the sidecar and pages fit, result.json (~94 KB) does not

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "evalcore", "run", str(MOTION), "--out", str(out), "--page-size", "2",
         "--out-dir", str(pages), "--workers", "0", "-q"],
        env=env, preexec_fn=limited, capture_output=True, text=True, timeout=HANG_S,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "File too large" in done.stderr and str(out) in done.stderr
    assert _snapshot(tmp_path) == before


def test_a_read_only_pages_folder_changes_nothing(result, tmp_path, mount_tmpfs):
    """Without it the run replaced result.json and then failed on the first page."""
    out, _ = _old_outputs(tmp_path)
    pages = mount_tmpfs(tmp_path / "ro", "size=1m,ro")
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match="Read-only file system"):
        write_outputs(result, out=out, page_size=3, out_dir=pages)
    assert _snapshot(tmp_path) == before
    with pytest.raises(ConfigError, match="--out-dir folder is not writable"):
        check_output_path(out, page_size=3, out_dir=pages)


def test_a_file_as_pages_folder_changes_nothing(result, tmp_path):
    """Without it result.json was replaced before the pages failed."""
    out, _ = _old_outputs(tmp_path)
    not_a_folder = tmp_path / "pages.json"
    not_a_folder.write_bytes(b"mine")
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match="cannot write output"):
        write_outputs(result, out=out, page_size=3, out_dir=not_a_folder)
    assert _snapshot(tmp_path) == before
    with pytest.raises(ConfigError, match="--out-dir must be a folder, got a file"):
        check_output_path(out, page_size=3, out_dir=not_a_folder)


def test_a_missing_pages_folder_is_created_and_removed_again_on_failure(result, tmp_path, monkeypatch):
    """Without it a failed run would leave an empty pages folder it created."""
    from evalcore import outputs

    out = tmp_path / "result.json"
    pages = tmp_path / "new" / "pages"

    def fail(self, target, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs.OutputTransaction, "stage", fail)
    with pytest.raises(ConfigError, match=f"cannot write output {out}: No space left on device"):
        write_outputs(result, out=out, page_size=3, out_dir=pages)
    assert list(tmp_path.iterdir()) == []


def test_another_page_size_leaves_only_the_new_pages(result, tmp_path):
    """Without it a re-run with bigger pages left page-4.json, page-5.json of the earlier run."""
    out, pages = _old_outputs(tmp_path)
    (pages / "page-01.json").write_bytes(b"not ours")  # not evalcore's pattern: kept
    (pages / "notes.txt").write_bytes(b"mine")
    write_outputs(result, out=out, page_size=4, out_dir=pages)
    expected = [f"page-{k}.json" for k in range(3)]  # 10 samples, 4 a page
    assert sorted(p.name for p in pages.iterdir()) == sorted(expected + ["page-01.json", "notes.txt"])
    assert [json.loads((pages / n).read_bytes())["totalCount"] for n in expected] == [10] * 3
    assert out.read_bytes() == result.response_json()


def test_leftover_temporaries_of_a_killed_write_are_removed_by_the_next_run(result, tmp_path):
    """Without it each run killed while writing left a hidden .result.json.<hex>.tmp for good."""
    out = tmp_path / "result.json"
    # killed for real in the middle of writing: the first fsync of the outputs never returns
    script = (
        "import os, signal, sys\n"
        "from evalcore import outputs\n"
        "outputs.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from evalcore.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", script, "run", str(MOTION), "--out", str(out), "--workers", "0",
                           "-q"], env=env, capture_output=True, timeout=HANG_S)
    assert done.returncode == -signal.SIGKILL
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".result.run.json.") and leftovers[0].endswith(".tmp")
    # others' files that merely look alike are kept
    keep = [tmp_path / ".other.json.0123456789ab.tmp", tmp_path / ".result.json.tmp", tmp_path / "result.json.bak"]
    for path in keep:
        path.write_bytes(b"mine")
    (tmp_path / ".result.json.0123456789ab.tmp").write_bytes(b"left by a killed run")
    write_outputs(result, out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["result.json", "result.run.json"]
                                                                + [p.name for p in keep])


WRITER = """
import sys, time
from pathlib import Path
from evalcore.engine import RunOptions, run_bundle, write_outputs

bundle, threshold, folder, rounds = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
result = run_bundle(bundle, RunOptions(workers=0, thresholds={"3": float(threshold)}))
(folder / f"expected-{threshold}.json").write_bytes(result.response_json())
(folder / f"ready-{threshold}").touch()
while len(list(folder.glob("ready-*"))) < 2:
    time.sleep(0.005)
for trial in range(rounds):
    for _ in range(4):
        write_outputs(result, out=folder / f"trial-{trial}" / "result.json")
"""


@pytest.mark.slow
def test_two_runs_writing_the_same_out_keep_each_pair_together(tmp_path):
    """Without it result.json could come from one run and result.run.json from the other."""
    rounds = 8
    for trial in range(rounds):
        (tmp_path / f"trial-{trial}").mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    thresholds = ("0.3", "0.9")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(MOTION), t, str(tmp_path), str(rounds)], env=env,
                              stderr=subprocess.PIPE, text=True) for t in thresholds]
    for proc in procs:
        _, err = proc.communicate(timeout=HANG_S)
        assert proc.returncode == 0, err
    expected = {t: (tmp_path / f"expected-{t}.json").read_bytes() for t in thresholds}
    assert expected["0.3"] != expected["0.9"]
    for trial in range(rounds):
        out = tmp_path / f"trial-{trial}" / "result.json"
        info = json.loads(run_info_path(out).read_bytes())
        threshold = info["options"]["thresholds"]["3"]
        assert out.read_bytes() == expected[str(threshold)], f"trial {trial}: the pair comes from two runs"
        assert sorted(p.name for p in out.parent.iterdir()) == ["result.json", "result.run.json"]


def test_a_locked_output_folder_fails_with_one_line_after_waiting(result, tmp_path):
    """Without it a second writer could wait forever behind a stuck one."""
    import fcntl

    from evalcore import outputs

    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(ConfigError, match="another evalcore run has been writing to"):
            with outputs.locked_folders([tmp_path], wait_s=0.2):
                pass
    finally:
        os.close(fd)
    write_outputs(result, out=tmp_path / "result.json")  # released: the next writer goes ahead
    assert (tmp_path / "result.json").read_bytes() == result.response_json()


# -- outputs inside the bundle, --out a folder ----------------------------------------------------


@pytest.fixture
def bundle_copy(tmp_path):
    if not (MOTION / "impulse.json").is_file():
        pytest.skip("motion fixture not built")
    bundle = tmp_path / "bundle"
    shutil.copytree(MOTION, bundle)
    return bundle


@pytest.mark.parametrize("where", ["impulse", "new-file", "sidecar", "pages", "link", "bundle-itself"])
def test_outputs_inside_the_bundle_are_refused_before_the_run(bundle_copy, tmp_path, where, capsys):
    """Without it `--out BUNDLE/impulse.json` replaced the user's input and exited 0."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "into-bundle").symlink_to(bundle_copy)
    (outside / "x.run.json").symlink_to(bundle_copy / "impulse.json")
    args = {
        "impulse": ["--out", str(bundle_copy / "impulse.json")],
        "new-file": ["--out", str(bundle_copy / "dataset" / "result.json")],
        # result.json outside, but its sidecar's name links to a bundle file
        "sidecar": ["--out", str(outside / "x.json")],
        "pages": ["--out", str(outside / "r.json"), "--page-size", "2", "--out-dir", str(bundle_copy / "learn")],
        "link": ["--out", str(outside / "into-bundle" / "learn" / "r.json")],
        "bundle-itself": ["--out", str(outside / "r.json"), "--page-size", "2", "--out-dir", str(bundle_copy)],
    }[where]
    before = _snapshot(bundle_copy)
    assert main(["run", str(bundle_copy), *args, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is inside the bundle folder" in err, err
    assert _snapshot(bundle_copy) == before
    assert sorted(p.name for p in outside.iterdir()) == ["into-bundle", "x.run.json"]


def test_out_a_folder_or_out_dir_alone_is_refused_before_the_run(tmp_path, capsys):
    """Without it `--out FOLDER` failed after the whole run, naming an internal temp file."""
    for args, message in (
        (["--out", str(tmp_path)], "--out is a folder"),
        (["--out", str(tmp_path / "r.json"), "--out-dir", str(tmp_path / "p")], "--out-dir needs --page-size"),
    ):
        assert main(["run", str(tmp_path / "no-bundle"), *args, "-q"]) == 2  # refused before the bundle is read
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []
