"""``evalcore inspect``: validate a bundle and say what a run would do, without running a model.

Every check goes through the code a run uses, so that a bundle ``inspect`` accepts is one ``run``
reads (and a bad file fails here with the line a run would print):

- the project is loaded as a run loads it (``bundle.load_project``, ``pipeline.sources.load_records``);
- every model file of every variant present is opened by its runtime (``pipeline.Pipeline``: the
  session or interpreter is created, no inference runs) and its input size checked against the
  DSP output planned for it; a variant whose runtime is not installed is reported as not checked;
- the learn metadata is checked as the run's reduce checks it (``report.ReportBuilder``:
  ``classNames`` against the model outputs, the label set), and K-means / GMM blocks score the
  first window, which checks their metadata against the features;
- the DSP runs on the first window of the category's first sample through the run's featurizer;
- every sample of the category is read and its windows planned.

The report says the samples per label, the windows per sample, the blocks and the model files.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BundleReport", "inspect_bundle"]

#: Status of a model file that its runtime opened.
OPENED = "opened"
#: Folders that make a folder a bundle (then ``impulse.json`` is required) rather than a bare
#: dataset export.
_BUNDLE_FOLDERS = ("dsp", "learn", "features", "studio")


@dataclass
class BundleReport:
    """What a run of the bundle would do; ``to_text`` for people, ``to_json`` for machines.

    ``to_json`` writes camelCase keys, as Studio's API bodies do (``inputBlock`` is the impulse's
    own input block object); the keys of ``samplesPerLabel``, ``windowsPerSample`` and the like
    are data (labels, file names), not names.
    """

    bundle: str
    category: str
    input_block: dict
    dsp_blocks: list[dict]
    learn_blocks: list[dict]
    available_variants: list[str]
    sample_count: int
    samples_per_label: dict[str, int]
    window_count: int
    samples_per_category: dict[str, int] = field(default_factory=dict)
    windows_per_sample: dict[str, int] = field(default_factory=dict)
    data_kinds: dict[str, int] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)
    studio_result: str | None = None
    features_source: str = "dataset"
    first_sample: dict | None = None

    def to_dict(self) -> dict:
        """The report as a JSON-ready dict with camelCase keys."""
        return {_camel(f.name): getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_text(self) -> str:
        """The report for people."""
        ib = self.input_block
        lines = [f"bundle {self.bundle}", f"  input block: {ib.get('type')} {_describe_input(ib)}".rstrip()]
        for d in self.dsp_blocks:
            n = d.get("featuresPerWindow")
            feats = f", {n} features per window" if n is not None else ""
            lines.append(f"  dsp block {d['id']}: {d['type']} v{d['implementationVersion']} axes {','.join(d['axes'])}{feats}")
        for lb in self.learn_blocks:
            lines.append(f"  learn block {lb['id']}: {lb['type']} ({lb['kind']}) '{lb['title']}' dsp {lb['dsp']} "
                         f"models: {_describe_models(lb)}")
        if self.learn_blocks:
            lines.append(f"  available variants: {', '.join(self.available_variants) or 'none'}")
        if self.features_source == "precomputed":
            lines.append("  features: precomputed (features/), no DSP")
        if self.first_sample:
            fs = self.first_sample
            per_block = ", ".join(f"learn block {k}: {v}" for k, v in fs["featuresPerLearnBlock"].items())
            lines.append(f"  checked on sample {fs['sample']} ({fs['windowCount']} window): {per_block} features")
        lines.append(f"  {self.category}: {self.sample_count} samples, {self.window_count} windows")
        if self.samples_per_category:
            lines.append("  all categories: " + ", ".join(f"{k} {v}" for k, v in self.samples_per_category.items()))
        for label, n in self.samples_per_label.items():
            lines.append(f"    {label}: {n} samples")
        if self.data_kinds:
            lines.append("  data: " + ", ".join(f"{k} {v}" for k, v in self.data_kinds.items()))
        if self.skipped_files:
            lines.append(f"  skipped files (not samples): {', '.join(self.skipped_files[:10])}")
        if self.studio_result:
            lines.append(f"  Studio result for compare: {self.studio_result}")
        return "\n".join(lines) + "\n"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _describe_models(lb: dict) -> str:
    if not lb["models"]:
        return "none (scored from metadata)"
    parts = []
    for variant, path in lb["models"].items():
        check = lb["modelChecks"].get(variant, "")
        parts.append(f"{variant}={Path(path).name} ({check})" if check else f"{variant}={Path(path).name}")
    return ", ".join(parts)


def _describe_input(ib: dict) -> str:
    if "windowSizeMs" not in ib and ib.get("type") != "image":
        return ""
    if ib.get("type") == "image":
        return f"{ib.get('imageWidth')}x{ib.get('imageHeight')} {ib.get('resizeMode') or ''}".strip()
    parts = [f"window {ib.get('windowSizeMs')} ms"]
    step = ib.get("classificationWindowIncreaseMs") or ib.get("windowIncreaseMs")
    if step:
        parts.append(f"step {step} ms")
    if ib.get("frequencyHz"):
        parts.append(f"{ib.get('frequencyHz')} Hz")
    if ib.get("padZeros"):
        parts.append("zero padded")
    return ", ".join(parts)


def _sample_label(record) -> str:
    info = record.label
    if info.kind == "label":
        return info.label
    if info.kind == "multi-label":
        return "(multi-label)"
    return f"({info.kind})"


def _is_dataset_export(root: Path) -> bool:
    """A folder without ``impulse.json`` and without any other bundle folder is a dataset export."""
    if not root.is_dir() or (root / "impulse.json").exists():
        return False
    return not any((root / name).exists() for name in _BUNDLE_FOLDERS)


def inspect_bundle(bundle_dir: str | Path, *, category: str = "testing", quiet: bool = True,
                   follow_links: bool = False) -> BundleReport:
    """Validate a bundle as a run reads it and plan its run.

    Parameters
    ----------
    bundle_dir : str or Path
        A bundle folder, or a bare Edge Impulse dataset export (then only the samples are read).
    category : str, default "testing"
        The dataset category a run would evaluate.
    quiet : bool, default True
        No progress bar.
    follow_links : bool, default False
        Accept symbolic links that lead outside the bundle (``run --follow-links``).

    Raises
    ------
    BundleError, ConfigError, ModelError
        The first bad file, as a run would report it.
    """
    from evalcore.bundle import load_project
    from evalcore.options import RunOptions
    from evalcore.pipeline.featurize import SampleFeaturizer, planned_feature_counts
    from evalcore.pipeline.sources import load_records

    root = Path(bundle_dir)
    if _is_dataset_export(root):
        return _inspect_dataset(root, category=category, quiet=quiet, follow_links=follow_links)
    project = load_project(root, follow_links=follow_links)
    options = RunOptions(category=category, follow_links=follow_links)
    source, records = load_records(project, options)
    from evalcore.learn.thresholds import plan_blocks
    from evalcore.report.builder import ReportBuilder

    pipelines, checks = _open_models(project, options, records)
    # the reduce's checks of labels and blocks: from the metadata, whether a runtime is installed or not
    ReportBuilder(project, plan_blocks(project, options.thresholds), records, options)
    featurizer = source or SampleFeaturizer(project, options, max_windows=1)
    first = featurizer.prepare(records[0])
    for pipeline in pipelines:
        pipeline.check_prepared(first)
    per_category, skipped = {}, []
    if source is None:
        windows, kinds = _read_samples(featurizer, records, quiet=quiet)
        per_category, skipped = _whole_export(project.dataset_dir, follow_links)
    else:
        windows, kinds = {r.filename: 1 for r in records}, {"features": len(records)}
    n_features = planned_feature_counts(project)
    return BundleReport(
        bundle=str(project.root),
        category=category,
        input_block=project.input_block.model_dump(by_alias=True, exclude_none=True, mode="json"),
        dsp_blocks=[
            {"id": d.id, "type": d.type, "implementationVersion": d.implementation_version, "axes": list(d.axes),
             "featuresPerWindow": n_features.get(d.id)}
            for d in project.dsp.values()
        ],
        learn_blocks=[
            {"id": lb.id, "type": lb.type, "kind": lb.kind + (", multi-label" if lb.multi_label else ""),
             "title": lb.title, "dsp": list(lb.dsp_ids),
             "models": {v: str(p) for v, p in lb.models.items()},
             "modelChecks": {v: checks[v] for v in lb.models}}
            for lb in project.learn
        ],
        available_variants=project.available_variants,
        sample_count=len(records),
        samples_per_label=dict(sorted(Counter(_sample_label(r) for r in records).items())),
        samples_per_category=per_category,
        window_count=sum(windows.values()),
        windows_per_sample=windows,
        data_kinds=kinds,
        skipped_files=skipped,
        studio_result=str(project.studio_result_path) if project.studio_result_path else None,
        features_source="dataset" if source is None else "precomputed",
        first_sample={
            "sample": records[0].filename,
            "windowCount": first.outcome.n_windows,
            "featuresPerLearnBlock": {str(k): int(v.shape[1]) for k, v in first.features.items()},
        },
    )


def _open_models(project, options, records) -> tuple[list, dict[str, str]]:
    """Load the pipeline of every variant present: each model file is opened and its input size
    checked against the planned DSP output, each block's metadata against its model.

    Returns the loaded pipelines (the run's default variant first, with every learn block, when
    its runtime is installed) and the check of each variant: ``OPENED`` or why it was not checked
    (its runtime is not installed).
    """
    from evalcore.errors import BackendUnavailableError
    from evalcore.learn.thresholds import plan_blocks
    from evalcore.pipeline.infer import Pipeline
    from evalcore.pipeline.sources import default_variant

    default = default_variant(project)
    present = {v for lb in project.learn for v in lb.models}
    pipelines, checks = [], {}
    for variant in [default, *sorted(present - {default})]:
        if variant == default:
            blocks = project  # as a run without --variant loads it: every block needs this variant
        else:
            blocks = dataclasses.replace(
                project, learn=tuple(lb for lb in project.learn if not lb.needs_model or variant in lb.models)
            )
        try:
            plans = plan_blocks(blocks, options.thresholds)
            pipelines.append(Pipeline(blocks, dataclasses.replace(options, variant=variant), plans, records))
        except BackendUnavailableError as err:
            checks[variant] = f"not checked: {err}"
        else:
            checks[variant] = OPENED
    return pipelines, checks


def _read_samples(featurizer, records, *, quiet: bool) -> tuple[dict[str, int], dict[str, int]]:
    """Read every sample and plan its windows; returns windows per sample and samples per data kind."""
    from evalcore.data import load_sample_data
    from evalcore.progress import Progress

    kinds: Counter = Counter()
    windows: dict[str, int] = {}
    with Progress(len(records), "inspecting", enabled=not quiet) as progress:
        for record in records:
            data = load_sample_data(record)
            kinds[data.kind] += 1
            windows[record.filename] = featurizer.count_windows(record, data)
            progress.update(1)
    return windows, dict(kinds)


def _inspect_dataset(root: Path, *, category: str, quiet: bool, follow_links: bool) -> BundleReport:
    """A bare Edge Impulse dataset export (no impulse): what it holds, sample by sample."""
    from evalcore.data import load_dataset, load_sample_data
    from evalcore.progress import Progress

    dataset_dir = root / "dataset" if (root / "dataset").is_dir() else root
    index = load_dataset(dataset_dir, category=category, follow_links=follow_links)
    per_category, skipped = _whole_export(dataset_dir, follow_links)
    labels = Counter(_sample_label(r) for r in index.records)
    kinds: Counter = Counter()
    with Progress(len(index.records), "inspecting", enabled=not quiet) as progress:
        for record in index.records:
            kinds[load_sample_data(record).kind] += 1
            progress.update(1)
    return BundleReport(
        bundle=str(root), category=category, input_block={"type": "(no impulse: dataset export only)"},
        dsp_blocks=[], learn_blocks=[], available_variants=[], sample_count=len(index.records),
        samples_per_label=dict(sorted(labels.items())), samples_per_category=per_category, window_count=0,
        data_kinds=dict(kinds),
        skipped_files=skipped,
    )


def _whole_export(dataset_dir: Path, follow_links: bool) -> tuple[dict[str, int], list[str]]:
    """Samples per category in the whole export, and the files that are not samples (the index
    is cheap: no sample is read).
    """
    from evalcore.data import load_dataset

    index = load_dataset(dataset_dir, category=None, follow_links=follow_links)
    return dict(sorted(Counter(r.category for r in index.records).items())), list(index.skipped)
