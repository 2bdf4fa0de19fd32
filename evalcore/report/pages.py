"""The response's per-sample parts on disk, and the response and its pages streamed from them.

A run's ``result[]`` entries and ``predictions[]`` rows are most of its bytes (~39 KB a motion
sample). The reduce writes each sample's two texts to a `SampleSpool` as soon as they exist and
keeps nothing of the sample in memory; the full response and its pages are then streamed from
the spool into their output files (`response_chunks`, `page_chunks`), so peak memory does not
grow with the number of samples.

A spool is three files in a private temporary folder: ``results`` (the entries joined with
``,``: exactly the inside of the ``result`` array), ``rows`` (the same for ``predictions``;
samples without rows add nothing) and ``index`` (per sample: id, offset and length of its entry
and of its rows, int64). Shards merge by sample id (`SampleSpool.merged`), copying byte ranges.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import shutil
import tempfile
import weakref
from array import array
from pathlib import Path

import numpy as np

from evalcore.errors import ConfigError

__all__ = ["SampleSpool", "paginate", "page_chunks", "remove_orphan_spools", "response_chunks", "to_utf8"]

#: Bytes copied at a time from a spool into an output file.
_COPY_CHUNK = 1 << 20
#: Index rows buffered in memory before they are appended to the index file.
_INDEX_BUFFER = 8192
_FIELDS = 5  # sample id, result offset, result length, rows offset, rows length

_EMPTY_HEAD = '{"success":true,"result":[],"predictions":[]'


def to_utf8(text: str) -> bytes:
    r"""``text`` as UTF-8, lone surrogates escaped as ``JSON.stringify`` writes them (``\udxxx``).

    Surrogate code points only occur inside string literals of the text (labels, names), where
    ``jsonio`` leaves them for the caller: pairs are joined, lone ones escaped.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        from evalcore.jsonio import escape_lone_surrogates

        return escape_lone_surrogates(text).encode("utf-8")


class SampleSpool:
    """Per-sample ``result`` / ``predictions`` texts of a run, on disk, in the order added.

    Parameters
    ----------
    folder : str or Path, optional
        Where the spool's temporary folder goes (default: the system's temporary folder). It is
        removed when the spool is closed or collected.
    """

    def __init__(self, folder=None):
        try:
            remove_orphan_spools(folder)
            self.path = Path(tempfile.mkdtemp(prefix=f"{_SPOOL_PREFIX}{os.getpid()}-", dir=folder))
            self._results = open(self.path / "results", "w+b")  # noqa: SIM115 (closed by close())
            self._rows = open(self.path / "rows", "w+b")  # noqa: SIM115
            self._index_file = open(self.path / "index", "w+b")  # noqa: SIM115
        except OSError as err:
            raise ConfigError(f"cannot create the run's temporary files in {folder or tempfile.gettempdir()}: "
                              f"{err.strerror or err}") from err
        self._finalizer = weakref.finalize(self, _remove, self.path, (self._results, self._rows, self._index_file))
        self._buffer = array("q")
        self._result_end = 0
        self._rows_end = 0
        self.count = 0
        self.ids_sorted = True
        self._last_id = None

    def __len__(self) -> int:
        return self.count

    def append(self, sample_id: int, result: bytes, rows: bytes) -> None:
        """Add one sample's entry (``result``, non-empty) and rows (``rows``, may be empty)."""
        try:
            if self.count:
                self._results.write(b",")
                self._result_end += 1
            self._results.write(result)
            rows_at = self._rows_end
            if rows:
                if rows_at:
                    self._rows.write(b",")
                    rows_at += 1
                self._rows.write(rows)
                self._rows_end = rows_at + len(rows)
        except OSError as err:
            raise ConfigError(f"cannot write the run's temporary files in {self.path}: {err.strerror or err}") from err
        self._buffer.extend((sample_id, self._result_end, len(result), rows_at, len(rows)))
        self._result_end += len(result)
        if self._last_id is not None and sample_id < self._last_id:
            self.ids_sorted = False
        self._last_id = sample_id
        self.count += 1
        if len(self._buffer) >= _INDEX_BUFFER * _FIELDS:
            self._flush_index()

    def extend(self, sample_ids: list, results: list, rows: list) -> None:
        """`append` each sample in order (``results[k]`` non-empty, ``rows[k]`` may be empty), with
        one write to each file for the lot.
        """
        if not sample_ids:
            return
        result_text = b",".join(results)
        if self.count:
            result_text = b"," + result_text
        taken = [r for r in rows if r]
        rows_text = b",".join(taken)
        if taken and self._rows_end:
            rows_text = b"," + rows_text
        try:
            self._results.write(result_text)
            self._rows.write(rows_text)
        except OSError as err:
            raise ConfigError(f"cannot write the run's temporary files in {self.path}: {err.strerror or err}") from err
        index = self._buffer
        result_at = self._result_end + (1 if self.count else 0)
        rows_end = self._rows_end
        last = self._last_id
        for sample_id, result, row in zip(sample_ids, results, rows, strict=True):
            rows_at = rows_end
            if row:
                if rows_at:
                    rows_at += 1
                rows_end = rows_at + len(row)
            index.extend((sample_id, result_at, len(result), rows_at, len(row)))
            result_at += len(result) + 1
            if last is not None and sample_id < last:
                self.ids_sorted = False
            last = sample_id
        self._result_end = result_at - 1
        self._rows_end = rows_end
        self._last_id = last
        self.count += len(sample_ids)
        if len(index) >= _INDEX_BUFFER * _FIELDS:
            self._flush_index()

    def _flush_index(self) -> None:
        if self._buffer:
            try:
                self._buffer.tofile(self._index_file)
            except OSError as err:
                raise ConfigError(f"cannot write the run's temporary files in {self.path}: {err.strerror or err}") from err
            self._buffer = array("q")

    def finish(self) -> None:
        """Flush everything to disk (before reading)."""
        self._flush_index()
        for handle in (self._results, self._rows, self._index_file):
            handle.flush()

    def index(self) -> np.ndarray:
        """The index, int64 of shape (n, 5): id, result offset / length, rows offset / length."""
        self.finish()
        if not self.count:
            return np.zeros((0, _FIELDS), dtype=np.int64)
        return np.memmap(self.path / "index", dtype=np.int64, mode="r", shape=(self.count, _FIELDS))

    def copy_range(self, which: str, start: int, length: int):
        """Yield the bytes ``[start, start + length)`` of ``results`` or ``rows``, in chunks."""
        handle = self._results if which == "results" else self._rows
        end = start + length
        while start < end:
            size = min(_COPY_CHUNK, end - start)
            data = os.pread(handle.fileno(), size, start)
            if not data:
                raise ConfigError(f"the run's temporary file {self.path / which} was cut short")
            start += len(data)
            yield data

    def size(self, which: str) -> int:
        """Bytes of ``results`` or ``rows`` written so far."""
        return self._result_end if which == "results" else self._rows_end

    def all_of(self, which: str):
        """Yield the whole ``results`` or ``rows`` text, in chunks."""
        self.finish()
        yield from self.copy_range(which, 0, self._result_end if which == "results" else self._rows_end)

    def close(self) -> None:
        """Remove the spool's files (idempotent)."""
        self._finalizer()

    @classmethod
    def merged(cls, spools, folder=None) -> SampleSpool:
        """One spool holding every sample of ``spools`` in sample-id order (shards of one run)."""
        out = cls(folder)
        indexes = [spool.index() for spool in spools]
        streams = [_by_id(k, index, spool.ids_sorted) for k, (spool, index) in enumerate(zip(spools, indexes))]
        for _, k, i in heapq.merge(*streams):
            spool, row = spools[k], indexes[k][i]
            result = b"".join(spool.copy_range("results", int(row[1]), int(row[2])))
            rows = b"".join(spool.copy_range("rows", int(row[3]), int(row[4])))
            out.append(int(row[0]), result, rows)
        out.finish()
        return out


