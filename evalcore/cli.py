"""Command line: parses arguments, calls one engine function, writes output, maps errors to exit codes.

Exit codes: 0 done, 2 bad input or bad usage (``EvalcoreError``: the message names the file, the
sample and the field; argparse's usage errors, and ``evalcore`` with no command), 1 internal error
(any other exception keeps its traceback: it is a bug), 130 interrupted. ``compare``, ``run
--compare`` and ``check`` answer with their exit code (1: the two results differ, a check failed),
so there a bug exits 3 instead (``EXIT_VERDICT_BUG``; ``EXIT_COMPARE_BUG`` is the same code),
never 1.

Only the standard library is imported at module level so that ``evalcore --help`` starts fast;
each subcommand imports what it needs.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_COMPARE_DIFFERENT = 1
EXIT_CHECK_FAILED = 1
EXIT_VERDICT_BUG = 3
EXIT_COMPARE_BUG = EXIT_VERDICT_BUG

# commands whose exit 1 is an answer -> what that answer is (a bug there exits EXIT_VERDICT_BUG)
_VERDICT_COMMANDS = {"compare": "a difference", "check": "a failed check"}

_VARIANTS = ("float32", "int8", "akida")


def _workers_arg(text: str) -> int | None:
    """``--workers``: a count >= 0, or ``auto`` (None)."""
    return None if text == "auto" else _int_at_least(text, 0, "an integer >= 0 or auto")


def _int_at_least(text: str, minimum: int, wanted: str) -> int:
    """``text`` as an int >= ``minimum``; else argparse's error "must be ``wanted``, got ...".

    Raises
    ------
    argparse.ArgumentTypeError
        ``text`` is not an integer, or is below ``minimum``.
    """
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
    return value


def _variants_arg(text: str) -> tuple[str, ...]:
    """``--variants float32,int8``: a tuple of names (checked by ``evalcore.bench.BenchOptions``)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _compat_help() -> str:
    """``NAME=a|b`` for every ``--compat`` setting, default first (from the one table in engine.py)."""
    from evalcore.options import COMPAT_SETTINGS  # standard library only at import time

    return ", ".join(f"{name}={'|'.join(values)}" for name, (values, _) in COMPAT_SETTINGS.items())


_RTOL, _ATOL = 1e-6, 1e-9


def _add_compare_options(p: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """``--rtol --atol --strict``; without ``defaults`` (``run``) they stay None when not given."""
    p.add_argument("--rtol", type=float, default=_RTOL if defaults else None,
                   help=f"relative tolerance for numbers (default {_RTOL:g})")
    p.add_argument("--atol", type=float, default=_ATOL if defaults else None,
                   help=f"absolute tolerance for numbers (default {_ATOL:g})")
    p.add_argument("--strict", action="store_true", default=False if defaults else None,
                   help="compare the volatile fields too (dates, ids, storage names an export cannot know)")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", help="bundle folder (impulse.json, dsp/, learn/, dataset/)")
    p.add_argument("--variant", choices=_VARIANTS, default=None,
                   help="model variant (default: float32 when the bundle has it, else the first it has)")
    p.add_argument("--category", default="testing", choices=("testing", "training", "validation"),
                   help="dataset category to evaluate (default testing)")
    p.add_argument("--threshold", action="append", default=[], metavar="BLOCK=VALUE",
                   help="override a learn block's threshold, e.g. 3=0.7 or 'NN Classifier=0.7' (repeatable)")
    p.add_argument("--features", choices=("auto", "dsp", "precomputed"), default="auto",
                   help="compute DSP features from raw data, or use bundle/features/*.npy (default auto)")
    p.add_argument("--akida-device", choices=("auto", "hardware", "software"), default="auto",
                   help="Akida path for --variant akida (default auto: hardware when present)")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads for the model runtime (default 1)")
    p.add_argument("--batch-size", type=int, default=1024, help="windows per model call (default 1024)")
    p.add_argument("--workers", type=_workers_arg, default=None, metavar="N|auto",
                   help="worker processes reading and featurizing samples; 0 = in the main process (default "
                   "auto: one per CPU but one and at least two, on 2+ CPUs, when the dataset has 1000 "
                   "samples or more and workers can be forked, as on Linux; else 0)")
    p.add_argument("--no-overlap", action="store_true",
                   help="run the models on the main thread instead of overlapping them with reading and reporting")
    p.add_argument("--compat", action="append", default=[], metavar="NAME=VALUE",
                   help="choose a reading of a Studio rule the public evidence does not settle (README, "
                   "Compatibility notes; default first): " + _compat_help())
    p.add_argument("--follow-links", action="store_true",
                   help="accept symbolic links that lead outside the bundle (e.g. a dataset kept elsewhere); "
                   "default: refuse them")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _positive_int(text: str) -> int:
    return _int_at_least(text, 1, "an integer >= 1")


def _add_executor_options(p: argparse.ArgumentParser) -> None:
    """``--executor local|dask`` and the Dask executor's options (README: Distributed runs)."""
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="where the samples are evaluated: local (this process and its --workers, default) or "
                   "dask (chunks of samples on a Dask cluster, merged to the same bytes; needs evalcore[dask])")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --executor dask: a running Dask scheduler (e.g. tcp://10.0.0.5:8786); default: a "
                   "local cluster of worker processes on 127.0.0.1")
    p.add_argument("--dask-workers", type=_positive_int, default=None, metavar="N",
                   help="with --executor dask and no --scheduler: worker processes of the local cluster (default 2)")
    p.add_argument("--chunk-samples", type=_positive_int, default=None, metavar="N",
                   help="with --executor dask: samples per task (default: about 4 tasks per worker)")


