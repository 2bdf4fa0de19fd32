"""Command line: parses arguments, calls one engine function, writes output, maps errors to exit codes.

Exit codes: 0 done, 2 bad input or bad usage (``EvalcoreError``: the message names the file, the
sample and the field; argparse's usage errors, and ``evalcore`` with no command), 1 internal error
(any other exception keeps its traceback: it is a bug), 130 interrupted. ``compare`` answers with
its exit code, so there 1 means "the two results differ" and a bug exits 3 instead
(``EXIT_COMPARE_BUG``), never 1.

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
EXIT_COMPARE_BUG = 3

_VARIANTS = ("float32", "int8", "akida")


def _workers_arg(text: str) -> int | None:
    """``--workers``: a count >= 0, or ``auto`` (None)."""
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0 or auto, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0 or auto, got {text!r}")
    return value


def _variants_arg(text: str) -> tuple[str, ...]:
    """``--variants float32,int8``: a tuple of names (checked by ``evalcore.bench.BenchOptions``)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _compat_help() -> str:
    """``NAME=a|b`` for every ``--compat`` setting, default first (from the one table in engine.py)."""
    from evalcore.engine import COMPAT_SETTINGS  # standard library only at import time

    return ", ".join(f"{name}={'|'.join(values)}" for name, (values, _) in COMPAT_SETTINGS.items())


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
                   "auto: one per CPU but one and at least two, on 2+ CPUs, when the dataset has 64 "
                   "samples or more and workers can be forked, as on Linux; else 0)")
    p.add_argument("--no-overlap", action="store_true",
                   help="run the models on the main thread instead of overlapping them with reading and reporting")
    p.add_argument("--compat", action="append", default=[], metavar="NAME=VALUE",
                   help="choose a reading of a Studio rule the public evidence does not settle (README, "
                   "Compatibility notes; default first): " + _compat_help())
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


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
    p.add_argument("--out", required=True, help="output JSON file (written atomically)")
    p.add_argument("--page-size", type=int, default=None, help="also write ClassifyJobResponsePage files")
    p.add_argument("--out-dir", default=None, help="folder for the page files (with --page-size)")

    p = sub.add_parser("inspect", help="validate a bundle and print what a run would do")
    p.add_argument("bundle", help="bundle folder")
    p.add_argument("--category", default="testing", choices=("testing", "training", "validation"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("compare", help="compare two ClassifyJobResponse JSON files (exit 1 when they differ)")
    p.add_argument("a", help="first result JSON (e.g. Studio's)")
    p.add_argument("b", help="second result JSON (e.g. evalcore's)")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance for numbers (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance for numbers (default 1e-9)")
    p.add_argument("--max-diffs", type=int, default=50, help="differences to print (default 50)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

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

    p = sub.add_parser("coco-eval", help="COCO bbox evaluation of COCO-format files (pycocotools-exact)")
    p.add_argument("gt", help="COCO ground-truth JSON (images, annotations, categories)")
    p.add_argument("dt", help="COCO results JSON (list of {image_id, category_id, bbox, score})")
    p.add_argument("--json", action="store_true", help="print the 12 stats as JSON")
    return parser


def _cmd_run(args) -> int:
    from evalcore.engine import RunOptions, check_output_path, run_bundle, write_outputs

    check_output_path(args.out, page_size=args.page_size, out_dir=args.out_dir)
    opts = RunOptions.from_cli(args)
    result = run_bundle(args.bundle, opts)
    write_outputs(result, out=args.out, page_size=args.page_size, out_dir=args.out_dir)
    if not args.quiet:
        sys.stderr.write(result.summary_line() + "\n")
    return EXIT_OK


def _cmd_inspect(args) -> int:
    from evalcore.inspect import inspect_bundle

    report = inspect_bundle(args.bundle, category=args.category, quiet=args.quiet)
    sys.stdout.write(report.to_json() if args.json else report.to_text())
    return EXIT_OK


def _cmd_compare(args) -> int:
    from evalcore.compare import compare_files

    diff = compare_files(args.a, args.b, rtol=args.rtol, atol=args.atol)
    sys.stdout.write(diff.to_json() if args.json else diff.to_text(max_diffs=args.max_diffs))
    return EXIT_OK if diff.equal else EXIT_COMPARE_DIFFERENT


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

        from evalcore.jsonio import write_json_atomic

        try:
            write_json_atomic(args.json, (json.dumps(report.to_dict(), indent=2) + "\n").encode())
        except OSError as err:
            from evalcore.errors import ConfigError

            raise ConfigError(f"cannot write output: {err.strerror} ({err.filename})") from err
    return EXIT_OK


def _cmd_coco_eval(args) -> int:
    from evalcore.coco_eval import evaluate_coco_files

    result = evaluate_coco_files(args.gt, args.dt)
    sys.stdout.write(result.to_json() + "\n" if args.json else result.format_stats())
    return EXIT_OK


_COMMANDS = {"run": _cmd_run, "inspect": _cmd_inspect, "compare": _cmd_compare, "bench": _cmd_bench,
             "coco-eval": _cmd_coco_eval}


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
        if args.command != "compare":
            raise  # a bug: exit 1 with its traceback
        import traceback

        traceback.print_exc()
        sys.stderr.write("evalcore compare: internal error (a bug, not a difference): exit 3\n")
        return EXIT_COMPARE_BUG


if __name__ == "__main__":
    sys.exit(main())
