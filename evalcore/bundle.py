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

Links: every file and folder read must lie inside the bundle once symbolic links are resolved
(``../`` in a listed path is refused the same way, in ``evalcore.data.index``), unless
``follow_links=True`` (``evalcore run --follow-links``, for data kept elsewhere). A model file
that exists but is not a readable regular file is an error, never a silently missing variant.
"""

from __future__ import annotations

import json
import math
import os
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
    param_paths: dict = field(default_factory=dict)
    """Python parameter name (``frame_length``) -> JSON path of its item in the DSP config."""


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
    multi_label: bool = False  # metadata "isMultiLabel": one sigmoid score per label (see _multi_label_flag)

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
    follow_links: bool = False

    @property
    def available_variants(self) -> list[str]:
        """Variants every model-backed learn block has a file for (Studio's ``availableVariants``)."""
        with_models = [lb for lb in self.learn if lb.needs_model]
        order = ("int8", "float32", "akida")
        if not with_models:
            return ["float32", "int8"]
        return [v for v in order if all(v in lb.models for lb in with_models)]


def check_inside(path: Path, root: Path, *, follow_links: bool, what: str) -> None:
    """Refuse ``path`` when symbolic links lead it outside ``root`` (unless ``follow_links``).

    The same rule as a listed ``../`` path (``evalcore.data.index``), applied after resolving
    links; ``root`` itself may be a link.
    """
    if follow_links:
        return
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise BundleError(
            f"{what} is a symbolic link that leads outside the bundle, to {real} "
            "(pass --follow-links to allow links)",
            path=path,
        )


def read_json(path: Path, *, what: str) -> dict:
    """Read one JSON body (an object); a missing, unreadable or malformed file, or one whose
    top-level value is not an object, is a ``BundleError``.
    """
    if path.exists() and not path.is_file():  # a FIFO would block, a folder gives a vague error
        raise BundleError(f"{what} is not a regular file", path=path)
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
    except RecursionError as err:  # thousands of nested arrays or objects
        raise BundleError(f"{what} is not valid JSON: nested too deeply", path=path) from err
    if not isinstance(doc, dict):
        raise BundleError(f"{what} must be a JSON object, got {type(doc).__name__}", path=path)
    bad = _first_non_finite(doc)
    if bad is not None:  # NaN and Infinity are not JSON, though Python's parser reads them
        where, value = bad
        token = "NaN" if value != value else "Infinity" if value > 0 else "-Infinity"
        raise BundleError(f"{what} holds {token}: numbers must be finite", path=path, field=where)
    return doc


def _first_non_finite(doc) -> tuple[str, float] | None:
    """JSON path (``a.b[2].c``) and value of the first NaN or infinity in ``doc``, in file order."""
    stack = [(doc, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float):
            if not math.isfinite(node):
                return where, node
        elif isinstance(node, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(node))))
    return None


def _find_models(folder: Path, root: Path, follow_links: bool) -> dict[str, Path]:
    """First model file per variant; a name that exists but cannot be read is an error."""
    models: dict[str, Path] = {}
    for variant, names in MODEL_FILE_NAMES.items():
        for name in names:
            path = folder / name
            if os.path.lexists(path):
                _check_model_file(path, root, follow_links)
                models[variant] = path
                break
    return models


def _check_model_file(path: Path, root: Path, follow_links: bool) -> None:
    check_inside(path, root, follow_links=follow_links, what="model file")
    if not path.exists():
        raise BundleError("model file is a broken symbolic link", path=path)
    if not path.is_file():
        raise BundleError("model file is not a regular file", path=path)
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        raise BundleError(f"cannot read model file: {(err.strerror or str(err)).lower()}", path=path) from err


def _load_dsp(root: Path, block, index: int, follow_links: bool) -> DspSpec:
    from evalcore import dsp as dsp_pkg
    from evalcore.dsp.params import check_block
    from evalcore.schema import load_dsp_config

    try:  # the block type and version come from impulse.json, so blame that file
        check_block(block.type, block.implementation_version)
    except ConfigError as err:
        bad = "type" if block.type not in dsp_pkg.SUPPORTED_VERSIONS else "implementationVersion"
        raise BundleError(str(err), path=root / "impulse.json", field=f"impulse.dspBlocks[{index}].{bad}") from err
    path = root / "dsp" / f"{block.id}.json"
    check_inside(path, root, follow_links=follow_links, what="DSP config")
    config = load_dsp_config(read_json(path, what=f"DSP config of block {block.id}"), path=path)
    values = config.parameter_values()
    try:
        params = dsp_pkg.params_from_dsp_config(block.type, block.implementation_version, values)
    except ConfigError as err:  # the DSP package names block and key; add the file and the item
        raise BundleError(str(err), path=path, field=_config_item_path(config, getattr(err, "param", None))) from err
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
        param_paths={item.param.replace("-", "_"): _config_item_path(config, item.param)
                     for group in config.config or () for item in group.items},
    )


