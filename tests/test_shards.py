"""``run --shard I/N --state F`` + ``evalcore merge``: the bytes of a single run, and clear refusals."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from evalcore.engine import RunOptions, run_bundle, write_outputs
from evalcore.errors import ConfigError, MergeError
from evalcore.shards import PartRunner, count_samples, merge_states, read_state, shard_positions
from tests._helpers import ALL_BUNDLES

_SINGLE: dict = {}


def _single(fixtures_dir, name: str, tmp_path, page_size: int) -> dict:
    """The files of a single run (result, pages), once per bundle and page size."""
    key = (name, page_size)
    if key not in _SINGLE:
        result = run_bundle(fixtures_dir / name, RunOptions(workers=0))
        out = tmp_path / "single"
        out.mkdir(parents=True)
        write_outputs(result, out=out / "result.json", page_size=page_size, out_dir=out / "pages")
        _SINGLE[key] = _files(out)
    return _SINGLE[key]


def _files(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.json"))
            if not p.name.endswith(".run.json")}


@pytest.mark.parametrize("name", ALL_BUNDLES)
def test_shards_merge_to_the_bytes_of_a_single_run(fixtures_dir, tmp_path, name):
    """Without it a merged run could differ from a single run (sample order, an accumulator's merge,
    a page boundary) on some kind of impulse."""
    bundle = fixtures_dir / name
    n = count_samples(bundle, RunOptions())
    runner = PartRunner(bundle, RunOptions())
    try:
        for n_shards in (2, 3):
            states = [runner.run(shard_positions(n, (i, n_shards))) for i in range(n_shards)]
            merged = merge_states(states[::-1])  # any order
            out = tmp_path / f"merged-{n_shards}"
            out.mkdir()
            write_outputs(merged, out=out / "result.json", page_size=3, out_dir=out / "pages")
            assert _files(out) == _single(fixtures_dir, name, tmp_path / f"s{n_shards}", 3), (name, n_shards)
    finally:
        runner.close()


def test_cli_shards_and_merge(fixtures_dir, tmp_path):
    """Without it the command line (--shard parsing, the state file, merge's outputs and the slices
    file) could differ from the library path."""
    bundle = fixtures_dir / "motion-sliced"
    run = [sys.executable, "-m", "evalcore", "run", str(bundle), "-q", "--slice-by", "label"]
    for i in range(2):
        subprocess.run([*run, "--shard", f"{i}/2", "--state", str(tmp_path / f"s{i}.state")], check=True)
    subprocess.run([sys.executable, "-m", "evalcore", "merge", str(tmp_path / "s1.state"), str(tmp_path / "s0.state"),
                    "--out", str(tmp_path / "merged.json"), "-q"], check=True)
    single = run_bundle(bundle, RunOptions(workers=0, slice_by=("label",)))
    write_outputs(single, out=tmp_path / "single.json")
    assert (tmp_path / "merged.json").read_bytes() == (tmp_path / "single.json").read_bytes()
    assert (tmp_path / "merged.slices.json").read_bytes() == (tmp_path / "single.slices.json").read_bytes()
    header = read_state(tmp_path / "s0.state")
    assert header["samples"] + read_state(tmp_path / "s1.state")["samples"] == header["records"]


@pytest.fixture(scope="module")
def motion_states(fixtures_dir):
    """Three states of the motion bundle (float32) and one of another variant."""
    bundle = fixtures_dir / "motion"
    n = count_samples(bundle, RunOptions())
    runner = PartRunner(bundle, RunOptions())
    states = [runner.run(shard_positions(n, (i, 3))) for i in range(3)]
    int8 = PartRunner(bundle, RunOptions(variant="int8")).run(shard_positions(n, (0, 3)))
    strict = PartRunner(bundle, RunOptions(compat={**RunOptions().compat, "uncertain": "exclude"}))
    return {"states": states, "int8": int8, "exclude": strict.run(shard_positions(n, (0, 3))), "n": n}


def test_states_of_different_runs_refuse_to_merge(motion_states):
    """Without it shards of another variant or other options would merge into numbers no run gives."""
    states = motion_states["states"]
    with pytest.raises(MergeError, match="variant differs"):
        merge_states([motion_states["int8"], *states[1:]])
    with pytest.raises(MergeError, match="options differs"):
        merge_states([motion_states["exclude"], *states[1:]])


def test_missing_or_repeated_samples_refuse_to_merge(motion_states):
    """Without it a forgotten shard would give a result of fewer samples, a repeated one double counts."""
    states = motion_states["states"]
    with pytest.raises(MergeError, match=r"samples are in no state \(first position 2\)"):
        merge_states(states[:2])
    with pytest.raises(MergeError, match="sample position 0 is in both state 1 and state 4"):
        merge_states([*states, states[0]])


def test_a_changed_bundle_refuses_to_merge(motion_states, fixtures_dir, tmp_path):
    """Without it states merged against an edited bundle (another model, other labels) would mix runs."""
    copy = tmp_path / "motion"
    shutil.copytree(fixtures_dir / "motion", copy)
    metadata = next(copy.glob("learn/*/metadata.json"))
    metadata.write_text(metadata.read_text() + " ")
    with pytest.raises(MergeError, match="is not the one the shards ran on"):
        merge_states(motion_states["states"], bundle=copy)


def test_another_evalcore_version_refuses_to_merge(motion_states):
    """Without it a state written by another evalcore (other rules) could be merged silently."""
    states = motion_states["states"]
    with pytest.raises(MergeError, match="evalcore differs"):
        merge_states([_with_header(states[0], evalcore="0.0.0-other"), *states[1:]])


def _with_header(state: bytes, **changes) -> bytes:
    magic, version, length = struct.unpack_from("<8sIQ", state)
    header = json.loads(state[20 : 20 + length])
    header.update(changes)
    text = json.dumps(header, sort_keys=True).encode()
    return struct.pack("<8sIQ", magic, version, len(text)) + text + state[20 + length :]


def test_damaged_states_are_clear_errors(motion_states):
    """Without it a truncated or corrupted state file could crash the merge with a traceback, or
    allocate what a forged header declares."""
    state = motion_states["states"][0]
    for cut in (0, 7, 19, 40, len(state) // 2, len(state) - 1):
        with pytest.raises(ConfigError):
            merge_states([state[:cut]])
    forged = [
        b"NOTSTATE" + state[8:],
        state[:8] + struct.pack("<I", 99) + state[12:],
        state[:12] + struct.pack("<Q", 1 << 40) + state[20:],
        _with_header(state, samples=10**9),
        _with_header(state, sections={"accumulators": [0, 1]}),
        _with_header(state, records="ten"),
        _with_header(state, windows=-1),
    ]
    for bad in forged:
        with pytest.raises(ConfigError):
            merge_states([bad])
    flipped = bytearray(state)
    header_len = struct.unpack_from("<Q", state, 12)[0]
    for k in range(20 + header_len, len(state), max(1, (len(state) - 20 - header_len) // 50)):
        flipped[k] ^= 0xFF
        try:
            merge_states([bytes(flipped), *motion_states["states"][1:]])
        except ConfigError:
            pass  # MergeError is a ConfigError; a flip in a text section merges (the texts are not checked)
        flipped[k] ^= 0xFF


def test_failed_merge_writes_nothing(motion_states, tmp_path):
    """Without it a refused merge could leave a result file behind for CI to pick up."""
    for k, state in enumerate(motion_states["states"][:2]):
        (tmp_path / f"s{k}.state").write_bytes(state)
    proc = subprocess.run([sys.executable, "-m", "evalcore", "merge", str(tmp_path / "s0.state"),
                           str(tmp_path / "s1.state"), "--out", str(tmp_path / "result.json")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "samples are in no state" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s0.state", "s1.state"]


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_state_that_is_not_a_regular_file_is_one_line_exit_2(tmp_path, kind):
    """Without it a folder given as a state crashed the merge with a traceback, and a FIFO with no
    writer kept it waiting for ever."""
    if kind == "folder":
        path = tmp_path / "states"
        path.mkdir()
    elif kind == "fifo":
        path = tmp_path / "state.fifo"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    proc = subprocess.run([sys.executable, "-m", "evalcore", "merge", str(path), "--out",
                           str(tmp_path / "result.json")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    what = "a folder" if kind == "folder" else "not a regular file"
    assert proc.stderr == f"evalcore merge: error: cannot read shard state {path}: {what}\n"
    assert not (tmp_path / "result.json").exists()


def test_shard_options_are_checked(fixtures_dir, tmp_path):
    """Without it `--shard 3/3`, a shard with --out, or --shard without --state would run (or
    write a result no one merges) instead of a one-line error."""
    base = [sys.executable, "-m", "evalcore", "run", str(fixtures_dir / "motion"), "-q"]
    state = str(tmp_path / "s.state")
    for extra, message in (
        (["--shard", "3/3", "--state", state], "0 <= I < N"),
        (["--shard", "a/b", "--state", state], "two whole numbers"),
        (["--shard", "0/2"], "go together"),
        (["--shard", "0/2", "--state", state, "--out", str(tmp_path / "r.json")], "--out is for a whole run"),
        ([], "run needs --out FILE"),
    ):
        proc = subprocess.run([*base, *extra], capture_output=True, text=True)
        assert proc.returncode == 2, (extra, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (extra, proc.stderr)
    assert not list(tmp_path.iterdir())
