"""Find and validate the inputs of a run: one bundle folder.

Layout (every JSON file is an Edge Impulse API body saved verbatim, e.g. with ``curl``)::

    bundle/
      impulse.json                   GET /v1/api/{projectId}/impulse (or the bare Impulse object)
      dsp/<dspId>.json               GET /v1/api/{projectId}/dsp/{dspId}
      learn/<learnId>/metadata.json  GET .../training/keras/{learnId}/metadata
                                     or GET .../training/anomaly/{learnId}/metadata
      learn/<learnId>/gmm.json       GET .../training/anomaly/{learnId}/gmm/metadata (anomaly-gmm)
      learn/<learnId>/<model files>  see MODEL_FILE_NAMES (first match per variant wins)
      dataset/                       an Edge Impulse dataset export (info.labels + training/ testing/)
      features/                      optional precomputed DSP features (X_*.npy, y_*.npy)
      studio/classify-result.json    optional: Studio's own result, for ``evalcore compare``

Everything is validated here, once, with errors that name the file and the field; the engine
trusts what this module returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from evalcore.errors import BundleError, ConfigError

__all__ = [
    "MODEL_FILE_NAMES",
    "LEARN_BLOCK_KINDS",
    "DspSpec",
    "LearnSpec",
    "Project",
    "load_project",
    "read_json",
]

#: Model file names per variant, in precedence order: Edge Impulse's own download names first
#: (``model.tflite``, ``model_quantized_int8_io.tflite``, ``akida_model.fbz``), then ONNX exports.
#: ONNX runs on the core install; TFLite needs ``pip install evalcore[tflite]``.
MODEL_FILE_NAMES: dict[str, tuple[str, ...]] = {
    "float32": ("model.onnx", "model.tflite", "model.lite", "trained.tflite"),
    "int8": (
        "model_int8.onnx",
        "model_quantized_int8_io.onnx",
        "model_quantized_int8_io.tflite",
        "model_int8.tflite",
        "model_int8.lite",
    ),
    "akida": ("akida_model.fbz",),
}

#: Learn block type -> what decodes its output.
LEARN_BLOCK_KINDS: dict[str, str] = {
    "keras": "classification",
    "keras-transfer-image": "classification",
    "keras-transfer-kws": "classification",
    "keras-akida": "classification",
    "keras-akida-transfer-image": "classification",
    "keras-freeform": "classification",
    "keras-regression": "regression",
    "anomaly": "anomaly-kmeans",
    "anomaly-gmm": "anomaly-gmm",
    "keras-object-detection": "object-detection",
    "keras-akida-object-detection": "object-detection",
    "keras-visual-anomaly": "visual-anomaly",
}


@dataclass(frozen=True)
class DspSpec:
    """One DSP block: what the impulse says plus its parameter values from ``dsp/<id>.json``."""

    id: int
    type: str
    title: str
    implementation_version: int
    axes: tuple[str, ...]
    params: dict
    normalize_data: str | None
    config_path: Path


@dataclass(frozen=True)
class LearnSpec:
    """One learn block: the impulse entry, its metadata and its model files per variant."""

    id: int
    type: str
    name: str
    title: str
    kind: str
    dsp_ids: tuple[int, ...]
    block: object  # schema.ImpulseLearnBlock as it goes into the output
    metadata: object | None
    metadata_path: Path | None
    gmm: object | None
    models: dict[str, Path] = field(default_factory=dict)

    @property
    def needs_model(self) -> bool:
        """K-means and GMM anomaly blocks are scored from their metadata, without a model file."""
        return self.kind not in ("anomaly-kmeans", "anomaly-gmm")


@dataclass(frozen=True)
class Project:
    """Everything a run reads, validated."""

    root: Path
    impulse: object  # schema Impulse
    input_block: object  # schema ImpulseInputBlock
    dsp: dict[int, DspSpec]
    learn: tuple[LearnSpec, ...]
    dataset_dir: Path
    features_dir: Path | None
    studio_result_path: Path | None

    @property
    def available_variants(self) -> list[str]:
        """Variants every model-backed learn block has a file for (Studio's ``availableVariants``)."""
        with_models = [lb for lb in self.learn if lb.needs_model]
        order = ("int8", "float32", "akida")
        if not with_models:
            return ["float32", "int8"]
        return [v for v in order if all(v in lb.models for lb in with_models)]


def read_json(path: Path, *, what: str) -> dict:
    """Read one JSON body (an object); a missing, unreadable or malformed file, or one whose
    top-level value is not an object, is a ``BundleError``.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise BundleError(f"{what} not found", path=path) from err
    except OSError as err:
        raise BundleError(f"cannot read {what}: {err.strerror}", path=path) from err
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError as err:
        raise BundleError(f"{what} is not UTF-8 text", path=path) from err
    except json.JSONDecodeError as err:
        raise BundleError(f"{what} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}", path=path) from err
    if not isinstance(doc, dict):
        raise BundleError(f"{what} must be a JSON object, got {type(doc).__name__}", path=path)
    return doc


def _find_models(folder: Path) -> dict[str, Path]:
    models: dict[str, Path] = {}
    for variant, names in MODEL_FILE_NAMES.items():
        for name in names:
            if (folder / name).is_file():
                models[variant] = folder / name
                break
    return models


def _load_dsp(root: Path, block) -> DspSpec:
    from evalcore import dsp as dsp_pkg
    from evalcore.schema import load_dsp_config

    path = root / "dsp" / f"{block.id}.json"
    config = load_dsp_config(read_json(path, what=f"DSP config of block {block.id}"), path=path)
    values = config.parameter_values()
    try:
        params = dsp_pkg.params_from_dsp_config(block.type, block.implementation_version, values)
    except ConfigError as err:  # the DSP package names block and field; add the file
        raise BundleError(str(err), path=path, field="config") from err
    normalize = getattr(config.dsp, "normalize_data", None) if config.dsp is not None else None
    return DspSpec(
        id=block.id,
        type=block.type,
        title=block.title or block.name,
        implementation_version=block.implementation_version,
        axes=tuple(block.axes or ()),
        params=params,
        normalize_data=normalize,
        config_path=path,
    )


def _load_metadata(data, kind: str, path: Path):
    from evalcore.schema import load_anomaly_metadata, load_keras_metadata

    if kind in ("anomaly-kmeans", "anomaly-gmm"):
        return load_anomaly_metadata(data, path=path)
    return load_keras_metadata(data, path=path)


def _check_finite(values, *, path: Path, field: str) -> None:
    import numpy as np

    if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
        raise BundleError("the anomaly metadata holds a value that is not a finite number", path=path, field=field)


def _check_axes(meta, n_dims: int, *, path: Path, what: str) -> None:
    """``axes`` (feature indices, at least one, none negative) must match the ``what`` length."""
    if not meta.axes:
        raise BundleError("the anomaly metadata selects no feature", path=path, field="axes")
    if min(meta.axes) < 0:
        raise BundleError(f"anomaly axes must be feature indices >= 0, got {min(meta.axes)}", path=path, field="axes")
    if len(meta.axes) != n_dims:
        raise BundleError(f"the anomaly metadata selects {len(meta.axes)} features but its {what} has {n_dims}",
                          path=path, field="axes")


def _check_kmeans(meta, path: Path) -> None:
    """K-means metadata: one mean, one non-zero scale and one centre value per axis, finite numbers."""
    if not meta.clusters:
        raise BundleError("the K-means metadata has no cluster", path=path, field="clusters")
    n_dims = len(meta.mean)
    _check_axes(meta, n_dims, path=path, what="mean")
    if len(meta.scale) != n_dims:
        raise BundleError(f"scale has {len(meta.scale)} values, mean has {n_dims}", path=path, field="scale")
    _check_finite(meta.mean, path=path, field="mean")
    _check_finite(meta.scale, path=path, field="scale")
    if 0.0 in meta.scale:
        raise BundleError(f"scale value {meta.scale.index(0.0)} is 0 (a division by zero)", path=path, field="scale")
    for i, cluster in enumerate(meta.clusters):
        if len(cluster.center) != n_dims:
            raise BundleError(f"cluster centre has {len(cluster.center)} values, mean has {n_dims}",
                              path=path, field=f"clusters[{i}].center")
        _check_finite(cluster.center, path=path, field=f"clusters[{i}].center")
        _check_finite([cluster.max_error], path=path, field=f"clusters[{i}].maxError")


def _check_gmm(meta, meta_path: Path, gmm, gmm_path: Path) -> None:
    """GMM: weights (C), means (C, D), covariances (C, D, D) positive definite; the score scaler
    (``mean``, ``scale`` of the metadata) finite with a non-zero scale.
    """
    import numpy as np

    from evalcore.learn.anomaly import precisions_cholesky_from_covariances

    if not meta.mean or not meta.scale:
        raise BundleError("the GMM score scaler needs a mean and a scale", path=meta_path,
                          field="mean" if not meta.mean else "scale")
    _check_finite(meta.mean[:1], path=meta_path, field="mean")
    _check_finite(meta.scale[:1], path=meta_path, field="scale")
    if meta.scale[0] == 0.0:
        raise BundleError("scale is 0 (a division by zero)", path=meta_path, field="scale")
    n_comp = len(gmm.weights)
    if n_comp == 0:
        raise BundleError("the GMM has no component", path=gmm_path, field="weights")
    if len(gmm.means) != n_comp or len(gmm.covariances) != n_comp:
        raise BundleError(f"weights, means and covariances must list the same {n_comp} components",
                          path=gmm_path, field="means" if len(gmm.means) != n_comp else "covariances")
    n_dims = len(gmm.means[0])
    if any(len(m) != n_dims for m in gmm.means):
        raise BundleError("the component means have different lengths", path=gmm_path, field="means")
    if any(len(c) != n_dims or any(len(row) != n_dims for row in c) for c in gmm.covariances):
        raise BundleError(f"each covariance must be {n_dims}x{n_dims}", path=gmm_path, field="covariances")
    _check_axes(meta, n_dims, path=meta_path, what="GMM (gmm.json means)")
    for name in ("weights", "means", "covariances"):
        _check_finite(getattr(gmm, name), path=gmm_path, field=name)
    try:
        precisions_cholesky_from_covariances(np.asarray(gmm.covariances, dtype=np.float64))
    except ConfigError as err:
        raise BundleError(str(err), path=gmm_path, field="covariances") from err


def _load_learn(root: Path, block, dsp_ids: set[int], index: int) -> LearnSpec:
    from evalcore.schema import ImpulseLearnBlock, load_anomaly_gmm_metadata

    kind = LEARN_BLOCK_KINDS.get(block.type)
    if kind is None:
        supported = ", ".join(sorted(LEARN_BLOCK_KINDS))
        raise BundleError(
            f"learn block type {block.type!r} is not supported (supported: {supported})",
            path=root / "impulse.json",
            field=f"impulse.learnBlocks[{index}].type",
        )
    for d in block.dsp:
        if d not in dsp_ids:
            raise BundleError(
                f"learn block {block.id} uses DSP block {d}, which the impulse does not define",
                path=root / "impulse.json",
                field=f"impulse.learnBlocks[{index}].dsp",
            )
    folder = root / "learn" / str(block.id)
    meta_path = folder / "metadata.json"
    metadata = None
    if meta_path.is_file():
        metadata = _load_metadata(read_json(meta_path, what="learn block metadata"), kind, meta_path)
    elif kind in ("classification", "regression", "anomaly-kmeans", "anomaly-gmm", "object-detection"):
        raise BundleError(f"learn block {block.id} ({block.type}) needs its metadata", path=meta_path)
    gmm = None
    if kind == "anomaly-kmeans":
        _check_kmeans(metadata, meta_path)
    if kind == "anomaly-gmm":
        gmm_path = folder / "gmm.json"
        gmm = load_anomaly_gmm_metadata(read_json(gmm_path, what="GMM metadata"), path=gmm_path)
        _check_gmm(metadata, meta_path, gmm, gmm_path)
    out_block = ImpulseLearnBlock(
        id=block.id,
        type=block.type,
        name=block.name,
        dsp=list(block.dsp),
        title=block.title,
        created_by=getattr(block, "created_by", None),
        created_at=getattr(block, "created_at", None),
    )
    spec = LearnSpec(
        id=block.id,
        type=block.type,
        name=block.name,
        title=block.title,
        kind=kind,
        dsp_ids=tuple(block.dsp),
        block=out_block,
        metadata=metadata,
        metadata_path=meta_path if metadata is not None else None,
        gmm=gmm,
        models=_find_models(folder),
    )
    if spec.needs_model and not spec.models:
        names = ", ".join(n for ns in MODEL_FILE_NAMES.values() for n in ns)
        raise BundleError(f"learn block {block.id} ({block.type}) has no model file (looked for {names})", path=folder)
    return spec


def load_project(bundle_dir: str | Path) -> Project:
    """Read and validate a bundle folder.

    Parameters
    ----------
    bundle_dir : str or Path
        The bundle folder (layout in this module's docstring).

    Returns
    -------
    Project

    Raises
    ------
    BundleError
        A file is missing, unreadable or invalid; the message names the file and the field.
    """
    from evalcore.schema import load_impulse

    root = Path(bundle_dir)
    if not root.is_dir():
        raise BundleError("bundle folder not found", path=root)
    impulse_path = root / "impulse.json"
    impulse = load_impulse(read_json(impulse_path, what="impulse"), path=impulse_path)
    if not impulse.input_blocks:
        raise BundleError("the impulse has no input block", path=impulse_path, field="impulse.inputBlocks")
    if not impulse.learn_blocks:
        raise BundleError("the impulse has no learn block", path=impulse_path, field="impulse.learnBlocks")
    dsp = {b.id: _load_dsp(root, b) for b in impulse.dsp_blocks}
    learn = tuple(_load_learn(root, b, set(dsp), i) for i, b in enumerate(impulse.learn_blocks))
    dataset_dir = root / "dataset"
    features_dir = root / "features"
    studio = root / "studio" / "classify-result.json"
    has_features = features_dir.is_dir()
    if not dataset_dir.is_dir() and not has_features:
        raise BundleError("bundle has neither a dataset/ folder nor a features/ folder", path=root)
    return Project(
        root=root,
        impulse=impulse,
        input_block=impulse.input_blocks[0],
        dsp=dsp,
        learn=learn,
        dataset_dir=dataset_dir,
        features_dir=features_dir if has_features else None,
        studio_result_path=studio if studio.is_file() else None,
    )