def build_parser() -> argparse.ArgumentParser:
    """The ``evalcore`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="evalcore",
        description="Edge Impulse Model testing, offline: run an impulse on a project's test data and "
        "write Studio's ClassifyJobResponse JSON.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="evaluate a bundle and write the ClassifyJobResponse JSON")
    _add_run_options(p)
    p.add_argument("--out", default=None,
                   help="output JSON file (written atomically with its sidecar <name>.run.json), or - for "
                   "standard output (the sidecar then goes only where --run-json says); required unless --shard")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="evaluate only shard I of N (samples at positions I, I+N, ...; 0 <= I < N) and save its "
                   "state to --state instead of writing a result; `evalcore merge` joins the states")
    p.add_argument("--state", default=None, metavar="FILE", help="where --shard saves the shard's state")
    p.add_argument("--run-json", default=None, metavar="FILE",
                   help="where to write the run-info sidecar (default: next to --out as <name>.run.json; "
                   "none with --out -)")
    p.add_argument("--slice-by", action="append", default=[], metavar="KEY",
                   help="also write the accuracy block per value of KEY: metadata.NAME (info.labels metadata), "
                   "label, device or category (repeatable); written to <name>.slices.json next to --out, "
                   "with a table of the slices most below the whole on standard error (README: Metrics by slice)")
    p.add_argument("--slices-json", default=None, metavar="FILE",
                   help="where to write the --slice-by document (default: next to --out as <name>.slices.json; "
                   "none with --out -)")
    p.add_argument("--page-size", type=int, default=None, help="also write ClassifyJobResponsePage files")
    p.add_argument("--out-dir", default=None, help="folder for the page files (with --page-size)")
    p.add_argument("--compare", action="store_true",
                   help="then compare the result with BUNDLE/studio/classify-result.json (Studio's own) and "
                   "exit as compare does (0 same, 1 different); --rtol, --atol, --strict as for compare")
    _add_compare_options(p, defaults=False)
    _add_executor_options(p)

    p = sub.add_parser("merge", help="join the states of `run --shard` into the result a single run writes")
    p.add_argument("states", nargs="+", metavar="STATE", help="every shard's state file (any order)")
    p.add_argument("--out", required=True, help="output JSON file, or - for standard output (as run --out)")
    p.add_argument("--bundle", default=None, metavar="BUNDLE",
                   help="the bundle the shards ran on (default: the path their states name); only its metadata "
                   "and labels are read, no model is loaded")
    p.add_argument("--run-json", default=None, metavar="FILE", help="as run --run-json")
    p.add_argument("--slices-json", default=None, metavar="FILE", help="as run --slices-json")
    p.add_argument("--page-size", type=int, default=None, help="also write ClassifyJobResponsePage files")
    p.add_argument("--out-dir", default=None, help="folder for the page files (with --page-size)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on standard error")

    p = sub.add_parser("inspect", help="validate a bundle and print what a run would do")
    p.add_argument("bundle", help="bundle folder")
    p.add_argument("--category", default="testing", choices=("testing", "training", "validation"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--follow-links", action="store_true",
                   help="accept symbolic links that lead outside the bundle, as run --follow-links does")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("compare", help="does a local run match Studio's result? (exit 0 same, 1 different)")
    p.add_argument("a", help="first result (e.g. Studio's): a ClassifyJobResponse JSON, a ClassifyJobResponsePage, "
                   "a folder of page-K.json, or page files joined by commas")
    p.add_argument("b", help="second result (e.g. evalcore's), in any of the same forms")
    _add_compare_options(p)
    p.add_argument("--max-diffs", type=int, default=50, help="differences to print (default 50)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the full report as JSON to FILE (atomically); without FILE, only the "
                   "JSON report on stdout")

    p = sub.add_parser("check", help="gate a result on metric thresholds (exit 1 when a check fails)",
                       description="Check a result's metrics against value thresholds (--require) and "
                       "against a baseline result (--max-drop). Accuracy-type metrics (accuracy, "
                       "balancedAccuracy, anomalyAccuracy, noAnomalyAccuracy, recall[LABEL], "
                       "precision[LABEL]) are in percent whatever the file's score scale; additional "
                       "metrics by their display name ('Weighted average F1 score', mAP, Loss, ...), "
                       "'block ID: NAME' for one learn block's. Exit 0 all pass, 1 a check failed, "
                       "2 bad input, 3 a bug.")
    p.add_argument("result", help="result JSON (evalcore's or Studio's ClassifyJobResponse)")
    p.add_argument("--baseline", default=None, metavar="BASE", help="baseline result JSON (needed by --max-drop)")
    p.add_argument("--require", action="append", default=[], metavar="EXPR",
                   help="value threshold NAME OP VALUE, OP one of >=, >, <=, <, == (e.g. 'accuracy>=85'; "
                   "repeatable, comma-separated lists allowed)")
    p.add_argument("--max-drop", action="append", default=[], metavar="NAME=AMOUNT",
                   help="change threshold: fail when the metric is worse than the baseline's by more than "
                   "AMOUNT (percentage points for accuracy-type metrics; for mse, Loss and the error "
                   "metrics a rise is worse; repeatable, comma-separated lists allowed)")
    p.add_argument("--junit", default=None, metavar="FILE", help="also write JUnit XML, one testcase per check")
    p.add_argument("--markdown", default=None, metavar="FILE",
                   help="also write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON instead of the table")

    p = sub.add_parser("bench", help="time each model variant on this host: DSP, latency, throughput, memory, "
                       "accuracy (host figures, not a device estimate)")
    p.add_argument("bundle", help="bundle folder")
    p.add_argument("--variants", type=_variants_arg, default=None, metavar="LIST",
                   help="comma-separated variants to bench, e.g. float32,int8 (default: every variant the "
                   "bundle has; a listed one it lacks is an error)")
    p.add_argument("--runs", type=int, default=200, help="timed batch-1 model calls per model (default 200)")
    p.add_argument("--warmup", type=int, default=20, help="untimed batch-1 calls first (default 20)")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads for the model runtime (default 1)")
    p.add_argument("--batch-size", type=int, default=1024,
                   help="windows per model call for the throughput figure, as in run (default 1024)")
    p.add_argument("--category", default="testing", choices=("testing", "training", "validation"),
                   help="dataset category whose windows are used (default testing)")
    p.add_argument("--in-process", action="store_true",
                   help="measure the models in this process instead of a fresh one each (faster; memory "
                   "peaks then depend on what ran before)")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON (atomically)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")

    p = sub.add_parser("pull", help="build a bundle (and fetch Studio's own result) from an Edge Impulse project")
    p.add_argument("project_id", type=int, help="Studio project id")
    p.add_argument("--out", required=True, help="bundle folder to create or update (built next to it, renamed at the end)")
    p.add_argument("--variant", action="append", choices=_VARIANTS, default=None,
                   help="model variant to fetch (repeatable; default every variant Studio offers)")
    p.add_argument("--category", action="append", choices=("testing", "training", "validation"), default=None,
                   help="dataset category to fetch (repeatable, listed in info.labels in this order; default testing)")
    p.add_argument("--with-result", action="store_true",
                   help="also fetch Studio's classify/all/result into studio/classify-result.json")
    p.add_argument("--result-page-size", type=int, default=None, metavar="N",
                   help="with --with-result, also fetch its pages of N samples into studio/classify-result/")
    p.add_argument("--api-key-file", default=None, metavar="FILE",
                   help="read the API key from FILE (default: the EI_API_KEY environment variable)")
    p.add_argument("--studio-url", default=None, metavar="URL",
                   help="API base URL (default https://studio.edgeimpulse.com/v1)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")

    p = sub.add_parser("coco-eval", help="COCO bbox evaluation of COCO-format files (pycocotools-exact)")
    p.add_argument("gt", help="COCO ground-truth JSON (images, annotations, categories)")
    p.add_argument("dt", help="COCO results JSON (list of {image_id, category_id, bbox, score})")
    p.add_argument("--json", action="store_true", help="print the 12 stats as JSON")

    p = sub.add_parser("serve", help="serve results under Studio's classify/all/result API paths (read-only)")
    p.add_argument("dir", help="folder of results: DIR/<projectId>/result.json (+ result.run.json) "
                   "or DIR/<projectId>/<variant>/result.json")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=4810, help="port (default 4810; 0 = any free port)")
    p.add_argument("--api-key-file", default=None, metavar="FILE",
                   help="require the x-api-key header to equal FILE's content (default: any key or none is accepted)")

    p = sub.add_parser("report", help="a self-contained HTML page to look at a result")
    p.add_argument("result", help="a ClassifyJobResponse JSON (evalcore's or Studio's), a page, or a folder of pages")
    p.add_argument("--html", required=True, metavar="OUT.html", help="the page to write (atomically)")
    p.add_argument("--compare", default=None, metavar="OTHER.json",
                   help="a second result shown side by side (e.g. int8 against float32, or Studio's)")
    p.add_argument("--bundle", default=None, metavar="BUNDLE",
                   help="the bundle the result came from: draws the images of the worst samples and, for "
                   "COCO-scored object detection, runs it again for the precision-recall curves")
    p.add_argument("--worst", type=int, default=12, metavar="N", help="worst samples drawn (default 12)")
    return parser


def _cmd_run(args) -> int:
    from evalcore.engine import RunOptions, check_output_path, run_bundle, write_outputs

    settings = _executor_settings(args)
    if args.shard is not None or args.state is not None:
        if settings is not None:
            from evalcore.errors import ConfigError

            raise ConfigError("--shard evaluates one part of a run in this process, --executor dask the whole run "
                              "on a cluster: give one of them")
        return _run_shard(args)
    if args.out is None:
        from evalcore.errors import ConfigError

        raise ConfigError("run needs --out FILE (or --shard I/N --state FILE)")
    to_stdout = args.out == "-"
    out = None if to_stdout else args.out
    check_output_path(out, page_size=args.page_size, out_dir=args.out_dir, bundle=args.bundle, run_json=args.run_json,
                      slices_json=args.slices_json, slices=bool(args.slice_by))
    if to_stdout and args.compare:
        from evalcore.errors import ConfigError

        raise ConfigError("--compare reads the result back from a file: give --out FILE, not --out -")
    studio = _studio_result(args) if args.compare else None
    if not args.compare and (args.rtol, args.atol, args.strict) != (None, None, None):
        from evalcore.errors import ConfigError

        raise ConfigError("--rtol, --atol and --strict need --compare")
    opts = RunOptions.from_cli(args)
    result = run_bundle(args.bundle, opts) if settings is None else _run_dask(args.bundle, opts, settings)
    write_outputs(result, out=out, page_size=args.page_size, out_dir=args.out_dir, run_json=args.run_json,
                  slices_json=args.slices_json)
    if to_stdout:  # after the files: nothing is printed when they could not be written
        sys.stdout.flush()
        sys.stdout.buffer.write(result.response_json())
        sys.stdout.buffer.flush()
    if not args.quiet:
        sys.stderr.write(result.summary_line() + "\n")
        _print_slices(result, args)
    global _quick_exit
    _quick_exit = True  # every output is written and synced: nothing is left for the interpreter's teardown
    if studio is not None:
        from evalcore.compare import compare_files

        diff = compare_files(studio, args.out, rtol=args.rtol, atol=args.atol, strict=args.strict)
        sys.stdout.write(diff.to_text(max_diffs=20))
        return EXIT_OK if diff.equal else EXIT_COMPARE_DIFFERENT
    return EXIT_OK


def _executor_settings(args):
    """``DaskSettings`` for ``--executor dask``, None for the local executor; a Dask option without
    ``--executor dask`` is bad usage.
    """
    from evalcore.errors import ConfigError

    given = [name for name, value in (("--scheduler", args.scheduler), ("--dask-workers", args.dask_workers),
                                      ("--chunk-samples", args.chunk_samples)) if value is not None]
    if args.executor != "dask":
        if given:
            raise ConfigError(f"{given[0]} needs --executor dask")
        return None
    if args.workers is not None:
        raise ConfigError("--workers sizes the local executor's process pool; with --executor dask each Dask "
                          "worker evaluates its chunks itself (--dask-workers sizes a local cluster)")
    from evalcore.executors.dask import DaskSettings

    return DaskSettings(scheduler=args.scheduler, n_workers=args.dask_workers, chunk_samples=args.chunk_samples,
                        quiet=args.quiet)


def _run_dask(bundle, opts, settings):
    from evalcore.executors.dask import run_on_dask

    return run_on_dask(bundle, opts, settings)


def _run_shard(args) -> int:
    """``run --shard I/N --state FILE``: evaluate one shard and save its state (``evalcore.shards``)."""
    import time
    from pathlib import Path

    from evalcore.engine import RunOptions, RunResult, check_output_path, evaluate, options_info, plan_run
    from evalcore.errors import ConfigError
    from evalcore.shards import shard_positions, write_state

    if args.shard is None or args.state is None:
        raise ConfigError("--shard and --state go together: --shard I/N --state FILE")
    given = [name for name, value in (("--out", args.out), ("--page-size", args.page_size), ("--out-dir", args.out_dir),
                                       ("--run-json", args.run_json), ("--slices-json", args.slices_json))
             if value is not None] + (["--compare"] if args.compare else [])
    if given:
        raise ConfigError(f"{given[0]} is for a whole run; a shard writes only its --state (evalcore merge writes "
                          "the result)")
    i, sep, n = args.shard.partition("/")
    if not sep or not i.strip().isdigit() or not n.strip().isdigit():
        raise ConfigError(f"--shard takes I/N (two whole numbers, 0 <= I < N), got {args.shard!r}")
    check_output_path(args.state, bundle=args.bundle)
    if Path(args.state).name.endswith(".json"):
        raise ConfigError(f"--state {args.state} is a binary shard state, not JSON: name it e.g. shard-{i}.state")
    opts = RunOptions.from_cli(args)
    t0 = time.perf_counter()
    plan = plan_run(args.bundle, opts)
    positions = shard_positions(len(plan.records), (int(i), int(n)))
    builder, pipeline = evaluate(args.bundle, opts, positions=positions, plan=plan)
    result = RunResult(builder=builder, n_samples=builder.n_samples, n_windows=builder.n_windows,
                       seconds=time.perf_counter() - t0, engines=pipeline.engines(), variant=pipeline.options.variant,
                       blocks=pipeline.describe(), options=options_info(pipeline.options, pipeline.n_workers))
    write_state(args.state, result, plan, positions)
    if not args.quiet:
        sys.stderr.write(f"shard {int(i)}/{int(n)}: {result.n_samples} of {len(plan.records)} samples "
                         f"({result.n_windows} windows) in {result.seconds:.2f} s, state {args.state}\n")
    return EXIT_OK


def _cmd_merge(args) -> int:
    """``evalcore merge STATE... --out FILE``: the result a single run writes, from the shards' states."""
    from evalcore.engine import check_output_path, write_outputs
    from evalcore.shards import merge_states

    to_stdout = args.out == "-"
    out = None if to_stdout else args.out
    result = merge_states(args.states, bundle=args.bundle)
    check_output_path(out, page_size=args.page_size, out_dir=args.out_dir, bundle=result.builder.project.root,
                      run_json=args.run_json, slices_json=args.slices_json, slices=result.builder.slices is not None)
    write_outputs(result, out=out, page_size=args.page_size, out_dir=args.out_dir, run_json=args.run_json,
                  slices_json=args.slices_json)
    if to_stdout:
        sys.stdout.flush()
        sys.stdout.buffer.write(result.response_json())
        sys.stdout.buffer.flush()
    if not args.quiet:
        sys.stderr.write(result.summary_line().replace("evaluated", f"merged {len(args.states)} shards:", 1) + "\n")
    return EXIT_OK


