"""``evalcore run --executor dask``: a run's samples mapped in chunks onto a Dask cluster, merged
into the bytes a single run writes.

Why this shape: the map of a run is per sample and its reduce state saves and merges
(``evalcore.shards``), so a distributed run needs no scheduler of ours. Record positions
``0..n-1`` are cut into contiguous chunks; each chunk is one Dask task that returns a shard state
(bytes in the shards' checked container, not a pickled object); the client merges the states in chunk order with ``shards.merge_states``. Each
worker process loads the bundle and its models once (`_worker_runner`: one ``PartRunner`` per
process, kept between tasks). Without ``--scheduler`` the run starts a ``distributed.LocalCluster``
of worker processes on loopback and closes it at the end; with an address it connects to that
cluster (the bundle must then be readable at the same absolute path on every worker).

Errors: a bundle error raised in a task reaches the client as the same exception (Dask re-raises
it there), so the command line prints the same one line and exits 2. A worker that dies is
replaced by its nanny and its task retried by Dask (same bytes); past Dask's
``distributed.scheduler.allowed-failures`` the run stops with `WorkerDiedError` (one line, exit 2),
before any output is written.

``dask`` and ``distributed`` are imported only here, inside functions: they are an optional extra.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from evalcore.errors import BackendUnavailableError, ConfigError, WorkerDiedError

__all__ = ["DASK_EXTRA_MESSAGE", "DaskSettings", "local_cluster_options", "run_on_dask", "split_positions"]

DASK_EXTRA_MESSAGE = "--executor dask needs the dask extra: pip install 'evalcore[dask]'"
#: Default chunking: about this many chunks per worker thread, so a slow chunk or a lost worker
#: costs a fraction of the run, and the progress bar moves.
CHUNKS_PER_WORKER = 4
#: Local cluster size when ``--dask-workers`` is not given.
DEFAULT_LOCAL_WORKERS = 2
_CONNECT_TIMEOUT_S = 10
_WORKERS_TIMEOUT_S = 60
#: A run whose cluster has had no worker for this long stops (a cluster without nannies whose
#: workers all died would otherwise keep the tasks, and the command, waiting for ever).
NO_WORKERS_TIMEOUT_S = 60.0
_POLL_S = 1.0


@dataclass(frozen=True)
class DaskSettings:
    """Where and how a run goes onto Dask.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); None starts a local cluster.
    n_workers : int, optional
        Worker processes of the local cluster (default `DEFAULT_LOCAL_WORKERS`); only without
        ``scheduler`` (a running cluster has its own workers).
    chunk_samples : int, optional
        Samples per task; default about `CHUNKS_PER_WORKER` chunks per worker thread.
    quiet : bool
        No progress bar on stderr.
    """

    scheduler: str | None = None
    n_workers: int | None = None
    chunk_samples: int | None = None
    quiet: bool = True

    def __post_init__(self):
        if self.n_workers is not None and self.n_workers < 1:
            raise ConfigError(f"--dask-workers must be >= 1, got {self.n_workers}")
        if self.n_workers is not None and self.scheduler is not None:
            raise ConfigError("--dask-workers sizes the local cluster; with --scheduler the cluster's own workers run")
        if self.chunk_samples is not None and self.chunk_samples < 1:
            raise ConfigError(f"--chunk-samples must be >= 1, got {self.chunk_samples}")
        if self.scheduler is not None and not self.scheduler.strip():
            raise ConfigError("--scheduler needs an address, e.g. tcp://127.0.0.1:8786")


def split_positions(n_samples: int, chunk_samples: int) -> list[list[int]]:
    """Record positions ``0..n_samples-1`` in contiguous chunks of ``chunk_samples`` (the last one
    shorter); one empty chunk for an empty run, so that the merge still has a state to read.
    """
    if n_samples == 0:
        return [[]]
    return [list(range(start, min(start + chunk_samples, n_samples))) for start in range(0, n_samples, chunk_samples)]


def default_chunk_samples(n_samples: int, n_threads: int) -> int:
    """About `CHUNKS_PER_WORKER` chunks per worker thread, at least one sample each."""
    return max(1, math.ceil(n_samples / (CHUNKS_PER_WORKER * max(n_threads, 1))))


def run_on_dask(bundle_dir: str | Path, options, settings: DaskSettings):
    """Evaluate a bundle on a Dask cluster; returns the ``engine.RunResult`` a single run returns.

    Parameters
    ----------
    bundle_dir : str or Path
        The bundle folder (made absolute for a running cluster: its workers run elsewhere).
    options : evalcore.options.RunOptions
        The run's options; inside a task samples are read in the worker process (``workers=0``).
    settings : DaskSettings
        Scheduler address or local cluster size, chunk size, progress.

    Raises
    ------
    BackendUnavailableError
        dask / distributed are not installed.
    ConfigError
        The scheduler cannot be reached or has no workers.
    BundleError, ConfigError, ModelError
        Bad input, raised on the client as the task raised it.
    WorkerDiedError
        A chunk's worker died more often than the cluster allows.
    """
    from evalcore.shards import count_samples, merge_states

    distributed = _import_distributed()
    t0 = time.perf_counter()
    # the local cluster's workers share this process's folder, so errors name the bundle as given;
    # a running cluster's workers may not: they get the absolute path
    bundle = Path(bundle_dir) if settings.scheduler is None else Path(bundle_dir).absolute()
    task_options = dataclasses.replace(options, workers=0, quiet=True)
    n_samples = count_samples(bundle, task_options)  # a bad bundle fails here, before any cluster starts
    with tempfile.TemporaryDirectory(prefix=state_folder_prefix(os.getpid())) as spool:
        with _connect(distributed, settings) as client:
            n_threads = _worker_threads(client, settings)
            if settings.scheduler is not None:
                _check_workers(client, str(bundle))
            size = settings.chunk_samples or default_chunk_samples(n_samples, n_threads)
            chunks = split_positions(n_samples, size)
            states = _map_chunks(client, distributed, str(bundle), task_options, chunks, Path(spool),
                                 quiet=settings.quiet)
        # the merged run copies what it needs out of the state files before they are removed
        result = merge_states(states, bundle=bundle, names=[f"chunk {i + 1}" for i in range(len(states))])
    result.seconds = time.perf_counter() - t0
    result.options = {**result.options, "executor": {"kind": "dask", "workerThreads": n_threads,
                                                     "chunks": len(chunks), "chunkSamples": size}}
    return result


def state_folder_prefix(pid: int) -> str:
    """Name prefix of the temporary folder holding a run's chunk states. It follows the run spools'
    naming (``report.pages.remove_orphan_spools``), so the folder of a killed run is removed by
    the next run on the machine, as a killed run's spool is.
    """
    return f"evalcore-spool-{pid}-dask-"


def local_cluster_options(n_workers: int) -> dict:
    """``distributed.LocalCluster`` options of the run's own cluster: worker processes of one thread
    on loopback, no dashboard, and no log lines (errors reach the user as evalcore's one line).

    The scheduler always serves a few HTTP routes (health, metrics); without a dashboard it would
    take port 8787, or warn that another cluster has it: it gets a free loopback port instead.
    """
    return {"n_workers": n_workers, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
            "dashboard_address": None, "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"},
            "silence_logs": logging.CRITICAL}


def _import_distributed():
    try:
        import distributed
    except ImportError as err:
        raise BackendUnavailableError(DASK_EXTRA_MESSAGE) from err
    return distributed


class _connect:
    """Context manager: a ``Client`` on a new local cluster or on ``settings.scheduler``; closes
    what it opened (the local cluster's workers stop with it).
    """

    def __init__(self, distributed, settings: DaskSettings):
        self.distributed = distributed
        self.settings = settings
        self.cluster = None
        self.client = None

    def __enter__(self):
        d, s = self.distributed, self.settings
        if s.scheduler is None:
            self.cluster = d.LocalCluster(**local_cluster_options(s.n_workers or DEFAULT_LOCAL_WORKERS))
            try:
                self.client = d.Client(self.cluster)
            except BaseException:
                self.cluster.close()
                raise
            return self.client
        try:
            self.client = d.Client(s.scheduler, timeout=_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as err:
            raise ConfigError(f"cannot connect to the dask scheduler at {s.scheduler}: {err}") from None
        return self.client

    def __exit__(self, *exc):
        if self.client is not None:
            if self.cluster is None:
                _release_runners(self.client)
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False


def _worker_threads(client, settings: DaskSettings) -> int:
    """Threads the cluster runs tasks on (waits, bounded, for a running cluster's first worker)."""
    if settings.scheduler is not None:
        try:
            client.wait_for_workers(1, timeout=_WORKERS_TIMEOUT_S)
        except TimeoutError:
            raise ConfigError(f"the dask scheduler at {settings.scheduler} has no workers "
                              f"(waited {_WORKERS_TIMEOUT_S} s)") from None
    return max(1, sum(client.nthreads().values()))


def _check_workers(client, bundle: str) -> None:
    """Refuse a running cluster whose workers cannot run the tasks, before any task is sent.

    A worker without evalcore cannot unpickle a task (it names ``evalcore.executors.dask``): Dask
    then drops that worker's connection, and a cluster without nannies keeps the task waiting for
    a worker for ever. So the probe is a builtin every worker can unpickle: ``eval`` of a fixed
    expression (this module's own text, nothing from the bundle) that imports evalcore and gives
    its version. A worker that cannot see the bundle folder at the same absolute path is refused too.
    """
    from evalcore import __version__

    versions = client.run(eval, "__import__('evalcore').__version__", on_error="return")
    for address, version in sorted(versions.items()):
        if isinstance(version, BaseException):
            raise ConfigError(f"the dask worker {address} cannot import evalcore ({type(version).__name__}: "
                              f"{version}); install evalcore[dask] on every worker")
        if version != __version__:
            raise ConfigError(f"the dask worker {address} runs evalcore {version}, this client {__version__}; "
                              "install the same version on every worker")
    seen = client.run(os.path.isdir, bundle, on_error="return")
    for address, found in sorted(seen.items()):
        if found is not True:
            raise ConfigError(f"the dask worker {address} cannot see the bundle folder {bundle}: it must be "
                              "readable at the same absolute path on every worker")


def _completed(client, distributed, futures, no_workers_timeout: float):
    """Yield ``futures`` as they finish; stop with `WorkerDiedError` when the cluster has had no
    worker for ``no_workers_timeout`` seconds (the tasks would wait for one for ever).
    """
    pending = set(futures)
    alone_since = None
    while pending:
        try:
            done, pending = distributed.wait(pending, timeout=_POLL_S, return_when="FIRST_COMPLETED")
        except (TimeoutError, distributed.TimeoutError):
            done = ()
        yield from done
        if done or client.nthreads():
            alone_since = None
            continue
        now = time.monotonic()
        alone_since = now if alone_since is None else alone_since
        if now - alone_since >= no_workers_timeout:
            raise WorkerDiedError(f"the dask cluster has had no worker for {no_workers_timeout:g} s, with "
                                  f"{len(pending)} of {len(futures)} chunks left; no output was written")


def _map_chunks(client, distributed, bundle: str, options, chunks: list[list[int]], spool: Path, *,
                quiet: bool) -> list[Path]:
    """One task per chunk; the paths of their states in chunk order. The first failing task ends
    the run. Each state is written to ``spool`` as it arrives and its future released, so neither
    the client nor the workers hold more than a chunk's state at a time for long.
    """
    from evalcore.progress import Progress

    run_id = uuid.uuid4().hex[:12]
    futures = [client.submit(_run_part, bundle, options, chunk, key=f"evalcore-part-{run_id}-{i}")
               for i, chunk in enumerate(chunks)]
    index = {future.key: i for i, future in enumerate(futures)}
    states = [spool / f"chunk-{i:06d}.state" for i in range(len(chunks))]
    try:
        with Progress(sum(map(len, chunks)), "evaluating on dask", enabled=not quiet) as progress:
            for future in _completed(client, distributed, futures, NO_WORKERS_TIMEOUT_S):
                i = index[future.key]
                try:
                    states[i].write_bytes(future.result())
                except distributed.KilledWorker as err:
                    raise WorkerDiedError(_died_message(err, chunks, i)) from None
                except OSError as err:  # the temporary folder is full or gone
                    raise ConfigError(f"cannot keep chunk {i + 1}'s state in {spool}: {err.strerror or err}") from err
                future.release()
                progress.update(len(chunks[i]))
    finally:
        client.cancel(futures)
    return states


def _died_message(err, chunks: list[list[int]], i: int) -> str:
    chunk = chunks[i]
    where = f"samples at record positions {chunk[0]}..{chunk[-1]}" if chunk else "an empty chunk"
    tries = getattr(err, "allowed_failures", None)
    times = "" if tries is None else f" {tries + 1} times"
    return (f"the dask worker evaluating {where} (chunk {i + 1} of {len(chunks)}) died{times}, killed for "
            "memory or from outside; no output was written")


# -- in the worker process -------------------------------------------------------------------

_RUNNER_LOCK = threading.Lock()
_RUNNER: list = []  # [(key, PartRunner)]: at most one per worker process


def _runner_key(bundle: str, options) -> str:
    return f"{bundle}\0{options!r}"


def _worker_runner(bundle: str, options):
    """The ``PartRunner`` of this process for (bundle, options), loaded on the first task; a task of
    another run replaces it (closing the old one).
    """
    from evalcore.shards import PartRunner

    key = _runner_key(bundle, options)
    if _RUNNER and _RUNNER[0][0] == key:
        return _RUNNER[0][1]
    _close_runner()
    runner = PartRunner(bundle, options)
    _RUNNER.append((key, runner))
    return runner


def _close_runner() -> None:
    while _RUNNER:
        _RUNNER.pop()[1].close()


def _run_part(bundle: str, options, positions: list[int]) -> bytes:
    """The Dask task: the shard state of the samples at ``positions`` (one at a time per process)."""
    with _RUNNER_LOCK:
        return _worker_runner(bundle, options).run(positions)


def _release_worker_runner() -> None:
    with _RUNNER_LOCK:
        _close_runner()


def _release_runners(client) -> None:
    """Free the models a run left on a long-lived cluster's workers (best effort: a worker that is
    gone has nothing to free).
    """
    try:
        client.run(_release_worker_runner, on_error="ignore")
    except (OSError, TimeoutError):
        pass
