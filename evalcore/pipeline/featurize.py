"""One sample -> its windows, their expected labels and the feature rows of every learn block.

The input block decides how a sample is windowed (time series: sliding windows; images: one
window after the input block's resize), each DSP block turns the windows of the axes it reads
into feature rows, and a learn block's rows are its DSP blocks' rows side by side in the order
of its ``dsp`` list (Edge Impulse's concatenation order).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import time

import numpy as np

from evalcore.errors import BundleError, ConfigError
from evalcore.outcome import PreparedSample, SampleOutcome

__all__ = ["SampleFeaturizer", "planned_feature_counts"]

#: Window plans a featurizer keeps (one per distinct sample length and interval).
_MAX_PLANS = 1024


class SampleFeaturizer:
    """Prepares samples for the pipeline; holds the per-run settings read off the impulse."""

    def __init__(self, project, options, *, max_windows: int | None = None):
        self.project = project
        self.options = options
        self.max_windows = max_windows  # featurize only the first windows of a sample (``inspect``)
        block = project.input_block
        self.input_type = getattr(block, "type", "time-series")
        method = getattr(block, "labeling_method_multi_label", None)
        self.labeling_method = getattr(method, "type", None) or "end-of-window"
        self.anywhere_labels = tuple(getattr(method, "labels", None) or ())
        # DSP block id -> nanoseconds spent in it (DSP + normalizeData); None = not timed.
        # ``evalcore.bench`` sets it to {} to time the DSP blocks alone, without reading or windowing.
        self.dsp_ns: dict[int, int] | None = None
        # (values, interval) -> (plan, label ranges): a window plan depends on the run's settings and
        # on these two only, and a dataset's samples mostly share them (~100 µs a sample saved)
        self._plans: dict[tuple[int, float], tuple] = {}

    def prepare(self, record):
        """Read, window and featurize one record; returns the pipeline's ``PreparedSample``."""
        from evalcore.data import load_sample_data
        from evalcore.data.studio import to_studio_sample
        from evalcore.pipeline.sample_text import sample_text

        data = load_sample_data(record)
        self.check_kind(record, data)
        # the common shapes as the response's text at once (what the report writes), others as the model
        text = sample_text(record, data)
        sample = to_studio_sample(record, data) if text is None else None
        if data.kind == "image":
            windows_by_dsp, plan_ms, ranges, expected, interval = self._image(record, data)
        else:
            windows_by_dsp, plan_ms, ranges, expected, interval = self._series(record, data)
        outcome = SampleOutcome(
            record=record,
            sample=sample,
            sample_json=text,
            start_ms=plan_ms[0],
            end_ms=plan_ms[1],
            label_ranges=ranges,
            expected=expected,
            window_interval_ms=interval,
        )
        features = self._learn_rows(windows_by_dsp, outcome.n_windows)
        return PreparedSample(outcome=outcome, features=features)

    def prepare_all(self, records):
        """Yield ``prepare(record)`` for each record, in order (``evalcore.pipeline.pool.PreparePool``
        offers the same call with worker processes).
        """
        return map(self.prepare, records)

    def check_kind(self, record, data) -> None:
        """The sample's kind (image or time series) must be what the impulse's input block reads."""
        expected = "image" if self.input_type == "image" else "time-series"
        got = "image" if data.kind == "image" else "time-series"
        if self.input_type in ("time-series", "image", None) and got != expected:
            raise BundleError(
                f"the impulse's input block is {self.input_type!r} but the sample is "
                f"{'an image' if got == 'image' else 'a time series'}",
                path=record.path, sample=record.filename, field="impulse.inputBlocks[0].type",
            )

    # -- time series -----------------------------------------------------------------------------

    def count_windows(self, record, data) -> int:
        """Windows the sample makes under the input block (an image makes one)."""
        if data.kind == "image":
            self.check_kind(record, data)
            return 1
        return self.plan(record, data).n_windows

    def plan(self, record, data):
        """The windows of a time-series sample under the input block (``evalcore.windowing``)."""
        from evalcore.errors import ConfigError
        from evalcore.windowing import plan_windows

        self.check_kind(record, data)
        block = self.project.input_block
        try:
            return plan_windows(
                int(data.values.shape[0]),
                data.interval_ms,
                window_size_ms=float(block.window_size_ms),
                window_increase_ms=float(block.window_increase_ms or block.window_size_ms),
                frequency_hz=getattr(block, "frequency_hz", None),
                classification_window_increase_ms=getattr(block, "classification_window_increase_ms", None),
                pad_zeros=bool(getattr(block, "pad_zeros", False)),
                trailing=self.options.compat["trailing-window"],
                resample=self.options.compat["resample"],
                sample=record.filename,
            )
        except ConfigError as err:  # the window settings come from impulse.json
            raise BundleError(str(err), path=self.project.root / "impulse.json", sample=record.filename,
                              field="impulse.inputBlocks[0]") from err
        except BundleError as err:  # the sample's own rate: name its file
            if err.path is not None:
                raise
            raise BundleError(err.message, path=record.path, sample=err.sample, field=err.field) from err

    def _series(self, record, data):
        from evalcore.windowing import window_labels

        plan, ranges = self._planned(record, data)
        expected = window_labels(plan, record.label, labeling_method=self.labeling_method,
                                 anywhere_labels=self.anywhere_labels)
        sensor_names = [s.name for s in data.sensors]
        by_dsp = {}
        for spec in self.project.dsp.values():
            columns = _axis_columns(spec.axes, sensor_names, record, spec.id)
            values = data.values
            if plan.resample is not None or columns != list(range(values.shape[1])):
                # a column copy (Fortran-ordered); all columns in order need none: the windows
                # are cut from a C-ordered copy either way, so the DSP sees the same bytes
                values = values[:, columns]
            t0 = time.perf_counter_ns()  # the windows are cut chunk by chunk as the DSP takes them
            with np.errstate(over="ignore", invalid="ignore"), _dsp_errors(spec, record):
                # overflow is reported below, in one line; settings that fail name the config item
                feats = self._dsp_rows(spec, values, plan)
            _check_finite(feats, spec, record)
            by_dsp[spec.id] = self._normalize(spec, feats)
            self._count_dsp(spec.id, t0)
        return by_dsp, (plan.start_ms, plan.end_ms), ranges, expected, plan.interval_ms

    def _planned(self, record, data):
        """(plan, label ranges) of a time-series sample, shared by the samples of the same length and
        interval (its arrays are read-only: a sample's outcome holds them, and no one may change them).
        """
        key = (int(data.values.shape[0]), float(data.interval_ms))
        found = self._plans.get(key)
        if found is not None:
            self.check_kind(record, data)
            return found
        plan = self.plan(record, data)
        if self.max_windows is not None and plan.n_windows > self.max_windows:
            n = self.max_windows
            plan = dataclasses.replace(plan, starts=plan.starts[:n], start_ms=plan.start_ms[:n], end_ms=plan.end_ms[:n])
        last = plan.starts + plan.n_window_values - 1
        ranges = np.stack([plan.starts, np.minimum(last, plan.n_values - 1)], axis=1).astype(np.int64)
        for array in (plan.starts, plan.start_ms, plan.end_ms, ranges):
            array.flags.writeable = False
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[key] = (plan, ranges)
        return plan, ranges

    def _dsp_rows(self, spec, values, plan) -> np.ndarray:
        """One DSP block's feature rows of every planned window, ``batch_rows`` windows at a time.

        Only one chunk of windows (``batch_rows`` x window values, float64) is in memory at a
        time: a sample of millions of windows costs its feature rows, not its window arrays.
        DSP blocks compute each window on its own, so the rows are the same bytes either way.
        """
        from evalcore.dsp import compute_features
        from evalcore.windowing import iter_window_chunks

        out = None
        for first, windows in iter_window_chunks(values, plan, self.options.batch_rows):
            feats = compute_features(
                spec.type, spec.implementation_version, windows, list(spec.axes), plan.frequency_hz, spec.params
            )
            if out is None:
                if len(feats) == plan.n_windows:  # a single chunk: no copy
                    return feats
                out = np.empty((plan.n_windows, feats.shape[1]), dtype=feats.dtype)
            out[first : first + len(feats)] = feats
        return out

    # -- images ----------------------------------------------------------------------------------

    def _image(self, record, data):
        from evalcore.dsp import image_features, resize_image

        block = self.project.input_block
        width = int(getattr(block, "image_width", 0) or data.width)
        height = int(getattr(block, "image_height", 0) or data.height)
        rgb = resize_image(
            data.image, width, height,
            resize_mode=getattr(block, "resize_mode", None) or "squash",
            resize_method=getattr(block, "resize_method", None) or "lanczos3",
            crop_anchor=getattr(block, "crop_anchor", None) or "middle-center",
        )
        by_dsp = {}
        for spec in self.project.dsp.values():
            if spec.type != "image":
                raise BundleError(
                    f"DSP block {spec.id} ({spec.type}) cannot read an image sample",
                    path=record.path, sample=record.filename, field="impulse.dspBlocks",
                )
            t0 = time.perf_counter_ns()
            try:
                feats = image_features(rgb, channels=spec.params.get("channels", "RGB"))
            except ConfigError as err:
                raise BundleError(str(err), path=spec.config_path, sample=record.filename) from err
            by_dsp[spec.id] = self._normalize(spec, np.asarray(feats, dtype=np.float32).reshape(1, -1))
            self._count_dsp(spec.id, t0)
        label = record.label.label if record.label.kind == "label" else None
        zero = np.zeros(1, dtype=np.float64)
        ranges = np.zeros((1, 2), dtype=np.int64)
        return by_dsp, (zero, zero.copy()), ranges, [label], 0.0

    def _count_dsp(self, dsp_id: int, t0_ns: int) -> None:
        """Add the time since ``t0_ns`` to DSP block ``dsp_id`` when timing is on (``dsp_ns``)."""
        if self.dsp_ns is not None:
            self.dsp_ns[dsp_id] = self.dsp_ns.get(dsp_id, 0) + time.perf_counter_ns() - t0_ns

    @staticmethod
    def _normalize(spec, features: np.ndarray) -> np.ndarray:
        """``DSPInfo.normalizeData`` (Studio applies it after the DSP block, before the model)."""
        if spec.normalize_data in (None, "none"):
            return features
        from evalcore.dsp import apply_normalize_data

        return apply_normalize_data(features, spec.normalize_data)

    # -- learn block rows ------------------------------------------------------------------------

    def _learn_rows(self, by_dsp: dict, n_windows: int) -> dict:
        rows = {}
        for lb in self.project.learn:
            parts = [by_dsp[d] for d in lb.dsp_ids]
            if not parts:
                rows[lb.id] = np.zeros((n_windows, 0), dtype=np.float32)
            elif len(parts) == 1:
                rows[lb.id] = np.ascontiguousarray(parts[0], dtype=np.float32)
            else:
                rows[lb.id] = np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)
        return rows


