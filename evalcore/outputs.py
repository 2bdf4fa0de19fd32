"""The files of one ``evalcore run`` written as one transaction, under a lock.

A run writes ``result.json``, its sidecar ``result.run.json`` and, with ``--page-size``, the
pages ``page-<k>.json``. They must describe the same run, so they are written together:

1. every file goes to a hidden temporary file next to its target
   (``.<target name>.<12 hex digits>.tmp``, the pattern of `write_json_atomic`), is
   flushed and fsync'ed. This is the step that fails on a full disk, a read-only folder or a
   bad path; it changes nothing visible and its temporary files are removed on any failure;
2. only when every file is staged, the temporary files are renamed over their targets (pages
   first, ``result.json`` last), pages of an earlier run beyond the new last page are removed
   (only names of evalcore's own ``page-<int>.json`` pattern), and the folders are fsync'ed.

Renames need no space, so step 2 does not fail for the reasons step 1 does; a process killed
in the middle of either step leaves at most hidden temporary files, which the next run into
the same folder removes (only names of evalcore's own temp pattern for the files it writes).

A single file (``evalcore compare --json``, ``check``, the HTML report) is written the same way
on its own by `write_json_atomic`.

The folders written to are locked (``flock`` on the folder itself, so no lock file is left
behind) from before the leftover clean-up to after the renames: two runs writing the same
``--out`` take turns, so ``result.json`` and ``result.run.json`` always come from the same
run, and a temporary file seen under the lock belongs to no live writer. A second writer waits
up to ``LOCK_WAIT_S`` (writing takes seconds at most), then fails with one line.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from evalcore.errors import ConfigError
from evalcore.jsonio import dumps

__all__ = ["LOCK_WAIT_S", "OutputTransaction", "locked_folders", "remove_leftover_temps", "stale_pages",
           "is_page_name", "write_json_atomic", "fsync_directory"]

#: Seconds a run waits for another run writing to the same folder before it gives up.
LOCK_WAIT_S = 30.0

_LOCK_POLL_S = 0.05

#: Hidden temporary files of `write_json_atomic` and `OutputTransaction`.
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.[0-9a-f]{12}\.tmp")

#: Page files of ``--page-size``: ``page-0.json``, ``page-1.json``, ...
_PAGE_NAME = re.compile(r"page-(?P<k>0|[1-9][0-9]*)\.json")


def is_page_name(name: str) -> bool:
    """True for ``page-<k>.json`` (k a decimal integer without leading zeros)."""
    return _PAGE_NAME.fullmatch(name) is not None


class OutputTransaction:
    """Files staged as fsync'ed temporaries, then renamed together (`commit`) or removed (`abort`)."""

    def __init__(self):
        self._staged: list[tuple[Path, Path]] = []  # (temporary, target)
        self._folders: set[Path] = set()

    def stage(self, target: Path, data: bytes) -> None:
        """Write ``data`` to a new temporary file next to ``target`` (nothing visible changes)."""
        self.stage_chunks(target, (data,))

    def stage_chunks(self, target: Path, chunks) -> None:
        """Write the bytes of the iterable ``chunks`` to a new temporary file next to ``target``
        (nothing visible changes; the content is never whole in memory).

        Raises
        ------
        OSError
            With ``filename`` set to ``target`` (never the temporary's internal name).
        """
        target = Path(target)
        try:
            fd, tmp = _create_temp(target)
        except OSError as err:
            err.filename = str(target)
            raise
        self._staged.append((tmp, target))
        try:
            with os.fdopen(fd, "wb") as handle:
                for data in chunks:
                    handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            err.filename = str(target)
            raise
        self._folders.add(target.parent)

    def commit(self, *, remove=(), last=()) -> None:
        """Rename every staged file over its target, then delete ``remove``.

        Files are renamed in staging order, except that the targets in ``last`` come after all
        others, in the order given there.
        """
        late = [Path(t) for t in last]
        rank = {t: i for i, t in enumerate(late)}
        ordered = sorted(self._staged, key=lambda pair: rank.get(pair[1], -1))  # stable
        for tmp, target in ordered:
            try:
                os.replace(tmp, target)
            except OSError as err:
                err.filename, err.filename2 = str(target), None
                raise
            self._staged.remove((tmp, target))
        for path in remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for folder in self._folders:
            fsync_directory(folder)

    def abort(self) -> None:
        """Remove every staged temporary file; the targets are as they were."""
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._staged = []


def _create_temp(target: Path) -> tuple[int, Path]:
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file next to {target}")  # pragma: no cover


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write JSON (or ready-made bytes) to ``path`` atomically.

    The data goes to a temporary file in the same directory, is flushed and fsync'ed, and then
    replaces ``path`` with ``os.replace``. On any failure the temporary file is removed and
    ``path`` is left as it was (absent, or the previous file).

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its directory must exist.
    obj : bytes, bytearray, memoryview, or anything ``jsonio.dumps`` accepts
        Bytes are written as they are; anything else is serialised with ``jsonio.dumps`` first.

    Raises
    ------
    OSError
        When the directory is not writable, the disk is full, ...
    TypeError
        When ``obj`` cannot be serialised (nothing is written then).
    """
    target = Path(path)
    data = bytes(obj) if isinstance(obj, (bytes, bytearray, memoryview)) else dumps(obj)
    fd, tmp = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.filename is None:  # a write error (disk full) names no file
            raise OSError(err.errno, err.strerror, str(target)) from err
        raise
    fsync_directory(target.parent)


def fsync_directory(directory: Path) -> None:
    """Make renames in ``directory`` durable (skipped where the platform or file system cannot)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_leftover_temps(folder: Path, is_ours) -> list[Path]:
    """Delete hidden temporary files of evalcore's pattern whose target name ``is_ours(name)``.

    Call it only with ``folder`` locked (`locked_folders`): every writer holds the lock while
    its temporary files exist, so those found then were left by a killed process.
    """
    removed = []
    for entry in Path(folder).iterdir():
        match = _TEMP_NAME.fullmatch(entry.name)
        if match and is_ours(match["target"]) and entry.is_file() and not entry.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry)
    return removed


def stale_pages(folder: Path, n_pages: int) -> list[Path]:
    """``page-<k>.json`` files in ``folder`` with ``k >= n_pages`` (left by a run with more pages)."""
    out = []
    for entry in Path(folder).iterdir():
        match = _PAGE_NAME.fullmatch(entry.name)
        if match and int(match["k"]) >= n_pages and entry.is_file():
            out.append(entry)
    return sorted(out)


@contextlib.contextmanager
def locked_folders(folders, *, wait_s: float = LOCK_WAIT_S):
    """Hold an exclusive ``flock`` on each folder (deduplicated, in one order: no deadlock).

    Raises
    ------
    ConfigError
        Another process held a folder for ``wait_s`` seconds.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks on folders
        yield
        return
    real = sorted({os.path.realpath(f) for f in folders})
    fds = []
    try:
        for folder in real:
            fd = os.open(folder, os.O_RDONLY)
            fds.append(fd)
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ConfigError(
                            f"another evalcore run has been writing to {folder} for {wait_s:g} s; "
                            "wait for it to finish or write elsewhere"
                        ) from None
                    time.sleep(_LOCK_POLL_S)
        yield
    finally:
        for fd in fds:
            os.close(fd)  # releases the lock
