"""One learn block of a run: its plan, its model (or metadata), and its raw per-window output.

``make_runner(plan, backend)`` returns a ``BlockRunner`` whose ``run(features)`` gives a
``BlockOutput``: the block's raw output per window (class scores, regression values, anomaly
scores or a detector's output tensors). Decisions that involve several blocks (an anomaly block
overriding the classifier's label) are taken per sample by ``evalcore.learn.decide``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.errors import BundleError, ConfigError

__all__ = ["BlockOutput", "BlockRunner", "make_runner"]

@dataclass
class BlockOutput:
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

    def split(self, boundaries) -> list[BlockOutput]:
        """Split by window boundaries (``np.split`` indices) into per-sample decisions."""
        if self.outputs is not None:
            parts = [np.split(o, boundaries) for o in self.outputs]
            return [BlockOutput(self.kind, outputs=list(group)) for group in zip(*parts)]
        return [BlockOutput(self.kind, part) for part in np.split(self.values, boundaries)]


class BlockRunner:
    """A learn block ready to run: its plan (``evalcore.outcome.BlockPlan``) and backend (or metadata)."""

    def __init__(self, plan, backend):
        self.plan = plan
        self.spec = plan.spec
        self.kind = plan.kind
        self.backend = backend
        self.threshold = plan.threshold
        self.labels = plan.labels
        self.multi_label = plan.multi_label  # one sigmoid score per label

    def run(self, features: np.ndarray) -> BlockOutput:
        """Run the block on feature rows ``float32 (W, F)``."""
        if self.kind == "classification":
            out = self.backend.run(features)[0]
            return BlockOutput(self.kind, out.reshape(out.shape[0], -1))
        if self.kind == "regression":
            out = self.backend.run(features)[0]
            return BlockOutput(self.kind, out.reshape(out.shape[0], -1)[:, 0].astype(np.float64))
        if self.kind in ("anomaly-kmeans", "anomaly-gmm"):
            self._check_axes(features.shape[1])
            try:
                return BlockOutput(self.kind, self._anomaly_scores(features))
            except ConfigError as err:  # parameters that do not fit the features: the metadata's fault
                path = self.spec.metadata_path
                if self.kind == "anomaly-gmm" and path is not None:
                    path = path.parent / "gmm.json"
                raise BundleError(str(err), path=path) from err
        if self.kind in ("object-detection", "visual-anomaly"):
            return BlockOutput(self.kind, outputs=self.backend.run(features))
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


def make_runner(plan, backend) -> BlockRunner:
    """Build the runner of one learn block.

    Parameters
    ----------
    plan : evalcore.outcome.BlockPlan
        The block as the run treats it (``evalcore.learn.thresholds.plan_blocks``).
    backend : Backend or None
        The loaded model (None for K-means / GMM anomaly blocks).

    Raises
    ------
    BundleError
        A classifier whose model has another number of outputs than the metadata has classes.
    """
    runner = BlockRunner(plan, backend)
    if plan.kind == "classification" and backend is not None:
        n_out = int(np.prod(backend.output_shapes[0])) if getattr(backend, "output_shapes", None) else None
        if n_out is not None and n_out != len(plan.labels):
            raise BundleError(
                f"the model has {n_out} outputs but the metadata lists {len(plan.labels)} classes",
                path=plan.spec.metadata_path, field="classNames",
            )
    return runner
