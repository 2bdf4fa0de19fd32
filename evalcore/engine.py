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
import time
from dataclasses import dataclass, field
from pathlib import Path

from evalcore.errors import ConfigError
from evalcore.options import COMPAT_SETTINGS, RunOptions, parse_compat
from evalcore.pipeline.sources import default_variant, load_records

__all__ = ["COMPAT_SETTINGS", "RunOptions", "RunResult", "default_variant", "evaluate", "load_records", "parse_compat",
           "run_bundle", "slices_path", "write_outputs"]


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

    @functools.cached_property
    def slices_document(self) -> dict | None:
        """The ``--slice-by`` document (``evalcore.slices``), None without ``--slice-by``."""
        if self.builder.slices is None:
            return None
        from evalcore.slices import slices_document

        return slices_document(self.builder)

    def slices_json(self) -> bytes | None:
        """`slices_document` as JSON bytes (``jsonio.dumps``), None without ``--slice-by``."""
        document = self.slices_document
        if document is None:
            return None
        from evalcore.jsonio import dumps

        return dumps(document)

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
        """One line for stderr: samples, windows, variant, time, accuracy, engines.

        The accuracy follows the run's score scale: ``accuracy 88.36%`` (percent, two decimals
        as Edge Impulse's client prints it: ``toFixed(2) + '%'``) or ``accuracy 0.8836``
        (``--compat score-scale=fraction``).
        """
        acc = self.builder.accuracy_model()
        score = ""
        if acc.accuracy_score is not None:
            if self.builder.compat["score-scale"] == "percent":
                from evalcore.metrics.additional import format_metric_value

                score = f", accuracy {format_metric_value(acc.accuracy_score)}%"
            else:
                score = f", accuracy {acc.accuracy_score:.4f}"
        engines = ", ".join(f"block {k}: {v}" for k, v in self.engines.items())
        return (
            f"evaluated {self.n_samples} samples ({self.n_windows} windows) with the {self.variant} variant "
            f"in {self.seconds:.2f} s{score} [{engines}]"
        )


@dataclass
class RunPlan:
    """What a run reads, known before any model is loaded: the project, the options (variant
    filled in), the learn blocks' plans, the records (all of them, whatever the shard) and the
    precomputed-feature source (None: the dataset is featurized).
    """

    project: object
    options: RunOptions
    plans: dict
    records: list
    source: object = None


def plan_run(bundle_dir: str | Path, options: RunOptions | None = None) -> RunPlan:
    """Load and check the bundle, plan the learn blocks and list the records (no model is loaded)."""
    from evalcore.bundle import load_project
    from evalcore.learn.thresholds import plan_blocks

    options = options or RunOptions()
    project = load_project(bundle_dir, follow_links=options.follow_links)
    plans = plan_blocks(project, options.thresholds)
    if options.variant is None:
        options = dataclasses.replace(options, variant=default_variant(project))
    source, records = load_records(project, options)
    return RunPlan(project, options, plans, records, source)


def options_info(options: RunOptions, n_workers: int) -> dict:
    """The run's options as the run-info sidecar shows them."""
    return {
        "category": options.category, "features": options.features, "thresholds": options.thresholds,
        "akidaDevice": options.akida_device, "threads": options.threads, "batchRows": options.batch_rows,
        "overlap": options.overlap, "workers": n_workers,
        "compat": options.compat,
        **({"sliceBy": list(options.slice_by)} if options.slice_by else {}),
    }


