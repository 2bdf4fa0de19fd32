"""`--workers`: samples prepared in worker processes give the same bytes and the same errors."""

from __future__ import annotations

import json
import os
import pickle
import shutil

import pytest

from evalcore.cli import main
from evalcore.engine import RunOptions, run_bundle
from evalcore.errors import BundleError, ConfigError
from evalcore.jsonio import dumps
from evalcore.pipeline import pool as parallel
from evalcore.pipeline.featurize import SampleFeaturizer


def _bundle(fixtures_dir, name):
    bundle = fixtures_dir / name
    assert (bundle / "impulse.json").is_file(), f"committed fixture bundle missing: {bundle}"
    return bundle


ALL_BUNDLES = ["motion", "motion-gmm", "regression", "gestures-real", "temperature-regression", "kws",
               "coffee-multilabel", "image", "fomo", "yolov5", "ssd", "visual-anomaly", "akida"]


@pytest.mark.parametrize("name", ALL_BUNDLES)
def test_workers_write_the_same_bytes(fixtures_dir, name):
    """Without it a pool could reorder samples or lose a window, and only large runs would show it."""
    bundle = _bundle(fixtures_dir, name)
    one = run_bundle(bundle, RunOptions(workers=0))
    for n in (1, 3):
        # a small dataset gives one-sample tasks: many of them, finishing out of order
        pooled = run_bundle(bundle, RunOptions(workers=n))
        assert pooled.options["workers"] == min(n, one.n_samples) and one.options["workers"] == 0
        assert pooled.response_json() == one.response_json()
        assert dumps(pooled.response) == dumps(one.response)


def test_spawned_workers_load_the_bundle_themselves(fixtures_dir, monkeypatch):
    """Without it macOS and Windows users (no fork) could get a pool that cannot start."""
    bundle = _bundle(fixtures_dir, "motion")
    monkeypatch.setattr(parallel, "_start_method", lambda: "spawn")
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset
    from evalcore.pipeline.featurize import SampleFeaturizer

    project = load_project(bundle)
    options = RunOptions(variant="float32")
    records = list(load_dataset(project.dataset_dir).records)
    direct = list(SampleFeaturizer(project, options).prepare_all(records))
    with parallel.PreparePool(project, options, 2, chunk_size=5) as pool:
        assert pool.start_method == "spawn"
        pooled = list(pool.prepare_all(records))
    assert [p.outcome.record.id for p in pooled] == [p.outcome.record.id for p in direct]
    for a, b in zip(pooled, direct):
        assert a.features.keys() == b.features.keys()
        for key in a.features:
            assert a.features[key].tobytes() == b.features[key].tobytes()


