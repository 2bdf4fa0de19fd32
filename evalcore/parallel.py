"""The map's process pool (``--workers``): samples are read, windowed and featurized in workers.

Reading an Edge Impulse export (CBOR/JSON decoding, number conversion) and the DSP blocks are
pure per-sample work that holds the GIL, so on a machine with several cores they run in worker
processes while the parent runs the models (on its model thread), reduces and reports. Results
come back in record order, so a run with workers writes the same bytes as one without.

The pool keeps at most a few chunks of samples in flight: workers never run far ahead of the
models, and memory stays flat however large the dataset is. Workers are forked on Linux when
the parent has no other Python thread yet (``evaluate`` starts the pool before it loads any
model runtime), else spawned; a spawned worker loads the bundle itself. Nothing but evalcore's
own objects crosses the process boundary.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import signal
import sys
import threading

from evalcore.errors import WorkerDiedError

__all__ = ["PreparePool", "resolve_workers", "available_cpus", "fewer_gc_passes", "AUTO_MIN_SAMPLES"]

#: Below this many samples ``--workers auto`` stays in one process: starting workers would cost
#: more than it saves.
AUTO_MIN_SAMPLES = 64

#: ``--workers auto`` uses at most this many processes (the parent's model thread and reduce
#: need a core too, and a bundle's files come from one disk).
AUTO_MAX_WORKERS = 8

#: ``--workers auto`` never starts fewer workers than this: one worker gains nothing (it does all
#: the reading plus the pickling while the parent waits); two are faster even on 2 CPUs for dense
#: models and within noise for a convolutional one (benchmarks/README.md, 21,000 windows on 2
#: CPUs, interleaved medians, in-process / one / two workers: small model 1.43 / 1.41 / 1.10 s,
#: convolutional model 3.35 / 3.53 / 3.56 s; bench_run: 3.15 vs 3.17 s and 3.38 vs 3.38 s).
AUTO_MIN_WORKERS = 2

#: Chunks of samples each worker may have queued or in progress.
_CHUNKS_PER_WORKER = 2

#: Workers run at a lower priority than the parent: when the model is the slow part (a
#: convolutional network), the cores go to the model thread first and workers fill the gaps;
#: when reading is the slow part, the parent waits and the workers get the cores anyway.
_WORKER_NICENESS = 10

#: Young-generation size of Python's cyclic garbage collector during a run (default 700).
#: Decoding one acquisition file allocates hundreds of lists (its rows) that die young; with the
#: default the collector ran ~150 times a 1,000-sample run and re-scanned what the report keeps.
#: Measured on the 21,000-window benchmark: median run 1.33 s at 700, 1.16 s at 20,000.
_GC_YOUNG_THRESHOLD = 20_000

# The featurizer of a worker process (set by the initializer, or inherited through fork).
_FEATURIZER = None


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_workers(requested: int | None, n_records: int) -> int:
    """Worker processes for a run: ``requested``, or with None ("auto") one per CPU but one
    (the parent's model thread and reduce keep a core busy), at least ``AUTO_MIN_WORKERS``,
    on a machine with 2 or more CPUs, for a dataset of at least ``AUTO_MIN_SAMPLES`` samples
    where workers can be forked; 0 means no pool at all.

    Auto never spawns: a spawned worker re-imports the caller's main module, which hangs or
    recurses in a script without an ``if __name__ == "__main__"`` guard (ask for ``workers=N``
    explicitly there).
    """
    if requested is not None:
        return max(0, min(requested, n_records))
    if n_records < AUTO_MIN_SAMPLES or _start_method() != "fork":
        return 0
    cpus = available_cpus()
    if cpus < 2:
        return 0
    return min(max(cpus - 1, AUTO_MIN_WORKERS), AUTO_MAX_WORKERS, n_records)


def _start_method() -> str:
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


@contextlib.contextmanager
def fewer_gc_passes():
    """Raise the collector's young-generation threshold for a run, then restore the caller's."""
    previous = gc.get_threshold()
    _raise_young_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _raise_young_threshold() -> None:
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], _GC_YOUNG_THRESHOLD), *threshold[1:])


def _lower_priority() -> None:
    try:
        os.nice(_WORKER_NICENESS)
    except (AttributeError, OSError):  # pragma: no cover - Windows, or not permitted
        pass


def _init_worker(root=None, options=None) -> None:
    """Worker start: lower its priority; a spawned worker also loads the bundle once."""
    global _FEATURIZER
    # Ctrl-C reaches the whole process group: the parent stops the run and ends the pool; a
    # worker that took the interrupt too would only print a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _lower_priority()
    _raise_young_threshold()
    if root is None:  # forked: the featurizer was inherited
        return
    from evalcore.bundle import load_project
    from evalcore.features import SampleFeaturizer

    _FEATURIZER = SampleFeaturizer(load_project(root, follow_links=options.follow_links), options)


def _prepare_chunk(records: list) -> list:
    """Prepare a chunk in a worker; what goes back is slimmed (see ``SampleOutcome.sample_json``):
    the ``Sample`` as its JSON text, and no record (the parent has it).
    """
    from evalcore.jsonio import fragment

    prepare = _FEATURIZER.prepare
    out = []
    for record in records:
        prepared = prepare(record)
        outcome = prepared.outcome
        outcome.sample_json = fragment(outcome.sample)
        outcome.sample = None
        outcome.record = None
        out.append(prepared)
    return out


class PreparePool:
    """Worker processes that turn records into the pipeline's prepared samples.

    Use as a context manager; ``prepare_all(records)`` yields one prepared sample per record,
    in order (the interface of ``evalcore.features.SampleFeaturizer.prepare_all``). An error in
    a worker (a bad file, with its path, sample and field) is raised in the parent as it is.

    Parameters
    ----------
    project : evalcore.bundle.Project
    options : evalcore.engine.RunOptions
    n_workers : int
        Processes to start (>= 1).
    chunk_size : int, optional
        Samples a task carries; by default sized so that each worker gets several tasks.
    """

    def __init__(self, project, options, n_workers: int, *, chunk_size: int | None = None):
        self.project = project
        self.options = options
        self.n_workers = n_workers
        self.chunk_size = chunk_size
        self.start_method = None
        self._pool = None

    def __enter__(self) -> PreparePool:
        global _FEATURIZER
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from evalcore.features import SampleFeaturizer

        self.start_method = _start_method()
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "fork":
            # the children inherit the featurizer: nothing is loaded twice
            _FEATURIZER = SampleFeaturizer(self.project, self.options)
            # Frozen objects are never scanned by the children's collector, so the pages
            # holding what they inherited are not copied just to be looked at.
            gc.freeze()
            try:
                self._pool = ProcessPoolExecutor(self.n_workers, mp_context=context, initializer=_init_worker)
                # with fork the executor starts every worker at the first submit: do it now,
                # while this process has no other thread
                self._pool.submit(os.getpid).result()
            finally:
                gc.unfreeze()
                _FEATURIZER = None
        else:
            self._pool = ProcessPoolExecutor(
                self.n_workers, mp_context=context, initializer=_init_worker,
                initargs=(self.project.root, self.options),
            )
        return self

    def __exit__(self, exc_type, *exc) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if exc_type is None:
            pool.shutdown(wait=True)
            return
        # an error or Ctrl-C: drop the queued chunks and stop the workers now
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()

    def prepare_all(self, records):
        """Yield the prepared sample of each record, in order."""
        records = list(records)
        size = self.chunk_size or max(1, min(16, len(records) // (self.n_workers * 8)))
        chunks = (records[i : i + size] for i in range(0, len(records), size))
        max_in_flight = self.n_workers * _CHUNKS_PER_WORKER
        in_flight = collections.deque()
        for chunk in chunks:
            in_flight.append((chunk, self._pool.submit(_prepare_chunk, chunk)))
            if len(in_flight) >= max_in_flight:
                yield from _with_records(*in_flight.popleft())
        while in_flight:
            yield from _with_records(*in_flight.popleft())


def _with_records(chunk: list, future):
    from concurrent.futures.process import BrokenProcessPool

    try:
        prepared_chunk = future.result()
    except BrokenProcessPool as err:
        # killed (out of memory) or crashed in a native library: name the samples it held
        raise WorkerDiedError(
            f"a worker process died while reading samples {chunk[0].filename} .. {chunk[-1].filename} "
            "(out of memory, a crash in a reader library, or a spawned worker that could not start: "
            "a script without an `if __name__ == \"__main__\":` guard); run with --workers 0 to find the sample"
        ) from err
    for record, prepared in zip(chunk, prepared_chunk, strict=True):
        prepared.outcome.record = record
        yield prepared
