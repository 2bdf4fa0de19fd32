"""The numba warm-up thread must never import at the same time as another thread (issue: a
``KeyError: 'scipy'`` in ~1 run in 10 of ``evalcore run fixtures/kws --variant int8`` under load,
when the warm-up imported scipy for numba while the main thread imported ``scipy.fft``).

Two checks: a deterministic interleaving of the gate itself, and a real run in a fresh process in
which every module import is recorded with its thread: no other thread may import while the
warm-up thread is alive.
"""

from __future__ import annotations

import builtins
import importlib
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from evalcore.warmup import NumbaWarmup

REPO = Path(__file__).resolve().parents[1]


def _fresh_module(tmp_path: Path, name: str, events: list) -> None:
    (tmp_path / f"{name}.py").write_text(f"import tests_events\ntests_events.log.append('import {name}')\n")
    sys.modules["tests_events"] = type(sys)("tests_events")
    sys.modules["tests_events"].log = events


def _gated_import_waits(tmp_path, monkeypatch, do_import):
    events: list[str] = []
    _fresh_module(tmp_path, "ec_gate_probe", events)
    monkeypatch.syspath_prepend(str(tmp_path))
    started = threading.Event()

    def work():
        started.set()
        time.sleep(0.3)  # long enough that an ungated import would land first
        events.append("warm-up done")

    before = (builtins.__import__, importlib.import_module)
    warm = NumbaWarmup(work).start()
    started.wait()
    do_import("ec_gate_probe")
    warm.join()
    sys.modules.pop("ec_gate_probe", None)
    sys.modules.pop("tests_events", None)
    assert events == ["warm-up done", "import ec_gate_probe"]
    assert (builtins.__import__, importlib.import_module) == before, "the gate must be removed afterwards"
    assert warm.done


def test_import_statement_waits_for_the_warmup(tmp_path, monkeypatch):
    _gated_import_waits(tmp_path, monkeypatch, lambda name: __import__(name))


def test_import_module_waits_for_the_warmup(tmp_path, monkeypatch):
    _gated_import_waits(tmp_path, monkeypatch, lambda name: importlib.import_module(name))


def test_the_warmup_thread_imports_freely_and_failures_stay_silent():
    seen = []

    def work():
        import json as j  # an import inside the warm-up itself must not wait for itself

        seen.append(j.__name__)
        raise RuntimeError("only a head start")

    before = builtins.__import__
    warm = NumbaWarmup(work).start()
    warm.join(10)
    assert warm.done and seen == ["json"]
    assert builtins.__import__ is before


def test_then_runs_after_the_gate_is_gone_and_join_waits_for_it():
    """Without it saving the workers' machine code (seconds, the first time) would hold every
    other thread's imports, or outlive the run that joins the warm-up."""
    seen = []
    before = builtins.__import__

    def then():
        time.sleep(0.2)
        seen.append(builtins.__import__ is before)
        raise RuntimeError("a cache for later processes")

    warm = NumbaWarmup(lambda: None, then=then).start()
    warm.join(10)
    assert seen == [True] and warm.done


def test_a_run_with_workers_saves_the_code_workers_load(tmp_path, monkeypatch):
    """Without it workers would import numba on every run (~0.6 s of CPU each)."""
    from evalcore import warmup
    from evalcore.engine import RunOptions, run_bundle
    from kernels import _native
    from kernels.cbor_reader import CBOR

    saved = tmp_path / "cbor.bin"
    real_path = _native.native_path
    monkeypatch.setattr(_native, "native_path", lambda kset: str(saved) if kset is CBOR else real_path(kset))
    monkeypatch.setattr(_native, "_loaded", {})
    monkeypatch.setattr(warmup, "_warmed", False)
    run_bundle(REPO / "fixtures" / "motion", RunOptions(workers=2, quiet=True))
    assert saved.is_file() and _native._load(CBOR) is not None


_RECORDER = textwrap.dedent(
    """
    import json, sys, threading, time
    log = []

    class Recorder:
        # a meta-path finder sees every import that is not already in sys.modules
        @staticmethod
        def find_spec(name, path=None, target=None):
            log.append((time.monotonic(), threading.current_thread().name, name))
            return None

    sys.meta_path.insert(0, Recorder)
    import evalcore.warmup as warmup

    window = {}
    real_run = warmup.NumbaWarmup._run

    def timed_run(self):
        window["start"] = time.monotonic()
        real_run(self)
        window["end"] = time.monotonic()

    warmup.NumbaWarmup._run = timed_run
    from evalcore.cli import main

    code = main(sys.argv[1:])
    print(json.dumps({"code": code, "window": window, "log": log}))
    """
)


def test_no_other_thread_imports_while_the_warmup_runs(tmp_path):
    """A real kws int8 run (the command that crashed): record every fresh import and its thread."""
    script = tmp_path / "record.py"
    script.write_text(_RECORDER)
    out = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, str(script), "run", str(REPO / "fixtures" / "kws"), "--variant", "int8",
         "--out", str(out), "--workers", "0", "-q"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    start, end = report["window"]["start"], report["window"]["end"]
    warm_imports = [name for t, thread, name in report["log"] if thread == "evalcore-numba-warmup"]
    assert any(name.startswith("scipy") for name in warm_imports), "the warm-up should import numba's scipy parts"
    overlapping = [(thread, name) for t, thread, name in report["log"]
                   if start <= t <= end and thread != "evalcore-numba-warmup"]
    assert overlapping == []
