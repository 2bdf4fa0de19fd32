"""Command line: parses arguments, calls one engine function, writes output, maps errors to exit codes.

Exit codes: 0 done, 2 bad input (``EvalcoreError``: the message names the file, the sample and the
field), 1 internal error (any other exception keeps its traceback: it is a bug). For ``compare``,
1 also means "the two results differ".

Only the standard library is imported at module level so that ``evalcore --help`` starts fast;
each subcommand imports what it needs.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2

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
                   help="choose a reading of an undocumented Studio rule (README, Compatibility notes): "
                   "uncertain=bad|exclude, balanced-accuracy=mean_recall|anomaly_mean, "
                   "confusion-values=counts|percent, classifier-threshold='>='|'>', "
                   "anomaly-threshold='>'|'>=', regression-threshold='<='|'<', unknown-label=anomaly|label, "
                   "trailing-window=drop|pad, resample=linear|poly|refuse")
    p.add_argument("--follow-links", action="store_true",
                   help="accept symbolic links that lead outside the bundle (e.g. a dataset kept elsewhere); "
                   "default: refuse them")
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
    p.add_argument("--follow-links", action="store_true",
                   help="accept symbolic links that lead outside the bundle, as run --follow-links does")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("compare", help="compare two ClassifyJobResponse JSON files (exit 1 when they differ)")
    p.add_argument("a", help="first result JSON (e.g. Studio's)")
    p.add_argument("b", help="second result JSON (e.g. evalcore's)")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance for numbers (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance for numbers (default 1e-9)")
    p.add_argument("--max-diffs", type=int, default=50, help="differences to print (default 50)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

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

    report = inspect_bundle(args.bundle, category=args.category, quiet=args.quiet, follow_links=args.follow_links)
    sys.stdout.write(report.to_json() if args.json else report.to_text())
    return EXIT_OK


def _cmd_compare(args) -> int:
    from evalcore.compare import compare_files

    diff = compare_files(args.a, args.b, rtol=args.rtol, atol=args.atol)
    sys.stdout.write(diff.to_json() if args.json else diff.to_text(max_diffs=args.max_diffs))
    return EXIT_OK if diff.equal else EXIT_INTERNAL


def _cmd_coco_eval(args) -> int:
    from evalcore.coco_eval import evaluate_coco_files

    result = evaluate_coco_files(args.gt, args.dt)
    sys.stdout.write(result.to_json() + "\n" if args.json else result.format_stats())
    return EXIT_OK


_COMMANDS = {"run": _cmd_run, "inspect": _cmd_inspect, "compare": _cmd_compare, "coco-eval": _cmd_coco_eval}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``evalcore`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from evalcore import __version__

        print(f"evalcore {__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    from evalcore.errors import EvalcoreError

    try:
        return _COMMANDS[args.command](args)
    except EvalcoreError as err:
        sys.stderr.write(f"evalcore {args.command}: error: {err}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("evalcore: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
