"""The benchmark scripts stay runnable: arguments parse, bundles build, the summary table rewrites.

No timing is asserted (speed lives in ``benchmarks/``): these tests run each script's argument
parser, build tiny versions of the generated bundles, measure the peak memory of a child that
allocates a known amount, parse fake printed tables the way ``run_all.py`` reads real ones, and
rewrite a README's table between the markers.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import runpy
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run_all():
    return _load("run_all")


SCRIPTS = ["bench_backend", "bench_coco", "bench_coco_cli", "bench_confusion", "bench_dsp", "bench_kws",
           "bench_memory", "bench_million", "bench_report", "bench_run", "run_all"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_answers_help(script, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script, "--help"])
    monkeypatch.syspath_prepend(str(BENCH))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as stop:
        runpy.run_path(str(BENCH / f"{script}.py"), run_name="__main__")
    assert stop.value.code == 0
    assert "usage:" in out.getvalue()


def test_new_scripts_parse_and_refuse_bad_arguments(run_all):
    memory, million = _load("bench_memory"), _load("bench_million")
    args = memory.parse_args(["--sizes", "10,20", "--configs", "w0,pages"])
    assert args.sizes == [10, 20] and args.configs == ["w0", "pages"]
    args = million.parse_args(["--windows", "500", "--small", "100", "--configs", "one"])
    assert (args.windows, args.small, args.configs) == (500, 100, ["one"])
    assert run_all.parse_args(["--quick", "--only", "memory,run"]).only == ["memory", "run"]
    for parse, bad in ((memory.parse_args, ["--configs", "nope"]), (memory.parse_args, ["--sizes", "0"]),
                       (million.parse_args, ["--small", "0"]), (run_all.parse_args, ["--only", "nope"])):
        with contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit) as stop:
            parse(bad)
        assert stop.value.code == 2


def test_build_motion_links_distinct_samples(tmp_path):
    memory = _load("bench_memory")
    bundle = memory.build_motion(tmp_path, 23)
    files = json.loads((bundle / "dataset" / "info.labels").read_text())["files"]
    assert len(files) == 23 and len({f["name"] for f in files}) == 23
    assert all((bundle / "dataset" / f["path"]).is_file() for f in files)
    assert {f["label"]["label"] for f in files} >= {"idle", "wave"}
    first = (bundle / "dataset" / files[10]["path"]).read_bytes()
    assert first == (bundle / "dataset" / files[0]["path"]).read_bytes()  # the 10 templates cycle
    assert memory.build_motion(tmp_path, 23) == bundle  # reused, not rebuilt


def test_build_tabular_has_the_asked_windows(tmp_path):
    pytest.importorskip("onnx")
    million = _load("bench_million")
    bundle = million.build_tabular(tmp_path, 250, 50)
    files = json.loads((bundle / "dataset" / "info.labels").read_text())["files"]
    assert len(files) == 5
    sample = json.loads((bundle / "dataset" / files[0]["path"]).read_text())
    assert len(sample["payload"]["values"]) == 50
    assert len(sample["payload"]["values"][0]) == len(million.AXES)
    assert (bundle / "learn" / "3" / "model.onnx").stat().st_size > 0


def test_child_peak_rss_sees_an_allocation(tmp_path):
    child = _load("_child")
    row = child.measure([sys.executable, "-c", "x = b'x' * (80 * 2**20); print(len(x))"])
    assert row["peak_rss_mb"] >= 80
    in_tmp = f"import os, sys; sys.exit(0 if os.getcwd() == {str(tmp_path.resolve())!r} else 4)"
    assert child.measure([sys.executable, "-c", in_tmp], cwd=tmp_path)["seconds"] > 0
    with pytest.raises(RuntimeError, match="exited 3"):
        child.measure([sys.executable, "-c", "raise SystemExit(3)"])


CONFUSION_OUT = """\
 dtype  MB read   anchor   kernel  x anchor  bincount   sklearn  sklearn/ours
 int64      160    10.30    11.90      1.16     44.10         -             -
  int8       20     1.20    13.30     11.08     45.00         -             -

ROC AUC binary, N = 1e+07 (ms)
argsort anchor   2689.0   kernel    593.0   x anchor  0.22
"""

COCO_CLI_OUT = """\
d5k whole process, 3 interleaved rounds; anchor ultrafast-pycocotools
command                      min s  median s  median / anchor
evalcore                      1.22      1.62             2.29
evalcore before               3.44      4.38             6.18
ultrafast-pycocotools         0.64      0.71             1.00
"""


CONFUSION_MIN_MEDIAN_OUT = """\
confusion matrix, N = 1e+06, K = 10 (ms, min/median of 3 interleaved rounds)
 dtype  MB read       floor      kernel  x floor   pair loop  x floor  bincount  sklearn
 int64       16  0.83/ 0.90  0.95/ 1.10     1.14 12.00/13.00    14.46      4.41        -
  int8        2  0.05/ 0.06  0.40/ 0.41     8.00  1.20/ 1.30    24.00      4.50        -
