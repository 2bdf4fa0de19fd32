"""The map stage: one sample -> windows -> DSP features -> models -> decided outcome.

``Pipeline.outcomes(records)`` yields one ``SampleOutcome`` per sample, in record order. Samples
are prepared one by one (read, windowed, DSP), then their windows are stacked and each learn
block's model runs once per ``batch_rows`` windows, whatever the sample boundaries; outputs are
split back per sample and decided (``evalcore.learn.decide``). Everything a dataset metric needs
is in the outcome, so the reduce (``evalcore.report``) never looks back at a sample.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np

from evalcore.bundle import LearnSpec, Project
from evalcore.errors import ConfigError
from evalcore.learn.blocks import make_runner
from evalcore.learn.decide import Decider
from evalcore.outcome import PreparedSample, run_labels
from evalcore.pipeline.featurize import planned_feature_counts

__all__ = ["Pipeline"]


class Pipeline:
    """Loads the models of one run and turns records into ``SampleOutcome``s.

    Parameters
    ----------
    project : Project
        The validated bundle.
    options : evalcore.options.RunOptions
        Variant, threads, batch size, ``--compat``.
    plans : dict of int to evalcore.outcome.BlockPlan
        The run's learn blocks (``evalcore.learn.thresholds.plan_blocks``).
    records : sequence of SampleRecord
        Every sample of the run (whatever the shard): their labels fix the label codes.
    """

    def __init__(self, project: Project, options, plans: dict, records):
        self.project = project
        self.options = options
        self.runners = {}
        self._checked: set[int] = set()
        self.n_workers = 0  # worker processes that prepared the samples (set by evalcore.engine.evaluate)
        n_dsp = planned_feature_counts(project)
        for lb in project.learn:
            backend = self._load_backend(lb) if lb.needs_model else None
            if backend is not None and all(d in n_dsp for d in lb.dsp_ids):
                # at load time, before any sample is read; otherwise on the first batch
                backend.check_n_features(sum(n_dsp[d] for d in lb.dsp_ids))
                self._checked.add(lb.id)
            self.runners[lb.id] = make_runner(plans[lb.id], backend)
            if lb.kind == "object-detection":
                _check_last_layer(self.runners[lb.id])
        self.decider = Decider(plans, run_labels(plans, records), options.compat, project)

    def _load_backend(self, lb: LearnSpec):
        from evalcore.backends import load_backend
        from evalcore.backends.native_log import drop_native_info

        variant = self.options.variant
        path = lb.models.get(variant)
        if path is None:
            have = ", ".join(sorted(lb.models)) or "none"
            raise ConfigError(
                f"learn block {lb.id} ({lb.name}) has no {variant} model (variants in the bundle: {have})"
            )
        opts = {}
        if variant == "akida":
            opts["akida_device"] = self.options.akida_device
        with drop_native_info(self.options.quiet):  # LiteRT's "INFO: Created ... delegate" line
            return load_backend(path, variant=variant, threads=self.options.threads, **opts)

    def engines(self) -> dict[int, str]:
        """Learn block id -> what ran its model (``onnxruntime``, ``tflite``, ``akida-software`` ...)."""
        out = {}
        for lb_id, dec in self.runners.items():
            backend = getattr(dec, "backend", None)
            out[lb_id] = "metadata (no model)" if backend is None else f"{backend.engine} {backend.engine_version}"
        return out

    def describe(self) -> dict:
        """Per learn block: what ran it and with which threshold (the run-info sidecar)."""
        out = {}
        for lb_id, dec in self.runners.items():
            backend = getattr(dec, "backend", None)
            out[str(lb_id)] = {
                "type": dec.spec.type,
                "kind": dec.kind,
                "threshold": dec.threshold,
                "model": None if backend is None else backend.describe(),
            }
        return out

    # -- map ----------------------------------------------------------------------------------

    def outcomes(self, records, featurizer=None):
        """Yield a ``SampleOutcome`` per record, in order, running models in batches.

        ``featurizer`` prepares records (``prepare(record) -> PreparedSample``, and optionally
        ``prepare_all(records)`` yielding them in order); the default reads the dataset and runs
        the DSP blocks (``evalcore.pipeline.featurize.SampleFeaturizer``), ``evalcore.pipeline.pool.PreparePool``
        does the same in worker processes, ``evalcore.pipeline.precomputed.FeatureSource`` serves
        precomputed feature rows.

        With ``options.overlap`` (the default) the models of one batch run on a worker thread
        while this thread prepares the next batch and the caller reduces the previous one:
        onnxruntime and LiteRT release the GIL while they compute, so a model that costs more
        than the Python work around it hides that work. One worker runs the batches strictly in
        order, so results are the same bytes either way.
        """
        if featurizer is None:
            from evalcore.pipeline.featurize import SampleFeaturizer

            featurizer = SampleFeaturizer(self.project, self.options)
        if not self.options.overlap:
            for batch in self._batches(records, featurizer):
                self._infer(batch)
                yield from (p.outcome for p in batch)
            return
        from concurrent.futures import ThreadPoolExecutor

        with _quick_gil_handoff(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalcore-model") as pool:
            running = None  # (future, batch) of the batch whose models are computing
            for batch in self._batches(records, featurizer):
                future = pool.submit(self._infer, batch)
                if running is not None:
                    running[0].result()
                    yield from (p.outcome for p in running[1])
                running = (future, batch)
            if running is not None:
                running[0].result()
                yield from (p.outcome for p in running[1])

    def _batches(self, records, featurizer):
        """Prepared samples grouped until they hold ``batch_rows`` windows."""
        pending: list[PreparedSample] = []
        n_rows = 0
        prepare_all = getattr(featurizer, "prepare_all", None)
        for prepared in prepare_all(records) if prepare_all else map(featurizer.prepare, records):
            pending.append(prepared)
            n_rows += prepared.outcome.n_windows
            if n_rows >= self.options.batch_rows:
                yield pending
                pending, n_rows = [], 0
        if pending:
            yield pending

    def _infer(self, batch: list[PreparedSample]) -> None:
        """Run every learn block on the batch's windows and attach each sample's part."""
        counts = [p.outcome.n_windows for p in batch]
        splits = np.cumsum(counts)[:-1]
        for lb in self.project.learn:
            blocks = [p.features[lb.id] for p in batch]
            x = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
            self._check_features(lb, x)
            output = self.runners[lb.id].run(x)
            parts = output.split(splits)
            if _holds_nan(output):  # find the sample, to name it
                for p, part in zip(batch, parts):
                    _check_output(lb, part, p.outcome.record, lb.models.get(self.options.variant) or lb.metadata_path)
            for p, part in zip(batch, parts):
                p.outcome.outputs[lb.id] = part
        self.decider.decide_all([p.outcome for p in batch])

    def _check_features(self, lb: LearnSpec, x: np.ndarray) -> None:
        if lb.id in self._checked:
            return
        backend = getattr(self.runners[lb.id], "backend", None)
        if backend is not None:
            backend.check_n_features(int(x.shape[1]))
        self._checked.add(lb.id)

    def check_prepared(self, prepared: PreparedSample) -> None:
        """Check one prepared sample against the loaded blocks without running a model.

        Each model's input size is checked against the sample's feature rows (as the first batch
        of a run does); blocks scored from their metadata (K-means, GMM) score the rows, which
        checks the metadata against the features. ``evalcore inspect`` calls this.
        """
        for lb in self.project.learn:
            x = prepared.features[lb.id]
            self._check_features(lb, x)
            if not lb.needs_model:
                self.runners[lb.id].run(x)


#: GIL switch interval while models run on the worker thread. Between two runtime calls the
#: worker needs the GIL back; with Python's default 5 ms interval it waits for the busy main
#: thread that long each time, which made a 2.5 s model take 3.5 s (benchmarks/bench_run.py).
_OVERLAP_SWITCH_INTERVAL_S = 0.0002


@contextlib.contextmanager
def _quick_gil_handoff():
    """Lower ``sys.setswitchinterval`` for the overlapped run, then restore the caller's value."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, _OVERLAP_SWITCH_INTERVAL_S))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _holds_nan(decision) -> bool:
    """Whether a block's float scores or values hold a NaN (`_check_output` then names the sample)."""
    values = decision.values
    return values is not None and values.dtype.kind == "f" and bool(np.isnan(values).any())