def test_a_bad_file_in_a_worker_is_reported_like_in_process(fixtures_dir, tmp_path, capsys):
    """Without it an error raised in a worker would lose its file/sample/field or exit 1."""
    bundle = tmp_path / "bundle"
    shutil.copytree(_bundle(fixtures_dir, "motion"), bundle)
    labels = json.loads((bundle / "dataset" / "info.labels").read_text())
    testing = [f for f in labels["files"] if f["category"] == "testing"]
    broken = bundle / "dataset" / testing[-1]["path"]
    broken.write_bytes(broken.read_bytes()[:100])
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    assert main(["run", str(bundle), "--out", str(out), "--workers", "2", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid cbor: file is truncated" in err, err
    assert str(broken) in err and f"sample {testing[-1]['name']}" in err, err
    assert list(out.parent.iterdir()) == []


def test_bundle_error_keeps_its_parts_through_pickle():
    """Without it an error from a worker process would arrive without its path/sample/field."""
    err = BundleError("values must be finite", path="/d/a.cbor", sample="a", field="payload.values[3][1]")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is BundleError and str(back) == str(err)
    assert (back.message, back.path, back.sample, back.field) == (err.message, err.path, err.sample, err.field)


def test_auto_workers_follow_dataset_size_and_cpus(monkeypatch):
    """Without it a 10-sample run could pay for starting processes, or auto could oversubscribe."""
    monkeypatch.setattr(parallel, "available_cpus", lambda: 4)
    monkeypatch.setattr(parallel, "_start_method", lambda: "fork")
    assert parallel.resolve_workers(None, parallel.AUTO_MIN_SAMPLES - 1) == 0
    assert parallel.resolve_workers(None, 10_000) == 3  # a core for the parent's model thread
    monkeypatch.setattr(parallel, "available_cpus", lambda: 64)
    assert parallel.resolve_workers(None, 10_000) == parallel.AUTO_MAX_WORKERS
    assert parallel.resolve_workers(3, 10_000) == 3
    assert parallel.resolve_workers(8, 2) == 2  # never more workers than samples
    monkeypatch.setattr(parallel, "_start_method", lambda: "spawn")
    assert parallel.resolve_workers(None, 10_000) == 0  # auto never spawns
    monkeypatch.setattr(parallel, "_start_method", lambda: "fork")
    monkeypatch.setattr(parallel, "available_cpus", lambda: 1)
    assert parallel.resolve_workers(None, 10_000) == 0
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    assert parallel.resolve_workers(None, 10_000) == 2  # never one: it is slower than none
    assert parallel.resolve_workers(0, 10_000) == 0
    assert parallel.resolve_workers(2, 10_000) == 2


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_bad_workers_value_exits_2(fixtures_dir, tmp_path, value, capsys):
    """Without it `--workers -1` could hang or be read as auto."""
    bundle = _bundle(fixtures_dir, "motion")
    with pytest.raises(SystemExit) as exc:
        main(["run", str(bundle), "--out", str(tmp_path / "r.json"), "--workers", value])
    assert exc.value.code == 2
    assert "--workers" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="workers must be >= 0"):
        RunOptions(workers=-1)


def test_a_run_leaves_no_thread_behind(fixtures_dir):
    """Without it a later run in the same process could not fork its workers (threads alive)."""
    import threading

    before = threading.active_count()
    run_bundle(_bundle(fixtures_dir, "motion"), RunOptions(workers=0))
    assert threading.active_count() == before


def test_a_run_restores_the_garbage_collector_settings(fixtures_dir):
    """Without it a run would leave the caller's process with evalcore's collector thresholds."""
    import gc

    before = gc.get_threshold()
    run_bundle(_bundle(fixtures_dir, "motion"), RunOptions(workers=0))
    assert gc.get_threshold() == before


def test_workers_leave_ctrl_c_to_the_parent(fixtures_dir):
    """Without it Ctrl-C would print a traceback from every worker besides the parent's one line."""
    import signal
    from pathlib import Path

    from evalcore.bundle import load_project
    from evalcore.data import load_dataset

    if not Path("/proc/self/status").is_file():
        pytest.skip("needs /proc to read a process's ignored signals")
    project = load_project(_bundle(fixtures_dir, "motion"))
    records = list(load_dataset(project.dataset_dir).records)[:1]
    with parallel.PreparePool(project, RunOptions(variant="float32"), 1) as pool:
        list(pool.prepare_all(records))  # the worker has started and answered
        status = Path(f"/proc/{pool.pids[0]}/status").read_text()
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    assert ignored & (1 << (signal.SIGINT - 1))


@pytest.mark.parametrize("name", ["motion", "fomo"])
def test_pooled_samples_come_back_as_text_and_build_the_same_model(fixtures_dir, name):
    """Without it the Sample sent back as JSON text could build a different validated response."""
    bundle = _bundle(fixtures_dir, name)
    one = run_bundle(bundle, RunOptions(workers=0))
    pooled = run_bundle(bundle, RunOptions(workers=2))
    assert pooled.response_json() == one.response_json()
    assert pooled.response == one.response  # the lazily validated models, Sample included


def _die(records):
    os._exit(3)  # what the kernel's OOM killer or a segfault in a reader library looks like


def test_a_worker_that_dies_ends_the_run_with_a_clear_error(fixtures_dir, monkeypatch, tmp_path, capsys):
    """Without it a worker killed for memory would leave the run waiting forever for its samples."""
    monkeypatch.setattr(parallel, "_start_method", lambda: "fork")
    monkeypatch.setattr(parallel, "_prepare_chunk", _die)
    out = tmp_path / "result.json"
    assert main(["run", str(_bundle(fixtures_dir, "motion")), "--out", str(out), "--workers", "2", "-q"]) == 2
    err = capsys.readouterr().err
    assert "a worker process died while reading samples" in err and "--workers 0" in err, err
    assert not out.exists()


def _motion_records(fixtures_dir):
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset

    project = load_project(_bundle(fixtures_dir, "motion"))
    return project, list(load_dataset(project.dataset_dir).records)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_a_pool_given_its_records_starts_them_at_once(fixtures_dir, monkeypatch, start_method):
    """Without it workers sat idle while the parent loaded its models, and forked ones were sent
    every record though they inherit them (tasks then name positions)."""
    monkeypatch.setattr(parallel, "_start_method", lambda: start_method)
    project, records = _motion_records(fixtures_dir)
    options = RunOptions(variant="float32")
    direct = list(SampleFeaturizer(project, options).prepare_all(records))
    with parallel.PreparePool(project, options, 2, chunk_size=3, records=records) as pool:
        # before prepare_all is asked: each worker already holds chunks
        assert all(w.held for w in pool._workers), [w.held for w in pool._workers]
        sent = pool._feed.task(0)
        assert sent == ((0, 3) if start_method == "fork" else records[:3])
        pooled = list(pool.prepare_all(records))
    assert [p.outcome.record for p in pooled] == records
    assert [p.features[k].tobytes() for p in pooled for k in sorted(p.features)] == \
        [p.features[k].tobytes() for p in direct for k in sorted(p.features)]


def test_a_pool_refuses_other_records_than_its_own(fixtures_dir):
    """Without it the samples of the pool's records would come back as those of the others."""
    project, records = _motion_records(fixtures_dir)
    with parallel.PreparePool(project, RunOptions(variant="float32"), 1, records=records) as pool:
        with pytest.raises(RuntimeError, match="other records"):
            next(pool.prepare_all(list(records)))
        assert pool.pids == []  # stopped at once


def test_result_pipes_hold_a_whole_chunk(fixtures_dir):
    """Without it a worker's 0.5 MB result crossed in 64 KiB parts, each waiting for the other side."""
    import fcntl

    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are a Linux setting")
    project, records = _motion_records(fixtures_dir)
    with parallel.PreparePool(project, RunOptions(variant="float32"), 1) as pool:
        size = fcntl.fcntl(pool._workers[0].results.fileno(), fcntl.F_GETPIPE_SZ)
    from pathlib import Path

    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    assert size == parallel._RESULT_PIPE_BYTES or (size < parallel._RESULT_PIPE_BYTES and limit < parallel._RESULT_PIPE_BYTES)


def test_a_worker_goes_on_while_the_parent_reads_nothing(fixtures_dir, monkeypatch, tmp_path):
    """Without it a worker stopped at each full result pipe until the parent came to read it."""
    import time

    log = tmp_path / "prepared.txt"
    prepare = parallel._prepare_chunk

    def logged(records):
        out = prepare(records)
        with open(log, "a") as f:
            f.write(records[0].filename + "\n")
        return out

    monkeypatch.setattr(parallel, "_start_method", lambda: "fork")  # the children inherit `logged`
    monkeypatch.setattr(parallel, "_prepare_chunk", logged)
    monkeypatch.setattr(parallel, "_RESULT_PIPE_BYTES", 4096)  # less than one sample's result
    monkeypatch.setattr(parallel, "_CHUNKS_PER_WORKER", 4)  # fewer than the fixture's samples
    project, records = _motion_records(fixtures_dir)
    n = parallel._CHUNKS_PER_WORKER
    with parallel.PreparePool(project, RunOptions(variant="float32"), 1, chunk_size=1, records=records) as pool:
        assert len(pool._workers[0].held) == n
        deadline = time.monotonic() + 60  # only a bound against a hang, not a speed check
        while time.monotonic() < deadline and (not log.exists() or len(log.read_text().split()) < n):
            time.sleep(0.05)
        assert len(log.read_text().split()) == n  # all it holds, and none of it read yet
        pooled = list(pool.prepare_all(records))
    assert [p.outcome.record for p in pooled] == records


def _same_prepared(pooled, direct) -> None:
    """Pooled prepared samples hold the records, arrays (bytes, dtype, shape) and text of direct ones."""
    assert [p.outcome.record for p in pooled] == [p.outcome.record for p in direct]
    for a, b in zip(pooled, direct, strict=True):
        assert a.features.keys() == b.features.keys()
        for k in a.features:
            x, y = a.features[k], b.features[k]
            assert (x.dtype, x.shape, x.tobytes()) == (y.dtype, y.shape, y.tobytes())
            assert x.flags.writeable and x.flags.aligned
        for name in ("start_ms", "end_ms", "label_ranges"):
            x, y = getattr(a.outcome, name), getattr(b.outcome, name)
            assert (x.dtype, x.shape, x.tobytes()) == (y.dtype, y.shape, y.tobytes())
        assert a.outcome.expected == b.outcome.expected


def _slots_used(monkeypatch) -> list:
    """The slots results were copied out of (``_from_slot`` calls), in order."""
    used = []
    from_slot = parallel._from_slot
    monkeypatch.setattr(parallel, "_from_slot", lambda *a: used.append(a[-1]) or from_slot(*a))
    return used


@pytest.mark.parametrize("bundle", ["motion", "image"])
def test_forked_workers_send_arrays_through_shared_slots(fixtures_dir, monkeypatch, bundle):
    """Without it every chunk's feature rows (~0.5 MB) were pickled into the result pipe and
    unpickled again: ~0.5 s more CPU over a 20k-sample run, on a machine whose cores are busy."""
    monkeypatch.setattr(parallel, "_start_method", lambda: "fork")
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset

    project = load_project(_bundle(fixtures_dir, bundle))
    options = RunOptions(variant="float32")
    records = list(load_dataset(project.dataset_dir).records)
    direct = list(SampleFeaturizer(project, options).prepare_all(records))
    used = _slots_used(monkeypatch)
    with parallel.PreparePool(project, options, 2, chunk_size=2, records=records) as pool:
        pooled = list(pool.prepare_all(records))
        # every slot was given back once its result was copied out
        assert [sorted(w.arena.free) for w in pool._workers] == [list(range(parallel._CHUNKS_PER_WORKER))] * 2
    assert len(used) == -(-len(records) // 2)  # every chunk came through a slot
    _same_prepared(pooled, direct)


def test_a_result_larger_than_its_slot_comes_through_the_pipe(fixtures_dir, monkeypatch):
    """Without it a chunk of long samples would not fit its slot and be lost or cut."""
    monkeypatch.setattr(parallel, "_start_method", lambda: "fork")
    monkeypatch.setattr(parallel, "_SLOT_BYTES", parallel._SLOT_ALIGN)  # less than any sample's rows
    project, records = _motion_records(fixtures_dir)
    options = RunOptions(variant="float32")
    direct = list(SampleFeaturizer(project, options).prepare_all(records))
    used = _slots_used(monkeypatch)
    with parallel.PreparePool(project, options, 2, chunk_size=3, records=records) as pool:
        pooled = list(pool.prepare_all(records))
    assert used == []
    _same_prepared(pooled, direct)


_WORKER_START = """
import sys
from evalcore.bundle import load_project
from evalcore.engine import RunOptions
from evalcore.pipeline import pool
from evalcore.pipeline.featurize import SampleFeaturizer
from kernels import _native, cbor_reader

if sys.argv[2] == "no-saved-code":
    _native.load = lambda kset: None
pool._FEATURIZER = SampleFeaturizer(load_project(sys.argv[1]), RunOptions())
pool._init_worker()  # a forked worker's start
reader = cbor_reader.values_reader()
print(getattr(reader, "__name__", None), "numba" in sys.modules)
"""


@pytest.fixture(scope="module")
def saved_cbor_code():
    """The CBOR kernel's machine code saved in numba's cache directory (a run's warm-up saves it)."""
    from kernels import _native
    from kernels.cbor_reader import CBOR

    if _native._load(CBOR) is None:
        assert _native.build(CBOR)


@pytest.mark.parametrize("bundle, code, want", [
    ("motion", "saved", "native_read_values False"),  # the saved machine code, no numba
    ("motion", "no-saved-code", "read_values True"),  # numba's kernel
    ("image", "saved", "None False"),  # no CBOR to read: nothing loaded
])
def test_a_time_series_worker_loads_the_cbor_values_kernel(fixtures_dir, saved_cbor_code, bundle, code, want):
    """Without it workers, forked before the parent loads numba, decoded every CBOR file with
    cbor2's Python floats (two workers on 20k motion samples took 1.03x one process's time), or
    each paid ~1 s of CPU importing numba for one kernel."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _WORKER_START, str(fixtures_dir / bundle), code],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(fixtures_dir.parent)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == want, proc.stdout


_FORKED_START = """
import sys
from evalcore.bundle import load_project
from evalcore.data import load_dataset
from evalcore.engine import RunOptions
from evalcore.pipeline import pool
from kernels import _native, cbor_reader

if sys.argv[2] == "no-saved-code":
    _native.load = lambda kset: None
assert "numba" not in sys.modules
seen = []
start = pool._init_worker

def noted(*args):
    reader = cbor_reader.values_reader()  # before the worker's own start: what it inherited
    seen.append(f"{getattr(reader, '__name__', None)} {'numba' in sys.modules}")
    start(*args)

pool._init_worker = noted
pool._prepare_chunk = lambda records: seen  # what the worker found at its start comes back
project = load_project(sys.argv[1])
records = list(load_dataset(project.dataset_dir).records)
with pool.PreparePool(project, RunOptions(variant="float32"), 1, chunk_size=len(records), records=records) as p:
    assert p.start_method == "fork"
    worker = p._workers[0]
    index, body, error, sizes = worker.results.recv()
    print(body if sizes is None else pool._from_slot(body, sizes, worker.arena, worker.slots[index]))
"""


@pytest.mark.parametrize("code, want", [("saved", "['native_read_values False']"),
                                        ("no-saved-code", "['read_values True']")])
def test_forked_workers_inherit_the_cbor_kernel(fixtures_dir, saved_cbor_code, code, want):
    """Without it each worker loaded the CBOR kernel itself (without saved machine code: numba's
    import and its cache, ~0.7 s of CPU a process, three times in a run with two workers)."""
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only")
    proc = subprocess.run([sys.executable, "-c", _FORKED_START, str(fixtures_dir / "motion"), code],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(fixtures_dir.parent)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == want, proc.stdout
