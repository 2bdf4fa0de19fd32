"""The run: map over samples (windows -> DSP -> model -> decode), reduce with accumulators, report.

Samples are independent up to their ``SampleOutcome``; model inference is batched across the
windows of several samples (``RunOptions.batch_rows`` rows per call), so a dataset of many short
samples costs about as much as one long batched model call. Memory stays flat: prepared samples
are released as soon as their outcomes are reduced and reported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from evalcore.errors import BundleError, ConfigError

__all__ = ["RunOptions", "RunResult", "default_variant", "evaluate", "load_records", "run_bundle", "write_outputs"]


#: ``--compat NAME=VALUE`` settings: each open Studio rule (README, "Compatibility notes"),
#: name -> (allowed values, default). The defaults are the documented readings.
COMPAT_SETTINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "uncertain": (("bad", "exclude"), "bad"),
    "balanced-accuracy": (("mean_recall", "anomaly_mean"), "mean_recall"),
    "confusion-values": (("counts", "percent"), "counts"),
    "classifier-threshold": ((">=", ">"), ">="),
    "anomaly-threshold": ((">", ">="), ">"),
    "regression-threshold": (("<=", "<"), "<="),
    "unknown-label": (("anomaly", "label"), "anomaly"),
    "trailing-window": (("drop", "pad"), "drop"),
    "resample": (("linear", "poly", "refuse"), "linear"),
}


def parse_compat(items) -> dict[str, str]:
    """``["uncertain=exclude", ...]`` -> a full settings dict (defaults filled in)."""
    out = {name: default for name, (_, default) in COMPAT_SETTINGS.items()}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or name not in COMPAT_SETTINGS:
            raise ConfigError(
                f"--compat takes NAME=VALUE with NAME one of {', '.join(COMPAT_SETTINGS)}, got {item!r}"
            )
        allowed = COMPAT_SETTINGS[name][0]
        if value not in allowed:
            raise ConfigError(f"--compat {name} must be one of {', '.join(allowed)}, got {value!r}")
        out[name] = value
    return out


@dataclass(frozen=True)
class RunOptions:
    """Options of one ``evalcore run``; every open Studio rule is one of these (README, Compatibility notes)."""

    variant: str | None = None
    category: str = "testing"
    thresholds: dict[str, float] = field(default_factory=dict)
    features: str = "auto"
    akida_device: str = "auto"
    threads: int = 1
    batch_rows: int = 1024
    overlap: bool = True
    workers: int | None = None
    quiet: bool = True
    compat: dict[str, str] = field(default_factory=lambda: parse_compat(()))
    follow_links: bool = False

    def __post_init__(self):
        if self.variant not in (None, "float32", "int8", "akida"):
            raise ConfigError(f"variant must be one of float32, int8, akida, got {self.variant!r}")
        if self.threads < 1:
            raise ConfigError(f"threads must be >= 1, got {self.threads}")
        if self.batch_rows < 1:
            raise ConfigError(f"batch size must be >= 1, got {self.batch_rows}")
        if self.workers is not None and self.workers < 0:
            raise ConfigError(f"workers must be >= 0, got {self.workers}")
        for key, value in self.thresholds.items():
            if not math.isfinite(value):
                raise ConfigError(f"--threshold {key} must be a finite number, got {value!r}")

    @classmethod
    def from_cli(cls, args) -> RunOptions:
        """Build options from the parsed ``evalcore run`` arguments."""
        thresholds: dict[str, float] = {}
        for item in args.threshold:
            key, sep, value = item.rpartition("=")
            if not sep or not key:
                raise ConfigError(f"--threshold takes BLOCK=VALUE, got {item!r}")
            try:
                number = float(value)
            except ValueError as err:
                raise ConfigError(f"--threshold value must be a number, got {value!r} in {item!r}") from err
            if not math.isfinite(number):
                raise ConfigError(f"--threshold value must be a finite number, got {value!r} in {item!r}")
            thresholds[key.strip()] = number
        return cls(
            variant=args.variant,
            category=args.category,
            thresholds=thresholds,
            features=args.features,
            akida_device=args.akida_device,
            threads=args.threads,
            batch_rows=args.batch_size,
            overlap=not args.no_overlap,
            workers=args.workers,
            quiet=args.quiet,
            compat=parse_compat(args.compat),
            follow_links=getattr(args, "follow_links", False),
        )


@dataclass
class RunResult:
    """A finished run: its reduce state (the response is built on demand) plus what the CLI prints."""

    builder: object  # report.ReportBuilder, every sample added
    n_samples: int
    n_windows: int
    seconds: float
    engines: dict[int, str]
    variant: str
    blocks: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    @functools.cached_property
    def response(self):
        """The validated ``schema.ClassifyJobResponse`` (built on first use, then kept)."""
        return self.builder.build()

    def response_json(self) -> bytes:
        """``jsonio.dumps(self.response)``, written without building the model."""
        return self.builder.build_json()

    def run_info(self) -> dict:
        """What ran, for ``<out>.run.json``: Studio's response has no field for it."""
        from evalcore import __version__

        return {
            "evalcore": __version__,
            "variant": self.variant,
            "samples": self.n_samples,
            "windows": self.n_windows,
            "seconds": round(self.seconds, 3),
            "learnBlocks": self.blocks,
            "options": self.options,
        }

    def summary_line(self) -> str:
        """One line for stderr: samples, windows, variant, time, accuracy, engines."""
        acc = self.builder.accuracy_model()
        score = "" if acc.accuracy_score is None else f", accuracy {acc.accuracy_score:.4f}"
        engines = ", ".join(f"block {k}: {v}" for k, v in self.engines.items())
        return (
            f"evaluated {self.n_samples} samples ({self.n_windows} windows) with the {self.variant} variant "
            f"in {self.seconds:.2f} s{score} [{engines}]"
        )


