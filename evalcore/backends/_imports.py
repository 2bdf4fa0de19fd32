"""Importing a model runtime (a native extension) with Ctrl-C held back until it is loaded.

onnxruntime, LiteRT and akida are pybind11 extensions whose import takes ~0.1-1 s. pybind11
turns any Python error raised while a module initialises into ``ImportError``, so a Ctrl-C that
landed during that window came out as "onnxruntime is not installed" with exit 2 (seen in
``tests/test_faults.py``'s Ctrl-C test once the run reached its model sooner). While a runtime
imports on the main thread, SIGINT is only noted; the interrupt is raised as soon as the import
has finished (or failed), so the run ends as any interrupted run does (exit 130).
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["interrupts_held"]


@contextlib.contextmanager
def interrupts_held():
    """Hold SIGINT back for the block (main thread only: Python handles signals there alone)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield  # a handler not set from Python is left alone
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and previous is not signal.SIG_IGN:
            signal.raise_signal(signal.SIGINT)  # now handled as usual: KeyboardInterrupt, or the default
