"""Every benchmark in one run, and one summary table of ratios in ``benchmarks/README.md``.

Runs each script of ``benchmarks/`` in its own process with small but meaningful settings
(``--quick``: a smoke pass of a few minutes), reads its figures (``--json`` where the script has
it, else its printed table), and rewrites the table between ``<!-- run_all:begin -->`` and
``<!-- run_all:end -->`` in ``benchmarks/README.md`` (appended with a heading when the markers are
missing; with ``--only``, only the rows of the benchmarks run are replaced). Each row is one
figure: evalcore's value, its anchor measured in the same script run (interleaved where the
script interleaves), and ``ratio = evalcore / anchor`` (time or memory:
below 1 evalcore is faster or smaller), with the command that produced it. A benchmark that
cannot run here (no Edge Impulse checkout for the DSP anchor, no chromium, a peer library not
installed, an option evalcore does not have yet) gives a row that says so instead of a ratio; a
benchmark that fails gives a row with the end of its error, and the others still run.

Usage::

    python benchmarks/run_all.py [--quick] [--only run,memory,...] [--ei-path DIR --ei-python PY]
                                 [--readme benchmarks/README.md] [--no-write] [--work DIR]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"
HEADING = "## Every benchmark in one run — `run_all.py` (issue 16)"


class Skip(Exception):
    """A benchmark that cannot run on this machine; the message says why."""


class Context:
    """What every benchmark function gets: the options, a work folder and the runner."""

    def __init__(self, args: argparse.Namespace, work: Path):
        self.args, self.quick, self.work = args, args.quick, work
        self.env = dict(os.environ, PYTHONPATH=str(ROOT))

    def run(self, script: str, options: list[str], hidden: list[str] | None = None) -> tuple[str, str]:
        """Run ``benchmarks/<script> options + hidden``; (stdout, the command as a user types it).

        ``hidden`` options (temporary JSON paths) are left out of the displayed command.
        """
        argv = [sys.executable, str(HERE / script), *options, *(hidden or [])]
        shown = " ".join(["python", f"benchmarks/{script}", *(_quote(o) for o in options)])
        print(f"$ {shown}", flush=True)
        proc = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=self.args.timeout, check=False)
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["(no error output)"])[-1]
            raise RuntimeError(f"{shown} exited {proc.returncode}: {tail}")
        return proc.stdout, shown

    def json_path(self, name: str) -> Path:
        """A fresh temporary JSON path for a script's ``--json`` output."""
        path = self.work / f"{name}.json"
        path.unlink(missing_ok=True)
        return path


def _quote(option: str) -> str:
    return f'"{option}"' if " " in option else option


def row(figure: str, evalcore: str, anchor: str, ratio: float | None, command: str, note: str = "") -> dict:
    """One line of the summary table."""
    return {"figure": figure, "evalcore": evalcore, "anchor": anchor, "ratio": ratio, "command": command,
            "note": note}


# --- the benchmarks ------------------------------------------------------------------------------


def bench_run(ctx: Context) -> list[dict]:
    """``evalcore run`` vs bare batched onnxruntime, and two workers vs none (bench_run.py)."""
    options = (["--samples", "200", "--repeat", "1", "--models", "mlp"] if ctx.quick
               else ["--samples", "1000", "--repeat", "3"])
    out = ctx.json_path("run")
    _, cmd = ctx.run("bench_run.py", options, ["--json", str(out)])
    rows = []
    for r in json.loads(out.read_text()):
        label = f"{r['model']}, {r['windows']:,} windows"
        rows.append(row(f"`evalcore run` (w=0) vs bare batched onnxruntime, {label}", f"{r['w0']:.3f} s",
                        f"bare ORT {r['bare_ort']:.3f} s", r["w0"] / r["bare_ort"], cmd))
        rows.append(row(f"workers 2 vs 0, {label}", f"w=2 {r['w2']:.3f} s", f"w=0 {r['w0']:.3f} s",
                        r["w2"] / r["w0"], cmd))
    return rows


