"""Run one command in a fresh child process and report its wall time and peak memory.

Shared by ``bench_memory.py`` and ``bench_million.py``. Two memory figures per run:

- ``peak_rss_mb``: the kernel's own high-water mark, ``ru_maxrss`` from ``os.wait4`` on that one
  child (Linux folds in the largest of the child's own reaped children, so with worker
  processes it is the largest single process, not their sum). Exact, no sampling.
- ``tree_pss_mb``: the largest sum of PSS (proportional set size: shared pages split between
  the processes sharing them, so forked workers are not counted twice) over the child and all
  its descendants, sampled from ``/proc/<pid>/smaps_rollup`` every ``poll`` seconds. A sample,
  so it can miss a short spike; ``None`` where ``/proc`` has no ``smaps_rollup``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        kids: list[int] = []
        for task in tasks:
            text = (task / "children").read_text()
            kids += [int(k) for k in text.split()]
        return kids
    except OSError:
        return []


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_kb(pid: int) -> int:
    """The summed PSS in KB of ``pid`` and every descendant alive now."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _pss_kb(p)
        todo += _children(p)
    return total


def measure(argv: list[str], env: dict | None = None, poll: float = 0.1, cwd: Path | None = None) -> dict:
    """Run ``argv`` to completion; return seconds, peak RSS and sampled tree PSS (MB).

    Standard error goes to a temporary file (a pipe nobody reads could fill and stall the
    child). Raises ``RuntimeError`` with its end when the child exits non-zero. ``cwd`` matters
    for ``python -m``: the working folder comes first on ``sys.path``, before ``PYTHONPATH``.
    """
    can_sample = Path(f"/proc/{os.getpid()}/smaps_rollup").exists()
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        peak_tree = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if can_sample:
                peak_tree = max(peak_tree, tree_pss_kb(proc.pid))
            time.sleep(poll)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(argv[:6])} ... exited {proc.returncode}:\n{tail}")
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024,
            "tree_pss_mb": peak_tree / 1024 if can_sample else None}


def add_run_options(parser, configs, root: Path) -> None:
    """The options every peak-memory script shares: which configurations, where the bundles are
    kept, a JSON copy of the rows, and which evalcore tree runs."""
    parser.add_argument("--configs", default=",".join(configs), help=f"comma-separated subset of {list(configs)}")
    parser.add_argument("--work", type=Path, default=None, help="keep the built bundles here (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    parser.add_argument("--evalcore", type=Path, default=root,
                        help="evalcore source tree to measure, e.g. a `git archive` of an older commit "
                             "(default: this checkout)")


def unknown_configs(args, configs) -> list[str]:
    """Split ``args.configs`` into a list (in place) and return the names not in ``configs``."""
    args.configs = [c for c in args.configs.split(",") if c]
    return sorted(set(args.configs) - set(configs))
