"""Ctrl-C while a model runtime imports must end the run as an interrupt, not as "not installed"."""

from __future__ import annotations

import builtins
import os
import signal
import time

import pytest

from evalcore.backends import ort
from evalcore.backends._imports import interrupts_held


def test_an_interrupt_in_the_block_is_raised_after_it():
    """Without it the interrupt would be raised inside the runtime's initialisation."""
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # Python runs its handler here: noted only
            steps.append("import finished")
    assert steps == ["import finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_interrupt_no_exception():
    with interrupts_held():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_the_onnxruntime_import_is_an_interrupt(monkeypatch):
    """Without it pybind11's ImportError ("initialization failed") for an interrupt during the
    module's init became "onnxruntime is not installed", exit 2 (test_faults' Ctrl-C test)."""
    real_import = builtins.__import__

    def interrupted_import(name, *args, **kwargs):
        if name == "onnxruntime":  # pybind11's module init: an error raised in it becomes ImportError
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
            except KeyboardInterrupt as err:
                raise ImportError("initialization failed") from err
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    with pytest.raises(KeyboardInterrupt):
        ort._import_ort()