_SPOOL_PREFIX = "evalcore-spool-"


def remove_orphan_spools(folder=None) -> list[Path]:
    """Delete the spool folders of runs that were killed (their process is gone).

    A spool folder is named after its process id; a run removes its own when it ends, so one whose
    process no longer exists was left by a run killed by a signal (or the machine going down).
    """
    removed = []
    base = Path(folder or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            name = entry.name
            if not name.startswith(_SPOOL_PREFIX) or not entry.is_dir() or entry.is_symlink():
                continue
            pid = name[len(_SPOOL_PREFIX):].partition("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _by_id(k: int, index: np.ndarray, ids_sorted: bool):
    """(sample id, spool number, row) of one spool's samples, in sample-id order."""
    ids = index[:, 0].tolist()
    order = range(len(ids)) if ids_sorted else np.argsort(index[:, 0], kind="stable").tolist()
    return ((ids[i], k, i) for i in order)


def _remove(path: Path, handles) -> None:
    for handle in handles:
        with contextlib.suppress(OSError):
            handle.close()
    shutil.rmtree(path, ignore_errors=True)


def _split_head(head: str) -> bytes:
    """What follows the two lists in a response (or page) written with both lists empty."""
    if not head.startswith(_EMPTY_HEAD):
        raise RuntimeError(f"unexpected response head {head[:80]!r}")
    return to_utf8(head[len(_EMPTY_HEAD):])


def response_chunks(head: str, spool: SampleSpool):
    """Yield the bytes of a response: ``head`` (its text with both lists empty) filled from ``spool``."""
    tail = _split_head(head)
    yield b'{"success":true,"result":['
    yield from spool.all_of("results")
    yield b'],"predictions":['
    yield from spool.all_of("rows")
    yield b"]" + tail


def page_chunks(head: str, spool: SampleSpool, start: int, stop: int):
    """Yield the bytes of the page holding samples ``start..stop-1`` (in spool order).

    ``head`` is the page's text with both lists empty (``totalCount`` set). A page holds the
    rows of every sample on it, in the same order.
    """
    tail = _split_head(head)
    index = spool.index()[start:stop]
    yield b'{"success":true,"result":['
    for k, row in enumerate(index):
        if k:
            yield b","
        yield from spool.copy_range("results", int(row[1]), int(row[2]))
    yield b'],"predictions":['
    first = True
    for row in index:
        if row[4]:
            if not first:
                yield b","
            first = False
            yield from spool.copy_range("rows", int(row[3]), int(row[4]))
    yield b"]" + tail


def paginate(response, page_size: int):
    """Split a response into ``ClassifyJobResponsePage``s of ``page_size`` samples each.

    Each page holds ``page_size`` entries of ``result`` (in order) and the predictions of those
    samples; ``totalCount`` is the number of samples, as Studio's page endpoint reports it.
    """
    from evalcore import schema

    total = len(response.result)
    by_sample: dict[int, list] = {}
    for p in response.predictions:
        by_sample.setdefault(p.sample_id, []).append(p)
    for start in range(0, max(total, 1), page_size):
        chunk = response.result[start : start + page_size]
        preds = [p for r in chunk for p in by_sample.get(r.sample_id, [])]
        yield schema.ClassifyJobResponsePage(success=True, result=chunk, predictions=preds, total_count=total)