def bench_dsp(ctx: Context) -> list[dict]:
    """DSP blocks vs Edge Impulse's processing-blocks in the same run (bench_dsp.py)."""
    if not ctx.args.ei_path:
        raise Skip("no --ei-path (a checkout of edgeimpulse/processing-blocks at 9b0ceb2; README: DSP blocks)")
    options = ["--ei-path", str(ctx.args.ei_path), "--ei-python", ctx.args.ei_python or sys.executable]
    options += ["--rounds", "1", "--seconds", "0.05", "--only", "mfcc"] if ctx.quick else ["--rounds", "3"]
    out = ctx.json_path("dsp")
    _, cmd = ctx.run("bench_dsp.py", options, ["--json", str(out)])
    found = [r for r in json.loads(out.read_text()) if r.get("ei")]
    if not found:
        raise RuntimeError("bench_dsp.py gave no row with an Edge Impulse time")
    rows = []
    for key, what in (("one", "one window a call"), ("batched", "batched")):
        worst = max(found, key=lambda r: r[key] / r["ei"])
        ratios = [r[key] / r["ei"] for r in found]
        rows.append(row(f"DSP blocks vs EI processing-blocks, {what}: slowest of {len(found)} configs "
                        f"({worst['label']}); median ratio {statistics.median(ratios):.2f}",
                        f"{worst[key]:.4f} ms/win", f"EI {worst['ei']:.3f} ms/win", worst[key] / worst["ei"], cmd))
    return rows


COCO_PEERS = ["pycocotools", "faster-coco-eval", "hotcoco", "ultrafast-pycocotools"]


def bench_coco(ctx: Context) -> list[dict]:
    """COCO evaluate + accumulate in-process vs the four peers (bench_coco.py)."""
    options = ["--libs", ",".join(["evalcore", *COCO_PEERS])]
    options += ["--quick"] if ctx.quick else []
    out = ctx.json_path("coco")
    _, cmd = ctx.run("bench_coco.py", options, ["--data-dir", str(ctx.work / "coco"), "--json", str(out)])
    rows = []
    for set_name, results in json.loads(out.read_text()).items():
        ours = results.get("evalcore", {}).get("eval_acc")
        if ours is None:
            raise RuntimeError(f"bench_coco.py: evalcore failed on {set_name}: {results.get('evalcore')}")
        for lib in COCO_PEERS:
            r = results.get(lib, {"error": "not run"})
            figure = f"COCO evaluate+accumulate in-process, {set_name}, vs {lib}"
            if "error" in r:
                rows.append(row(figure, f"{ours:.3f} s", "-", None, cmd, note=f"{lib}: {r['error']}"))
            else:
                rows.append(row(figure, f"{ours:.3f} s", f"{r['eval_acc']:.3f} s", ours / r["eval_acc"], cmd))
    return rows


def parse_coco_cli(text: str) -> dict[str, float]:
    """{command name: median seconds} from bench_coco_cli.py's printed table."""
    medians = {}
    for line in text.splitlines():
        m = re.match(r"^(\S.*?)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s*$", line)
        if m:
            medians[m.group(1)] = float(m.group(3))
    return medians


def bench_coco_cli(ctx: Context) -> list[dict]:
    """``evalcore coco-eval`` as a whole process vs the Rust peers' scripts (bench_coco_cli.py)."""
    peers = ["hotcoco", "ultrafast-pycocotools"]
    options = ["--rounds", "1" if ctx.quick else "7", "--peers", ",".join(peers)]
    text, cmd = ctx.run("bench_coco_cli.py", options, ["--data-dir", str(ctx.work / "coco")])
    medians = parse_coco_cli(text)
    if "evalcore" not in medians:
        raise RuntimeError("bench_coco_cli.py printed no evalcore row")
    return [row(f"`evalcore coco-eval` whole process, d5k, vs {peer}'s script", f"{medians['evalcore']:.2f} s",
                f"{medians[peer]:.2f} s", medians["evalcore"] / medians[peer], cmd)
            for peer in peers if peer in medians]