@contextlib.contextmanager
def _dsp_errors(spec, record):
    """A DSP block's settings that fail on this sample's window: name the config file and item."""
    from evalcore.errors import ConfigError

    try:
        yield
    except ConfigError as err:
        named = re.search(r"field (\w+)\)$", str(err))
        item = spec.param_paths.get(named.group(1)) if named else None
        raise BundleError(str(err), path=spec.config_path, sample=record.filename, field=item or "config") from err


def _check_finite(features: np.ndarray, spec, record) -> None:
    """Finite sample values can still overflow float32 in a DSP block (a huge scale factor)."""
    finite = np.isfinite(features)
    if not finite.all():
        window, column = (int(i) for i in np.argwhere(~finite)[0])
        raise BundleError(
            f"DSP block {spec.id} ({spec.type}) gives a non-finite feature {float(features[window, column])} "
            f"in window {window} (a value overflows float32: check the block's parameters and the sample's values)",
            path=spec.config_path, sample=record.filename, field=f"features[{column}]",
        )


def _axis_columns(axes, sensor_names: list[str], record, dsp_id: int) -> list[int]:
    """Columns of the sample that a DSP block reads, by axis name (all, in order, when it names none)."""
    if not axes:
        return list(range(len(sensor_names)))
    position = {name: i for i, name in enumerate(sensor_names)}
    missing = [a for a in axes if a not in position]
    if missing:
        raise BundleError(
            f"DSP block {dsp_id} reads axes {', '.join(missing)}, which the sample does not have "
            f"(it has {', '.join(sensor_names)})",
            path=record.path, sample=record.filename, field="sensors",
        )
    return [position[a] for a in axes]


def planned_feature_counts(project) -> dict[int, int]:
    """Features per window of each DSP block, from the impulse alone (no sample read).

    Known for time-series inputs with a window size and a frequency, and for image inputs;
    blocks whose count cannot be planned are left out (their learn blocks are checked on the
    first batch instead).
    """
    from evalcore.dsp import get_plan
    from evalcore.errors import EvalcoreError

    ib = project.input_block
    out = {}
    for spec in project.dsp.values():
        try:
            if spec.type == "image":
                channels = 1 if str(spec.params.get("channels", "RGB")).lower() == "grayscale" else 3
                out[spec.id] = int(ib.image_width) * int(ib.image_height) * channels
                continue
            if not ib.window_size_ms or not ib.frequency_hz:
                continue
            n_axes = max(len(spec.axes), 1)
            n_readings = int(math.floor(ib.window_size_ms * ib.frequency_hz / 1000.0 + 0.5))
            plan = get_plan(spec.type, spec.implementation_version, n_readings * n_axes, n_axes,
                            ib.frequency_hz, spec.params)
            out[spec.id] = int(plan.n_features)
        except (EvalcoreError, TypeError, AttributeError):
            continue
    return out