"""


def test_parsers_read_the_printed_tables(run_all):
    confusion = run_all.parse_confusion(CONFUSION_OUT)
    assert [(c["ours"], c["anchor"]) for c in confusion] == [(11.9, 10.3), (13.3, 1.2), (593.0, 2689.0)]
    confusion = run_all.parse_confusion(CONFUSION_MIN_MEDIAN_OUT)
    assert [(c["ours"], c["anchor"]) for c in confusion] == [(0.95, 0.83), (0.40, 0.05)]
    assert "floor" in confusion[0]["figure"]
    assert run_all.parse_coco_cli(COCO_CLI_OUT) == {"evalcore": 1.62, "evalcore before": 4.38,
                                                     "ultrafast-pycocotools": 0.71}
    backend = run_all.parse_backend("model   mode   ours us/win  anchor us/win  anchor/ours\n"
                                    "motion_fc f32 ONNX     batched          0.15          11.00        73.33\n")
    assert backend == [{"label": "motion_fc f32 ONNX", "mode": "batched", "ours": 0.15, "anchor": 11.0}]
    kws = run_all.parse_kws("DSP (evalcore, batched)                 0.530\n"
                            "model float32 (evalcore backend)        0.014        37.86\n")
    assert kws == [{"stage": "DSP (evalcore, batched)", "ms": 0.53},
                   {"stage": "model float32 (evalcore backend)", "ms": 0.014}]


def test_readme_table_is_replaced_between_the_markers(run_all):
    rows = [run_all.row("a | b", "1.0 s", "2.0 s", 0.5, "python x.py"),
            run_all.row("skipped one", "-", "-", None, "run_all.py --only dsp", note="skipped: no --ei-path")]
    table = run_all.format_table(rows, "made today")
    assert "| a \\| b | 1.0 s | 2.0 s | 0.50 | `python x.py` |" in table
    assert "| skipped: no --ei-path |" in table
    before = "# Benchmarks\n\nintro\n"
    once = run_all.rewrite_readme(before, table)
    assert once.startswith(before.rstrip("\n")) and once.count(run_all.BEGIN) == 1 and run_all.HEADING in once
    twice = run_all.rewrite_readme(once + "\n## After\n", run_all.format_table(rows[:1], "made again"))
    assert twice.count(run_all.BEGIN) == 1 and "made today" not in twice and "made again" in twice
    assert twice.endswith("\n## After\n") and "skipped one" not in twice
    with pytest.raises(ValueError, match="only one of the markers"):
        run_all.rewrite_readme(f"x\n{run_all.BEGIN}\n", table)


def test_run_all_keeps_going_past_a_skip_and_a_failure(run_all, tmp_path, monkeypatch):
    def fine(ctx):
        """A benchmark that works."""
        return [run_all.row("fine figure", "1 s", "4 s", 0.25, "python fine.py")]

    def absent(ctx):
        """A benchmark with no anchor here."""
        raise run_all.Skip("no anchor")

    def broken(ctx):
        """A benchmark that fails."""
        raise RuntimeError("it broke")

    monkeypatch.setattr(run_all, "BENCHMARKS", {"fine": fine, "absent": absent, "broken": broken})
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n")
    with contextlib.redirect_stdout(io.StringIO()):
        assert run_all.main(["--readme", str(readme), "--work", str(tmp_path / "work")]) == 0
    text = readme.read_text()
    assert "| fine figure | 1 s | 4 s | 0.25 |" in text
    assert "| A benchmark with no anchor here | - | - | skipped: no anchor |" in text
    assert "failed: it broke" in text


def test_only_replaces_its_own_rows_and_keeps_the_others(run_all):
    old = "\n".join([
        "made by a full pass", "", *run_all.TABLE_HEAD,
        "| run vs ORT | 1 s | 0.1 s | 10.00 | `python benchmarks/bench_run.py --samples 1000` |",
        "| coco in-process | 1 s | 2 s | 0.50 | `python benchmarks/bench_coco.py --quick` |",
        "| coco whole command | - | - | skipped: x | `run_all.py --only coco-cli` |",
        "| old memory | 900 MB | 240 MB | 3.75 | `python benchmarks/bench_memory.py --sizes 1000,10000` |",
        "| hand-written line | a | b | c | `elsewhere` |",
    ])
    assert run_all.bench_of_line(old.splitlines()[6]) == "coco-cli"
    assert run_all.bench_of_line(old.splitlines()[5]) == "coco"
    new = [dict(run_all.row("new memory", "250 MB", "240 MB", 250 / 240, "python benchmarks/bench_memory.py"),
                bench="memory")]
    merged = run_all.merge_table(old, new, ["memory"], "Rows of memory re-run.").splitlines()
    assert merged[0] == "made by a full pass Rows of memory re-run."
    body = merged[4:]
    assert [line.split("|")[1].strip() for line in body] == [
        "run vs ORT", "coco in-process", "coco whole command", "new memory", "hand-written line"]
    assert "1.04" in body[3]