def _check_output(lb: LearnSpec, decision, record, path) -> None:
    """A block's scores must be numbers: NaN would make every metric of the run NaN."""
    values = decision.values
    if values is None or values.dtype.kind != "f" or not np.isnan(values).any():
        return
    from evalcore.errors import BundleError

    what = "scores (probabilities contain NaN)" if lb.kind == "classification" else "values"
    raise BundleError(f"learn block {lb.id} ({lb.name}) gives NaN {what}", path=path, sample=record.filename,
                      field="output")


def _check_last_layer(runner) -> None:
    """Before any sample: an object-detection block names a last layer evalcore decodes, and a
    FOMO model's heat map has one channel per class plus the background.
    """
    from evalcore.errors import BundleError
    from evalcore.learn.detection import SUPPORTED_LAST_LAYERS

    path = runner.spec.metadata_path
    meta = runner.spec.metadata
    last_layer = getattr(meta, "object_detection_last_layer", None) if meta is not None else None
    if not last_layer:
        raise BundleError("an object-detection block needs objectDetectionLastLayer in its metadata",
                          path=path, field="objectDetectionLastLayer")
    if last_layer not in SUPPORTED_LAST_LAYERS:
        raise BundleError(f"object detection last layer {last_layer!r} is not supported "
                          f"(supported: {', '.join(SUPPORTED_LAST_LAYERS)})", path=path, field="objectDetectionLastLayer")
    shapes = getattr(runner.backend, "output_shapes", None)
    if last_layer == "fomo" and shapes and len(shapes[0]) == 3 and shapes[0][-1] != len(runner.labels) + 1:
        raise BundleError(f"the FOMO model's heat map has {shapes[0][-1]} channels but the metadata lists "
                          f"{len(runner.labels)} classes (plus the background)", path=path, field="classNames")
