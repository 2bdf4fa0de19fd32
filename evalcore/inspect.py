"""``evalcore inspect``: validate a bundle and say what a run would do, without running a model.

Reads every file a run reads (impulse, DSP configs, metadata, the dataset index and each sample
of the category), plans the windows, and reports samples per label, windows per sample, the
blocks and the model files found per variant. A bad file fails here exactly as it would in a run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["BundleReport", "inspect_bundle"]


@dataclass
class BundleReport:
    """What a run of the bundle would do; ``to_text`` for people, ``to_json`` for machines."""

    bundle: str
    category: str
    input_block: dict
    dsp_blocks: list[dict]
    learn_blocks: list[dict]
    available_variants: list[str]
    n_samples: int
    samples_per_label: dict[str, int]
    n_windows: int
    samples_per_category: dict[str, int] = field(default_factory=dict)
    windows_per_sample: dict[str, int] = field(default_factory=dict)
    data_kinds: dict[str, int] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)
    studio_result: str | None = None

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    def to_text(self) -> str:
        """The report for people."""
        ib = self.input_block
        lines = [f"bundle {self.bundle}", f"  input block: {ib.get('type')} {_describe_input(ib)}".rstrip()]
        for d in self.dsp_blocks:
            n = d.get("featuresPerWindow")
            feats = f", {n} features per window" if n is not None else ""
            lines.append(f"  dsp block {d['id']}: {d['type']} v{d['implementationVersion']} axes {','.join(d['axes'])}{feats}")
        for lb in self.learn_blocks:
            models = ", ".join(f"{v}={Path(p).name}" for v, p in lb["models"].items()) or "none (scored from metadata)"
            lines.append(f"  learn block {lb['id']}: {lb['type']} ({lb['kind']}) '{lb['title']}' dsp {lb['dsp']} models: {models}")
        if self.learn_blocks:
            lines.append(f"  available variants: {', '.join(self.available_variants) or 'none'}")
        lines.append(f"  {self.category}: {self.n_samples} samples, {self.n_windows} windows")
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


def inspect_bundle(bundle_dir: str | Path, *, category: str = "testing", quiet: bool = True) -> BundleReport:
    """Validate a bundle and plan its run.

    Raises
    ------
    BundleError, ConfigError
        The first bad file, as a run would report it.
    """
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset, load_sample_data
    from evalcore.engine import RunOptions
    from evalcore.features import SampleFeaturizer, planned_feature_counts
    from evalcore.progress import Progress

    root = Path(bundle_dir)
    if root.is_dir() and not (root / "impulse.json").exists():
        return _inspect_dataset(root, category=category, quiet=quiet)
    project = load_project(bundle_dir)
    featurizer = SampleFeaturizer(project, RunOptions())
    n_features = planned_feature_counts(project)
    index = load_dataset(project.dataset_dir, category=category)
    per_category = _per_category(project.dataset_dir)
    ib = project.input_block
    labels = Counter(_sample_label(r) for r in index.records)
    kinds: Counter = Counter()
    windows: dict[str, int] = {}
    with Progress(len(index.records), "inspecting", enabled=not quiet) as progress:
        for record in index.records:
            data = load_sample_data(record)
            kinds[data.kind] += 1
            if data.kind == "image":
                windows[record.filename] = 1
            else:
                windows[record.filename] = featurizer.plan(record, data).n_windows
            progress.update(1)
    return BundleReport(
        bundle=str(project.root),
        category=category,
        input_block=ib.model_dump(by_alias=True, exclude_none=True, mode="json"),
        dsp_blocks=[
            {"id": d.id, "type": d.type, "implementationVersion": d.implementation_version, "axes": list(d.axes),
             "featuresPerWindow": n_features.get(d.id)}
            for d in project.dsp.values()
        ],
        learn_blocks=[
            {"id": lb.id, "type": lb.type, "kind": lb.kind + (", multi-label" if lb.multi_label else ""),
             "title": lb.title, "dsp": list(lb.dsp_ids),
             "models": {v: str(p) for v, p in lb.models.items()}}
            for lb in project.learn
        ],
        available_variants=project.available_variants,
        n_samples=len(index.records),
        samples_per_label=dict(sorted(labels.items())),
        samples_per_category=per_category,
        n_windows=sum(windows.values()),
        windows_per_sample=windows,
        data_kinds=dict(kinds),
        skipped_files=list(index.skipped),
        studio_result=str(project.studio_result_path) if project.studio_result_path else None,
    )


def _inspect_dataset(root: Path, *, category: str, quiet: bool) -> BundleReport:
    """A bare Edge Impulse dataset export (no impulse): what it holds, sample by sample."""
    from evalcore.data import load_dataset, load_sample_data
    from evalcore.progress import Progress

    dataset_dir = root / "dataset" if (root / "dataset").is_dir() else root
    index = load_dataset(dataset_dir, category=category)
    per_category = _per_category(dataset_dir)
    labels = Counter(_sample_label(r) for r in index.records)
    kinds: Counter = Counter()
    with Progress(len(index.records), "inspecting", enabled=not quiet) as progress:
        for record in index.records:
            kinds[load_sample_data(record).kind] += 1
            progress.update(1)
    return BundleReport(
        bundle=str(root), category=category, input_block={"type": "(no impulse: dataset export only)"},
        dsp_blocks=[], learn_blocks=[], available_variants=[], n_samples=len(index.records),
        samples_per_label=dict(sorted(labels.items())), samples_per_category=per_category, n_windows=0,
        data_kinds=dict(kinds),
        skipped_files=list(index.skipped),
    )


def _per_category(dataset_dir: Path) -> dict[str, int]:
    """Samples per category in the whole export (the index is cheap: no sample is read)."""
    from evalcore.data import load_dataset

    return dict(sorted(Counter(r.category for r in load_dataset(dataset_dir, category=None).records).items()))