def evaluate(bundle_dir: str | Path, options: RunOptions | None = None, *, shard: tuple[int, int] | None = None,
             keep_samples: bool = False, positions=None, plan: RunPlan | None = None):
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
    positions : sequence of int, optional
        Evaluate only the samples at these record positions (in this order); not with ``shard``.
    plan : RunPlan, optional
        The run's `plan_run` when the caller already made it (the bundle is not read again).
    keep_samples : bool
        Keep every sample's values in the reduce (``ReportBuilder(keep_samples=True)``); by
        default memory stays flat and the response is streamed from disk.

    Returns
    -------
    (ReportBuilder, Pipeline)
        The reduce state (``.build()`` gives the response) and the pipeline that fed it.

    Raises
    ------
    BundleError, ConfigError, ModelError
        Bad input, with the file, the sample and the field named.
    """
    from evalcore.pipeline.infer import Pipeline
    from evalcore.pipeline.pool import PreparePool, fewer_gc_passes, resolve_workers
    from evalcore.progress import Progress
    from evalcore.report.builder import ReportBuilder
    from evalcore.warmup import start_numba_warmup

    plan = plan or plan_run(bundle_dir, options)  # from the metadata: no model is loaded yet
    project, options, plans, featurizer, all_records = plan.project, plan.options, plan.plans, plan.source, plan.records
    records = all_records if shard is None else all_records[shard[0] :: shard[1]]
    if positions is not None:
        records = [all_records[p] for p in positions]
    n_workers = 0 if featurizer is not None else resolve_workers(options.workers, len(records))
    with contextlib.ExitStack() as stack:
        if n_workers > 0:
            # started before any model runtime is loaded, so that workers can be forked cheaply
            featurizer = stack.enter_context(PreparePool(project, options, n_workers, records=records))
        # numba's set-up on a thread (evalcore.warmup: it holds the imports while it runs), after
        # the fork (workers need no thread of ours); joined on the way out, so no thread outlives
        # the run (a later run may fork). With workers, it then saves the machine code they load
        # without numba, if it is missing (the next run's workers use it).
        stack.callback(start_numba_warmup(save_worker_code=n_workers > 0).join)
        stack.enter_context(fewer_gc_passes())
        pipeline = Pipeline(project, options, plans, all_records)
        pipeline.n_workers = n_workers
        builder = ReportBuilder(project, plans, all_records, options, keep_samples=keep_samples,
                                labels=pipeline.decider.labels)
        with Progress(len(records), "evaluating", enabled=not options.quiet) as progress:
            for outcome in pipeline.outcomes(records, featurizer):
                builder.add(outcome)
                progress.update(1)
    return builder, pipeline


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
        options=options_info(options, pipeline.n_workers),
    )


def write_outputs(result: RunResult, *, out: str | Path | None, page_size: int | None = None,
                  out_dir: str | Path | None = None, run_json: str | Path | None = None,
                  slices_json: str | Path | None = None):
    """Write the full response, its run-info sidecar and, with ``page_size``, the paged form,
    as one transaction (``evalcore.outputs``): all of them appear, or nothing changes.

    ``out`` None writes no full response file (``evalcore run --out -`` prints it instead); the
    sidecar goes to ``run_json`` when given, else next to ``out`` (``result.run.json``), else
    nowhere. With ``--slice-by`` the slices document (``evalcore.slices``) goes to
    ``slices_json`` when given, else next to ``out`` (``result.slices.json``), else nowhere.

    Pages are ``<out_dir>/page-<k>.json`` (k from 0), each a ``ClassifyJobResponsePage`` with
    ``page_size`` samples' results and their predictions, as Studio serves
    ``classify/all/result/page?limit=page_size&offset=k*page_size``. Pages of an earlier run
    beyond the new last page are removed with the commit, so the folder holds one run's pages.

    Raises
    ------
    ConfigError
        An output cannot be written (full disk, read-only folder, ...), or another run kept the
        folder locked; nothing was changed then.
    """
    from evalcore.jsonio import dumps
    from evalcore.outputs import OutputTransaction, is_page_name, locked_folders, remove_leftover_temps, stale_pages

    _check_page_options(page_size, out_dir)
    out = None if out is None else Path(out)
    info = Path(run_json) if run_json is not None else (None if out is None else run_info_path(out))
    pages = None if page_size is None else Path(out_dir)
    slices = None
    if result.builder.slices is not None:
        slices = Path(slices_json) if slices_json is not None else (None if out is None else slices_path(out))
    files = [path for path in (slices, info, out) if path is not None]
    transaction = OutputTransaction()
    created = None
    try:
        if pages is not None and not pages.is_dir():
            created = _make_folder(pages)
        folders = list(dict.fromkeys(path.parent for path in files))
        with locked_folders(folders + ([pages] if pages is not None else [])):
            for folder in folders:
                remove_leftover_temps(folder, {path.name for path in files if path.parent == folder}.__contains__)
            if slices is not None:
                transaction.stage(slices, result.slices_json())
            if info is not None:
                transaction.stage(info, dumps(result.run_info()))
            if out is not None:
                transaction.stage_chunks(out, result.builder.response_chunks())
            stale = []
            if pages is not None:
                remove_leftover_temps(pages, is_page_name)
                n_pages = result.builder.page_count(page_size)
                for k in range(n_pages):
                    transaction.stage_chunks(pages / f"page-{k}.json", result.builder.page_chunks(k, page_size))
                stale = stale_pages(pages, n_pages)
            # result.json last: a reader that sees the new result.json sees its sidecar and pages
            transaction.commit(remove=stale, last=tuple(files))
    except BaseException as err:
        transaction.abort()
        if created is not None:
            _remove_empty_folders(pages, created)
        if isinstance(err, OSError):
            target = err.filename or (files[-1] if files else pages)
            raise ConfigError(f"cannot write output {target}: {err.strerror or err}") from err
        raise


def _make_folder(folder: Path) -> Path:
    """Create ``folder`` and its missing parents; return the topmost one created."""
    top = folder
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    folder.mkdir(parents=True, exist_ok=True)
    return top


def _remove_empty_folders(folder: Path, top: Path) -> None:
    """Undo `_make_folder` (only folders left empty)."""
    while True:
        try:
            folder.rmdir()
        except OSError:
            return
        if folder == top:
            return
        folder = folder.parent


def _check_page_options(page_size: int | None, out_dir) -> None:
    if page_size is not None:
        if page_size < 1:
            raise ConfigError(f"--page-size must be >= 1, got {page_size}")
        if out_dir is None:
            raise ConfigError("--page-size needs --out-dir")
    elif out_dir is not None:
        raise ConfigError("--out-dir needs --page-size (the pages are the only files written there)")


def run_info_path(out: str | Path) -> Path:
    """``result.json`` -> ``result.run.json``: the sidecar saying what ran (engine per block, options)."""
    out = Path(out)
    stem = out.name[: -len(".json")] if out.name.endswith(".json") else out.name
    return out.with_name(stem + ".run.json")


def slices_path(out: str | Path) -> Path:
    """``result.json`` -> ``result.slices.json``: the ``--slice-by`` document (``evalcore.slices``)."""
    out = Path(out)
    stem = out.name[: -len(".json")] if out.name.endswith(".json") else out.name
    return out.with_name(stem + ".slices.json")


def check_output_path(out: str | Path | None, *, page_size: int | None = None, out_dir=None, bundle=None,
                      run_json=None, slices_json=None, slices: bool = False) -> None:
    """Fail before a long run when the outputs cannot be written: bad options, ``--out`` or
    ``--run-json`` a folder, a missing or read-only folder, ``--out-dir`` a file, or any output
    inside the bundle folder ``bundle`` (symlinks resolved: a run never writes into its input).
    ``out`` None: the full response goes to standard output (``--out -``). ``slices``: the run
    writes a slices file (``--slice-by``), at ``slices_json`` or next to ``out``.
    """
    _check_page_options(page_size, out_dir)
    if slices_json is not None and not slices:
        raise ConfigError("--slices-json needs --slice-by")
    for option, path in (("--out", out), ("--run-json", run_json), ("--slices-json", slices_json)):
        if path is not None:
            _check_output_file(option, Path(path))
    if out_dir is not None:
        import os

        pages = Path(out_dir)
        if pages.exists() and not pages.is_dir():
            raise ConfigError(f"--out-dir must be a folder, got a file: {pages}")
        existing = pages.resolve()
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK):
            raise ConfigError(f"--out-dir folder is not writable: {existing}")
    if bundle is not None:
        _refuse_outputs_in_bundle(bundle, out, out_dir, run_json, slices_json if slices else None, slices)


def _check_output_file(option: str, path: Path) -> None:
    import os

    if path.is_dir():
        raise ConfigError(f"{option} is a folder, give the file's name (e.g. {path / 'result.json'})")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ConfigError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"output folder is not writable: {folder}")


def _refuse_outputs_in_bundle(bundle, out, out_dir, run_json=None, slices_json=None, slices=False) -> None:
    root = Path(bundle).resolve()
    outputs = []
    if out is not None:
        outputs.append(("--out", Path(out)))
        if run_json is None:
            outputs.append(("--out's run-info file", run_info_path(out)))
        if slices and slices_json is None:
            outputs.append(("--out's slices file", slices_path(out)))
    if slices_json is not None:
        outputs.append(("--slices-json", Path(slices_json)))
    if run_json is not None:
        outputs.append(("--run-json", Path(run_json)))
    if out_dir is not None:
        outputs.append(("--out-dir", Path(out_dir)))
    for option, path in outputs:
        real = path.resolve()
        if real == root or root in real.parents:
            raise ConfigError(
                f"{option} {path} is inside the bundle folder {bundle} (as {real}): "
                "a run never writes into its input; write elsewhere"
            )