def _print_slices(result, args) -> None:
    """The ``--slice-by`` table on standard error (``evalcore.slices``)."""
    document = result.slices_document
    if document is not None:
        from evalcore.engine import slices_path
        from evalcore.slices import table_text

        where = args.slices_json if args.slices_json is not None else (None if args.out == "-" else slices_path(args.out))
        sys.stderr.write(table_text(document, where))


def _check_tolerances(args) -> None:
    from evalcore.compare import check_tolerances

    check_tolerances(args.rtol, args.atol)


def _studio_result(args):
    """``BUNDLE/studio/classify-result.json`` for ``run --compare``; ConfigError when it is missing."""
    from pathlib import Path

    from evalcore.errors import ConfigError

    args.rtol = _RTOL if args.rtol is None else args.rtol
    args.atol = _ATOL if args.atol is None else args.atol
    args.strict = bool(args.strict)
    _check_tolerances(args)
    path = Path(args.bundle) / "studio" / "classify-result.json"
    if not path.is_file():
        raise ConfigError(f"--compare needs Studio's result in the bundle, and {path} does not exist "
                          "(curl .../classify/all/result > it, README: The bundle)")
    return path


def _cmd_inspect(args) -> int:
    from evalcore.inspect import inspect_bundle

    report = inspect_bundle(args.bundle, category=args.category, quiet=args.quiet, follow_links=args.follow_links)
    sys.stdout.write(report.to_json() if args.json else report.to_text())
    return EXIT_OK