def _config_item_path(config, param: str | None) -> str:
    """JSON path of the item of ``param`` in a DSP config (``config[0].items[2].value``)."""
    for g, group in enumerate(config.config or ()):
        for i, item in enumerate(group.items):
            if item.param == param:
                key = "value" if item.value is not None else "defaultValue"
                return f"config[{g}].items[{i}].{key}"
    return "config"


def _load_metadata(data, kind: str, path: Path):
    from evalcore.schema import load_anomaly_metadata, load_keras_metadata

    if kind in ("anomaly-kmeans", "anomaly-gmm"):
        return load_anomaly_metadata(data, path=path)
    return load_keras_metadata(data, path=path)


def _multi_label_flag(raw, kind: str, path: Path) -> bool:
    """The metadata's ``isMultiLabel`` (an evalcore extension: the 1.96.3 metadata has no such field).

    Studio marks a multi-label classifier's results with ``isMultiLabel``; a bundle states it by
    the same key in ``learn/<id>/metadata.json``. Absent or false: a single-label block.
    """
    value = raw.get("isMultiLabel") if isinstance(raw, dict) else None
    if value is None:
        return False
    if type(value) is not bool:
        raise BundleError(f"isMultiLabel must be true or false, got {value!r}", path=path, field="isMultiLabel")
    if value and kind != "classification":
        raise BundleError(f"isMultiLabel applies to classifier blocks only, not to a {kind} block",
                          path=path, field="isMultiLabel")
    return value


def _load_learn(root: Path, block, dsp_ids: set[int], index: int, follow_links: bool) -> LearnSpec:
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
    multi_label = False
    if meta_path.exists():
        check_inside(meta_path, root, follow_links=follow_links, what="learn block metadata")
        raw = read_json(meta_path, what="learn block metadata")
        metadata = _load_metadata(raw, kind, meta_path)
        _check_metadata(metadata, kind, meta_path)
        multi_label = _multi_label_flag(raw, kind, meta_path)
    elif kind in ("classification", "regression", "anomaly-kmeans", "anomaly-gmm", "object-detection"):
        raise BundleError(f"learn block {block.id} ({block.type}) needs its metadata", path=meta_path)
    gmm = None
    if kind == "anomaly-gmm":
        gmm_path = folder / "gmm.json"
        check_inside(gmm_path, root, follow_links=follow_links, what="GMM metadata")
        gmm = load_anomaly_gmm_metadata(read_json(gmm_path, what="GMM metadata"), path=gmm_path)
        _check_gmm(gmm, metadata, gmm_path)
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
        models=_find_models(folder, root, follow_links),
        multi_label=multi_label,
    )
    if spec.needs_model and not spec.models:
        names = ", ".join(n for ns in MODEL_FILE_NAMES.values() for n in ns)
        raise BundleError(f"learn block {block.id} ({block.type}) has no model file (looked for {names})", path=folder)
    return spec


