"""Where a run's samples come from: the dataset (featurized) or precomputed feature rows.

``load_records`` picks the source by ``--features`` and lists the records in run order;
``default_variant`` is the model variant a run takes when none is asked for. Both need the
project only, so a side command (``evalcore inspect``) plans a run exactly as the run does.
"""

from __future__ import annotations

from evalcore.errors import BundleError, ConfigError

__all__ = ["default_variant", "load_records", "use_precomputed"]


def load_records(project, options):
    """The samples of ``options.category`` a run reads, and where their features come from.

    Returns
    -------
    (FeatureSource or None, list of SampleRecord)
        The precomputed-feature source (``--features``; None: the dataset, featurized by
        ``evalcore.pipeline.featurize.SampleFeaturizer``) and the records, in run order.

    Raises
    ------
    BundleError
        The category has no samples, or a dataset / features file is bad.
    """
    from evalcore.data import load_dataset

    featurizer = None
    if use_precomputed(project, options):
        from evalcore.pipeline.precomputed import FeatureSource

        featurizer = FeatureSource(project, options.category)
        records = featurizer.records(options.category)
    else:
        records = load_dataset(project.dataset_dir, category=options.category,
                               follow_links=options.follow_links).records
    if not records:
        raise BundleError(f"the dataset has no {options.category} samples", path=project.dataset_dir)
    return featurizer, records


def use_precomputed(project, options) -> bool:
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