def _cmd_compare(args) -> int:
    from evalcore.compare import compare_files
    from evalcore.compare_sources import split_side
    from evalcore.errors import ConfigError

    _check_tolerances(args)
    diff = compare_files(split_side(args.a), split_side(args.b), rtol=args.rtol, atol=args.atol, strict=args.strict)
    if args.json == "-":
        sys.stdout.write(diff.to_json())
    else:
        sys.stdout.write(diff.to_text(max_diffs=args.max_diffs))
        if args.json is not None:
            from evalcore.outputs import write_json_atomic

            try:
                write_json_atomic(args.json, diff.to_json().encode("utf-8"))
            except OSError as err:
                raise ConfigError(f"cannot write the report: {err.strerror} ({args.json})") from err
    return EXIT_OK if diff.equal else EXIT_COMPARE_DIFFERENT


def _cmd_check(args) -> int:
    from evalcore.check import check_files, write_report

    report = check_files(args.result, baseline=args.baseline, require=args.require, max_drop=args.max_drop)
    if args.junit:
        write_report(args.junit, report.to_junit(), "--junit")
    if args.markdown:
        write_report(args.markdown, report.to_markdown().encode("utf-8"), "--markdown")
    sys.stdout.write(report.to_json() if args.json else report.to_text())
    return EXIT_OK if report.passed else EXIT_CHECK_FAILED