def load_project(bundle_dir: str | Path, *, follow_links: bool = False) -> Project:
    """Read and validate a bundle folder.

    Parameters
    ----------
    bundle_dir : str or Path
        The bundle folder (layout in this module's docstring).
    follow_links : bool, default False
        Accept symbolic links that lead outside the bundle (module docstring).

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
    check_inside(impulse_path, root, follow_links=follow_links, what="impulse")
    impulse = load_impulse(read_json(impulse_path, what="impulse"), path=impulse_path)
    if not impulse.input_blocks:
        raise BundleError("the impulse has no input block", path=impulse_path, field="impulse.inputBlocks")
    if not impulse.learn_blocks:
        raise BundleError("the impulse has no learn block", path=impulse_path, field="impulse.learnBlocks")
    _check_unique_ids(impulse, impulse_path)
    _check_window(impulse.input_blocks[0], impulse_path)
    dsp = {b.id: _load_dsp(root, b, i, follow_links) for i, b in enumerate(impulse.dsp_blocks)}
    learn = tuple(_load_learn(root, b, set(dsp), i, follow_links) for i, b in enumerate(impulse.learn_blocks))
    dataset_dir = root / "dataset"
    features_dir = root / "features"
    studio = root / "studio" / "classify-result.json"
    has_features = features_dir.is_dir()
    if not dataset_dir.is_dir() and not has_features:
        raise BundleError("bundle has neither a dataset/ folder nor a features/ folder", path=root)
    for folder, what in ((dataset_dir, "dataset folder"), (features_dir, "features folder")):
        if folder.is_dir():
            check_inside(folder, root, follow_links=follow_links, what=what)
    return Project(
        root=root,
        impulse=impulse,
        input_block=impulse.input_blocks[0],
        dsp=dsp,
        learn=learn,
        dataset_dir=dataset_dir,
        features_dir=features_dir if has_features else None,
        studio_result_path=studio if studio.is_file() else None,
        follow_links=follow_links,
    )


def _check_unique_ids(impulse, path: Path) -> None:
    """Block ids are unique per kind: they name ``dsp/<id>.json``, ``learn/<id>/`` and results."""
    for key, blocks in (("dspBlocks", impulse.dsp_blocks), ("learnBlocks", impulse.learn_blocks)):
        seen: set[int] = set()
        for i, block in enumerate(blocks):
            if block.id in seen:
                kind = "DSP" if key == "dspBlocks" else "learn"
                raise BundleError(f"duplicate {kind} block id {block.id}", path=path, field=f"impulse.{key}[{i}].id")
            seen.add(block.id)


def _check_window(block, path: Path) -> None:
    """A time-series input block needs a window size, and one small enough to allocate."""
    from evalcore.windowing import MAX_WINDOW_VALUES

    if getattr(block, "type", None) != "time-series":
        return
    field_name = "impulse.inputBlocks[0].windowSizeMs"
    if block.window_size_ms is None:
        raise BundleError("a time-series input block needs windowSizeMs", path=path, field=field_name)
    if block.frequency_hz is not None:
        n_values = block.window_size_ms * block.frequency_hz / 1000.0
        if n_values > MAX_WINDOW_VALUES:
            raise BundleError(
                f"window of {block.window_size_ms} ms at {block.frequency_hz:g} Hz is {n_values:.3g} readings per "
                f"axis, more than evalcore allows ({MAX_WINDOW_VALUES})",
                path=path, field=field_name,
            )


def _check_metadata(metadata, kind: str, path: Path) -> None:
    """What the schema cannot say alone: unique class names, consistent K-means arrays."""
    if kind in ("classification", "object-detection"):
        key = "classNames" if metadata.class_names else "labels"
        names = list(metadata.class_names or metadata.labels or ())
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise BundleError(f"{key} must be unique, got duplicates {dupes}", path=path, field=key)
        return
    if kind not in ("anomaly-kmeans", "anomaly-gmm"):
        return
    n_axes = len(metadata.axes)
    if kind == "anomaly-gmm":
        if not metadata.mean:
            raise BundleError("mean is empty (the GMM score scaler needs one value)", path=path, field="mean")
        _check_scale(metadata.scale[:1], path)
        return
    for name, values in (("mean", metadata.mean), ("scale", metadata.scale)):
        if len(values) != n_axes:
            raise BundleError(f"{name} has {len(values)} values but axes lists {n_axes}", path=path, field=name)
    _check_scale(metadata.scale, path)
    if not metadata.clusters:
        raise BundleError("a K-means anomaly block needs at least one cluster", path=path, field="clusters")
    for i, cluster in enumerate(metadata.clusters):
        if len(cluster.center) != n_axes:
            raise BundleError(
                f"cluster center has {len(cluster.center)} values but axes lists {n_axes}",
                path=path, field=f"clusters[{i}].center",
            )


def _check_scale(scale, path: Path) -> None:
    if not scale:
        raise BundleError("scale is empty", path=path, field="scale")
    for i, value in enumerate(scale):
        if value == 0:
            raise BundleError("scale must not be 0 (features are divided by it)", path=path, field=f"scale[{i}]")


def _check_gmm(gmm, metadata, path: Path) -> None:
    """GMM arrays: C components of D = len(axes) features, (D, D) covariances, C weights."""
    n_axes = len(metadata.axes) if metadata is not None else None
    n_comp = len(gmm.means)
    if n_comp == 0:
        raise BundleError("a GMM anomaly block needs at least one component", path=path, field="means")
    for i, mean in enumerate(gmm.means):
        if len(mean) != (n_axes if n_axes is not None else len(gmm.means[0])):
            raise BundleError(f"means[{i}] has {len(mean)} values, expected {n_axes or len(gmm.means[0])}",
                              path=path, field=f"means[{i}]")
    dim = len(gmm.means[0])
    if len(gmm.weights) != n_comp:
        raise BundleError(f"weights has {len(gmm.weights)} values for {n_comp} components", path=path, field="weights")
    if len(gmm.covariances) != n_comp:
        raise BundleError(f"covariances has {len(gmm.covariances)} matrices for {n_comp} components",
                          path=path, field="covariances")
    for i, cov in enumerate(gmm.covariances):
        if len(cov) != dim or any(len(row) != dim for row in cov):
            raise BundleError(f"covariances[{i}] must be {dim}x{dim}", path=path, field=f"covariances[{i}]")
    if not math.isclose(sum(gmm.weights), 1.0, rel_tol=1e-3):
        raise BundleError(f"weights must sum to 1, got {sum(gmm.weights):.6g}", path=path, field="weights")
