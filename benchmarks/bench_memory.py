"""Peak memory of a whole ``evalcore run`` against the number of samples (issue 13, flat memory).

Builds copies of the committed ``fixtures/motion`` bundle with N testing samples (default 1k,
5k, 20k and 100k): its impulse, DSP and models unchanged (flatten, 21 features, classifier +
K-means), and N acquisition files that are hard links (a copy where links are refused) of its 10
real testing CBOR files under distinct names, listed in a generated ``dataset/info.labels``
(18.9 windows a sample). Building 100k samples takes seconds and almost no disk; built bundles
are kept under ``--work`` and reused.

Each measurement is one fresh child process ``python -m evalcore run BUNDLE --out OUT -q`` with
the options of a configuration (``w0``: ``--workers 0``; ``auto``: ``--workers auto``; ``pages``:
``--workers 0 --page-size 1000 --out-dir DIR``). Reported per run: wall seconds, the child's
peak RSS (``ru_maxrss`` from ``os.wait4``, exact; with workers, the largest single process), the
largest summed PSS of the child and its workers (sampled every 0.1 s) and the peak's ratio to
the smallest N's peak of the same configuration. Issue 13's goal: the 100k peak within 1.3x of
the 1k peak. Memory figures are robust on a shared machine; the seconds are not.

Usage::

    python benchmarks/bench_memory.py [--sizes 1000,5000,20000,100000] [--configs w0,auto,pages]
                                      [--work DIR] [--json FILE] [--evalcore SOURCE_TREE]

``--evalcore`` measures another source tree (e.g. ``git archive <commit> | tar -x -C /tmp/before``)
on the same bundles, for a before/after pair.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import add_run_options, measure, unknown_configs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "motion"
CONFIGS = {
    "w0": ["--workers", "0"],
    "auto": ["--workers", "auto"],
    "pages": ["--workers", "0", "--page-size", "1000", "--out-dir", "{pages}"],
}


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (no disk, no copy time); copy it where links are refused."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def build_motion(work: Path, n_samples: int) -> Path:
    """The motion bundle with ``n_samples`` testing samples under ``work`` (reused if built)."""
    bundle = work / f"motion-{n_samples}"
    done = bundle / "built.json"
    if done.is_file() and json.loads(done.read_text()).get("samples") == n_samples:
        return bundle
    shutil.rmtree(bundle, ignore_errors=True)
    bundle.mkdir(parents=True)
    shutil.copyfile(FIXTURE / "impulse.json", bundle / "impulse.json")
    shutil.copytree(FIXTURE / "dsp", bundle / "dsp")
    shutil.copytree(FIXTURE / "learn", bundle / "learn")
    templates = [e for e in json.loads((FIXTURE / "dataset" / "info.labels").read_text())["files"]
                 if e["category"] == "testing"]
    store = work / "templates"  # the link targets live outside the bundle, on the same disk
    store.mkdir(exist_ok=True)
    for entry in templates:
        if not (store / Path(entry["path"]).name).is_file():
            shutil.copyfile(FIXTURE / "dataset" / entry["path"], store / Path(entry["path"]).name)
    testing = bundle / "dataset" / "testing"
    testing.mkdir(parents=True)
    files = []
    for i in range(n_samples):
        entry = templates[i % len(templates)]
        source = Path(entry["path"])
        name = f"{entry['name']}.c{i}"
        link_or_copy(store / source.name, testing / f"{name}{source.suffix}")
        files.append(dict(entry, path=f"testing/{name}{source.suffix}", name=name))
    (bundle / "dataset" / "info.labels").write_text(json.dumps({"version": 1, "files": files}))
    done.write_text(json.dumps({"samples": n_samples}))
    return bundle


def run_once(bundle: Path, config: list[str], out_dir: Path, tree: Path = ROOT) -> dict:
    """One fresh ``evalcore run`` child: seconds, peak RSS, tree PSS, samples and windows."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    pages = out_dir / "pages"
    options = [a.replace("{pages}", str(pages)) for a in config]
    if "--out-dir" in config:
        pages.mkdir()
    argv = [sys.executable, "-m", "evalcore", "run", str(bundle), "--out", str(out_dir / "result.json"), "-q",
            *options]
    row = measure(argv, env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tree)  # -m imports from cwd
    info = json.loads((out_dir / "result.run.json").read_text())
    row.update(samples=info["samples"], windows=info["windows"])
    return row


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


HEADER = (f"{'config':7} {'samples':>8} {'windows':>9} {'peak RSS MB':>12} {'x first':>8} "
          f"{'tree PSS MB':>12} {'x first':>8} {'seconds':>8}")


def format_row(row: dict) -> str:
    """One table line; ratios are to the first size of the same configuration."""
    return (f"{row['config']:7} {row['samples']:8d} {row['windows']:9d} {row['peak_rss_mb']:12.0f} "
            f"{row['rss_ratio']:8.2f} {_fmt(row['tree_pss_mb'], '12.0f')} "
            f"{_fmt(row['pss_ratio'], '8.2f')} {row['seconds']:8.1f}")


def run(sizes: list[int], configs: list[str], work: Path, tree: Path = ROOT) -> list[dict]:
    """Measure every (configuration, size); sizes in the outer loop so a long run reports early."""
    bundles = {n: build_motion(work, n) for n in sizes}
    run_once(bundles[sizes[0]], CONFIGS["w0"], work / "out-memory", tree)  # warm numba cache and page cache
    rows, first = [], {}
    print(HEADER, flush=True)
    for n in sizes:
        for name in configs:
            row = dict(run_once(bundles[n], CONFIGS[name], work / "out-memory", tree), config=name)
            base = first.setdefault(name, row)
            row["rss_ratio"] = row["peak_rss_mb"] / base["peak_rss_mb"]
            row["pss_ratio"] = (row["tree_pss_mb"] / base["tree_pss_mb"]
                                if row["tree_pss_mb"] and base["tree_pss_mb"] else None)
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    """The command line (also used by the smoke test)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000,100000", help="comma-separated sample counts")
    add_run_options(parser, CONFIGS, ROOT)
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    unknown = unknown_configs(args, CONFIGS)
    if unknown or not args.sizes or min(args.sizes) < 1:
        parser.error(f"bad --configs {unknown} or --sizes {args.sizes}")
    return args


def main(argv=None) -> None:
    """Build, measure, print, and write the JSON rows when asked."""
    args = parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="evalcore-bench-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        rows = run(args.sizes, args.configs, work, args.evalcore.resolve())
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