def _cmd_bench(args) -> int:
    from evalcore.bench import BenchOptions, bench_bundle

    options = BenchOptions(variants=args.variants, runs=args.runs, warmup=args.warmup, threads=args.threads,
                           batch_size=args.batch_size, category=args.category, isolate=not args.in_process,
                           quiet=args.quiet)
    if args.json is not None:
        from evalcore.engine import check_output_path

        check_output_path(args.json)
    log = None if args.quiet else (lambda line: sys.stderr.write(f"evalcore bench: {line}\n"))
    report = bench_bundle(args.bundle, options, log=log)
    sys.stdout.write(report.to_text())
    if args.json is not None:
        import json

        from evalcore.outputs import write_json_atomic

        try:
            write_json_atomic(args.json, (json.dumps(report.to_dict(), indent=2) + "\n").encode())
        except OSError as err:
            from evalcore.errors import ConfigError

            raise ConfigError(f"cannot write output: {err.strerror} ({err.filename})") from err
    return EXIT_OK


def _cmd_pull(args) -> int:
    from evalcore.errors import ConfigError

    try:
        import edgeimpulse_api  # noqa: F401
        import urllib3  # noqa: F401
    except ImportError:
        raise ConfigError('pull needs Edge Impulse\'s API client: pip install "evalcore[studio]"') from None
    from evalcore.pull import DEFAULT_HOST, PullOptions, pull_project, read_api_key, stderr_log

    key = read_api_key(args.api_key_file)
    opts = PullOptions(
        host=args.studio_url or DEFAULT_HOST,
        variants=tuple(dict.fromkeys(args.variant)) if args.variant else None,
        categories=tuple(dict.fromkeys(args.category)) if args.category else ("testing",),
        with_result=args.with_result,
        result_page_size=args.result_page_size,
        log=None if args.quiet else stderr_log,
    )
    if args.result_page_size is not None and not args.with_result:
        raise ConfigError("--result-page-size needs --with-result")
    report = pull_project(args.project_id, args.out, key, opts)
    if not args.quiet:
        stderr_log(report.summary_line())
    return EXIT_OK


