"""numba's one-time set-up on a background thread, without racing the other threads' imports.

numba's first kernel call in a process costs ~0.5-1 s, nearly all of it Python imports: its CPU
target imports ~200 modules, scipy's BLAS bindings among them. Paid on the main thread at the
first sample's reduce, it stalled the overlapped pipeline (the model thread waited for its next
batch), so the run starts it on a thread while the model runtime loads.

Two threads must not import at the same time, though: CPython 3.11's import system can lose a
package that another thread is initialising (``KeyError: 'scipy'`` from
``_find_and_load_unlocked``, seen in ~1 run in 10 under load when this thread imported scipy for
numba while the main thread imported ``scipy.fft`` for the MFCC block). So while the warm-up runs
it owns the import system: ``import`` statements and ``importlib.import_module`` calls made by
any other thread wait until it has finished, then proceed. The gate is installed just before the
thread starts and removed by the thread when it ends; the wait is bounded, so a stuck warm-up
can slow a run down but never hang it.
"""

from __future__ import annotations

import builtins
import importlib
import threading

__all__ = ["NumbaWarmup", "start_numba_warmup"]

#: Longest time another thread waits for the warm-up before importing anyway (seconds). The
#: warm-up takes ~1 s; this bound only matters if it ever got stuck.
GATE_TIMEOUT_S = 120.0

_lock = threading.Lock()
_warmed = False  # numba's target is set up in this process: later runs need no warm-up


def _warm_numba() -> None:
    """Set up numba's CPU target and load from the cache the kernels the reduce needs first: a
    confusion matrix and the number text of a sample's window results (``kernels.jsfloat``).
    """
    import numpy as np

    from kernels.confusion import confusion_matrix
    from kernels.jsfloat import js_object_rows, js_texts

    codes = np.zeros(1, dtype=np.int32)  # the dtype the accumulators pass
    confusion_matrix(codes, codes, 1)
    js_texts(np.zeros(1))
    js_object_rows(np.zeros((1, 1)), [b"{", b"}"])


def save_cbor_code() -> None:
    """Save the CBOR values kernel's machine code for worker processes (``kernels.cbor_reader``:
    they load it without numba) when it is missing or stale: a few seconds (5.3 s once, measured
    on a loaded machine), once per install.
    """
    from kernels import _native
    from kernels.cbor_reader import CBOR

    if _native.load(CBOR) is None and _native.can_build(CBOR):
        _native.build(CBOR)


class NumbaWarmup:
    """A warm-up thread that holds the import system while it runs (see the module docstring).

    Parameters
    ----------
    work : callable, optional
        What the thread runs (default: numba's set-up). Exceptions are swallowed: the warm-up is
        only a head start, and the run itself reports any failure of the same code.
    then : callable, optional
        What the thread runs next, once the gate is removed (other threads import freely); its
        exceptions are swallowed too. ``join`` waits for it.
    """

    def __init__(self, work=_warm_numba, then=None):
        self._work = work
        self._then = then
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="evalcore-numba-warmup", daemon=True)
        self._import = builtins.__import__
        self._import_module = importlib.import_module

    def start(self) -> NumbaWarmup:
        """Install the import gate, then start the thread."""
        builtins.__import__ = self._gated_import
        importlib.import_module = self._gated_import_module
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (the gate is gone once it has)."""
        self._thread.join(timeout)

    @property
    def done(self) -> bool:
        """True once the work has ended and the gate is removed."""
        return self._done.is_set()

    def _wait_turn(self) -> None:
        if not self._done.is_set() and threading.current_thread() is not self._thread:
            self._done.wait(GATE_TIMEOUT_S)

    def _gated_import(self, *args, **kwargs):
        self._wait_turn()
        return self._import(*args, **kwargs)

    def _gated_import_module(self, *args, **kwargs):
        self._wait_turn()
        return self._import_module(*args, **kwargs)

    def _remove_gate(self) -> None:
        # bound methods compare equal when they wrap the same function of the same object
        if builtins.__import__ == self._gated_import:
            builtins.__import__ = self._import
        if importlib.import_module == self._gated_import_module:
            importlib.import_module = self._import_module

    def _run(self) -> None:
        try:
            self._work()
        except Exception:  # noqa: BLE001 - only a head start (class docstring)
            pass
        finally:
            self._remove_gate()
            self._done.set()
        if self._then is not None:
            try:
                self._then()
            except Exception:  # noqa: BLE001 - a cache for later processes, not this run's numbers
                pass


class _Finished:
    """Stands in for a warm-up that is not needed (numba already set up, or one is running)."""

    done = True

    def join(self, timeout: float | None = None) -> None:
        """Nothing to wait for."""


def start_numba_warmup(*, save_worker_code: bool = False):
    """Start numba's set-up on a background thread, once per process; returns a handle to ``join``.

    ``save_worker_code``: then save the machine code worker processes load (`save_cbor_code`).
    A second call while a warm-up runs, or after one finished, starts nothing: one gate at a time.
    """
    global _warmed
    with _lock:
        if _warmed:
            return _Finished()
        _warmed = True
    return NumbaWarmup(then=save_cbor_code if save_worker_code else None).start()
