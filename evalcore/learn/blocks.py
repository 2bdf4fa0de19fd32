"""One learn block of a run: its model (or metadata), its threshold, and its raw per-window output.

``make_decoder(spec, backend, threshold=..., project=...)`` returns a ``BlockRunner`` whose
``decide(features)`` gives a ``BlockDecision``: the block's raw output per window (class scores,
regression values or anomaly scores). Decisions that involve several blocks (an anomaly block
overriding the classifier's label) are taken per sample by the report, from these outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.errors import BundleError, ConfigError

__all__ = ["BlockDecision", "BlockRunner", "make_decoder", "THRESHOLD_KEYS"]

#: ``thresholds[].key`` Studio uses per block kind (BlockThreshold), most specific first.
THRESHOLD_KEYS = {
    "classification": ("min_score", "minimumConfidenceRating"),
    "regression": ("max_error", "min_score", "minimumConfidenceRating"),
    "anomaly-kmeans": ("min_anomaly_score", "minimumConfidenceRating"),
    "anomaly-gmm": ("min_anomaly_score", "minimumConfidenceRating"),
    "object-detection": ("min_score", "minimumConfidenceRating"),
    "visual-anomaly": ("min_anomaly_score", "minimumConfidenceRating"),
}

#: Threshold used when neither the metadata nor the command line gives one (Studio's defaults
#: as the docs describe them: 0.6 classifier confidence, 0.3 anomaly score, regression absolute error 1).
DEFAULT_THRESHOLDS = {
    "classification": 0.6,
    "regression": 1.0,
    "anomaly-kmeans": 0.3,
    "anomaly-gmm": 0.3,
    "object-detection": 0.5,
    "visual-anomaly": 0.3,
}


@dataclass
class BlockDecision:
    """Raw per-window output of one learn block.

    Attributes
    ----------
    kind : str
        The block kind (``classification``, ``regression``, ``anomaly-kmeans``, ...).
    values : float array of shape (W, K) for classification, (W,) otherwise
        Class scores, regression values or anomaly scores.
    """

    kind: str
    values: np.ndarray | None = None
    outputs: list | None = None

    def split(self, boundaries) -> list[BlockDecision]:
        """Split by window boundaries (``np.split`` indices) into per-sample decisions."""
        if self.outputs is not None:
            parts = [np.split(o, boundaries) for o in self.outputs]
            return [BlockDecision(self.kind, outputs=list(group)) for group in zip(*parts)]
        return [BlockDecision(self.kind, part) for part in np.split(self.values, boundaries)]


class BlockRunner:
    """A learn block ready to run: backend (or metadata), labels, threshold."""

    def __init__(self, spec, backend, threshold: float, labels: tuple[str, ...]):
        self.spec = spec
        self.kind = spec.kind
        self.backend = backend
        self.threshold = float(threshold)
        self.labels = labels
        self._scorer = None

    def decide(self, features: np.ndarray) -> BlockDecision:
        """Run the block on feature rows ``float32 (W, F)``."""
        if self.kind == "classification":
            out = self.backend.run(features)[0]
            return BlockDecision(self.kind, out.reshape(out.shape[0], -1))
        if self.kind == "regression":
            out = self.backend.run(features)[0]
            return BlockDecision(self.kind, out.reshape(out.shape[0], -1)[:, 0].astype(np.float64))
        if self.kind in ("anomaly-kmeans", "anomaly-gmm"):
            self._check_axes(features.shape[1])
            try:
                return BlockDecision(self.kind, self._anomaly_scores(features))
            except ConfigError as err:  # parameters that do not fit the features: the metadata's fault
                path = self.spec.metadata_path
                if self.kind == "anomaly-gmm" and path is not None:
                    path = path.parent / "gmm.json"
                raise BundleError(str(err), path=path) from err
        if self.kind in ("object-detection", "visual-anomaly"):
            return BlockDecision(self.kind, outputs=self.backend.run(features))
        raise ConfigError(
            f"learn block {self.spec.id} ({self.spec.type}) is not evaluated by this version of evalcore yet"
        )

    def _check_axes(self, n_features: int) -> None:
        axes = list(self.spec.metadata.axes)
        bad = [a for a in axes if not 0 <= a < n_features]
        if bad:
            raise BundleError(
                f"anomaly axes {bad} out of range: the block's DSP output has {n_features} features",
                path=self.spec.metadata_path, field="axes",
            )

    def _anomaly_scores(self, features: np.ndarray) -> np.ndarray:
        from evalcore.learn.anomaly import gmm_scores, kmeans_scores

        meta = self.spec.metadata
        x = features.astype(np.float64)
        if self.kind == "anomaly-kmeans":
            res = kmeans_scores(
                x,
                axes=list(meta.axes),
                mean=np.asarray(meta.mean, dtype=np.float64),
                scale=np.asarray(meta.scale, dtype=np.float64),
                centers=np.asarray([c.center for c in meta.clusters], dtype=np.float64),
                max_error=np.asarray([c.max_error for c in meta.clusters], dtype=np.float64),
            )
            return res.score
        gmm = self.spec.gmm
        res = gmm_scores(
            x,
            axes=list(meta.axes),
            weights=np.asarray(gmm.weights, dtype=np.float64),
            means=np.asarray(gmm.means, dtype=np.float64),
            covariances=np.asarray(gmm.covariances, dtype=np.float64),
            score_mean=float(np.asarray(meta.mean, dtype=np.float64).reshape(-1)[0]),
            score_scale=float(np.asarray(meta.scale, dtype=np.float64).reshape(-1)[0]),
        )
        return res.score


def _labels_of(spec) -> tuple[str, ...]:
    meta = spec.metadata
    if spec.kind in ("anomaly-kmeans", "anomaly-gmm", "visual-anomaly"):
        return ("anomaly",)
    if spec.kind == "regression":
        return ("value",)
    names = tuple(meta.class_names or meta.labels or ())
    if not names:
        raise BundleError("the metadata lists no classes", path=spec.metadata_path, field="classNames")
    return names


def make_decoder(spec, backend, *, threshold: float | None = None, project=None) -> BlockRunner:
    """Build the runner of one learn block.

    Parameters
    ----------
    spec : evalcore.bundle.LearnSpec
    backend : Backend or None
        The loaded model (None for K-means / GMM anomaly blocks).
    threshold : float, optional
        Command-line override of the block's threshold.
    project : evalcore.bundle.Project, optional
        Unused today; reserved for blocks that read impulse-wide settings.
    """
    from evalcore.learn.classification import resolve_threshold

    meta = spec.metadata
    thresholds = getattr(meta, "thresholds", None)
    mcr = getattr(meta, "default_minimum_confidence_rating", None) if meta is not None else None
    if threshold is None and not thresholds and mcr is None:
        threshold = DEFAULT_THRESHOLDS[spec.kind]
    value = resolve_threshold(
        thresholds, THRESHOLD_KEYS[spec.kind], mcr, override=threshold,
        where=str(spec.metadata_path or spec.name),
    )
    runner = BlockRunner(spec, backend, value, _labels_of(spec))
    if spec.kind == "classification" and backend is not None:
        n_out = int(np.prod(backend.output_shapes[0])) if getattr(backend, "output_shapes", None) else None
        if n_out is not None and n_out != len(runner.labels):
            raise BundleError(
                f"the model has {n_out} outputs but the metadata lists {len(runner.labels)} classes",
                path=spec.metadata_path, field="classNames",
            )
    return runner