def _cmd_coco_eval(args) -> int:
    from evalcore.coco_eval import evaluate_coco_files

    result = evaluate_coco_files(args.gt, args.dt)
    sys.stdout.write(result.to_json() + "\n" if args.json else result.format_stats())
    return EXIT_OK


def _cmd_serve(args) -> int:
    from evalcore.serve import serve_forever

    serve_forever(args.dir, host=args.host, port=args.port, api_key_file=args.api_key_file)
    return EXIT_OK


def _cmd_report(args) -> int:
    from evalcore.report_html import write_report

    write_report(args.result, args.html, compare=args.compare, bundle=args.bundle, worst=args.worst)
    return EXIT_OK


_COMMANDS = {"run": _cmd_run, "inspect": _cmd_inspect, "compare": _cmd_compare, "check": _cmd_check,
             "bench": _cmd_bench, "coco-eval": _cmd_coco_eval, "serve": _cmd_serve,
             "report": _cmd_report, "pull": _cmd_pull, "merge": _cmd_merge}


#: Set by a finished ``run``: `console_main` may then end the process without the interpreter's
#: teardown (`_exit_now`).
_quick_exit = False


def console_main() -> None:
    """The ``evalcore`` console script and ``python -m evalcore``: `main`, then the process exit."""
    code = main()
    if _quick_exit:
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    """End the process now, skipping the interpreter's teardown; return when that is not safe.

    After a 20k-sample run the teardown (every module, numba's and LLVM's state, the freed
    heap) took 0.3-0.6 s, all of it after the outputs were written: a serial end that a run
    with worker processes cannot hide. What the teardown must still do is done here: the
    ``atexit`` functions (the run's temporary spool folder is removed by one) and flushing
    standard output and error. With another thread alive (it could be writing) the normal exit
    is taken.
    """
    import atexit
    import os
    import threading

    if threading.active_count() > 1:
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stream: the normal exit reports it
        return
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``evalcore`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from evalcore import __version__

        print(f"evalcore {__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write("evalcore: error: a command is required (evalcore --help lists them)\n")
        return EXIT_BAD_INPUT
    from evalcore.errors import EvalcoreError

    try:
        return _COMMANDS[args.command](args)
    except EvalcoreError as err:
        sys.stderr.write(f"evalcore {args.command}: error: {err}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("evalcore: interrupted\n")
        return 130
    except Exception:
        if args.command not in _VERDICT_COMMANDS and not getattr(args, "compare", False):
            raise  # a bug: exit 1 with its traceback
        import traceback

        traceback.print_exc()
        verdict = _VERDICT_COMMANDS.get(args.command, _VERDICT_COMMANDS["compare"])
        sys.stderr.write(f"evalcore {args.command}: internal error (a bug, not {verdict}): exit {EXIT_VERDICT_BUG}\n")
        return EXIT_VERDICT_BUG


if __name__ == "__main__":
    console_main()