def evaluate(bundle_dir: str | Path, options: RunOptions | None = None, *, shard: tuple[int, int] | None = None):
    """Run the map and the reduce over a bundle's samples; returns the reduce state.

    Parameters
    ----------
    bundle_dir : str or Path
        The bundle folder (see ``evalcore.bundle``).
    options : RunOptions, optional
        Variant, category, threshold overrides, runtime settings.
    shard : (int, int), optional
        ``(i, n)``: evaluate only the samples at positions ``i, i+n, i+2n, ...``. Shards of one
        run merge (``ReportBuilder.merge``) into the same result as the whole run.

    Returns
    -------
    (ReportBuilder, Pipeline)
        The reduce state (``.build()`` gives the response) and the pipeline that fed it.

    Raises
    ------
    BundleError, ConfigError, ModelError
        Bad input, with the file, the sample and the field named.
    """
    from evalcore.bundle import load_project
    from evalcore.parallel import PreparePool, fewer_gc_passes, resolve_workers
    from evalcore.pipeline import Pipeline, check_threshold_keys
    from evalcore.progress import Progress
    from evalcore.report import ReportBuilder

    options = options or RunOptions()
    project = load_project(bundle_dir, follow_links=options.follow_links)
    check_threshold_keys(options.thresholds, project.learn)
    if options.variant is None:
        options = dataclasses.replace(options, variant=default_variant(project))
    featurizer, all_records = load_records(project, options)
    records = all_records if shard is None else all_records[shard[0] :: shard[1]]
    n_workers = 0 if featurizer is not None else resolve_workers(options.workers, len(records))
    with contextlib.ExitStack() as stack:
        if n_workers > 0:
            # started before any model runtime is loaded, so that workers can be forked cheaply
            featurizer = stack.enter_context(PreparePool(project, options, n_workers))
        # after the fork (workers need no thread of ours); joined on the way out, so no thread
        # outlives the run (a later run may fork)
        stack.callback(_start_numba_warmup().join)
        stack.enter_context(fewer_gc_passes())
        pipeline = Pipeline(project, options)
        pipeline.n_workers = n_workers
        builder = ReportBuilder(project, pipeline, all_records)
        with Progress(len(records), "evaluating", enabled=not options.quiet) as progress:
            for outcome in pipeline.outcomes(records, featurizer):
                builder.add(outcome)
                progress.update(1)
    return builder, pipeline


def load_records(project, options: RunOptions):
    """The samples of ``options.category`` a run reads, and where their features come from.

    Returns
    -------
    (FeatureSource or None, list of SampleRecord)
        The precomputed-feature source (``--features``; None: the dataset, featurized by
        ``evalcore.features.SampleFeaturizer``) and the records, in run order.

    Raises
    ------
    BundleError
        The category has no samples, or a dataset / features file is bad.
    """
    from evalcore.data import load_dataset

    featurizer = None
    if _use_precomputed(project, options):
        from evalcore.precomputed import FeatureSource

        featurizer = FeatureSource(project, options.category)
        records = featurizer.records(options.category)
    else:
        records = list(load_dataset(project.dataset_dir, category=options.category,
                                    follow_links=options.follow_links).records)
    if not records:
        raise BundleError(f"the dataset has no {options.category} samples", path=project.dataset_dir)
    return featurizer, records


