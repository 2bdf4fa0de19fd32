"""``evalcore coco-eval GT DT`` as a whole process, against the other evaluators' whole scripts.

Issue 14's row: what a user waits for, from ``python`` starting to the 12 stats printed, with a
warm numba cache. Each peer runs the shortest script that gives the same stats
(``COCO(gt)``, ``loadRes(dt)``, ``evaluate()``, ``accumulate()``, ``summarize()``). Commands run
in interleaved rounds (every command once per round, in a rotated order) so that the shared
machine's drift hits all of them alike; the table gives min and median wall time, each as a ratio
of the anchor's (the fastest peer unless ``--anchor`` says otherwise), the load average around
the timed rounds, and whether each command's 12 stats are evalcore's bits (evalcore's through
``--json``, the peers' as printed by ``repr``).

Usage::

    python benchmarks/bench_coco_cli.py --rounds 9                       # d5k (generated once)
    python benchmarks/bench_coco_cli.py --rounds 9 --evalcore before=/tmp/old-checkout

``--evalcore NAME=PATH`` adds another evalcore source tree (e.g. an older commit's
``git archive``) run the same way, for before/after ratios in one run. The data set is
``bench_coco.py``'s ``d5k`` (``--data-dir`` keeps it between runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_coco  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

PEER_SCRIPT = """
import contextlib, io, sys
lib, gt_path, dt_path = sys.argv[1:4]
if lib == "pycocotools":
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
elif lib == "ultrafast-pycocotools":
    from ultrafast_pycocotools import COCO, COCOeval
elif lib == "faster-coco-eval":
    from faster_coco_eval import COCO
    from faster_coco_eval import COCOeval_faster as COCOeval
else:
    from hotcoco import COCO, COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(gt_path)
    ev = COCOeval(gt, gt.loadRes(dt_path), "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
print(" ".join(repr(float(s)) for s in ev.stats))
"""

def commands(gt_path, dt_path, peers, trees):
    """Name -> (argv, env) of every command to time."""
    cmds = {}
    for name, tree in trees.items():
        env = dict(os.environ, PYTHONPATH=str(tree))
        cmds[name] = ([sys.executable, "-m", "evalcore", "coco-eval", str(gt_path), str(dt_path)],
                      env, tree)
    for lib in peers:
        cmds[lib] = ([sys.executable, "-c", PEER_SCRIPT, lib, str(gt_path), str(dt_path)],
                     dict(os.environ), ROOT)
    return cmds


def run_once(argv, env, cwd):
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed:\n{proc.stderr[-2000:]}")
    return wall


def stats_of(name, argv, env, cwd):
    """The 12 stats a command gives, as floats (evalcore's through ``--json``)."""
    if name.startswith("evalcore"):
        argv = [*argv, "--json"]
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    if name.startswith("evalcore"):
        return list(json.loads(proc.stdout)["stats"].values())
    return [float(v) for v in proc.stdout.split()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--peers", default="hotcoco,ultrafast-pycocotools,faster-coco-eval",
                        help="comma-separated (pycocotools takes ~90 s a run on d5k)")
    parser.add_argument("--evalcore", action="append", default=[], metavar="NAME=PATH",
                        help="another evalcore source tree to time (repeatable)")
    parser.add_argument("--anchor", default=None, help="command whose median is 1.0 (default: fastest peer)")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)

    folder = Path(args.data_dir or tempfile.mkdtemp(prefix="bench-coco-cli-"))
    folder.mkdir(parents=True, exist_ok=True)
    gt_path, dt_path = bench_coco.write_set(folder, "d5k", 5000, False)
    trees = {"evalcore": ROOT}
    for spec in args.evalcore:
        name, _, path = spec.partition("=")
        trees[f"evalcore {name}"] = Path(path).resolve()
    peers = [p for p in args.peers.split(",") if p]
    cmds = commands(gt_path, dt_path, peers, trees)
    stats = {}
    for name, (cmd, env, cwd) in cmds.items():  # warm-up: numba caches, page cache, imports
        run_once(cmd, env, cwd)
        stats[name] = stats_of(name, cmd, env, cwd)
    load_before = os.getloadavg()
    times = {name: [] for name in cmds}
    names = list(cmds)
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            cmd, env, cwd = cmds[name]
            times[name].append(run_once(cmd, env, cwd))
    load_after = os.getloadavg()
    medians = {name: statistics.median(t) for name, t in times.items()}
    anchor = args.anchor or min(peers, key=medians.get, default="evalcore")
    print(f"d5k whole process, {args.rounds} interleaved rounds; anchor {anchor}; load average "
          f"(1, 5, 15 min) {' '.join(f'{v:.2f}' for v in load_before)} before, "
          f"{' '.join(f'{v:.2f}' for v in load_after)} after; {os.cpu_count()} CPUs")
    print(f"{'command':<26} {'min s':>7} {'median s':>9} {'median / anchor':>16} "
          f"{'min / anchor':>13}  stats")
    for name in names:
        same = "same bits as evalcore" if stats[name] == stats["evalcore"] else \
            f"differ from evalcore: {stats[name]}"
        print(f"{name:<26} {min(times[name]):>7.2f} {medians[name]:>9.2f} "
              f"{medians[name] / medians[anchor]:>16.2f} "
              f"{min(times[name]) / min(times[anchor]):>13.2f}  {same}")


if __name__ == "__main__":
    main()