_PAIR = r"([\d.]+)/\s*[\d.]+"  # "min/median" cells of bench_confusion.py after issue 14


def parse_confusion(text: str) -> list[dict]:
    """The confusion rows and the binary AUC line from bench_confusion.py's printed output.

    Reads both table forms: ``dtype MB anchor kernel ...`` (one best-of time per cell, the
    anchor a ``.sum()``) and ``dtype MB floor kernel ...`` with ``min/median`` cells (the floor
    the faster of a numba read loop and ``.sum()``); the min is taken.
    """
    found = []
    for line in text.splitlines():
        new = re.match(rf"^\s*(int64|int32|int8)\s+\d+\s+{_PAIR}\s+{_PAIR}\s", line)
        old = re.match(r"^\s*(int64|int32|int8)\s+\d+\s+([\d.]+)\s+([\d.]+)\s", line)
        if new:
            found.append({"figure": f"confusion matrix, {new.group(1)} labels, vs reading the same bytes (floor)",
                          "ours": float(new.group(3)), "anchor": float(new.group(2)), "unit": "ms"})
        elif old:
            found.append({"figure": f"confusion matrix, {old.group(1)} labels, vs `.sum()` over the same bytes",
                          "ours": float(old.group(3)), "anchor": float(old.group(2)), "unit": "ms"})
        m = re.match(r"argsort anchor\s+([\d.]+)\s+kernel\s+([\d.]+)", line.strip())
        if m:
            found.append({"figure": "ROC AUC binary vs one `np.argsort`", "ours": float(m.group(2)),
                          "anchor": float(m.group(1)), "unit": "ms"})
    return found


def bench_confusion(ctx: Context) -> list[dict]:
    """Confusion matrix vs a bandwidth loop, ROC AUC vs a sort (bench_confusion.py)."""
    options = ["--n", "1000000" if ctx.quick else "10000000", "--repeats", "3" if ctx.quick else "7",
               "--no-sklearn"]
    text, cmd = ctx.run("bench_confusion.py", options)
    found = parse_confusion(text)
    if not found:
        raise RuntimeError("bench_confusion.py printed no table row")
    return [row(f["figure"], f"{f['ours']:.2f} {f['unit']}", f"{f['anchor']:.2f} {f['unit']}",
                f["ours"] / f["anchor"], cmd) for f in found]