def _start_numba_warmup():
    """Set numba up on a background thread while the model runtime loads and the first batch runs.

    numba's first kernel call in a process costs ~0.6 s (its CPU target is set up, then the
    kernel is loaded from the cache). Paid on the main thread at the first sample's reduce, it
    stalled the overlapped pipeline: the model thread waited ~0.6 s for its next batch. Started
    here it overlaps the runtime's session set-up and the first inference, which release the
    GIL (benchmarks/README.md: the stall fell to ~0.2 s).
    """
    import threading

    def warm():
        try:
            import numpy as np

            from kernels.confusion import confusion_matrix

            codes = np.zeros(1, dtype=np.int32)  # the dtype the accumulators pass
            confusion_matrix(codes, codes, 1)
        except Exception:  # noqa: BLE001 - only a head start: the run itself reports any failure
            pass

    thread = threading.Thread(target=warm, name="evalcore-numba-warmup", daemon=True)
    thread.start()
    return thread


def _use_precomputed(project, options) -> bool:
    """``--features``: ``precomputed`` needs ``features/``; ``auto`` uses it only without ``dataset/``."""
    if options.features == "precomputed":
        if project.features_dir is None:
            raise ConfigError("--features precomputed needs a features/ folder in the bundle")
        return True
    if options.features == "auto":
        return project.features_dir is not None and not project.dataset_dir.is_dir()
    return False


def default_variant(project) -> str:
    """float32 when every model-backed block has it, else the first variant the bundle has."""
    available = project.available_variants
    if not available or "float32" in available:
        return "float32"
    return available[0]


def run_bundle(bundle_dir: str | Path, options: RunOptions | None = None) -> RunResult:
    """Evaluate a bundle and return its ``ClassifyJobResponse`` (see :func:`evaluate`)."""
    options = options or RunOptions()
    t0 = time.perf_counter()
    builder, pipeline = evaluate(bundle_dir, options)
    return RunResult(
        builder=builder,
        n_samples=builder.n_samples,
        n_windows=builder.n_windows,
        seconds=time.perf_counter() - t0,
        engines=pipeline.engines(),
        variant=pipeline.options.variant,
        blocks=pipeline.describe(),
        options={
            "category": options.category, "features": options.features, "thresholds": options.thresholds,
            "akidaDevice": options.akida_device, "threads": options.threads, "batchRows": options.batch_rows,
            "overlap": options.overlap, "workers": pipeline.n_workers,
            "compat": options.compat,
        },
    )


def write_outputs(result: RunResult, *, out: str | Path, page_size: int | None = None, out_dir: str | Path | None = None):
    """Write the full response (atomically) and, with ``page_size``, the paged form.

    Pages are ``<out_dir>/page-<k>.json`` (k from 0), each a ``ClassifyJobResponsePage`` with
    ``page_size`` samples' results and their predictions, as Studio serves
    ``classify/all/result/page?limit=page_size&offset=k*page_size``.
    """
    from evalcore.jsonio import write_json_atomic

    _check_page_options(page_size, out_dir)
    try:
        write_json_atomic(Path(out), result.response_json())
        write_json_atomic(run_info_path(out), result.run_info())
        if page_size is not None:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            for k, page in enumerate(result.builder.pages_json(page_size)):
                write_json_atomic(folder / f"page-{k}.json", page)
    except OSError as err:
        raise ConfigError(f"cannot write output: {err.strerror} ({err.filename})") from err


def _check_page_options(page_size: int | None, out_dir) -> None:
    if page_size is not None:
        if page_size < 1:
            raise ConfigError(f"--page-size must be >= 1, got {page_size}")
        if out_dir is None:
            raise ConfigError("--page-size needs --out-dir")


def run_info_path(out: str | Path) -> Path:
    """``result.json`` -> ``result.run.json``: the sidecar saying what ran (engine per block, options)."""
    out = Path(out)
    stem = out.name[: -len(".json")] if out.name.endswith(".json") else out.name
    return out.with_name(stem + ".run.json")


def check_output_path(out: str | Path, *, page_size: int | None = None, out_dir=None) -> None:
    """Fail before a long run when the outputs cannot be written (bad options, missing or
    read-only folder).
    """
    import os

    _check_page_options(page_size, out_dir)
    if Path(out).is_dir():
        raise ConfigError(f"--out is a folder, give the result file's name (e.g. {Path(out) / 'result.json'})")
    folder = Path(out).resolve().parent
    if not folder.is_dir():
        raise ConfigError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"output folder is not writable: {folder}")
