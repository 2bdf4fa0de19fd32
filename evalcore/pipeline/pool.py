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

Keeping two CPUs busy: the first chunks go out as soon as the workers exist (they work while
the parent loads its models); forked workers inherit the run's records, so a task is two
positions; a worker writes its results from a thread of its own into a 1 MiB pipe, so it goes on
with its next chunk while the parent is busy with the reduce. A forked worker's arrays (feature
rows, ~0.5 MB a chunk) do not go through the pipe: they are copied into a slot of memory the
parent shares with it (``_Arena``), and only the rest of the result is pickled (protocol 5, the
arrays out of band); the parent copies the slot out once and frees it. Forked workers also
inherit the CBOR kernel, which the parent loads once before it forks (its saved machine code,
without numba, or else numba's).

Faults. Each worker has its own task and result pipes, so the parent always knows which samples
a worker holds; every wait of the parent is bounded and watches the workers' exit, so a worker
that is killed (or dies for memory, or crashes in a native library) ends the run within a
moment with one ``WorkerDiedError`` line naming its samples, never a hang. Workers die with the
parent: on Linux the kernel kills them (``PR_SET_PDEATHSIG``), elsewhere they notice within
``_LIVENESS_POLL_S`` that their parent is gone.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Sequence

from evalcore.errors import EvalcoreError, WorkerDiedError

__all__ = ["PreparePool", "resolve_workers", "available_cpus", "fewer_gc_passes", "AUTO_MIN_SAMPLES"]

#: Below this many samples ``--workers auto`` stays in one process: workers would cost more than
#: they save. Measured on 2 CPUs with Edge Impulse motion samples (10 s, 3 axes, 17.7 KB of CBOR,
#: 21 windows each), whole ``evalcore run`` processes, two workers against none in interleaved
#: pairs (benchmarks/README.md, "--workers auto"). Once the workers inherited numba, took their
#: arrays through shared memory and had 16 chunks in flight (sixth session, 5 pairs each, load
#: ~1-1.4): medians 1.02x at 250 samples, 0.96x at 500 (3 of 5 pairs won), 0.92x at 1,000 (5 of
#: 5), 0.84x at 2,000. Before those changes 2,000 was the break-even (0.93x and 1.02x).
AUTO_MIN_SAMPLES = 1000

#: ``--workers auto`` uses at most this many processes (the parent's model thread and reduce
#: need a core too, and a bundle's files come from one disk).
AUTO_MAX_WORKERS = 8

#: ``--workers auto`` never starts fewer workers than this: one worker gains nothing (it does all
#: the reading plus the pickling while the parent waits); two are faster even on 2 CPUs for dense
#: models and within noise for a convolutional one (benchmarks/README.md, 21,000 windows on 2
#: CPUs, interleaved medians, in-process / one / two workers: small model 1.43 / 1.41 / 1.10 s,
#: convolutional model 3.35 / 3.53 / 3.56 s; bench_run: 3.15 vs 3.17 s and 3.38 vs 3.38 s).
AUTO_MIN_WORKERS = 2

#: Chunks of samples each worker may hold (sent, not yet answered); the parent has at most
#: ``n_workers`` times this many chunks out past the one it takes next. With 2 the workers of a
#: 20,000-sample run sat idle ~25 % of the time (with the small pipes below): the parent takes
#: results in record order, so a worker that was ahead waited for the slower one. With 4, once
#: the workers' other costs were cut (shared slots, numba inherited), each worker was still
#: blocked 1.0-1.2 s of a ~4.9 s run: the parent takes results in bursts (a model batch, then
#: its reduce and text), longer than 4 chunks of work. With 16: 0.01-0.17 s, and the run
#: 6.10-6.21 s instead of 6.56-6.92 s (three interleaved pairs, load ~1.5-2; the memory held is
#: ~0.5 MB a chunk of 16 motion samples).
_CHUNKS_PER_WORKER = 16

#: Bytes of a worker's result pipe (Linux ``F_SETPIPE_SZ``; 64 KiB by default). A chunk of 16
#: motion samples is ~0.5 MB of feature rows: with the default size the worker's send waited for
#: the parent to read each 64 KiB part, and the parent's read for the (lower-priority) worker to
#: write the next one; in a pipe this large the whole result is written at once.
_RESULT_PIPE_BYTES = 1 << 20

#: Bytes of one slot of a forked worker's shared memory (``_Arena``): the arrays of one chunk's
#: result. A worker has ``_CHUNKS_PER_WORKER`` slots; memory is only used as far as results fill
#: it (a chunk of 16 motion samples: ~0.5 MB). A result that does not fit crosses the pipe.
_SLOT_BYTES = 4 << 20

#: Offsets of the arrays in a slot are multiples of this (aligned for every numpy dtype).
_SLOT_ALIGN = 64

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
# The records of a forked worker's run, when the pool was given them (tasks then name positions).
_RECORDS = None


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
    if root is not None:  # spawned: load the bundle; a forked worker inherited the featurizer
        from evalcore.bundle import load_project
        from evalcore.pipeline.featurize import SampleFeaturizer

        _FEATURIZER = SampleFeaturizer(load_project(root, follow_links=options.follow_links), options)
    if _FEATURIZER is not None:
        _load_cbor_kernel(_FEATURIZER)


def _load_cbor_kernel(featurizer) -> None:
    """Load the kernel that reads a CBOR file's values (``evalcore.data.acquisition.read_cbor``
    uses it once loaded) for a featurizer of time series: it saves ~0.3 ms on every motion file
    (thousands a worker). Its saved machine code (``kernels.cbor_reader.load_native``, ~0.03 s,
    no numba) when there is valid code, else numba's (~0.6 s of CPU: numba's import and the
    kernel from its cache). The parent loads it before it forks, so forked workers inherit it
    (here: a dictionary look-up); a spawned worker loads its own.
    """
    if featurizer.input_type == "image":
        return
    from kernels.cbor_reader import load_native, read_values

    if not load_native():
        read_values(b"\xa0")  # an empty map: the kernel loads (or compiles) and takes nothing


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
        if outcome.sample is not None:  # else the featurizer wrote its text already
            outcome.sample_json = fragment(outcome.sample)
            outcome.sample = None
        outcome.record = None
        out.append(prepared)
    return out


# -- worker process --------------------------------------------------------------------------------

#: ``prctl`` option asking the kernel to signal a process when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> bool:
    """Have the kernel SIGKILL this worker when its parent dies (Linux); True when it could.

    The parent may have died between the fork and this call, before the request was in place:
    checked right after. Elsewhere the worker's task reader checks its parent instead
    (``_read_tasks``).
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            armed = False
    if os.getppid() != parent_pid:
        os._exit(1)
    return armed


def _read_tasks(tasks, inbox: queue.SimpleQueue, parent_pid: int) -> None:
    """Worker thread: move tasks from the parent's pipe to ``inbox`` as soon as they arrive.

    The pipe is always drained, so the parent never blocks sending a task while this worker
    blocks sending a result. Between tasks it checks that the parent is alive (the portable
    part of dying with it) and ends the process when the parent is gone or has closed the pipe.
    """
    try:
        while True:
            if not tasks.poll(_LIVENESS_POLL_S):
                if os.getppid() != parent_pid:
                    os._exit(1)
                continue
            task = tasks.recv()
            inbox.put(task)
            if task is None:
                return
    except (EOFError, OSError):
        os._exit(1)


def _worker_main(tasks, results, parent_pid: int, inherited: list, arena=None, root=None, options=None) -> None:
    """A worker process: prepare the chunks the parent sends, send back ``(index, body, error, sizes)``
    (see `_answer`).

    Results are written by a thread of their own (``_write_results``): while the parent is busy
    elsewhere and its pipe is full, the worker goes on with its next chunk. ``arena``: the
    memory shared with the parent (forked workers), where the results' arrays go.
    """
    for conn in inherited:  # the parent's ends of the other workers' pipes (a forked copy)
        conn.close()
    _die_with_parent(parent_pid)
    _init_worker(root, options)
    inbox = queue.SimpleQueue()
    threading.Thread(target=_read_tasks, args=(tasks, inbox, parent_pid), daemon=True).start()
    outbox = queue.SimpleQueue()
    writer = threading.Thread(target=_write_results, args=(results, outbox), daemon=True)
    writer.start()
    while True:
        task = inbox.get()
        if task is None:
            break
        outbox.put(_answer(*task, arena=arena))
    outbox.put(None)
    writer.join()


def _answer(index: int, records, slot: int | None = None, *, arena: _Arena | None = None) -> bytes:
    """The pickled ``(index, body, error, sizes)`` reply to one task (``records``: a list, or
    ``(start, stop)`` positions in the inherited ``_RECORDS``).

    ``sizes`` None: ``body`` is the list of prepared samples. Otherwise ``body`` is that list
    pickled with its arrays out of band, and the arrays' bytes are in ``slot`` of ``arena``, one
    after the other at offsets `_aligned`, ``sizes`` bytes each (see `_from_slot`).
    """
    from multiprocessing.reduction import ForkingPickler

    try:
        if isinstance(records, tuple):
            records = list(_RECORDS[records[0] : records[1]])
        prepared = _prepare_chunk(records)
    except Exception as err:  # noqa: BLE001 - sent to the parent, which raises it
        return ForkingPickler.dumps((index, None, _portable_error(err), None))
    try:
        if slot is not None:
            oob = _into_slot(prepared, arena, slot)
            if oob is not None:
                return ForkingPickler.dumps((index, *oob))
        return ForkingPickler.dumps((index, prepared, None, None))
    except (pickle.PicklingError, TypeError, AttributeError) as err:
        return ForkingPickler.dumps((index, None, _portable_error(err), None))


def _aligned(n: int) -> int:
    return -(-n // _SLOT_ALIGN) * _SLOT_ALIGN


def _into_slot(prepared: list, arena: _Arena, slot: int) -> tuple | None:
    """Pickle ``prepared`` with its arrays out of band, copied into ``slot`` of ``arena``;
    ``(body, None, sizes)``, or None when they do not fit (the reply then carries them).
    """
    buffers = []
    body = pickle.dumps(prepared, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    if sum(_aligned(r.nbytes) for r in raws) > arena.slot_bytes:
        return None
    view, offset = arena.slot(slot), 0
    for raw in raws:
        view[offset : offset + raw.nbytes] = raw
        offset += _aligned(raw.nbytes)
    return body, None, [r.nbytes for r in raws]


def _from_slot(body: bytes, sizes: list, arena: _Arena, slot: int) -> list:
    """The prepared samples of an `_into_slot` reply; their arrays are one copy of the slot's
    bytes, so the slot can be used again at once.
    """
    end = sum(_aligned(n) for n in sizes)
    data = memoryview(bytearray(arena.slot(slot)[:end]))
    buffers, offset = [], 0
    for n in sizes:
        buffers.append(data[offset : offset + n])
        offset += _aligned(n)
    return pickle.loads(body, buffers=buffers)


class _Arena:
    """Memory a forked worker shares with its parent: one slot per chunk the worker may hold.

    An anonymous shared mapping made before the fork (so both processes see the same pages);
    the parent gives each task a free slot and frees it once it has copied the result out, so a
    worker never writes a slot the parent is reading.
    """

    def __init__(self, n_slots: int, slot_bytes: int):
        self.slot_bytes = slot_bytes
        self._map = mmap.mmap(-1, n_slots * slot_bytes)
        self._view = memoryview(self._map)
        self.free = list(range(n_slots))

    def slot(self, k: int) -> memoryview:
        """The bytes of slot ``k``."""
        return self._view[k * self.slot_bytes : (k + 1) * self.slot_bytes]

    def close(self) -> None:
        """Unmap (the parent's end, once its worker is gone)."""
        self._view.release()
        with contextlib.suppress(BufferError):  # a view still exported: unmapped when collected
            self._map.close()


def _write_results(results, outbox: queue.SimpleQueue) -> None:
    """Worker thread: write the pickled replies to the parent's pipe, in the order they were made.

    The worker ends when the parent is gone (the pipe is broken).
    """
    try:
        while True:
            reply = outbox.get()
            if reply is None:
                return
            results.send_bytes(reply)
    except OSError:
        os._exit(1)


class _RemoteTraceback(Exception):
    """The worker-side traceback of an unexpected error (the ``__cause__`` the parent shows)."""

    def __str__(self) -> str:
        return self.args[0]


def _portable_error(err: Exception) -> tuple:
    """``(err, worker traceback text or None)`` ready to cross to the parent (a pickled exception
    loses its ``__cause__``; the parent puts the text back, see `_raise_remote`).
    """
    import traceback

    text = None
    if not isinstance(err, EvalcoreError):  # a bug: keep where it happened
        text = "".join(traceback.format_exception(err))
        err.__traceback__ = None
    try:
        pickle.dumps(err)
    except Exception:  # noqa: BLE001 - any unpicklable exception becomes a plain one
        err = RuntimeError(f"{type(err).__name__}: {err}")
    return err, text


def _raise_remote(error: tuple):
    err, text = error
    if text is not None:
        err.__cause__ = _RemoteTraceback(f"\n'''\n{text}'''")
    raise err


# -- parent side -----------------------------------------------------------------------------------

#: Seconds between two liveness checks while the parent waits for a result or a worker waits for
#: a task. A death is normally seen at once (the process sentinel, end of file on its pipe); this
#: only bounds every wait, so that nothing can block for good.
_LIVENESS_POLL_S = 0.5

#: Seconds workers get to exit after the last task of a run, and after being terminated, before
#: they are killed.
_EXIT_GRACE_S = 5.0


class _Worker:
    """One worker process and the parent's ends of its two pipes."""

    def __init__(self, process, tasks, results, arena: _Arena | None = None):
        self.process = process
        self.tasks = tasks  # parent -> worker: (index, records, slot) or None (stop)
        self.results = results  # worker -> parent: (index, body, error, sizes), see `_answer`
        self.arena = arena  # memory shared with a forked worker (None: results come by the pipe)
        self.held: list[int] = []  # indices of the chunks sent and not yet answered
        self.slots: dict[int, int] = {}  # chunk index -> its slot in the arena

    def close(self) -> None:
        self.tasks.close()
        self.results.close()
        if self.arena is not None:
            self.arena.close()


class PreparePool:
    """Worker processes that turn records into the pipeline's prepared samples.

    Use as a context manager; ``prepare_all(records)`` yields one prepared sample per record,
    in order (the interface of ``evalcore.pipeline.featurize.SampleFeaturizer.prepare_all``). An error in
    a worker (a bad file, with its path, sample and field) is raised in the parent as it is.

    Each worker has a pipe for its tasks and one for its results, so the parent knows which
    chunks every worker holds: a worker that dies (killed, out of memory, a crash in a native
    library) ends the run with ``WorkerDiedError`` naming those samples. Every wait of the
    parent is bounded, and workers die with the parent (``_die_with_parent``).

    Parameters
    ----------
    project : evalcore.bundle.Project
    options : evalcore.engine.RunOptions
    n_workers : int
        Processes to start (>= 1).
    chunk_size : int, optional
        Samples a task carries; by default sized so that each worker gets several tasks.
    records : sequence of SampleRecord, optional
        The records the run will ask for: their first chunks go to the workers as soon as they
        have started (they work while the caller loads its models), and forked workers inherit
        them, so that a task names its records by position. ``prepare_all`` must then be given
        this same sequence.
    """

    def __init__(self, project, options, n_workers: int, *, chunk_size: int | None = None, records=None):
        self.project = project
        self.options = options
        self.n_workers = n_workers
        self.chunk_size = chunk_size
        self.records = records
        self.start_method = None
        self._workers: list[_Worker] = []
        self._feed: _Feed | None = None

    @property
    def pids(self) -> list[int]:
        """Process ids of the running workers."""
        return [w.process.pid for w in self._workers]

    def __enter__(self) -> PreparePool:
        global _FEATURIZER, _RECORDS
        import multiprocessing

        from evalcore.pipeline.featurize import SampleFeaturizer

        self.start_method = _start_method()
        context = multiprocessing.get_context(self.start_method)
        try:
            if self.start_method == "fork":
                # the children inherit the featurizer, the records and the CBOR kernel: nothing
                # is loaded twice
                _FEATURIZER = SampleFeaturizer(self.project, self.options)
                _RECORDS = self.records
                _load_cbor_kernel(_FEATURIZER)
                # Frozen objects are never scanned by the children's collector, so the pages
                # holding what they inherited are not copied just to be looked at.
                gc.freeze()
                try:
                    self._start_workers(context, ())
                finally:
                    gc.unfreeze()
                    _FEATURIZER = _RECORDS = None
            else:
                self._start_workers(context, (self.project.root, self.options))
            if self.records is not None:
                self._feed = self._new_feed(self.records, by_position=self.start_method == "fork")
                self._feed.fill()
        except BaseException:
            self._stop(graceful=False)
            raise
        return self

    def _start_workers(self, context, load_args: tuple) -> None:
        forked = self.start_method == "fork"
        for i in range(self.n_workers):
            task_reader, task_writer = context.Pipe(duplex=False)
            result_reader, result_writer = context.Pipe(duplex=False)
            _widen_pipe(result_reader)
            # a forked worker closes its copies of the earlier workers' parent ends, so that a
            # worker's pipes have no writer or reader but the parent and that worker
            inherited = [c for w in self._workers for c in (w.tasks, w.results)] if forked else []
            arena = _Arena(_CHUNKS_PER_WORKER, _SLOT_BYTES) if forked else None
            process = context.Process(
                target=_worker_main, name=f"evalcore-worker-{i}", daemon=True,
                args=(task_reader, result_writer, os.getpid(), inherited, arena, *load_args),
            )
            try:
                process.start()
            except BaseException:
                if arena is not None:
                    arena.close()
                raise
            finally:
                task_reader.close()
                result_writer.close()
            self._workers.append(_Worker(process, task_writer, result_reader, arena))

    def __exit__(self, exc_type, *exc) -> None:
        # an error or Ctrl-C: drop the queued chunks and stop the workers now
        self._stop(graceful=exc_type is None)

    def _stop(self, *, graceful: bool) -> None:
        """End every worker, within a bounded time whatever state they are in."""
        workers, self._workers = self._workers, []
        self._feed = None
        if graceful:
            for w in workers:
                with contextlib.suppress(OSError):
                    w.tasks.send(None)
            _join_all(workers, _EXIT_GRACE_S)
        for w in workers:
            if w.process.exitcode is None:
                w.process.terminate()
        _join_all(workers, _EXIT_GRACE_S)
        for w in workers:
            if w.process.exitcode is None:  # pragma: no cover - ignored SIGTERM (stopped, traced)
                w.process.kill()
        _join_all(workers, _EXIT_GRACE_S)
        for w in workers:
            w.close()

    def prepare_all(self, records):
        """Yield the prepared sample of each record, in order.

        On an error (a dead worker, a bad file) or when abandoned, the workers are stopped at
        once, not when the run has unwound to the end of the ``with`` block.
        """
        try:
            yield from self._prepare_all(records)
        except BaseException:
            self._stop(graceful=False)
            raise

    def _new_feed(self, records, *, by_position: bool = False) -> _Feed:
        size = self.chunk_size or max(1, min(16, len(records) // (self.n_workers * 8)))
        return _Feed(self, _Chunks(records, size), self.n_workers * _CHUNKS_PER_WORKER, by_position)

    def _prepare_all(self, records):
        feed, self._feed = self._feed, None
        if feed is not None and feed.chunks.records is not records:
            # a bug of the caller: the workers are busy with chunks of the pool's own records
            raise RuntimeError("PreparePool.prepare_all was given other records than the pool's `records`")
        if feed is None:
            by_position = records is self.records and self.start_method == "fork"
            feed = self._new_feed(records if isinstance(records, Sequence) else list(records), by_position=by_position)
        for index in range(len(feed.chunks)):
            feed.fill()
            while index not in feed.done:
                self._receive(feed.done, feed.chunks)
            prepared_chunk, error = feed.done.pop(index)
            feed.consumed = index + 1
            if error is not None:
                _raise_remote(error)
            for record, prepared in zip(feed.chunks[index], prepared_chunk, strict=True):
                prepared.outcome.record = record
                yield prepared

    def _send(self, index: int, feed: _Feed) -> bool:
        """Give chunk ``index`` to the least busy worker; False when every worker is full."""
        worker = min(self._workers, key=lambda w: len(w.held))
        if len(worker.held) >= _CHUNKS_PER_WORKER:
            return False
        worker.held.append(index)
        slot = None
        if worker.arena is not None:
            slot = worker.slots[index] = worker.arena.free.pop()
        try:
            worker.tasks.send((index, feed.task(index), slot))
        except OSError as err:  # the worker is gone (broken pipe)
            raise self._died(worker, feed.chunks) from err
        return True

    def _receive(self, done: dict, chunks) -> None:
        """Wait (bounded) for results; raise ``WorkerDiedError`` when a worker holding chunks died."""
        from multiprocessing.connection import wait

        ready = set(wait([w.results for w in self._workers] + [w.process.sentinel for w in self._workers],
                         timeout=_LIVENESS_POLL_S))
        for worker in list(self._workers):
            if worker.results in ready:
                try:
                    index, body, error, sizes = worker.results.recv()
                except (EOFError, OSError):  # closed: the worker is gone
                    pass
                else:
                    worker.held.remove(index)
                    slot = worker.slots.pop(index, None)
                    if sizes is not None:
                        body = _from_slot(body, sizes, worker.arena, slot)
                    if slot is not None:
                        worker.arena.free.append(slot)
                    done[index] = (body, error)
                    continue
            elif worker.process.sentinel not in ready and worker.process.exitcode is None:
                continue
            if worker.held:
                raise self._died(worker, chunks)
            # died idle: nothing is lost, the others carry on
            worker.close()
            self._workers.remove(worker)
            if not self._workers:
                raise WorkerDiedError("every worker process died; run with --workers 0 to find the cause")

    def _died(self, worker: _Worker, chunks) -> WorkerDiedError:
        worker.process.join(_LIVENESS_POLL_S)  # reaped, for its exit status
        code = worker.process.exitcode
        if code is None:
            how = "it stopped answering"
        elif code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit status {code}"
        held = ", ".join(f"{chunks[i][0].filename} .. {chunks[i][-1].filename}" if len(chunks[i]) > 1
                         else chunks[i][0].filename for i in sorted(worker.held))
        return WorkerDiedError(
            f"a worker process died while reading samples {held} ({how}: out of memory, a crash in a "
            "reader library, or a spawned worker that could not start: a script without an "
            "`if __name__ == \"__main__\":` guard); run with --workers 0 to find the sample"
        )


class _Feed:
    """The chunks of one ``prepare_all`` and how far the parent has sent and taken them.

    At most ``max_in_flight`` chunks past the last one the parent has taken are out (sent, or
    answered and not yet taken): workers never run far ahead of the models.
    """

    def __init__(self, pool: PreparePool, chunks: _Chunks, max_in_flight: int, by_position: bool):
        self.pool = pool
        self.chunks = chunks
        self.max_in_flight = max_in_flight
        self.by_position = by_position  # forked workers hold the records: tasks name positions
        self.next_to_send = 0
        self.consumed = 0  # chunks the parent has taken
        self.done: dict[int, tuple] = {}  # index -> (prepared list, error) of answered chunks

    def task(self, index: int):
        """What a task carries: ``(start, stop)`` positions in the inherited records, or the records."""
        if self.by_position:
            return self.chunks.bounds(index)
        return self.chunks[index]

    def fill(self) -> None:
        """Send chunks until the window is full or every worker holds its share."""
        while self.next_to_send < len(self.chunks) and self.next_to_send - self.consumed < self.max_in_flight:
            if not self.pool._send(self.next_to_send, self):
                return
            self.next_to_send += 1


def _widen_pipe(conn) -> None:
    """Give a result pipe ``_RESULT_PIPE_BYTES`` where the platform allows (Linux); else leave it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    request = getattr(fcntl, "F_SETPIPE_SZ", None)
    if request is None:  # pragma: no cover - not Linux
        return
    with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size for this user: keep 64 KiB
        fcntl.fcntl(conn.fileno(), request, _RESULT_PIPE_BYTES)


def _join_all(workers: list[_Worker], timeout: float) -> None:
    """Join the workers, all within ``timeout`` seconds together."""
    import time

    deadline = time.monotonic() + timeout
    for w in workers:
        if w.process.exitcode is None:
            w.process.join(max(0.0, deadline - time.monotonic()))


class _Chunks(Sequence):
    """Consecutive slices of ``size`` records, each built when it is asked for (the records of a
    large test set are not all held as objects at once: ``evalcore.data.records.RecordTable``).
    """

    def __init__(self, records, size: int):
        self.records, self.size = records, size

    def __len__(self) -> int:
        return -(-len(self.records) // self.size)

    def __getitem__(self, i: int) -> list:
        start, stop = self.bounds(i)
        return list(self.records[start:stop])

    def bounds(self, i: int) -> tuple[int, int]:
        """``(start, stop)`` positions of chunk ``i`` in the records."""
        if not 0 <= i < len(self):
            raise IndexError(i)
        return i * self.size, min((i + 1) * self.size, len(self.records))
