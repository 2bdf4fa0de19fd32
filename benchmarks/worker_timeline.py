"""Where a run's CPUs go: a timeline of one `evalcore run` with worker processes (Linux, /proc).

Starts the command given after ``--``, samples every 50 ms the CPU time of the parent's main
thread, of its other threads (the model thread, numba's warm-up) and of each worker process's
main thread, and prints the cores each used per time bin, then per process: how long it was
alive, on a CPU, waiting for a CPU (``/proc/.../schedstat``: another process had it, the
machine's load) and blocked (neither: waiting for a pipe, a task, a result). A worker that is
blocked while the parent waits for it is the pool's own loss; waiting for a CPU is the load's.

    python benchmarks/worker_timeline.py --bin 1 -- python -m evalcore run BUNDLE --out r.json -q --workers auto
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time

_HZ = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(stat_path: str) -> float | None:
    """utime + stime of a /proc stat file."""
    try:
        with open(stat_path) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _HZ


def _schedstat(pid: int) -> tuple[float, float] | None:
    """(seconds on a CPU, seconds waiting for one) of a process's main thread."""
    try:
        with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
            run_ns, wait_ns, _ = f.read().split()
    except OSError:
        return None
    return int(run_ns) / 1e9, int(wait_ns) / 1e9


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def sample(argv: list[str], period: float = 0.05):
    """Run ``argv``; return (wall seconds, samples, per-process schedstat records)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv)
    samples = []  # (t, {name: cpu seconds})
    workers: list[int] = []
    sched = {}  # name -> [first seen, last seen, on cpu, waiting]
    last_whole = 0.0
    while proc.poll() is None:
        t = time.perf_counter() - t0
        whole = _cpu_seconds(f"/proc/{proc.pid}/stat")
        main = _cpu_seconds(f"/proc/{proc.pid}/task/{proc.pid}/stat")
        if whole is None or main is None:
            break
        last_whole = max(last_whole, whole)
        snap = {"parent-main": main, "parent-threads": last_whole - main}
        workers += [c for c in _children(proc.pid) if c not in workers]
        targets = [("parent-main", proc.pid)] + [(f"worker{i}", pid) for i, pid in enumerate(workers)]
        for name, pid in targets:
            if name != "parent-main":
                cpu = _cpu_seconds(f"/proc/{pid}/task/{pid}/stat")
                if cpu is not None:
                    snap[name] = cpu
            stat = _schedstat(pid)
            if stat is not None:
                rec = sched.setdefault(name, [t, t, 0.0, 0.0])
                rec[1], rec[2], rec[3] = t, stat[0], stat[1]
        samples.append((t, snap))
        time.sleep(period)
    proc.wait()
    return time.perf_counter() - t0, samples, sched


def report(wall: float, samples: list, sched: dict, bin_s: float) -> None:
    """Print the timeline (cores used per bin) and the per-process summary."""
    names = list(dict.fromkeys(k for _, snap in samples for k in snap))
    print(f"wall {wall:.2f} s; cores used per {bin_s:g} s bin")
    print("    t " + " ".join(f"{n:>14}" for n in names) + "    sum")
    start_t, start = 0.0, {}
    for t, snap in samples:
        if t - start_t < bin_s:
            continue
        used = [(snap.get(n, 0.0) - start.get(n, 0.0)) / (t - start_t) if n in snap else 0.0 for n in names]
        print(f"{start_t:5.1f} " + " ".join(f"{u:14.2f}" for u in used) + f" {sum(used):6.2f}")
        start_t, start = t, {**start, **snap}
    for name, (first, last, on_cpu, waiting) in sched.items():
        alive = last - first
        print(f"{name:12s} alive {alive:6.2f} s  on a CPU {on_cpu:6.2f}  waiting for a CPU {waiting:6.2f}"
              f"  blocked {max(0.0, alive - on_cpu - waiting):6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", type=float, default=0.5, help="seconds per timeline row")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("give the command to run after --")
    report(*sample(command), args.bin)


if __name__ == "__main__":
    main()
