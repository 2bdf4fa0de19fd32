"""Time one of Edge Impulse's processing blocks in its own process, on request (used by bench_dsp.py).

Edge Impulse's blocks each ship their own top-level ``common`` package and load speechpy in
different ways, so one process may import only one block (``shared/golden/dsp/README.md``). They
also need numpy/scipy older than evalcore's, so ``bench_dsp.py`` may start this script with
another interpreter (``--ei-python``). It is never imported by evalcore.

Usage (by bench_dsp.py)::

    python ei_worker.py EI_CHECKOUT BLOCK_DIR

then one JSON request a line on standard input, one JSON reply a line on standard output:

- ``{"op": "load", "windows": PATH.npy, "version": V, "axes": [...], "sampling_freq": FS,
  "params": {...}}`` loads the windows and the configuration; replies with the features of the
  first ``n_check`` windows (for the parity check) and the library versions;
- ``{"op": "time", "seconds": S}`` calls ``generate_features`` on one window after the other
  (cycling) for about ``S`` seconds; replies with the mean milliseconds per call;
- ``{"op": "quit"}``.

Shims, none of which changes any arithmetic (they only matter on numpy >= 2 / Python >= 3.11,
as the golden README's "Running the reference on a newer stack" describes):
``importlib.util`` is imported before the block (the MFE and MFCC ``dsp.py`` use it without
importing it), and ``np.lib.pad`` is aliased to ``np.pad`` when numpy no longer has it.
"""

from __future__ import annotations

import importlib
import importlib.util  # noqa: F401  (shim: the MFE/MFCC dsp.py use importlib.util unimported)
import json
import os
import sys
import time

import numpy as np


def _load_block(checkout: str, block_dir: str):
    """Import ``BLOCK_DIR/dsp.py`` of the checkout with only that block on sys.path."""
    if not hasattr(np.lib, "pad"):
        np.lib.pad = np.pad  # shim: numpy >= 2 removed the alias speechpy calls
    root = os.path.join(checkout, block_dir)
    sys.path.insert(0, root)
    os.chdir(root)
    return importlib.import_module("dsp")


def main() -> None:
    """Serve load/time requests until ``quit`` or end of input."""
    checkout, block_dir = sys.argv[1], sys.argv[2]
    reply = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # anything the block prints must not corrupt the replies
    dsp = _load_block(checkout, block_dir)
    state: dict = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            break
        if request["op"] == "load":
            windows = np.load(request["windows"], allow_pickle=False)
            state = {"windows": windows, "next": 0, **{k: request[k] for k in ("version", "axes",
                                                                               "sampling_freq", "params")}}
            first = [_call(dsp, state, windows[i]) for i in range(min(request.get("n_check", 4), len(windows)))]
            reply.write(json.dumps({"features": [np.asarray(f, dtype=np.float64).tolist() for f in first],
                                    "numpy": np.__version__, "scipy": _version("scipy"),
                                    "python": sys.version.split()[0]}) + "\n")
        elif request["op"] == "time":
            reply.write(json.dumps({"ms_per_call": _time(dsp, state, request["seconds"])}) + "\n")


def _version(module: str) -> str:
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return "-"


def _call(dsp, state: dict, window: np.ndarray):
    out = dsp.generate_features(state["version"], False, window, state["axes"], state["sampling_freq"],
                                **state["params"])
    return out["features"]


def _time(dsp, state: dict, seconds: float) -> float:
    """Mean ms per generate_features call over about ``seconds``, one window after the other."""
    windows, n_windows = state["windows"], len(state["windows"])
    index, n_calls = state["next"], 0
    start = time.perf_counter()
    while True:
        _call(dsp, state, windows[index])
        index = (index + 1) % n_windows
        n_calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    state["next"] = index
    return elapsed / n_calls * 1000


if __name__ == "__main__":
    main()