def _wall(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def bench_cli_start(ctx: Context) -> list[dict]:
    """Start-up of the ``evalcore`` command vs bare interpreters (interleaved rounds, medians)."""
    out = ctx.work / "cli-start.json"
    cmds = {
        "python": [sys.executable, "-c", "pass"],
        "imports": [sys.executable, "-c", "import numpy, onnxruntime"],
        "version": [sys.executable, "-m", "evalcore", "--version"],
        "run": [sys.executable, "-m", "evalcore", "run", "fixtures/motion", "--out", str(out), "-q"],
    }
    rounds = 3 if ctx.quick else 11
    print(f"$ CLI start, {rounds} interleaved rounds", flush=True)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for name in cmds:  # warm-up: page cache and numba cache
        _wall(cmds[name], ctx.env)
    for r in range(rounds):
        names = list(cmds)[r % len(cmds):] + list(cmds)[:r % len(cmds)]
        for name in names:
            times[name].append(_wall(cmds[name], ctx.env))
    med = {name: statistics.median(t) for name, t in times.items()}
    cmd = f"run_all.py --only cli-start ({rounds} interleaved rounds)"
    return [row("`evalcore --version`, fresh process, vs `python -c pass`", f"{med['version']:.2f} s",
                f"{med['python']:.2f} s", med["version"] / med["python"], cmd),
            row("`evalcore run fixtures/motion` (10 samples, 189 windows), fresh process, "
                "vs `python -c 'import numpy, onnxruntime'`", f"{med['run']:.2f} s", f"{med['imports']:.2f} s",
                med["run"] / med["imports"], cmd)]


def bench_memory(ctx: Context) -> list[dict]:
    """Peak RSS of ``evalcore run`` vs the number of motion samples (bench_memory.py)."""
    sizes = "100,1000" if ctx.quick else "1000,10000"
    configs = "w0" if ctx.quick else "w0,auto,pages"
    out = ctx.json_path("memory")
    _, cmd = ctx.run("bench_memory.py", ["--sizes", sizes, "--configs", configs],
                     ["--work", str(ctx.work / "memory"), "--json", str(out)])
    return _memory_rows(json.loads(out.read_text()), "motion samples", "samples", cmd)


def _memory_rows(found: list[dict], what: str, key: str, cmd: str) -> list[dict]:
    rows = []
    for config in dict.fromkeys(r["config"] for r in found):
        mine = [r for r in found if r["config"] == config]
        small, large = mine[0], mine[-1]
        rows.append(row(f"peak RSS, {large[key]:,} vs {small[key]:,} {what} ({config}; goal <= 1.3)",
                        f"{large['peak_rss_mb']:.0f} MB ({large['seconds']:.0f} s)",
                        f"{small['peak_rss_mb']:.0f} MB", large["peak_rss_mb"] / small["peak_rss_mb"], cmd))
    return rows


def bench_million(ctx: Context) -> list[dict]:
    """Peak RSS and time of a 1M-window tabular run vs 100k windows (bench_million.py)."""
    options = ["--windows", "100000", "--small", "10000", "--configs", "one"] if ctx.quick else []
    out = ctx.json_path("million")
    text, cmd = ctx.run("bench_million.py", options, ["--work", str(ctx.work / "million"), "--json", str(out)])
    rows = _memory_rows(json.loads(out.read_text()), "windows", "windows", cmd)
    if "dask: skipped" in text:
        rows.append(row("peak RSS, tabular windows, `--executor dask` (2 workers)", "-", "-", None, cmd,
                        note="skipped: `evalcore run` has no --executor yet"))
    return rows


def parse_backend(text: str) -> list[dict]:
    """(label, mode, ours µs, anchor µs) rows of bench_backend.py's printed table."""
    found = []
    for line in text.splitlines():
        m = re.match(r"^(\S.*?)\s+(\S+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s*$", line)
        if m:
            found.append({"label": m.group(1), "mode": m.group(2), "ours": float(m.group(3)),
                          "anchor": float(m.group(4))})
    return found


def bench_backend(ctx: Context) -> list[dict]:
    """Model backends vs a one-call-per-window loop of the same runtime (bench_backend.py)."""
    options = ["--rows", "1024", "--repeats", "3"] if ctx.quick else []
    text, cmd = ctx.run("bench_backend.py", options)
    return [row(f"model backend, {f['label']} ({f['mode']}), vs one runtime call per window",
                f"{f['ours']:.2f} µs/win", f"{f['anchor']:.2f} µs/win", f["ours"] / f["anchor"], cmd)
            for f in parse_backend(text)]


def parse_kws(text: str) -> list[dict]:
    """DSP and model ms/window lines of bench_kws.py."""
    found = {}
    for line in text.splitlines():
        m = re.match(r"^(DSP \(evalcore, batched\)|model \S+ \((?:evalcore backend|bare LiteRT loop)\))\s+([\d.]+)",
                     line)
        if m:
            found[m.group(1)] = float(m.group(2))
    return [{"stage": k, "ms": v} for k, v in found.items()]


def bench_kws(ctx: Context) -> list[dict]:
    """Keyword spotting: MFCC DSP vs the model, and the model vs a bare LiteRT loop (bench_kws.py)."""
    options = ["--repeat", "2", "--copies", "5"] if ctx.quick else []
    text, cmd = ctx.run("bench_kws.py", options)
    stages = {f["stage"]: f["ms"] for f in parse_kws(text)}
    dsp = stages.get("DSP (evalcore, batched)")
    if dsp is None:
        raise RuntimeError("bench_kws.py printed no DSP line")
    rows = []
    for variant in ("float32", "int8"):
        ours, bare = stages.get(f"model {variant} (evalcore backend)"), stages.get(f"model {variant} (bare LiteRT loop)")
        if ours is None or bare is None:
            continue
        rows.append(row(f"keyword spotting: MFCC DSP vs the {variant} model (goal <= 1)", f"{dsp:.3f} ms/win",
                        f"{ours:.3f} ms/win", dsp / ours, cmd))
        rows.append(row(f"keyword spotting: {variant} model, evalcore backend vs a bare LiteRT loop",
                        f"{ours:.3f} ms/win", f"{bare:.3f} ms/win", ours / bare, cmd))
    return rows


def bench_report(ctx: Context) -> list[dict]:
    """``evalcore report --html``: opening the page in chromium vs an empty page (bench_report.py)."""
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        raise Skip("no chromium on PATH")
    text, cmd = ctx.run("bench_report.py", ["--samples", "2000" if ctx.quick else "20000"])
    m = re.search(r"chromium open \+ screenshot: ([\d.]+) s \(an empty page: ([\d.]+) s\)", text)
    if not m:
        raise RuntimeError("bench_report.py printed no chromium line")
    full, empty = float(m.group(1)), float(m.group(2))
    return [row("HTML report opened in headless chromium vs an empty page", f"{full:.2f} s", f"{empty:.2f} s",
                full / empty, cmd)]


SCRIPTS = {
    "run": "bench_run.py", "dsp": "bench_dsp.py", "coco": "bench_coco.py", "coco-cli": "bench_coco_cli.py",
    "confusion": "bench_confusion.py", "cli-start": "run_all.py --only cli-start", "memory": "bench_memory.py",
    "million": "bench_million.py", "backend": "bench_backend.py", "kws": "bench_kws.py", "report": "bench_report.py",
}
BENCHMARKS = {
    "run": bench_run, "dsp": bench_dsp, "coco": bench_coco, "coco-cli": bench_coco_cli,
    "confusion": bench_confusion, "cli-start": bench_cli_start, "memory": bench_memory,
    "million": bench_million, "backend": bench_backend, "kws": bench_kws, "report": bench_report,
}


# --- the table -----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def ratio_text(ratio: float) -> str:
    """Two decimals, but two significant digits below 0.1 and none above 100."""
    if ratio >= 100:
        return f"{ratio:.0f}"
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"


TABLE_HEAD = ["| figure | evalcore | anchor | ratio | command |", "|---|---|---|---|---|"]


def table_lines(rows: list[dict]) -> list[str]:
    """The markdown lines of ``rows``."""
    lines = []
    for r in rows:
        ratio = ratio_text(r["ratio"]) if r["ratio"] is not None else (r["note"] or "-")
        lines.append(f"| {_cell(r['figure'])} | {_cell(r['evalcore'])} | {_cell(r['anchor'])} | "
                     f"{_cell(ratio)} | `{r['command']}` |")
    return lines


def format_table(rows: list[dict], header: str) -> str:
    """The markdown between the markers: one line saying how it was made, then the table."""
    return "\n".join([header, "", *TABLE_HEAD, *table_lines(rows)])


def bench_of_line(line: str) -> str | None:
    """Which benchmark a table line came from, read from its command cell."""
    command = line.rstrip().rstrip("|").rsplit("|", 1)[-1]
    for name, script in SCRIPTS.items():
        if f"benchmarks/{script} " in command + " " or re.search(rf"--only {re.escape(name)}(?![\w-])", command):
            return name
    return None


def merge_table(old: str, rows: list[dict], rerun: list[str], update: str) -> str:
    """The table ``old`` with the rows of the ``rerun`` benchmarks replaced by ``rows``.

    For ``--only``: the other benchmarks' rows stay as they were, in ``BENCHMARKS`` order, and
    the header line gains ``update`` (what was re-run, when).
    """
    lines = [line for line in old.splitlines() if line.strip()]
    header = lines[0] if lines and not lines[0].startswith("|") else ""
    kept: dict[str | None, list[str]] = {}
    for line in lines:
        if line.startswith("|") and line not in TABLE_HEAD:
            kept.setdefault(bench_of_line(line), []).append(line)
    new = {name: table_lines([r for r in rows if r.get("bench") == name]) for name in rerun}
    body = []
    for name in BENCHMARKS:
        body += new[name] if name in rerun else kept.get(name, [])
    body += kept.get(None, [])
    return "\n".join([f"{header} {update}".strip(), "", *TABLE_HEAD, *body])


def current_table(text: str) -> str | None:
    """The text between the markers, or None when there are none."""
    start, end = text.find(BEGIN), text.find(END)
    return text[start + len(BEGIN):end].strip("\n") if start != -1 and end > start else None


def rewrite_readme(text: str, table: str) -> str:
    """``text`` with the part between the markers replaced by ``table`` (a new section if none)."""
    block = f"{BEGIN}\n{table}\n{END}"
    start, end = text.find(BEGIN), text.find(END)
    if start != -1 and end > start:
        return text[:start] + block + text[end + len(END):]
    if start != -1 or end != -1:
        raise ValueError(f"README has only one of the markers {BEGIN} / {END}")
    return text.rstrip("\n") + f"\n\n{HEADING}\n\n{block}\n"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _header(args: argparse.Namespace, seconds: float) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = " --quick" if args.quick else ""
    return (f"`python benchmarks/run_all.py{mode}`, {when}, {seconds / 60:.0f} min, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()} (a shared machine: read the ratios, not the seconds). "
            f"ratio = evalcore / anchor, time or memory: below 1 evalcore is faster or smaller.")


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    """The command line (also used by the smoke test)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke pass (minutes)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {list(BENCHMARKS)}")
    parser.add_argument("--ei-path", type=Path, default=None, help="processing-blocks checkout (DSP anchor)")
    parser.add_argument("--ei-python", default=None, help="interpreter for Edge Impulse's blocks")
    parser.add_argument("--readme", type=Path, default=HERE / "README.md")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave the README alone")
    parser.add_argument("--work", type=Path, default=None, help="keep generated data here (default: a temp dir)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed to one benchmark script")
    args = parser.parse_args(argv)
    args.only = [name for name in args.only.split(",") if name]
    unknown = sorted(set(args.only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown --only {unknown}; known: {list(BENCHMARKS)}")
    return args


def _what(bench) -> str:
    return bench.__doc__.splitlines()[0].rstrip(".")


def run_all(args: argparse.Namespace, work: Path) -> list[dict]:
    """Every selected benchmark; a skip or a failure becomes a row and the next one runs."""
    ctx, rows = Context(args, work), []
    for name, bench in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        try:
            rows += [dict(r, bench=name) for r in bench(ctx)]
        except Skip as why:
            print(f"{name}: skipped: {why}", flush=True)
            rows.append(dict(row(_what(bench), "-", "-", None, f"run_all.py --only {name}", note=f"skipped: {why}"),
                             bench=name))
        except (RuntimeError, subprocess.SubprocessError, OSError, ValueError, KeyError) as err:
            print(f"{name}: FAILED: {err}", flush=True)
            rows.append(dict(row(_what(bench), "-", "-", None, f"run_all.py --only {name}",
                                 note=f"failed: {str(err)[-200:]}"), bench=name))
    return rows


def main(argv=None) -> int:
    """Run, print the table, and rewrite the README's table unless ``--no-write``."""
    args = parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="evalcore-run-all-"))
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        rows = run_all(args, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - start
    text = args.readme.read_text(encoding="utf-8") if args.readme.is_file() else ""
    old = current_table(text)
    if args.only and old:
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        mode = " --quick" if args.quick else ""
        update = f"Rows of {', '.join(args.only)} re-run with `--only {','.join(args.only)}{mode}` on {when}."
        table = merge_table(old, rows, args.only, update)
    else:
        table = format_table(rows, _header(args, seconds))
    print("\n" + table)
    if not args.no_write:
        write_atomically(args.readme, rewrite_readme(text, table))
        print(f"\nrewrote the table in {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
